package io.tidemark.shim.backup;

import io.tidemark.events.backup.BlockMap;
import io.tidemark.events.backup.ManifestFile;
import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.Compression;
import io.tidemark.shim.storage.Codec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
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
final class BlockFileCopier {
    /** What was read: the object to store (only the new blocks) and the file's map. */
    record BlockCopy(FileCopier.Copy copy, BlockMap map) {
    }

    private final Compression compression;
    private final int level;
    private final boolean pageChecksums;
    private final long startLsn;
    private final FileCopier pages;

    BlockFileCopier(Compression compression, int level, boolean pageChecksums, long startLsn) {
        this.compression = compression;
        this.level = level;
        this.pageChecksums = pageChecksums;
        this.startLsn = startLsn;
        this.pages = new FileCopier(compression, level, pageChecksums, startLsn);
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
     */
    Optional<BlockCopy> copy(SourceFile f, ManifestFile prior, BackupLabelName label) throws IOException {
        FileChannel ch;
        try {
            ch = FileChannel.open(f.absolute(), StandardOpenOption.READ);
        } catch (NoSuchFileException gone) {
            return Optional.empty();
        }
        try (ch) {
            Optional<BlockMap> priorMap = prior == null ? Optional.empty() : prior.blocks();
            int blockSize = blockSize(f.size(), priorMap);
            List<BlockMap.Block> priorBlocks = priorMap.filter(m -> m.blockSize() == blockSize)
                    .map(BlockMap::blocks).orElse(List.of());
            boolean relation = pageChecksums && PageChecksums.isRelationFile(f.path().path());
            long firstPageOfFile = relation ? PageChecksums.segmentOf(f.path().fileName()) * PageChecksums.BLOCKS_PER_SEGMENT : 0;
            MessageDigest whole = FileCopier.sha256();
            List<Long> errors = new ArrayList<>();
            List<BlockMap.Block> blocks = new ArrayList<>();
            ByteArrayOutputStream stored = new ByteArrayOutputStream((int) Math.min(64L << 20, Math.max(4096, f.size() / 4)));
            byte[] buf = new byte[blockSize];
            byte[] compressOut = Codec.outputBuffer(compression, blockSize);
            long offset = 0;
            for (int i = 0; ; i++) {
                int n = FileCopier.readChunk(ch, buf);
                if (n == 0) {
                    break;
                }
                whole.update(buf, 0, n);
                if (relation) {
                    errors.addAll(PageChecksums.verifyFrom(buf, n, firstPageOfFile + offset / PageChecksums.PAGE_SIZE, startLsn));
                }
                MessageDigest d = FileCopier.sha256();
                d.update(buf, 0, n);
                String sha = FileCopier.hex(d.digest());
                if (i < priorBlocks.size() && priorBlocks.get(i).sha256().equals(sha)) {
                    blocks.add(priorBlocks.get(i));
                } else {
                    byte[] c = Codec.compress(compression, level, n == buf.length ? buf : Arrays.copyOf(buf, n), compressOut);
                    if (compression == Compression.NONE) {
                        c = c.clone(); // NONE returns the input array, which the next block overwrites
                    }
                    blocks.add(new BlockMap.Block(label, stored.size(), c.length, sha));
                    stored.write(c);
                }
                offset += n;
                if (n < buf.length) {
                    break;
                }
            }
            if (!errors.isEmpty()) {
                errors = pages.recheck(ch, errors, firstPageOfFile);
            }
            byte[] body = stored.toByteArray();
            FileCopier.Copy copy = new FileCopier.Copy(offset, FileCopier.hex(whole.digest()), body,
                    FileCopier.hex(FileCopier.sha256().digest(body)), errors);
            return Optional.of(new BlockCopy(copy, new BlockMap(blockSize, blocks)));
        }
    }
}
