package io.tidemark.shim.restore;

import io.tidemark.shim.cli.Progress;
import io.tidemark.events.plan.PlanFile;
import io.tidemark.shim.storage.Codec;
import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Downloads plan files in parallel from presigned URLs and writes each one atomically once it is
 * proven right. Per file, in one pass over the network stream: SHA-256 of the stored bytes
 * (checked against {@code storedSha256}), decompression, SHA-256 and length of the restored bytes
 * (checked against {@code sha256} and {@code size}), written to a temp file beside the target,
 * fsynced, renamed. Files of one bundle that lie close together are fetched with one ranged GET.
 *
 * <p>Failures: network errors, 5xx/429 and checksum mismatches are retried with growing pauses
 * (a retry asks only for the files of the range not yet written); 403 and 400 ExpiredToken (a URL
 * signed with session keys that have since expired) renew the URLs ({@link PlanUrls}); 404 fails at once. The first file that still fails fails the whole run.
 */
final class Downloader {
    static final int CONNECT_TIMEOUT_MS = 10_000;
    static final int READ_TIMEOUT_MS = 120_000;
    /** Bundled files closer than this are fetched in one request, skipping the gap. */
    static final long MAX_GAP = 256 * 1024;
    /** Bytes asked for in one request at most (one file may exceed it alone). */
    static final long MAX_RUN = 64L << 20;
    private static final int BUFFER = 1 << 16;

    /** One plan file and where it goes. */
    record Item(PlanFile file, Path target) {
        long start() {
            return file.bundleOffset();
        }

        long end() {
            return file.bundleOffset() + file.storedSize();
        }
    }

    /** One request: a byte range of one object and the files in it, in offset order. */
    record Unit(String key, List<Item> items) {
        long bytes() {
            return items.get(items.size() - 1).end() - items.get(0).start();
        }
    }

    /** Something that may pass on another attempt. */
    static class Retryable extends Exception {
        Retryable(String message) {
            super(message);
        }
    }

    /** The bytes are not what the plan says. Retried too (a flipped bit in transit), then fatal. */
    static final class Mismatch extends Retryable {
        Mismatch(String message) {
            super(message);
        }
    }

    private static final class Denied extends Exception {
        final int generation;

        Denied(int generation, String message) {
            super(message);
            this.generation = generation;
        }
    }

    /** The stream ended before the plan's stored size. */
    private static final class EarlyEnd extends EOFException {
        EarlyEnd(String message) {
            super(message);
        }
    }

    private final PlanUrls urls;
    private final int parallel;
    private final int retries;
    private final long firstPauseMs;
    private final Progress progress;
    private final AtomicBoolean failed = new AtomicBoolean();
    final AtomicInteger requests = new AtomicInteger();

    private HttpClient http;

    /**
     * The HTTP client of a restore, shared by the pre-check and the downloads so that requests
     * reuse its pooled connections (one connection per request cost a TCP and TLS handshake for
     * each file). HTTP/1.1: S3 speaks nothing else. {@code tls} null: the JDK's default trust;
     * otherwise only the certificates of a private CA (s3.caFile).
     */
    static HttpClient httpClient(javax.net.ssl.SSLContext tls) {
        HttpClient.Builder b = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .proxy(java.net.ProxySelector.getDefault()) // the JVM's proxy settings, as the S3 client's
                .connectTimeout(java.time.Duration.ofMillis(CONNECT_TIMEOUT_MS))
                .followRedirects(HttpClient.Redirect.NEVER);
        if (tls != null) {
            b.sslContext(tls);
        }
        return b.build();
    }

    /** Downloads through {@code client} (default: one of its own with the JDK's trust). */
    Downloader using(HttpClient client) {
        this.http = client;
        return this;
    }

    Downloader(PlanUrls urls, int parallel, int retries, long firstPauseMs, Progress progress) {
        this.http = httpClient(null);
        this.urls = urls;
        this.parallel = parallel;
        this.retries = retries;
        this.firstPauseMs = firstPauseMs;
        this.progress = progress;
    }

