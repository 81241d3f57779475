package io.tidemark.functions.catalog;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;

/** A bucket in memory. {@link #lock} puts an object under Object Lock retention: deleting it then fails, so a test notices when retention tries. */
public final class InMemoryObjectStore implements ObjectStore {

    private final ConcurrentSkipListMap<String, StoredObject> objects = new ConcurrentSkipListMap<>();
    private final Map<String, Instant> locks = new ConcurrentHashMap<>();

    @Override
    public Optional<StoredObject> get(String key) {
        return Optional.ofNullable(objects.get(key));
    }

    @Override
    public Optional<ObjectInfo> head(String key) {
        StoredObject o = objects.get(key);
        return o == null ? Optional.empty()
                : Optional.of(new ObjectInfo(o.content().length, o.metadata(), o.lastModified(), locks.get(key)));
    }

    @Override
    public void put(String key, byte[] content, String contentType, Map<String, String> metadata) {
        objects.put(key, new StoredObject(content.clone(), metadata, Instant.parse("2026-01-01T00:00:00Z")));
    }

    @Override
    public void delete(String key) {
        if (locks.containsKey(key)) {
            throw new IllegalStateException("object " + key + " is under Object Lock retention until " + locks.get(key));
        }
        objects.remove(key);
    }

    @Override
    public List<ListedObject> list(String prefix) {
        List<ListedObject> out = new ArrayList<>();
        objects.tailMap(prefix).forEach((k, o) -> {
            if (k.startsWith(prefix)) {
                out.add(new ListedObject(k, o.content().length, o.lastModified()));
            }
        });
        return out;
    }

    @Override
    public List<String> childPrefixes(String prefix) {
        TreeSet<String> out = new TreeSet<>();
        for (String k : objects.tailMap(prefix).keySet()) {
            if (!k.startsWith(prefix)) {
                break;
            }
            int slash = k.indexOf('/', prefix.length());
            if (slash >= 0) {
                out.add(k.substring(0, slash + 1));
            }
        }
        return List.copyOf(out);
    }

    public void lock(String key, Instant until) {
        locks.put(key, until);
    }

    public boolean contains(String key) {
        return objects.containsKey(key);
    }

    public List<String> keys() {
        return List.copyOf(objects.keySet());
    }
}
