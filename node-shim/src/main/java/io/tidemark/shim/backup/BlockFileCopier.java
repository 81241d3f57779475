package io.tidemark.shim.backup;

import io.tidemark.events.backup.BlockDigest;
import io.tidemark.events.backup.BlockMap;
import io.tidemark.events.backup.ManifestFile;
import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.Compression;
import io.tidemark.shim.storage.Codec;
import io.tidemark.shim.storage.Pool;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Reads a large file block by block ({@link BlockMap}) and keeps only what changed: a block whose
 * SHA-256 equals the prior backup's block at the same place keeps the prior's entry (and its
 * storage); every other block is compressed on its own and appended to this backup's object of
 * the file. A full backup (no prior copy) stores every block, so that the next incremental has
 * blocks to keep.
 *
 * <p>The block size follows the file size ({@link BlockMap#blockSizeFor}); a file with a prior map
 * keeps the prior's block size while that gives at most four times the target count, so a growing
 * table is not stored anew each time it crosses a size step.
 */
final class BlockFileCopier implements AutoCloseable {
    /**
     * What was read: the file's size, digest ({@link BlockDigest}), page checksum errors and map, and the object to
     * store (only the new blocks): in {@code stored}, or for a large file in the temp file
     * {@code spooled} (the caller PUTs it from there and deletes it).
     */
    record BlockCopy(long size, String sha256, List<Long> pageChecksumErrors, BlockMap map, byte[] stored,
                     Path spooled, long storedSize, String storedSha256) {
    }

    /** Files from this size spool their new blocks to a temp file instead of memory. */
    static final long SPOOL_FROM = 32L << 20;
    /** Raw bytes of blocks in flight per file at most (read ahead of the workers), beside a minimum of two blocks. */
    static final long IN_FLIGHT_BYTES = 32L << 20;

    private final Compression compression;
    private final int level;
    private final boolean pageChecksums;
    private final long startLsn;
    private final FileCopier pages;
    private final ExecutorService workers;
    private final int workerCount;
    private final Path spoolDir;
    /** The workers' zstd contexts and output buffers, one per worker at a time. */
    private final Pool<Codec.BlockEncoder> encoders;
    /** The workers' hashers. */
    private final Pool<MessageDigest> hashers;

    /**
     * @param workers  hash and compress the blocks of one file in parallel ({@code workerCount}
     *                 threads, not the threads that read files: a reader waits for them)
     * @param spoolDir where large objects are spooled (null: the JVM's temp directory)
     */
    BlockFileCopier(Compression compression, int level, boolean pageChecksums, long startLsn, ExecutorService workers,
                    int workerCount, Path spoolDir) {
        this.compression = compression;
        this.level = level;
        this.pageChecksums = pageChecksums;
        this.startLsn = startLsn;
        this.pages = new FileCopier(compression, level, pageChecksums, startLsn);
        this.workers = workers;
        this.workerCount = Math.max(1, workerCount);
        this.spoolDir = spoolDir;
        this.encoders = new Pool<>(() -> new Codec.BlockEncoder(compression, level), this.workerCount);
        this.hashers = new Pool<>(FileCopier::sha256, this.workerCount + 1);
    }

    /** One block read: hashed, its pages checked and, when new, compressed by a worker. */
    private record Done(String sha256, BlockMap.Block kept, byte[] compressed, List<Long> pageErrors) {
    }

    /** Frees the workers' native zstd contexts (those still in a worker's hands when it gives them back). */
    @Override
    public void close() {
        encoders.close();
        hashers.close();
    }

    /** Whether {@code f} is stored block by block: large enough, and a single object (not bundled). */
    static boolean applies(SourceFile f) {
        return f.size() >= BlockMap.MIN_FILE_SIZE && !BackupPlanner.bundled(f);
    }

    /** The block size for {@code size} bytes given the prior copy's map, if any. */
    static int blockSize(long size, Optional<BlockMap> prior) {
        if (prior.isPresent() && BlockMap.blockCount(size, prior.get().blockSize()) <= 4 * BlockMap.TARGET_BLOCKS) {
            return prior.get().blockSize();
        }
        return BlockMap.blockSizeFor(size);
    }

    /**
     * The copy of {@code f} for backup {@code label}, keeping unchanged blocks of {@code prior}
     * (the prior backup's entry of the same path, null when it has none); empty when the file
     * vanished before it could be opened.
     *
     * <p>This thread reads the blocks in order; workers check their pages, hash and compress them, at most {@link #IN_FLIGHT_BYTES} ahead; the
     * results are appended in block order. Memory per file: the blocks in flight (buffers taken
     * from a pool of this file's block size and given back by the worker once the block is hashed
     * and compressed: no new array per block), their compressed forms, and (below
     * {@link #SPOOL_FROM}) the object.
     */
    Optional<BlockCopy> copy(SourceFile f, ManifestFile prior, BackupLabelName label) throws IOException {
        FileChannel ch;
        try {
            ch = FileChannel.open(f.absolute(), StandardOpenOption.READ);
        } catch (NoSuchFileException gone) {
            return Optional.empty();
        }
        Path spooled = null;
        boolean ok = false;
        try (ch) {
            Optional<BlockMap> priorMap = prior == null ? Optional.empty() : prior.blocks();
            int blockSize = blockSize(f.size(), priorMap);
            List<BlockMap.Block> priorBlocks = priorMap.filter(m -> m.blockSize() == blockSize)
                    .map(BlockMap::blocks).orElse(List.of());
            boolean relation = pageChecksums && PageChecksums.isRelationFile(f.path().path());
            long firstPageOfFile = relation ? PageChecksums.segmentOf(f.path().fileName()) * PageChecksums.BLOCKS_PER_SEGMENT : 0;
            MessageDigest storedDigest = FileCopier.sha256();
            List<Long> errors = new ArrayList<>();
            List<BlockMap.Block> blocks = new ArrayList<>();
            ByteArrayOutputStream memory = null;
            FileChannel spool = null;
            if (f.size() >= SPOOL_FROM) {
                spooled = spoolDir == null ? Files.createTempFile(".tidemark-blocks-", ".tmp")
                        : Files.createTempFile(spoolDir, ".tidemark-blocks-", ".tmp");
                spool = FileChannel.open(spooled, StandardOpenOption.WRITE);
            } else {
                memory = new ByteArrayOutputStream((int) Math.max(4096, f.size() / 4));
            }
            int window = (int) Math.max(2, Math.min(2L * workerCount, IN_FLIGHT_BYTES / blockSize));
            ArrayDeque<Future<Done>> inFlight = new ArrayDeque<>();
            long[] storedSize = {0};
            long offset = 0;
            // the window's buffers plus the one being read; a worker gives its block back when done
            Pool<byte[]> buffers = new Pool<>(() -> new byte[blockSize], window + 1);
            try {
                for (int i = 0; ; i++) {
                    byte[] buf = buffers.take();
                    int n = FileCopier.readChunk(ch, buf);
                    if (n == 0) {
                        buffers.give(buf);
                        break;
                    }
                    BlockMap.Block before = i < priorBlocks.size() ? priorBlocks.get(i) : null;
                    long firstPage = relation ? firstPageOfFile + offset / PageChecksums.PAGE_SIZE : -1;
                    inFlight.add(submit(() -> {
                        try {
                            return work(buf, n, before, firstPage);
                        } finally {
                            buffers.give(buf);
                        }
                    }));
                    while (inFlight.size() >= window) {
                        append(take(inFlight.poll()), label, blocks, errors, memory, spool, storedDigest, storedSize);
                    }
                    offset += n;
                    if (n < blockSize) {
                        break;
                    }
                }
                while (!inFlight.isEmpty()) {
                    append(take(inFlight.poll()), label, blocks, errors, memory, spool, storedDigest, storedSize);
                }
            } finally {
                inFlight.forEach(x -> x.cancel(true));
                if (spool != null) {
                    spool.force(false);
                    spool.close();
                }
            }
            if (!errors.isEmpty()) {
                errors = pages.recheck(ch, errors, firstPageOfFile);
            }
            BlockMap map = new BlockMap(blockSize, blocks);
            // the file's digest over its blocks' SHA-256 (BlockDigest): each byte hashed once
            BlockCopy c = new BlockCopy(offset, BlockDigest.of(offset, map), errors, map,
                    memory == null ? null : memory.toByteArray(), spooled, storedSize[0], FileCopier.hex(storedDigest.digest()));
            ok = true;
            return Optional.of(c);
        } finally {
            if (!ok && spooled != null) {
                Files.deleteIfExists(spooled);
            }
        }
    }

    /**
     * A worker's part of one block: its SHA-256, the page checksums of its pages (when
     * {@code firstPage} is not -1: the block's first page number in the relation), and its
     * compressed form when it is new. The page checks run here, not on the reading thread, so the
     * reader of a large file only reads.
     */
    private Done work(byte[] raw, int len, BlockMap.Block before, long firstPage) {
        List<Long> pageErrors = firstPage < 0 ? List.of() : PageChecksums.verifyFrom(raw, len, firstPage, startLsn);
        MessageDigest d = hashers.take();
        String sha;
        try {
            d.update(raw, 0, len);
            sha = FileCopier.hex(d.digest());
        } finally {
            hashers.give(d);
        }
        if (before != null && before.sha256().equals(sha)) {
            return new Done(sha, before, null, pageErrors);
        }
        Codec.BlockEncoder e = encoders.take();
        try {
            return new Done(sha, null, e.compress(raw, len), pageErrors);
        } finally {
            encoders.give(e);
        }
    }

    private Future<Done> submit(java.util.concurrent.Callable<Done> task) {
        if (workers == null) {
            java.util.concurrent.CompletableFuture<Done> now = new java.util.concurrent.CompletableFuture<>();
            try {
                now.complete(task.call());
            } catch (Exception e) {
                now.completeExceptionally(e);
            }
            return now;
        }
        return workers.submit(task);
    }

    private static Done take(Future<Done> f) throws IOException {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IOException(e.getCause());
        }
    }

    private static void append(Done d, BackupLabelName label, List<BlockMap.Block> blocks, List<Long> errors,
                               ByteArrayOutputStream memory, FileChannel spool, MessageDigest storedDigest,
                               long[] storedSize) throws IOException {
        errors.addAll(d.pageErrors());
        if (d.kept() != null) {
            blocks.add(d.kept());
            return;
        }
        blocks.add(new BlockMap.Block(label, storedSize[0], d.compressed().length, d.sha256()));
        storedDigest.update(d.compressed());
        if (memory != null) {
            memory.write(d.compressed());
        } else {
            ByteBuffer b = ByteBuffer.wrap(d.compressed());
            while (b.hasRemaining()) {
                spool.write(b);
            }
        }
        storedSize[0] += d.compressed().length;
    }
}
