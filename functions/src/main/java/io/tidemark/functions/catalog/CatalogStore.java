package io.tidemark.functions.catalog;

import java.util.List;
import java.util.Optional;

/**
 * The catalog table (one table, {@code PK}/{@code SK} strings) as the domain sees it. No scans:
 * reads are by key or by a sort-key prefix within one partition; every write is conditional.
 */
public interface CatalogStore {

    /** Strongly consistent read of one item. */
    Optional<Item> get(String pk, String sk);

    /**
     * Writes {@code item} (which carries its {@link Item#REV}) if the stored item with its key
     * is absent ({@code expectedRevision} null) or has exactly {@code expectedRevision}.
     *
     * @return false when the condition did not hold (someone else wrote first)
     */
    boolean put(Item item, String expectedRevision);

    /**
     * Removes one item, unconditionally; removing an absent item is not an error. Only retention
     * deletes (the items of what it removed from the bucket).
     */
    void delete(String pk, String sk);

    /** Every item of partition {@code pk} whose sort key starts with {@code skPrefix}, in sort-key order. */
    List<Item> query(String pk, String skPrefix);

    /** Every item of partition {@code pk} with {@code fromSk <= SK <= toSk}, in sort-key order. */
    List<Item> queryBetween(String pk, String fromSk, String toSk);

    /**
     * As {@link #queryBetween(String, String, String)}, reading only the named attributes (plus the
     * keys): less to transfer and parse when items are large and many.
     */
    default List<Item> queryBetween(String pk, String fromSk, String toSk, List<String> attributes) {
        return queryBetween(pk, fromSk, toSk);
    }

    /**
     * At most {@code limit} items of partition {@code pk} with {@code fromSk <= SK <= toSk}, in
     * ascending or descending sort-key order: one request (plus pages only up to {@code limit}).
     */
    default List<Item> queryPage(String pk, String fromSk, String toSk, boolean descending, int limit) {
        List<Item> all = new java.util.ArrayList<>(queryBetween(pk, fromSk, toSk));
        if (descending) {
            java.util.Collections.reverse(all);
        }
        return all.size() <= limit ? all : List.copyOf(all.subList(0, limit));
    }
}
