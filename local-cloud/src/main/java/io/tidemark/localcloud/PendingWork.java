package io.tidemark.localcloud;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A count of work handed to a background thread and not finished yet, and a wait for it to reach
 * zero: what lets tests and {@code tidemark local-cloud} ask "has everything delivered so far been
 * handled?" of S3 event deliveries and in-process Lambda invokes alike.
 */
final class PendingWork {
    private final Object lock = new Object();
    private int count;

    /** One more piece of work is queued or running. */
    void begin() {
        synchronized (lock) {
            count++;
        }
    }

    /** One piece of work returned, threw or was given up. */
    void end() {
        synchronized (lock) {
            count--;
            if (count == 0) {
                lock.notifyAll();
            }
        }
    }

    int count() {
        synchronized (lock) {
            return count;
        }
    }

    /** Waits until nothing is pending; false when {@code timeout} passed first. */
    boolean awaitNone(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lock) {
            while (count > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(lock, left);
            }
            return true;
        }
    }
}