    /** Groups items into requests: one per single object, adjacent bundle members together. */
    static List<Unit> units(List<Item> items) {
        Map<String, List<Item>> bundles = new LinkedHashMap<>();
        List<Unit> units = new ArrayList<>();
        for (Item i : items) {
            if (i.file().bundled()) {
                bundles.computeIfAbsent(i.file().key(), k -> new ArrayList<>()).add(i);
            } else {
                units.add(new Unit(i.file().key(), List.of(i)));
            }
        }
        for (Map.Entry<String, List<Item>> b : bundles.entrySet()) {
            List<Item> sorted = new ArrayList<>(b.getValue());
            sorted.sort(Comparator.comparingLong(Item::start));
            List<Item> run = new ArrayList<>();
            for (Item i : sorted) {
                if (!run.isEmpty()) {
                    Item last = run.get(run.size() - 1);
                    boolean overlaps = i.start() < last.end();
                    if (overlaps || i.start() - last.end() > MAX_GAP || i.end() - run.get(0).start() > MAX_RUN) {
                        units.add(new Unit(b.getKey(), List.copyOf(run)));
                        run.clear();
                    }
                }
                run.add(i);
            }
            if (!run.isEmpty()) {
                units.add(new Unit(b.getKey(), List.copyOf(run)));
            }
        }
        units.sort(Comparator.comparingLong(Unit::bytes).reversed());
        return units;
    }

    /** Downloads every unit; throws {@link RestoreRefused} with the first failure. */
    void run(List<Unit> units) {
        ParallelFetch.runAll(units, parallel, "tidemark-restore", failed, READ_TIMEOUT_MS, this::fetch);
    }

    private void fetch(Unit u) {
        List<Item> remaining = new ArrayList<>(u.items());
        int attempt = 0;
        int denied = 0;
        var pauses = new io.tidemark.shim.storage.Retry.Pauses(firstPauseMs, io.tidemark.shim.storage.Retry.MAX_PAUSE_MS);
        while (!remaining.isEmpty()) {
            if (failed.get()) {
                return;
            }
            try {
                fetchOnce(u.key(), remaining);
            } catch (Denied d) {
                if (++denied > 3) {
                    throw new RestoreRefused(d.getMessage() + " (still refused after renewing the URLs " + (denied - 1)
                            + " times)");
                }
                urls.denied(d.generation);
            } catch (Retryable r) {
                attempt++;
                if (attempt > retries) {
                    throw new RestoreRefused(r.getMessage() + (attempt > 1 ? " (after " + attempt + " attempts)" : ""));
                }
                try {
                    pauses.sleep();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new RestoreRefused("interrupted");
                }
            }
        }
    }

