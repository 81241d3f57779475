package io.tidemark.shim.restore;

import io.tidemark.shim.cli.Progress;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.function.LongConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Before anything is written into PGDATA: every object of the plan exists with the size the plan
 * expects. One ranged GET of the first byte per object through its presigned URL (a presigned URL
 * allows only GET; {@code bytes=0-0} answers 206 with the total size in {@code Content-Range}),
 * {@link #inFlight} at a time (8 to 64, by the number of objects) over one client's keep-alive connections, so that 10,000 objects
 * take seconds. 403 and 400 (S3's ExpiredToken when the planner's session keys ran out) renew the
 * URLs ({@link PlanUrls}), 5xx, 429 and network errors are retried
 * with growing pauses; what still fails is reported with the objects that are missing or have
 * the wrong size.
 */
final class PlanPrecheck {
    /** Requests at once at most: a plan of 10,000 objects is checked in seconds. */
    static final int IN_FLIGHT = 64;
    /** Requests at once at least. */
    static final int MIN_IN_FLIGHT = 8;
    /** Objects per connection before another one is worth opening. */
    static final int OBJECTS_PER_CONNECTION = 32;

    /**
     * Requests at once for a plan of {@code objects}. Each request in flight beyond the client's
     * idle connections opens a TLS connection (a handshake: P-256 key exchange and the
     * certificate chain checked, CPU-heavy in a JVM that has just started), and the downloads
     * afterwards use only {@code --process-max} of them. With 64 always, a 65-object restore
     * opened about 64 connections, one handshake per object, and its check took 5-12 s at load
     * 15-34 against 1.3-4.8 s with 8 (docs/benchmarks.md); with 8 always, the 10,002 objects of
     * PlanPrecheckTest took 30 s instead of 7. So one connection per 32 objects, from 8 to 64.
     */
    static int inFlight(int objects) {
        return Math.max(MIN_IN_FLIGHT, Math.min(IN_FLIGHT, objects / OBJECTS_PER_CONNECTION));
    }
    private static final Pattern TOTAL = Pattern.compile("bytes (?:\\d+-\\d+|\\*)/(\\d+)");

    /** An object that is not as the plan expects: found is "missing (HTTP 404)", "N bytes", or an error. */
    record Problem(PlanObjects.Expected object, String found) {
        String line() {
            return object.key() + ": " + object.what() + ", expected " + object.sizeText() + ", found " + found;
        }
    }

    private final PlanUrls urls;
    private final int retries;
    private final long firstPauseMs;
    private final HttpClient client;

    /** @param client the restore's HTTP client ({@link Downloader#httpClient}), shared with the downloads */
    PlanPrecheck(PlanUrls urls, int retries, long firstPauseMs, HttpClient client) {
        this.urls = urls;
        this.retries = retries;
        this.firstPauseMs = firstPauseMs;
        this.client = client;
    }

    /** Checks every object; {@code checked} hears of each one done. The problems in key order, none when all is well. */
    List<Problem> check(List<PlanObjects.Expected> objects, LongConsumer checked) {
        Semaphore slots = new Semaphore(inFlight(objects.size()));
        List<Future<Optional<Problem>>> futures = new ArrayList<>();
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (PlanObjects.Expected o : objects) {
                futures.add(threads.submit(() -> {
                    slots.acquire();
                    try {
                        return one(o);
                    } finally {
                        slots.release();
                        checked.accept(1);
                    }
                }));
            }
            List<Problem> problems = new ArrayList<>();
            for (Future<Optional<Problem>> f : futures) {
                try {
                    f.get().ifPresent(problems::add);
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof RestoreRefused r) {
                        throw r; // the URLs cannot be renewed: nothing more can be checked
                    }
                    throw new RestoreRefused("checking the plan's objects failed: " + e.getCause(), e.getCause());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new RestoreRefused("interrupted");
                }
            }
            problems.sort(Comparator.comparing(p -> p.object().key()));
            return problems;
        }
    }

    private Optional<Problem> one(PlanObjects.Expected o) throws InterruptedException {
        var pauses = new io.tidemark.shim.storage.Retry.Pauses(firstPauseMs, io.tidemark.shim.storage.Retry.MAX_PAUSE_MS);
        int denied = 0;
        String last = null;
        for (int attempt = 0; attempt <= retries; ) {
            PlanUrls.Lease lease = urls.url(o.key());
            HttpResponse<Void> r;
            try {
                r = client.send(HttpRequest.newBuilder(URI.create(lease.url())).GET().header("Range", "bytes=0-0")
                        .timeout(Duration.ofMillis(Downloader.READ_TIMEOUT_MS)).build(), HttpResponse.BodyHandlers.discarding());
            } catch (IOException e) {
                last = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
                attempt++;
                pauses.sleep();
                continue;
            }
            int status = r.statusCode();
            // 403: URL refused; 400 (ExpiredToken): the planner's session keys ran out; both renew
            if ((status == 403 || status == 400) && ++denied <= 3) {
                urls.denied(lease.generation());
                continue;
            }
            if (status == 404) {
                return Optional.of(new Problem(o, "missing (HTTP 404)"));
            }
            if (status == 206 || status == 416) {
                Optional<Long> total = r.headers().firstValue("Content-Range").map(TOTAL::matcher)
                        .filter(Matcher::matches).map(m -> Long.parseLong(m.group(1)));
                if (total.isPresent()) {
                    return o.fits(total.get()) ? Optional.empty() : Optional.of(new Problem(o, total.get() + " bytes"));
                }
                last = "HTTP " + status + " without a total size in Content-Range";
            } else if (status == 200) {
                long length = r.headers().firstValueAsLong("Content-Length").orElse(-1);
                if (length >= 0) {
                    return o.fits(length) ? Optional.empty() : Optional.of(new Problem(o, length + " bytes"));
                }
                last = "HTTP 200 without Content-Length";
            } else if (status >= 500 || status == 429 || status == 408) {
                last = "HTTP " + status;
            } else {
                return Optional.of(new Problem(o, "not readable (HTTP " + status + ")"));
            }
            attempt++;
            pauses.sleep();
        }
        return Optional.of(new Problem(o, "not checked: " + last + " (after " + (retries + 1) + " attempts)"));
    }

    /** The refusal: one line per problem, at most {@code shown} of them. */
    static String refusal(List<Problem> problems, int total, int shown) {
        StringBuilder sb = new StringBuilder("restore refused: " + problems.size() + " of " + total
                + " objects the plan needs are missing or not as the plan says; nothing was written");
        for (Problem p : problems.subList(0, Math.min(shown, problems.size()))) {
            sb.append("\n  ").append(p.line());
        }
        if (problems.size() > shown) {
            sb.append("\n  ... and ").append(problems.size() - shown).append(" more");
        }
        return sb.toString();
    }

    /**
     * The step of {@code tidemark restore}: checks the objects of {@code files} and of the plan's
     * WAL, prints how long it took, and refuses (listing what is wrong) before anything is written.
     */
    static void require(io.tidemark.events.plan.RestorePlan plan, List<Downloader.Item> files, PlanUrls urls, int retries,
                        long firstPauseMs, HttpClient client, java.io.PrintStream out, boolean tty, long progressEverySeconds) {
        List<PlanObjects.Expected> objects = PlanObjects.of(files.stream().map(Downloader.Item::file).toList(), plan).objects();
        long started = System.nanoTime();
        List<Problem> problems;
        try (Progress progress = Progress.counting(objects.size(), "objects checked", out, tty, progressEverySeconds * 1000)) {
            progress.start();
            problems = new PlanPrecheck(urls, retries, firstPauseMs, client).check(objects, n -> progress.done(0));
        }
        if (!problems.isEmpty()) {
            throw new RestoreRefused(refusal(problems, objects.size(), 50));
        }
        out.printf(java.util.Locale.ROOT, "checked %d objects of the plan in %.1f s: all present with the expected sizes%n",
                objects.size(), (System.nanoTime() - started) / 1e9);
    }
}
