package io.tidemark.shim.storage;

import java.util.Map;
import java.util.Optional;

/**
 * Retries each operation of another store ({@link Retry}). A create retried after a lost answer
 * sees its own first attempt as {@code ALREADY_EXISTS}; callers compare checksums, so that is safe.
 */
public final class RetryingObjectStore implements ObjectStore {
    private final ObjectStore store;
    private final Retry retry;

    public RetryingObjectStore(ObjectStore store, Retry retry) {
        this.store = store;
        this.retry = retry;
    }

    @Override
    public PutOutcome putIfAbsent(String key, byte[] body, Map<String, String> metadata) {
        return retry.run(() -> store.putIfAbsent(key, body, metadata));
    }

    @Override
    public Optional<Head> head(String key) {
        return retry.run(() -> store.head(key));
    }

    @Override
    public Optional<Fetched> get(String key) {
        return retry.run(() -> store.get(key));
    }

    @Override
    public Optional<Fetched> get(String key, String versionId) {
        return retry.run(() -> store.get(key, versionId));
    }

    @Override
    public void close() {
        store.close();
    }
}
