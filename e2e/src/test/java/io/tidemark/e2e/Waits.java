package io.tidemark.e2e;

import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.events.wal.WalSegmentSize;
import io.tidemark.testkit.PgCluster;
import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Polling the end-to-end tests share: until a condition holds, until PostgreSQL archived a segment. */
public final class Waits {
    private static final long POLL_MS = 200;

    private Waits() {
    }

    /** Polls {@code condition} until it holds; fails with {@code failure} after {@code timeout}. */
    public static void until(BooleanSupplier condition, Duration timeout, String failure) {
        long end = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError(failure);
            }
            try {
                Thread.sleep(POLL_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting: " + failure, e);
            }
        }
    }

    /** Until {@code pg_stat_archiver} reports {@code segment} (or a later one) archived; the server log on failure. */
    public static void archived(PgCluster pg, String segment, Duration timeout) {
        until(() -> pg.sql("select coalesce(last_archived_wal, '') from pg_stat_archiver").compareTo(segment) >= 0,
                timeout, "segment " + segment + " was not archived; server log:\n" + pg.logContext());
    }

    /**
     * Makes PostgreSQL's archiver try again now ({@code pg_reload_conf()}: its SIGHUP sets the
     * archiver's latch). After three failed attempts the archiver sleeps up to 60 s unless a new
     * segment or a signal wakes it; a test that ends an S3 outage would otherwise wait out that
     * sleep, which is PostgreSQL's timer, not the shim's behaviour.
     */
    public static void wakeArchiver(PgCluster pg) {
        pg.sql("select pg_reload_conf()");
    }

    /** The segment number of a 16 MB segment's file name (the tests' clusters use the default size). */
    public static long segmentNumber(String name) {
        return WalSegmentName.parse(name, WalSegmentSize.DEFAULT).segmentNumber();
    }
}
