package io.tidemark.shim.restore;

import io.tidemark.shim.cli.Progress;
import java.io.IOException;
import java.net.http.HttpClient;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Restore, step 7: the plan's files downloaded and checked, in an order that keeps an interrupted
 * restore recognisable and unstartable: PG_VERSION first, pg_control last; under --delta only the
 * files whose local copy differs.
 */
final class FileDownloads {
    private final PlanUrls urls;
    private final HttpClient http;
    private final int processMax;
    private final int attempts;
    private final long firstRetryPauseMs;
    private final Progress progress;

    FileDownloads(PlanUrls urls, HttpClient http, int processMax, int attempts, long firstRetryPauseMs, Progress progress) {
        this.urls = urls;
        this.http = http;
        this.processMax = processMax;
        this.attempts = attempts;
        this.firstRetryPauseMs = firstRetryPauseMs;
        this.progress = progress;
    }

    /** Downloads {@code fetch}: PG_VERSION, the others (block-mapped files from their blocks), pg_control. */
    void run(List<Downloader.Item> fetch) {
        Downloader d = new Downloader(urls, processMax, attempts, firstRetryPauseMs, progress).using(http);
        List<Downloader.Item> control = fetch.stream().filter(i -> i.file().path().path().equals(RestoreCommand.PG_CONTROL))
                .toList();
        List<Downloader.Item> version = fetch.stream().filter(i -> i.file().path().path().equals("PG_VERSION")).toList();
        List<Downloader.Item> others = fetch.stream().filter(i -> !i.file().path().path().equals(RestoreCommand.PG_CONTROL)
                && !i.file().path().path().equals("PG_VERSION")).toList();
        // PG_VERSION first: PG_VERSION without pg_control is how a rerun recognises an interrupted restore
        d.run(Downloader.units(version));
        d.run(Downloader.units(others.stream().filter(i -> !BlockFiles.applies(i)).toList()));
        // files stored block by block: assembled from the blocks of every backup of the chain
        new BlockFiles(urls, http, processMax, attempts, firstRetryPauseMs, progress)
                .run(others.stream().filter(BlockFiles::applies).toList());
        // pg_control last: until it exists, a half-restored directory cannot be started
        d.run(Downloader.units(control));
    }

    /** Delta: which files must be fetched, hashing the local ones in parallel. */
    static List<Downloader.Item> deltaDecisions(List<Downloader.Item> files, int parallel, Progress progress)
            throws IOException {
        ExecutorService pool = Executors.newFixedThreadPool(parallel);
        try {
            List<Future<Delta.Decision>> fs = new ArrayList<>();
            for (Downloader.Item i : files) {
                fs.add(pool.submit(() -> Delta.decide(i.target(), i.file())));
            }
            List<Downloader.Item> fetch = new ArrayList<>();
            for (int k = 0; k < files.size(); k++) {
                Delta.Decision d;
                try {
                    d = fs.get(k).get();
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof IOException io) {
                        throw io;
                    }
                    throw e.getCause() instanceof RuntimeException re ? re : new RestoreRefused(e.getCause().toString());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new RestoreRefused("interrupted");
                }
                if (d == Delta.Decision.KEEP) {
                    progress.done(files.get(k).file().size());
                } else {
                    fetch.add(files.get(k));
                }
            }
            return fetch;
        } finally {
            pool.shutdownNow();
        }
    }
}
