package io.tidemark.functions.catalog;

import io.tidemark.events.layout.BackupLabelName;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code VERSIONS#<label>#<n>}: the S3 version id of every object of a backup the validator checked
 * (its files, bundles and manifest), the versions a restore plan names. Thousands of objects do not
 * fit one item (400 KB), and a backup's objects are written once and read by the planner only: so
 * they are packed ({@link PackedLines}: "key TAB version" lines) over as many items as needed,
 * numbered from 0, each saying how many there are. Keys hold no tab (only {@code [0-9A-Za-z/_.-]}).
 * Not a prefix of {@code BACKUP#}, so listing backups does not read them. A store without
 * versioning has no ids: nothing is written, and plans name no version.
 *
 * <p>Why catalog items rather than an object the cloud writes into the bucket: the planner already
 * reads the catalog (one Query per backup of the chain), the items are written with the
 * {@code BACKUP#} item by the same function and removed by retention with it, and no new
 * prefix, bucket policy or grant is needed to keep nodes from writing them.
 */
public final class ObjectVersions {

    private final CatalogStore store;

    public ObjectVersions(CatalogStore store) {
        this.store = store;
    }

    public static String prefix(BackupLabelName label) {
        return "VERSIONS#" + label + "#";
    }

    /** Stores {@code versions} (key to version id) of backup {@code label}; replaces what was there. */
    public void put(String pk, BackupLabelName label, Map<String, String> versions) {
        List<String> lines = new ArrayList<>();
        new TreeMap<>(versions).forEach((k, v) -> {
            if (k.indexOf('\t') >= 0 || k.indexOf('\n') >= 0 || v.indexOf('\t') >= 0 || v.indexOf('\n') >= 0) {
                throw new IllegalArgumentException("object key or version id with a tab or newline: " + k);
            }
            lines.add(k + "\t" + v);
        });
        List<String> chunks = PackedLines.chunks(PackedLines.pack(lines));
        for (int n = 0; n < chunks.size(); n++) {
            Map<String, Object> a = new TreeMap<>();
            a.put("kind", "objectVersions");
            a.put("label", label.toString());
            a.put("chunks", (long) chunks.size());
            a.put("versions", chunks.get(n));
            Item item = Item.of(pk, prefix(label) + n, a);
            store.put(item.withRevision(), store.get(pk, item.sk()).map(Item::revision).orElse(null));
        }
    }

    /** The version ids of backup {@code label}'s objects by key; empty when none were recorded. */
    public Map<String, String> get(String pk, BackupLabelName label) {
        List<Item> items = store.query(pk, prefix(label));
        Map<String, String> out = new LinkedHashMap<>();
        if (items.isEmpty()) {
            return out;
        }
        long chunks = items.get(0).number("chunks").orElse(1L);
        StringBuilder packed = new StringBuilder();
        for (int n = 0; n < chunks; n++) {
            String sk = prefix(label) + n;
            packed.append(items.stream().filter(i -> i.sk().equals(sk)).findFirst()
                    .flatMap(i -> i.string("versions"))
                    .orElseThrow(() -> new IllegalStateException("backup " + label + ": version chunk " + sk
                            + " is missing")));
        }
        for (String line : PackedLines.unpack(packed.toString())) {
            int tab = line.indexOf('\t');
            out.put(line.substring(0, tab), line.substring(tab + 1));
        }
        return out;
    }

    /** The sort keys of backup {@code label}'s version items (retention removes them with the backup). */
    public List<String> sortKeys(String pk, BackupLabelName label) {
        return store.query(pk, prefix(label)).stream().map(Item::sk).toList();
    }
}
