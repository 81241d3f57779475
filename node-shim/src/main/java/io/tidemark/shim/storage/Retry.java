package io.tidemark.shim.storage;

import java.time.Duration;
import java.util.function.Supplier;

/**
 * Bounded retries with growing pauses (250 ms, 1 s, 2 s, 4 s, ...) for requests that failed in a
 * way that may pass ({@link StorageException#retryable()}); the last failure is rethrown with the
 * number of attempts in its message. The shim's one retry schedule: {@link Pauses} and
 * {@link #pauseMillis} give it to the loops that decide themselves what to retry. (S3 calls retry
 * inside the SDK: its standard strategy, SdkObjectStore.)
 */
public final class Retry {
    /** The longest pause between two attempts of one request. */
    public static final long MAX_PAUSE_MS = 4_000;

    private final int retries;
    private final Duration firstPause;

    public Retry(int retries, Duration firstPause) {
        if (retries < 0) {
            throw new IllegalArgumentException("retries must not be negative");
        }
        this.retries = retries;
        this.firstPause = firstPause;
    }

    public static Retry of(int retries) {
        return new Retry(retries, Duration.ofMillis(250));
    }

    public int retries() {
        return retries;
    }

    /** The pause after failed attempt {@code attempt} (1, 2, ...): first, 4x, 8x, ... at most {@code maxMs}. */
    public static long pauseMillis(int attempt, long firstMs, long maxMs) {
        if (attempt <= 1) {
            return Math.min(firstMs, maxMs);
        }
        int shift = Math.min(attempt, 20); // 4x, 8x, 16x, ...: no overflow, the cap holds long before
        return Math.min(firstMs << shift, maxMs);
    }

    /**
     * The pauses between the attempts of one request, for loops that decide themselves what to
     * retry (restore's downloads and pre-check, archive-get waiting out an outage): the same
     * schedule as {@link #run}.
     */
    public static final class Pauses {
        private final long firstMs;
        private final long maxMs;
        private int attempt;

        public Pauses(long firstMs, long maxMs) {
            this.firstMs = firstMs;
            this.maxMs = maxMs;
        }

        /** The next pause in milliseconds. */
        public long next() {
            return pauseMillis(++attempt, firstMs, maxMs);
        }

        /** Sleeps the next pause, at most {@code limitMs}. */
        public void sleep(long limitMs) throws InterruptedException {
            Thread.sleep(Math.max(0, Math.min(next(), limitMs)));
        }

        public void sleep() throws InterruptedException {
            sleep(Long.MAX_VALUE);
        }
    }

    public <T> T run(Supplier<T> request) {
        Pauses pauses = new Pauses(firstPause.toMillis(), MAX_PAUSE_MS);
        for (int attempt = 1; ; attempt++) {
            try {
                return request.get();
            } catch (StorageException e) {
                if (!e.retryable() || attempt > retries) {
                    if (attempt > 1 && e.retryable()) {
                        throw new StorageException(e.getMessage() + " (after " + attempt + " attempts)", e.getCause(), true);
                    }
                    throw e;
                }
            }
            try {
                pauses.sleep();
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                throw new StorageException("interrupted while waiting to retry", ie, false);
            }
        }
    }
}
