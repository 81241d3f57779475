package io.tidemark.functions.catalog;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/** A bucket in memory. */
public final class InMemoryObjectStore implements ObjectStore {

    private final Map<String, StoredObject> objects = new ConcurrentHashMap<>();

    @Override
    public Optional<StoredObject> get(String key) {
        return Optional.ofNullable(objects.get(key));
    }

    @Override
    public Optional<ObjectInfo> head(String key) {
        StoredObject o = objects.get(key);
        return o == null ? Optional.empty()
                : Optional.of(new ObjectInfo(o.content().length, o.metadata(), o.lastModified()));
    }

    @Override
    public void put(String key, byte[] content, String contentType, Map<String, String> metadata) {
        objects.put(key, new StoredObject(content.clone(), metadata, Instant.parse("2026-01-01T00:00:00Z")));
    }

    public void delete(String key) {
        objects.remove(key);
    }

    public boolean contains(String key) {
        return objects.containsKey(key);
    }
}
