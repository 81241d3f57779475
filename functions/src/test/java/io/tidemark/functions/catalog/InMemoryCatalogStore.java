package io.tidemark.functions.catalog;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/** The catalog table in memory, with the same conditional-write semantics as DynamoDB. */
public final class InMemoryCatalogStore implements CatalogStore {

    private final TreeMap<String, TreeMap<String, Item>> partitions = new TreeMap<>();

    @Override
    public synchronized Optional<Item> get(String pk, String sk) {
        Map<String, Item> p = partitions.get(pk);
        return p == null ? Optional.empty() : Optional.ofNullable(p.get(sk));
    }

    @Override
    public synchronized boolean put(Item item, String expectedRevision) {
        TreeMap<String, Item> p = partitions.computeIfAbsent(item.pk(), k -> new TreeMap<>());
        Item existing = p.get(item.sk());
        if (expectedRevision == null ? existing != null
                : existing == null || !Objects.equals(existing.revision(), expectedRevision)) {
            return false;
        }
        p.put(item.sk(), item);
        return true;
    }

    @Override
    public synchronized void delete(String pk, String sk) {
        Map<String, Item> p = partitions.get(pk);
        if (p != null) {
            p.remove(sk);
        }
    }

    @Override
    public synchronized List<Item> query(String pk, String skPrefix) {
        List<Item> out = new ArrayList<>();
        Map<String, Item> p = partitions.get(pk);
        if (p != null) {
            p.forEach((sk, item) -> {
                if (sk.startsWith(skPrefix)) {
                    out.add(item);
                }
            });
        }
        return out;
    }

    @Override
    public synchronized List<Item> queryBetween(String pk, String fromSk, String toSk) {
        TreeMap<String, Item> p = partitions.get(pk);
        return p == null || fromSk.compareTo(toSk) > 0 ? List.of() : new ArrayList<>(p.subMap(fromSk, true, toSk, true).values());
    }

    /** Every item, by partition then sort key. */
    public synchronized List<Item> all() {
        List<Item> out = new ArrayList<>();
        partitions.values().forEach(p -> out.addAll(p.values()));
        return out;
    }
}
