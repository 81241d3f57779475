package io.tidemark.functions.index;

import io.tidemark.functions.catalog.CatalogStore;
import io.tidemark.functions.catalog.Item;
import io.tidemark.functions.catalog.ObjectStore;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/** Counts the catalog and object store calls an indexer makes, by kind and key family (tests). */
final class CountingStores {
    final Map<String, Integer> calls = new TreeMap<>();

    synchronized void count(String what) {
        calls.merge(what, 1, Integer::sum);
    }

    synchronized Map<String, Integer> take() {
        Map<String, Integer> out = new TreeMap<>(calls);
        calls.clear();
        return out;
    }

    static String family(String sk) {
        int hash = sk.indexOf('#');
        return hash < 0 ? sk : sk.substring(0, hash + 1);
    }

    CatalogStore catalog(CatalogStore c) {
        return new CatalogStore() {
            @Override
            public Optional<Item> get(String pk, String sk) {
                count("ddb.get " + family(sk));
                return c.get(pk, sk);
            }

            @Override
            public boolean put(Item item, String expectedRevision) {
                count("ddb.put " + family(item.sk()));
                return c.put(item, expectedRevision);
            }

            @Override
            public void delete(String pk, String sk) {
                count("ddb.delete " + family(sk));
                c.delete(pk, sk);
            }

            @Override
            public List<Item> query(String pk, String skPrefix) {
                count("ddb.query " + family(skPrefix));
                return c.query(pk, skPrefix);
            }

            @Override
            public List<Item> queryBetween(String pk, String fromSk, String toSk) {
                count("ddb.query " + family(fromSk));
                return c.queryBetween(pk, fromSk, toSk);
            }

            @Override
            public List<Item> queryPage(String pk, String fromSk, String toSk, boolean descending, int limit) {
                count("ddb.query " + family(fromSk));
                return c.queryPage(pk, fromSk, toSk, descending, limit);
            }
        };
    }

    ObjectStore objects(ObjectStore o) {
        return new ObjectStore() {
            @Override
            public Optional<StoredObject> get(String key) {
                count("s3.get " + key.replaceAll("^[^/]+/([^/]+)/.*", "$1"));
                return o.get(key);
            }

            @Override
            public Optional<ObjectInfo> head(String key) {
                count("s3.head " + key.replaceAll("^[^/]+/([^/]+)/.*", "$1"));
                return o.head(key);
            }

            @Override
            public void delete(String key) {
                count("s3.delete");
                o.delete(key);
            }

            @Override
            public List<ListedObject> list(String prefix) {
                count("s3.list");
                return o.list(prefix);
            }

            @Override
            public List<String> childPrefixes(String prefix) {
                count("s3.list");
                return o.childPrefixes(prefix);
            }

            @Override
            public void put(String key, byte[] content, String contentType, Map<String, String> metadata) {
                count("s3.put");
                o.put(key, content, contentType, metadata);
            }
        };
    }
}