    private void fetchOnce(String key, List<Item> remaining) throws Retryable, Denied {
        long start = remaining.get(0).start();
        long end = remaining.get(remaining.size() - 1).end();
        if (end == start) {
            // nothing stored to read (empty files): no request
            try {
                while (!remaining.isEmpty()) {
                    write(InputStream.nullInputStream(), remaining.get(0), key);
                    progress.done(remaining.remove(0).file().size());
                }
            } catch (IOException e) {
                throw new Retryable("writing " + remaining.get(0).target() + ": " + e.getMessage());
            }
            return;
        }
        PlanUrls.Lease lease = urls.url(key);
        HttpResponse<InputStream> r;
        try {
            requests.incrementAndGet();
            r = http.send(HttpRequest.newBuilder(URI.create(lease.url()))
                    .timeout(java.time.Duration.ofMillis(READ_TIMEOUT_MS))
                    .header("Range", "bytes=" + start + "-" + (end - 1))
                    .GET().build(), HttpResponse.BodyHandlers.ofInputStream());
            int status = r.statusCode();
            if (status == 403) {
                throw new Denied(lease.generation(), "S3 refused the download URL of " + key + " (HTTP 403" + errorCode(r) + ")");
            }
            if (status == 400) {
                // a URL signed with session keys dies with them: S3 answers 400 ExpiredToken
                String code = errorCode(r);
                if (code.equals(" ExpiredToken")) {
                    throw new Denied(lease.generation(), "S3 refused the download URL of " + key + " (HTTP 400" + code + ")");
                }
                throw new RestoreRefused("GET " + key + " failed: HTTP 400" + code);
            }
            if (status == 404) {
                throw new RestoreRefused("object " + key + " is missing from the repository (HTTP 404" + errorCode(r)
                        + "): the backup is damaged");
            }
            if (status == 416) {
                discard(r);
                throw new Mismatch("object " + key + " is shorter than the plan says (no bytes " + start + "-" + (end - 1) + ")");
            }
            if (status != 200 && status != 206) {
                String detail = errorCode(r);
                if (status >= 400 && status < 500 && status != 408 && status != 429) {
                    throw new RestoreRefused("GET " + key + " failed: HTTP " + status + detail);
                }
                throw new Retryable("GET " + key + " failed: HTTP " + status + detail);
            }
            long skip = 0;
            if (status == 200) {
                skip = start;
            } else {
                String range = r.headers().firstValue("Content-Range").orElse(null);
                if (range == null || !range.startsWith("bytes " + start + "-")) {
                    discard(r);
                    throw new Retryable("GET " + key + ": asked for bytes from " + start + ", got Content-Range " + range);
                }
            }
            try (InputStream in = new BufferedInputStream(r.body(), BUFFER)) {
                skipFully(in, skip);
                long pos = start;
                while (!remaining.isEmpty()) {
                    Item i = remaining.get(0);
                    skipFully(in, i.start() - pos);
                    write(in, i, key);
                    pos = i.end();
                    progress.done(remaining.remove(0).file().size());
                }
                // the rest of a 200 (whole object) answer is not needed: closing drops the connection
            }
        } catch (IOException e) {
            throw new Retryable("GET " + key + ": " + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : ": " + e.getMessage()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RestoreRefused("interrupted");
        }
    }

    /** An answer whose body is not read: closing it gives up its connection (rare error paths). */
    private static void discard(HttpResponse<InputStream> r) {
        try {
            r.body().close();
        } catch (IOException e) {
            // nothing to keep
        }
    }

    private static String errorCode(HttpResponse<InputStream> r) {
        try (InputStream e = r.body()) {
            String body = new String(e.readNBytes(4096), java.nio.charset.StandardCharsets.UTF_8);
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("<Code>([^<]*)</Code>").matcher(body);
            return m.find() ? " " + m.group(1) : "";
        } catch (IOException e) {
            return "";
        }
    }

    private static void skipFully(InputStream in, long n) throws IOException {
        if (n > 0) {
            try {
                in.skipNBytes(n);
            } catch (EOFException e) {
                throw new EarlyEnd("the response ended early");
            }
        }
    }

    /**
     * Reads exactly the file's stored bytes from {@code in}, checks and writes it. Throws
     * {@link Mismatch} when the bytes are wrong, {@link IOException} when the stream failed.
     */
    static void write(InputStream in, Item item, String key) throws IOException, Mismatch {
        PlanFile f = item.file();
        Path target = item.target();
        Path tmp = target.resolveSibling("." + target.getFileName() + ".tidemark.tmp");
        MessageDigest storedDigest = sha256();
        MessageDigest rawDigest = sha256();
        long raw = 0;
        String where = f.bundled() ? key + " at offset " + f.bundleOffset() : key;
        Files.deleteIfExists(tmp);
        try {
            Bounded bounded = new Bounded(in, f.storedSize());
            DigestInputStream din = new DigestInputStream(bounded, storedDigest);
            try (FileChannel ch = FileChannel.open(tmp, java.util.Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                    LinkOption.NOFOLLOW_LINKS), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                 EarlyFlush flush = new EarlyFlush(ch)) {
                OutputStream out = Channels.newOutputStream(ch);
                String decodeError = null;
                byte[] buf = new byte[BUFFER];
                InputStream dec = null;
                try {
                    dec = Codec.decompressing(f.compression(), din);
                    for (int n; (n = dec.read(buf)) >= 0; ) {
                        raw += n;
                        if (raw > f.size()) {
                            decodeError = "decompresses to more than the " + f.size() + " bytes the plan says";
                            break;
                        }
                        rawDigest.update(buf, 0, n);
                        out.write(buf, 0, n);
                        flush.written(n);
                    }
                } catch (EarlyEnd e) {
                    throw e;
                } catch (IOException | RuntimeException e) {
                    if (e instanceof IOException && bounded.endedEarly) {
                        throw new EarlyEnd("the response ended early");
                    }
                    decodeError = "is not a valid " + f.compression().extension() + " stream (" + e.getMessage() + ")";
                }
                while (din.read(buf) >= 0) {
                    // the rest of the stored bytes count for their checksum
                }
                if (dec != null) {
                    try {
                        dec.close();
                    } catch (IOException | RuntimeException e) {
                        // already judged
                    }
                }
                String stored = HexFormat.of().formatHex(storedDigest.digest());
                if (!stored.equals(f.storedSha256())) {
                    throw new Mismatch(f.path() + ": the downloaded bytes of " + where + " have SHA-256 " + stored
                            + ", the plan expects " + f.storedSha256() + ": refusing the damaged file");
                }
                if (decodeError != null) {
                    throw new Mismatch(f.path() + ": " + where + " " + decodeError);
                }
                out.flush();
                long tf0 = System.nanoTime();
                flush.awaitIdle();
                ch.force(true);
                if (f.size() > (100L << 20)) {
                    io.tidemark.shim.cli.Trace.mark("file " + f.path() + " " + f.size() + " bytes: final fsync "
                            + (System.nanoTime() - tf0) / 1_000_000 + " ms");
                }
            }
            String rawSha = HexFormat.of().formatHex(rawDigest.digest());
            if (raw != f.size() || !rawSha.equals(f.sha256())) {
                throw new Mismatch(f.path() + ": restored content (" + raw + " bytes, SHA-256 " + rawSha
                        + ") differs from the plan's (" + f.size() + " bytes, " + f.sha256() + "): refusing it");
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * Starts writing a large file's pages to disk while the rest is still being downloaded: every
     * {@link #EVERY} bytes a background thread calls {@code fdatasync}, so the disk works beside
     * the download and decompression instead of all at once in the final fsync (a 1 GB relation
     * segment otherwise waits about 2 s for the disk at the end: the kernel starts writeback on
     * its own only after gigabytes are dirty). One flush at a time per file; an error of a
     * background flush fails the file (a later fsync may not report it again).
     */
    static final class EarlyFlush implements AutoCloseable {
        static final long EVERY = 32L << 20;
        private static final ExecutorService FLUSHERS = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "tidemark-restore-flush");
            t.setDaemon(true);
            return t;
        });

        private final FileChannel ch;
        private long sinceFlush;
        private Future<?> running;
        final AtomicInteger started = new AtomicInteger();

        EarlyFlush(FileChannel ch) {
            this.ch = ch;
        }

        void written(int n) throws IOException {
            sinceFlush += n;
            if (sinceFlush >= EVERY && (running == null || running.isDone())) {
                awaitIdle(); // done already: reports its error, if any
                sinceFlush = 0;
                started.incrementAndGet();
                running = FLUSHERS.submit(() -> {
                    ch.force(false);
                    return null;
                });
            }
        }

        /** Waits for a background flush under way; throws its error. */
        void awaitIdle() throws IOException {
            if (running != null) {
                try {
                    running.get();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new java.io.InterruptedIOException("interrupted while flushing");
                } catch (ExecutionException e) {
                    throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
                }
            }
        }

        /** Before the channel closes: no flush may run on a closed channel. */
        @Override
        public void close() {
            if (running != null) {
                try {
                    running.get();
                } catch (Exception e) {
                    // the file failed anyway, or was reported by awaitIdle
                }
            }
        }
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** At most {@code limit} bytes of the underlying stream; close() leaves it open. */
    private static final class Bounded extends FilterInputStream {
        private long left;
        boolean endedEarly;

        Bounded(InputStream in, long limit) {
            super(in);
            this.left = limit;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xFF;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (left <= 0) {
                return -1;
            }
            int n = in.read(b, off, (int) Math.min(len, left));
            if (n < 0) {
                endedEarly = true;
                throw new EarlyEnd("the response ended " + left + " bytes early");
            }
            left -= n;
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            byte[] b = new byte[8192];
            long done = 0;
            while (done < n) {
                int r = read(b, 0, (int) Math.min(b.length, n - done));
                if (r < 0) {
                    break;
                }
                done += r;
            }
            return done;
        }

        @Override
        public int available() throws IOException {
            return (int) Math.min(super.available(), left);
        }

        @Override
        public void close() {
            // the connection's stream is the caller's
        }

        @Override
        public boolean markSupported() {
            return false;
        }
    }
}
