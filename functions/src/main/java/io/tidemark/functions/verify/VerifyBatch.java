package io.tidemark.functions.verify;

import io.tidemark.functions.catalog.Item;
import java.util.Map;
import java.util.TreeMap;

/**
 * What one batch of a run checks, stored as {@code VERIFY#<id>#B#<n>} by the plan so that the
 * batch's event needs only its number. Either a run of catalog items (WAL segments, partial
 * segments, history and backup history files: a sort-key range of at most
 * {@link VerifyService#BATCH_OBJECTS} items) or a slice of one backup's stored objects (indexes
 * into {@link io.tidemark.functions.validate.ObjectVerifier#storedParts}).
 */
public sealed interface VerifyBatch {

    /** Catalog items with {@code fromSk <= SK <= toSk}, each naming its object. */
    record CatalogItems(String fromSk, String toSk, long count) implements VerifyBatch {
    }

    /** Objects {@code first .. first+count-1} of backup {@code label}'s stored parts. */
    record BackupObjects(String label, long first, long count) implements VerifyBatch {
    }

    long count();

    default Item toItem(String pk, String sk) {
        Map<String, Object> a = new TreeMap<>();
        a.put("kind", "verifyBatch");
        a.put("count", count());
        switch (this) {
            case CatalogItems c -> {
                a.put("work", "catalog");
                a.put("fromSk", c.fromSk());
                a.put("toSk", c.toSk());
            }
            case BackupObjects b -> {
                a.put("work", "backup");
                a.put("label", b.label());
                a.put("first", b.first());
            }
        }
        return Item.of(pk, sk, a);
    }

    static VerifyBatch fromItem(Item i) {
        long count = i.number("count").orElseThrow();
        return switch (i.string("work").orElseThrow()) {
            case "catalog" -> new CatalogItems(i.string("fromSk").orElseThrow(), i.string("toSk").orElseThrow(), count);
            case "backup" -> new BackupObjects(i.string("label").orElseThrow(), i.number("first").orElseThrow(), count);
            default -> throw new IllegalStateException("unknown verify batch " + i.describe());
        };
    }
}
