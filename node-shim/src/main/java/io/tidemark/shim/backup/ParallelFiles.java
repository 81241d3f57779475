package io.tidemark.shim.backup;

import io.tidemark.events.paths.SafeRelativePath;
import io.tidemark.shim.cli.CommandFailure;
import io.tidemark.shim.cli.ExitCodes;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/** One function applied to many source files on {@code processMax} threads (checksums, HEADs). */
final class ParallelFiles {
    private ParallelFiles() {
    }

    interface IoFunction<T> {
        T apply(SourceFile f) throws IOException;
    }

    static <T> Map<SafeRelativePath, T> apply(List<SourceFile> files, int processMax, IoFunction<T> fn) {
        Map<SafeRelativePath, T> result = new HashMap<>();
        if (files.isEmpty()) {
            return result;
        }
        ExecutorService pool = Executors.newFixedThreadPool(processMax, r -> Thread.ofPlatform().daemon().unstarted(r));
        try {
            Map<SafeRelativePath, Future<T>> futures = new HashMap<>();
            for (SourceFile f : files) {
                futures.put(f.path(), pool.submit(() -> fn.apply(f)));
            }
            for (var e : futures.entrySet()) {
                result.put(e.getKey(), e.getValue().get());
            }
            return result;
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException r) {
                throw r;
            }
            throw new UncheckedIOException(c instanceof IOException io ? io : new IOException(c));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CommandFailure(ExitCodes.FAILED, "interrupted");
        } finally {
            pool.shutdownNow();
        }
    }
}
