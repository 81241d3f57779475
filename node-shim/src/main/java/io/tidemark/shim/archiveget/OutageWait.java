package io.tidemark.shim.archiveget;

import io.tidemark.shim.storage.StorageException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.function.Supplier;

/**
 * Waits out an S3 outage during a planned restore: a retryable storage error (network, 5xx,
 * throttling; the store has already retried a few times) is tried again with a growing pause,
 * one line logged at the first failure and then every {@link #LOG_EVERY}, until it succeeds or
 * {@code archive-get.outage-wait} has passed; then recovery is aborted, never told "not archived".
 */
final class OutageWait {
    static final Duration LOG_EVERY = Duration.ofSeconds(30);
    private static final long MAX_PAUSE_MS = 5_000;

    private final Duration limit;
    private final PrintStream log;

    OutageWait(Duration limit, PrintStream log) {
        this.limit = limit;
        this.log = log;
    }

    /**
     * Runs {@code op} until it does not fail with a retryable storage error.
     *
     * @param needed whether the plan needs {@code file}: then an error that is not retryable (access
     *               denied, say) aborts recovery too; otherwise it is thrown as it is
     */
    <T> T patiently(String file, boolean needed, Supplier<T> op) {
        long start = System.nanoTime();
        long lastLog = Long.MIN_VALUE;
        var pauses = new io.tidemark.shim.storage.Retry.Pauses(250, MAX_PAUSE_MS);
        while (true) {
            try {
                T t = op.get();
                if (lastLog != Long.MIN_VALUE) {
                    log.println("tidemark archive-get: the archive answers again; " + file + " fetched after "
                            + seconds(start) + " s");
                }
                return t;
            } catch (StorageException e) {
                if (!e.retryable()) {
                    if (needed) {
                        throw new AbortRecovery(file + ": cannot be read from the archive: " + e.getMessage());
                    }
                    throw e;
                }
                long elapsedMs = (System.nanoTime() - start) / 1_000_000;
                if (elapsedMs >= limit.toMillis()) {
                    throw new AbortRecovery(file + ": the archive stayed unreachable for " + seconds(start)
                            + " s (archive-get.outage-wait " + limit.toSeconds() + " s): " + e.getMessage());
                }
                if (lastLog == Long.MIN_VALUE || System.nanoTime() - lastLog >= LOG_EVERY.toNanos()) {
                    lastLog = System.nanoTime();
                    log.println("tidemark archive-get: waiting for the archive to fetch " + file + " (" + seconds(start)
                            + " s so far, giving up after " + limit.toSeconds() + " s): " + e.getMessage());
                }
                try {
                    pauses.sleep(limit.toMillis() - elapsedMs);
                } catch (InterruptedException x) {
                    Thread.currentThread().interrupt();
                    throw new AbortRecovery(file + ": interrupted while waiting for the archive: " + e.getMessage());
                }
            }
        }
    }

    private static long seconds(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000_000L;
    }
}
