package io.tidemark.localcloud;

import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What every local stand-in for an asynchronous Lambda invoke shares: a pool of daemon threads
 * that runs the invocations, a count of those queued or running (so that
 * {@link BackgroundWork#awaitIdle} can wait for them), and a close that lets a running invocation
 * finish briefly and drops the queued ones.
 */
final class InProcessInvocations {
    private final Object lock = new Object();
    private final String what;
    private ExecutorService executor;
    private final PendingWork pending = new PendingWork();

    /** @param what how messages name this work, e.g. "the retention trigger" */
    InProcessInvocations(String what) {
        this.what = what;
    }

    /** Starts {@code threads} threads named {@code threadName-N}; once only. */
    void start(String threadName, int threads) {
        synchronized (lock) {
            if (executor != null) {
                throw new IllegalStateException(what + " is already started");
            }
            AtomicInteger n = new AtomicInteger();
            executor = Executors.newFixedThreadPool(threads, r -> {
                Thread t = new Thread(r, threadName + "-" + n.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
        }
    }

    /** Queues one invocation; it counts as pending until it returned or threw. */
    void submit(Runnable invocation) {
        synchronized (lock) {
            if (executor == null) {
                throw new IllegalStateException(what + " is not started (or already closed)");
            }
            pending.begin();
            executor.submit(() -> {
                try {
                    invocation.run();
                } finally {
                    pending.end();
                }
            });
        }
    }

    boolean awaitIdle(Duration timeout) throws InterruptedException {
        return pending.awaitNone(timeout);
    }

    /**
     * Lets a running invocation finish (up to 30 s; every handler's steps are idempotent), drops
     * the queued ones; false when it was not started or is already closed.
     */
    boolean close() {
        ExecutorService e;
        synchronized (lock) {
            e = executor;
            executor = null;
        }
        if (e == null) {
            return false;
        }
        e.shutdown();
        try {
            if (!e.awaitTermination(30, TimeUnit.SECONDS)) {
                e.shutdownNow();
            }
        } catch (InterruptedException ex) {
            e.shutdownNow();
            Thread.currentThread().interrupt();
        }
        return true;
    }
}
