package io.tidemark.shim.archivepush;

import io.tidemark.shim.cli.CommandFailure;
import io.tidemark.shim.cli.ExitCodes;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;

/**
 * One task on its own daemon thread, for the few steps of a push that overlap. Plain threads
 * and {@link FutureTask} on purpose: {@code CompletableFuture} and executors start the common
 * fork-join pool, a cost a JVM living for one WAL segment does not need (docs/startup.md).
 */
final class Background {
    private Background() {
    }

    /** Runs {@code work} on a new daemon thread (a refused file leaves it behind; it must not keep the JVM alive). */
    static <T> FutureTask<T> start(String name, Callable<T> work) {
        FutureTask<T> task = new FutureTask<>(work);
        Thread t = new Thread(task, name);
        t.setDaemon(true);
        t.start();
        return task;
    }

    /** A result that is already there. */
    static <T> Future<T> done(T value) {
        FutureTask<T> task = new FutureTask<>(() -> value);
        task.run();
        return task;
    }

    /**
     * The task's result; its {@link CommandFailure} or runtime exception is rethrown as it was,
     * anything else becomes an {@link IllegalStateException} naming {@code what}.
     */
    static <T> T await(Future<T> task, String what) {
        try {
            return task.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CommandFailure(ExitCodes.FAILED, "interrupted");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(what + " failed", e.getCause());
        }
    }
}
