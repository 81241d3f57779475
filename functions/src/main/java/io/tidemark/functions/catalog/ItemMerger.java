package io.tidemark.functions.catalog;

import java.util.Optional;
import java.util.function.Function;

/**
 * Read-merge-write with optimistic concurrency: reads the item, applies {@code merge}, writes
 * the result on condition that the item still has the revision that was read, and retries on a
 * lost race. Merges used with it are joins (commutative, associative, idempotent), so the final
 * item does not depend on the order or number of the writes.
 */
public final class ItemMerger {

    static final int MAX_ATTEMPTS = 25;

    private final CatalogStore store;

    public ItemMerger(CatalogStore store) {
        this.store = store;
    }

    /** Applies {@code merge} to the current item (or empty) and stores the result; returns what is stored. */
    public Item merge(String pk, String sk, Function<Optional<Item>, Item> merge) {
        return merge(pk, sk, null, merge);
    }

    /**
     * As {@link #merge(String, String, Function)}, with the first attempt starting from {@code known}
     * (what the caller read or wrote a moment ago: empty for absent) instead of a read. The write is
     * conditional on {@code known}'s revision, a hash of its content, so it succeeds only if the
     * stored item is still exactly {@code known}; otherwise the next attempts read, as always. A
     * merge that changes nothing is not trusted on {@code known} alone (the stored item may have
     * moved on): it is decided on a read. Saves one read per merge on the indexer's paths, where a
     * caller has just read or written the item (docs/benchmarks.md, "WAL streaming").
     */
    public Item merge(String pk, String sk, Optional<Item> known, Function<Optional<Item>, Item> merge) {
        for (int attempt = 1; ; attempt++) {
            boolean assumed = attempt == 1 && known != null;
            Optional<Item> current = assumed ? known : store.get(pk, sk);
            Item next = merge.apply(current).withRevision();
            if (!next.pk().equals(pk) || !next.sk().equals(sk)) {
                throw new IllegalStateException("merge changed the key: " + next.pk() + " " + next.sk());
            }
            if (current.isPresent() && current.get().equals(next)) {
                if (assumed) {
                    continue; // nothing to write, if known is current: read to be sure
                }
                return next;
            }
            if (store.put(next, current.map(Item::revision).orElse(null))) {
                return next;
            }
            if (attempt >= MAX_ATTEMPTS) {
                throw new ConcurrentUpdateException("gave up writing " + pk + " " + sk + " after " + attempt
                        + " conflicting attempts");
            }
            try {
                Thread.sleep(RetryJitter.pauseMillis(attempt));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ConcurrentUpdateException("interrupted while writing " + pk + " " + sk);
            }
        }
    }

    /** Too many conflicting writers: the invocation fails and is retried. */
    public static final class ConcurrentUpdateException extends RuntimeException {
        public ConcurrentUpdateException(String message) {
            super(message);
        }
    }
}
