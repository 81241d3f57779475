package io.tidemark.shim.restore;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs a restore's downloads on a few threads and stops at the first failure: {@code failed} is
 * set, what has not started is cancelled, what runs sees the flag at its next step (the tasks
 * check it), and the first failure is thrown once every thread has let go of its files, so the
 * caller never reports a failure while another thread still writes into the data directory.
 */
final class ParallelFetch {

    private ParallelFetch() {
    }

    /** One download; a checked exception fails the restore like an unchecked one. */
    @FunctionalInterface
    interface Task<T> {
        void run(T work) throws Exception;
    }

    /**
     * @param parallel at most this many threads (never more than there is work)
     * @param drainMs  how long to wait for running tasks after a failure or the last task
     * @throws RestoreRefused or the task's own RuntimeException: the first failure
     */
    static <T> void runAll(List<T> work, int parallel, String threadName, AtomicBoolean failed, long drainMs,
                           Task<T> task) {
        if (work.isEmpty()) {
            return;
        }
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(parallel, work.size())), r -> {
            Thread t = new Thread(r, threadName);
            t.setDaemon(true);
            return t;
        });
        List<Future<?>> futures = new ArrayList<>();
        try {
            for (T w : work) {
                futures.add(pool.submit(() -> {
                    if (!failed.get()) {
                        task.run(w);
                    }
                    return null;
                }));
            }
            RuntimeException first = null;
            for (Future<?> f : futures) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    if (first == null) {
                        failed.set(true);
                        first = e.getCause() instanceof RuntimeException re ? re
                                : new RestoreRefused(String.valueOf(e.getCause().getMessage()), e.getCause());
                        futures.forEach(other -> other.cancel(false));
                    }
                } catch (CancellationException e) {
                    // cancelled after the first failure
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new RestoreRefused("interrupted");
                }
            }
            if (first != null) {
                throw first;
            }
        } finally {
            pool.shutdownNow();
            try {
                pool.awaitTermination(drainMs, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
