package io.tidemark.shim.restore;

import io.tidemark.events.plan.PlanBlocks;
import io.tidemark.events.plan.PlanFile;
import io.tidemark.shim.cli.Progress;
import io.tidemark.shim.storage.Codec;
import io.tidemark.shim.storage.Pool;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Restores the files a plan stores block by block ({@link PlanBlocks}): each file is assembled in a
 * temp file beside its target from the blocks of every backup of its chain. Blocks that lie back
 * to back in one object are read with one ranged GET (a run, at most {@link #MAX_RUN} stored
 * bytes); the runs of every file are fetched in parallel, so one large file uses every download
 * thread. Each block is decompressed on its own and checked against its length and SHA-256 before
 * it is written at its place. When the plan's {@code sha256} is the digest of the block map
 * ({@link PlanFile#digestByBlocks}, manifest format 3) those block checks are the whole file's
 * check; for an older backup's file the whole file's SHA-256 is computed in block order as the blocks
 * arrive (a file's runs are fetched in block order, the largest files first). The checked part
 * is written to disk in the background ({@link Downloader.EarlyFlush}); once all blocks of
 * a file are in, the file is fsynced, its whole SHA-256 and size are checked against the plan, and
 * it is renamed into place.
 *
 * <p>Memory: a thread holds one block at a time, stored and decompressed (at most twice the
 * largest block size, 16 MB, plus the compression bound); the file itself is never held. The
 * buffers, hasher and zstd context are a {@link Scratch} per download thread, reused from block to
 * block ({@link Pool}): no new array per block, so no humongous allocation per block in a small heap.
 *
 * <p>Failures name the file, the block and the object: a 404 fails at once; network errors, 5xx
 * and checksum mismatches are retried (a run is fetched again), 403 renews the URLs.
 */
final class BlockFiles {
    /** Stored bytes asked for in one request at most (a single block may exceed it). */
    static final long MAX_RUN = 32L << 20;

    private final PlanUrls urls;
    private final HttpClient http;
    private final int parallel;
    private final int retries;
    private final long firstPauseMs;
    private final Progress progress;
    private final AtomicBoolean failed = new AtomicBoolean();
    final AtomicInteger requests = new AtomicInteger();
    /** One per download thread at a time; grows to the largest block seen. */
    private final Pool<Scratch> scratch;

    /** A download thread's working set: the stored and raw block, the hasher, the decoder. */
    static final class Scratch implements AutoCloseable {
        byte[] stored = new byte[0];
        byte[] raw = new byte[0];
        final java.security.MessageDigest sha = Downloader.sha256();
        final Codec.BlockDecoder decoder = new Codec.BlockDecoder();

        byte[] stored(int len) {
            if (stored.length < len) {
                stored = new byte[len];
            }
            return stored;
        }

        byte[] raw(int len) {
            if (raw.length < len) {
                raw = new byte[len];
            }
            return raw;
        }

        @Override
        public void close() {
            decoder.close();
        }
    }

    BlockFiles(PlanUrls urls, HttpClient http, int parallel, int retries, long firstPauseMs, Progress progress) {
        this.urls = urls;
        this.http = http;
        this.parallel = parallel;
        this.retries = retries;
        this.firstPauseMs = firstPauseMs;
        this.progress = progress;
        this.scratch = new Pool<>(Scratch::new, Math.max(1, parallel));
    }

    static boolean applies(Downloader.Item i) {
        return i.file().blocks().isPresent();
    }

    /**
     * One file being assembled. Its whole SHA-256 is computed in block order while the blocks
     * arrive ({@link #advance}): whichever thread finds the next block written reads it back and
     * hashes it, so the check of a 1 GB file overlaps its download instead of following it.
     */
    private static final class Assembly {
        final PlanFile file;
        final Path target;
        final Path tmp;
        final AtomicInteger runsLeft = new AtomicInteger();
        final int blockCount;
        /** Blocks written (checked against the map); guarded by itself. */
        private final java.util.BitSet written = new java.util.BitSet();
        /** Hashes blocks in order; {@link #hashed} and {@link #hashedBytes} are read and written under it. */
        private final java.util.concurrent.locks.ReentrantLock hashing = new java.util.concurrent.locks.ReentrantLock();
        private final java.security.MessageDigest digest = Downloader.sha256();
        private volatile int hashed;
        private long hashedBytes;
        /**
         * The plan's {@code sha256} is the digest of the map's block SHA-256s ({@link PlanFile#digestByBlocks}):
         * each block is checked against the map as it arrives, which then checks the whole file, so
         * blocks are not read back and hashed again (a plan from a format 2 manifest still is).
         */
        final boolean byBlocks;
        FileChannel ch;
        /** Writes the hashed part to disk in the background (used under {@link #hashing}: one thread at a time). */
        Downloader.EarlyFlush flush;

        Assembly(Downloader.Item item) {
            this.file = item.file();
            this.target = item.target();
            this.tmp = target.resolveSibling("." + target.getFileName() + ".tidemark.tmp");
            this.blockCount = file.blocks().orElseThrow().blocks().size();
            this.byBlocks = file.digestByBlocks();
        }

        /** The total stored bytes of the file's blocks: files with more go first. */
        long storedBytes() {
            return file.blocks().orElseThrow().blocks().stream().mapToLong(PlanBlocks.Block::storedSize).sum();
        }

        void markWritten(int block) {
            synchronized (written) {
                written.set(block);
            }
        }

        private boolean nextWritten() {
            synchronized (written) {
                return written.get(hashed);
            }
        }

        /**
         * Hashes the written blocks that follow the hashed ones, reading them back from the temp
         * file. With {@code wait} false a thread that finds another one hashing leaves it to that
         * one (which looks again after it lets go, so no block is left behind); {@code wait} true
         * (at the end) takes its turn.
         */
        void advance(boolean wait, Scratch s) throws IOException {
            PlanBlocks map = file.blocks().orElseThrow();
            while (true) {
                if (wait) {
                    hashing.lock();
                } else if (!hashing.tryLock()) {
                    return;
                }
                try {
                    while (hashed < blockCount && nextWritten()) {
                        int len = (int) map.length(hashed, file.size());
                        if (!byBlocks) {
                            ByteBuffer buf = ByteBuffer.wrap(s.raw(len), 0, len);
                            long at = (long) hashed * map.blockSize();
                            while (buf.hasRemaining()) {
                                if (ch.read(buf, at + buf.position()) < 0) {
                                    throw new IOException(file.path() + ": the temp file ended at block " + hashed);
                                }
                            }
                            digest.update(buf.array(), 0, len);
                        }
                        hashedBytes += len;
                        hashed++;
                        flush.written(len);
                    }
                } finally {
                    hashing.unlock();
                }
                // a block marked while this thread held the lock: its writer found the lock taken and left it here
                if (hashed == blockCount || !nextWritten()) {
                    return;
                }
            }
        }

        /**
         * After every block is in: the whole file's SHA-256 as hashed, or with {@link #byBlocks}
         * the plan's block digest, which every block written was checked against.
         */
        String wholeSha256(Scratch s) throws IOException {
            advance(true, s);
            hashing.lock();
            try {
                if (hashed != blockCount) {
                    throw new IOException(file.path() + ": block " + hashed + " was never written");
                }
                return byBlocks ? file.sha256() : HexFormat.of().formatHex(digest.digest());
            } finally {
                hashing.unlock();
            }
        }

        long hashedBytes() {
            hashing.lock();
            try {
                return hashedBytes;
            } finally {
                hashing.unlock();
            }
        }
    }

    /** Consecutive blocks of one file stored back to back in one object. */
    private record Run(Assembly a, String key, int first, int count, long start, long end) {
    }

    /** Files assembled at once: each holds an open temp file. */
    static final int FILES_AT_ONCE = 64;

    /** Assembles every item (all with blocks); throws {@link RestoreRefused} with the first failure. */
    void run(List<Downloader.Item> items) {
        try (scratch) {
            for (int from = 0; from < items.size(); from += FILES_AT_ONCE) {
                runGroup(items.subList(from, Math.min(items.size(), from + FILES_AT_ONCE)));
            }
        }
    }

    private void runGroup(List<Downloader.Item> items) {
        List<Assembly> files = new ArrayList<>();
        List<Run> runs = new ArrayList<>();
        try {
            for (Downloader.Item i : items) {
                Assembly a = new Assembly(i);
                files.add(a);
                Files.deleteIfExists(a.tmp);
                a.ch = FileChannel.open(a.tmp, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                        StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS),
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                a.flush = new Downloader.EarlyFlush(a.ch);
                List<Run> mine = runs(a);
                a.runsLeft.set(mine.size());
                runs.addAll(mine);
                if (mine.isEmpty()) {
                    Scratch s = scratch.take();
                    try {
                        finish(a, s); // an empty file
                    } finally {
                        scratch.give(s);
                    }
                }
            }
            // largest files first; a file's runs in block order, so its hash follows its download
            runs.sort(Comparator.comparingLong((Run r) -> r.a().storedBytes()).reversed()
                    .thenComparing(r -> r.a().target.toString()).thenComparingInt(Run::first));
            execute(runs);
        } catch (IOException e) {
            throw new RestoreRefused("cannot assemble files: " + e.getMessage(), e);
        } finally {
            for (Assembly a : files) {
                closeQuietly(a);
                try {
                    Files.deleteIfExists(a.tmp);
                } catch (IOException e) {
                    // the temp file of a failed restore; a rerun removes it
                }
            }
        }
    }

    private static List<Run> runs(Assembly a) {
        List<PlanBlocks.Block> blocks = a.file.blocks().orElseThrow().blocks();
        List<Run> out = new ArrayList<>();
        int first = 0;
        for (int i = 1; i <= blocks.size(); i++) {
            if (i < blocks.size()) {
                PlanBlocks.Block prev = blocks.get(i - 1);
                PlanBlocks.Block b = blocks.get(i);
                boolean adjacent = b.key().equals(prev.key()) && b.offset() == prev.offset() + prev.storedSize()
                        && b.offset() + b.storedSize() - blocks.get(first).offset() <= MAX_RUN;
                if (adjacent) {
                    continue;
                }
            }
            PlanBlocks.Block f = blocks.get(first);
            PlanBlocks.Block l = blocks.get(i - 1);
            out.add(new Run(a, f.key(), first, i - first, f.offset(), l.offset() + l.storedSize()));
            first = i;
        }
        return out;
    }

    private void execute(List<Run> runs) {
        ParallelFetch.runAll(runs, parallel, "tidemark-restore-blocks", failed, Downloader.READ_TIMEOUT_MS, r -> {
            Scratch s = scratch.take();
            try {
                fetch(r, s);
                try {
                    r.a().advance(false, s);
                } catch (IOException e) {
                    throw new RestoreRefused("cannot assemble " + r.a().file.path() + ": " + e.getMessage(), e);
                }
                if (r.a().runsLeft.decrementAndGet() == 0) {
                    finish(r.a(), s);
                }
            } finally {
                scratch.give(s);
            }
        });
    }

    /** Fetches one run, retrying what may pass on another attempt. */
    private void fetch(Run r, Scratch s) {
        int attempt = 0;
        int denied = 0;
        long pause = firstPauseMs;
        while (true) {
            if (failed.get()) {
                return;
            }
            PlanUrls.Lease lease = urls.url(r.key());
            try {
                fetchOnce(r, lease, s);
                return;
            } catch (DeniedUrl d) {
                if (++denied > 3) {
                    throw new RestoreRefused(d.getMessage() + " (still refused after renewing the URLs " + (denied - 1) + " times)");
                }
                urls.denied(lease.generation());
            } catch (Downloader.Retryable e) {
                attempt++;
                if (attempt > retries) {
                    throw new RestoreRefused(e.getMessage() + (attempt > 1 ? " (after " + attempt + " attempts)" : ""));
                }
                try {
                    Thread.sleep(pause);
                } catch (InterruptedException x) {
                    Thread.currentThread().interrupt();
                    throw new RestoreRefused("interrupted");
                }
                pause = Math.min(pause * (attempt == 1 ? 4 : 2), 4000);
            }
        }
    }

    private static final class DeniedUrl extends Exception {
        DeniedUrl(String message) {
            super(message);
        }
    }

    private void fetchOnce(Run r, PlanUrls.Lease lease, Scratch s) throws Downloader.Retryable, DeniedUrl {
        PlanFile f = r.a().file;
        PlanBlocks map = f.blocks().orElseThrow();
        HttpResponse<InputStream> resp;
        try {
            requests.incrementAndGet();
            resp = http.send(HttpRequest.newBuilder(URI.create(lease.url()))
                    .timeout(java.time.Duration.ofMillis(Downloader.READ_TIMEOUT_MS))
                    .header("Range", "bytes=" + r.start() + "-" + (r.end() - 1))
                    .GET().build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (IOException e) {
            throw new Downloader.Retryable("GET " + r.key() + ": " + e.getClass().getSimpleName() + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RestoreRefused("interrupted");
        }
        int status = resp.statusCode();
        String blocksText = f.path() + " blocks " + r.first() + ".." + (r.first() + r.count() - 1);
        try (InputStream body = new BufferedInputStream(resp.body(), 1 << 16)) {
            if (status == 403 || status == 400) {
                throw new DeniedUrl("S3 refused the download URL of " + r.key() + " (HTTP " + status + ")");
            }
            if (status == 404) {
                throw new RestoreRefused("object " + r.key() + " is missing from the repository (HTTP 404), needed for "
                        + blocksText + ": the backup is damaged");
            }
            if (status == 416) {
                throw new Downloader.Mismatch("object " + r.key() + " is shorter than the plan says (" + blocksText
                        + " need bytes " + r.start() + "-" + (r.end() - 1) + ")");
            }
            if (status != 206 && status != 200) {
                if (status >= 400 && status < 500 && status != 408 && status != 429) {
                    throw new RestoreRefused("GET " + r.key() + " failed: HTTP " + status);
                }
                throw new Downloader.Retryable("GET " + r.key() + " failed: HTTP " + status);
            }
            if (status == 200) {
                body.skipNBytes(r.start());
            }
            for (int i = r.first(); i < r.first() + r.count(); i++) {
                PlanBlocks.Block b = map.blocks().get(i);
                int storedLen = (int) b.storedSize();
                byte[] stored = s.stored(storedLen);
                if (body.readNBytes(stored, 0, storedLen) != storedLen) {
                    throw new Downloader.Retryable("GET " + r.key() + ": the response ended early (" + f.path() + " block " + i + ")");
                }
                String where = f.path() + ": block " + i + " (" + r.key() + " at offset " + b.offset() + ")";
                long expected = map.length(i, f.size());
                // room for one byte more than the map says: a block that decompresses to more is
                // reported with its size below, like one that decompresses to less
                byte[] raw = s.raw(map.blockSize() + 1);
                int rawLen;
                try {
                    rawLen = s.decoder.decompress(f.compression(), stored, storedLen, raw);
                } catch (IOException e) {
                    throw new Downloader.Mismatch(where + " is damaged: " + e.getMessage());
                }
                s.sha.update(raw, 0, rawLen);
                String sha = HexFormat.of().formatHex(s.sha.digest());
                if (rawLen != expected || !sha.equals(b.sha256())) {
                    throw new Downloader.Mismatch(where + " is damaged: " + rawLen + " bytes with SHA-256 " + sha
                            + ", the block map says " + expected + " bytes with " + b.sha256() + "; refusing it");
                }
                writeAt(r.a().ch, raw, rawLen, (long) i * map.blockSize());
                r.a().markWritten(i);
            }
        } catch (IOException e) {
            throw new Downloader.Retryable("GET " + r.key() + ": " + e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }

    /**
     * Bytes per write call. A checked block (1 to 16 MB) is written in slices of this size, not
     * with one call: the JDK copies a heap buffer into a temporary native one of the same size
     * before the kernel copies that into the page cache, and a slice this small stays in the CPU
     * cache between the two copies. Measured on the bench machine (bench/WriteProbe.java, 1 GB
     * written into a fresh file from a 1 MB block, 6 alternating runs at load 14-33): system CPU
     * 0.35-0.52 s per GB in 64 KB slices against 0.82-2.18 s in 1 MB writes.
     */
    static final int WRITE_SLICE = 64 * 1024;

    static void writeAt(FileChannel ch, byte[] raw, int len, long position) throws IOException {
        for (int off = 0; off < len; off += WRITE_SLICE) {
            ByteBuffer b = ByteBuffer.wrap(raw, off, Math.min(WRITE_SLICE, len - off));
            long at = position + off;
            while (b.hasRemaining()) {
                at += ch.write(b, at);
            }
        }
    }

    /** Every block is in: sync, check the whole file against the plan, rename into place. */
    private void finish(Assembly a, Scratch s) throws IOException {
        String sha = a.wholeSha256(s);
        long pos = a.hashedBytes();
        a.flush.awaitIdle();
        a.ch.truncate(a.file.size()); // a file restored over an earlier, longer temp never keeps a tail
        a.ch.force(true);
        if (pos != a.file.size() || !sha.equals(a.file.sha256())) {
            throw new RestoreRefused(a.file.path() + ": assembled content (" + pos + " bytes, SHA-256 " + sha
                    + ") differs from the plan's (" + a.file.size() + " bytes, " + a.file.sha256() + "): refusing it");
        }
        a.ch.close();
        try {
            Files.move(a.tmp, a.target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(a.tmp, a.target, StandardCopyOption.REPLACE_EXISTING);
        }
        progress.done(a.file.size());
    }

    private static void closeQuietly(Assembly a) {
        if (a.flush != null) {
            a.flush.close();
        }
        if (a.ch != null) {
            try {
                a.ch.close();
            } catch (IOException e) {
                // failed anyway
            }
        }
    }
}
