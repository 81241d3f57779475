package io.tidemark.shim.storage;

import java.time.Duration;
import java.util.function.Supplier;

/**
 * Bounded retries with growing pauses (250 ms, 1 s, 2 s, 4 s, ...) for requests that failed in a
 * way that may pass ({@link StorageException#retryable()}); the last failure is rethrown with the
 * number of attempts in its message.
 */
public final class Retry {
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

    public <T> T run(Supplier<T> request) {
        long pause = firstPause.toMillis();
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
                Thread.sleep(pause);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                throw new StorageException("interrupted while waiting to retry", ie, false);
            }
            pause = Math.min(pause * (attempt == 1 ? 4 : 2), 4000);
        }
    }
}
