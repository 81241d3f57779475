package io.tidemark.shim.backup;

import com.github.luben.zstd.ZstdOutputStream;
import io.tidemark.events.backup.BlockDigest;
import io.tidemark.events.backup.ManifestFile;
import io.tidemark.events.layout.Compression;
import io.tidemark.shim.storage.Codec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4FrameOutputStream;
import net.jpountz.xxhash.XXHashFactory;

/**
 * Reads one file once: SHA-256 of its bytes, page checksums (relation files of a cluster with data
 * checksums), and its compressed form with that form's SHA-256. Files are read in 1 MB chunks; a
 * file that fits in one chunk is compressed in one call (its zstd frame records the size), larger
 * ones are stream-compressed (zstd frames / LZ4 frames, as {@link Codec#decompress} reads them).
 */
final class FileCopier {
    static final int CHUNK = 1 << 20; // a multiple of the page size: pages never straddle chunks

    /** What was read and how it is stored. */
    record Copy(long size, String sha256, byte[] stored, String storedSha256, List<Long> pageChecksumErrors) {
    }

    private final Compression compression;
    private final int level;
    private final boolean pageChecksums;
    private final long startLsn;

    FileCopier(Compression compression, int level, boolean pageChecksums, long startLsn) {
        this.compression = compression;
        this.level = level;
        this.pageChecksums = pageChecksums;
        this.startLsn = startLsn;
    }

    /** The copy, or empty when the file vanished before it could be opened. */
    Optional<Copy> copy(SourceFile f) throws IOException {
        FileChannel ch;
        try {
            ch = FileChannel.open(f.absolute(), StandardOpenOption.READ);
        } catch (NoSuchFileException gone) {
            return Optional.empty();
        }
        try (ch) {
            MessageDigest raw = sha256();
            boolean relation = pageChecksums && PageChecksums.isRelationFile(f.path().path());
            long firstBlockOfFile = relation ? PageChecksums.segmentOf(f.path().fileName()) * PageChecksums.BLOCKS_PER_SEGMENT : 0;
            List<Long> errors = new ArrayList<>();
            byte[] chunk = new byte[(int) Math.min(CHUNK, Math.max(PageChecksums.PAGE_SIZE, roundUpToPage(f.size() + 1)))];
            long offset = 0;
            int n = readChunk(ch, chunk);
            byte[] stored;
            if (n < chunk.length) {
                raw.update(chunk, 0, n);
                if (relation) {
                    errors.addAll(PageChecksums.verifyFrom(chunk, n, firstBlockOfFile, startLsn));
                }
                byte[] content = n == chunk.length ? chunk : java.util.Arrays.copyOf(chunk, n);
                stored = Codec.compress(compression, level, content);
                offset = n;
            } else {
                ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.min(Integer.MAX_VALUE - 16,
                        Math.max(1024, f.size() / 3)));
                try (OutputStream c = compressor(out)) {
                    while (n > 0) {
                        raw.update(chunk, 0, n);
                        c.write(chunk, 0, n);
                        if (relation) {
                            errors.addAll(PageChecksums.verifyFrom(chunk, n, firstBlockOfFile + offset / PageChecksums.PAGE_SIZE,
                                    startLsn));
                        }
                        offset += n;
                        n = readChunk(ch, chunk);
                    }
                }
                stored = out.toByteArray();
            }
            if (!errors.isEmpty()) {
                errors = recheck(ch, errors, firstBlockOfFile);
            }
            return Optional.of(new Copy(offset, hex(raw.digest()), stored, hex(sha256().digest(stored)), errors));
        }
    }

    /**
     * The digest of a file as it is now, of the kind {@code earlier}'s {@code sha256} is: its
     * {@link BlockDigest} with the same block size when that entry holds one, else the SHA-256 of
     * its bytes; empty when the file vanished.
     */
    static Optional<String> digestLike(Path file, ManifestFile earlier) throws IOException {
        if (earlier.digestByBlocks()) {
            try {
                return Optional.of(BlockDigest.ofFile(file, earlier.blocks().get().blockSize()));
            } catch (NoSuchFileException gone) {
                return Optional.empty();
            }
        }
        return sha256Of(file);
    }

    /** SHA-256 of a file's bytes, or empty when it vanished. */
    static Optional<String> sha256Of(Path file) throws IOException {
        FileChannel ch;
        try {
            ch = FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException gone) {
            return Optional.empty();
        }
        try (ch) {
            MessageDigest d = sha256();
            byte[] chunk = new byte[CHUNK];
            int n;
            while ((n = readChunk(ch, chunk)) > 0) {
                d.update(chunk, 0, n);
            }
            return Optional.of(hex(d.digest()));
        }
    }

    /**
     * A page read while PostgreSQL wrote it can be torn (half old, half new): read each failed page
     * again; it counts as failed only if it fails again.
     */
    List<Long> recheck(FileChannel ch, List<Long> failed, long firstBlockOfFile) throws IOException {
        List<Long> still = new ArrayList<>();
        byte[] page = new byte[PageChecksums.PAGE_SIZE];
        for (long block : failed) {
            ByteBuffer b = ByteBuffer.wrap(page);
            long pos = (block - firstBlockOfFile) * PageChecksums.PAGE_SIZE;
            while (b.hasRemaining()) {
                int r = ch.read(b, pos + b.position());
                if (r < 0) {
                    break;
                }
            }
            if (b.hasRemaining()) {
                continue; // truncated meanwhile: WAL replay deals with it
            }
            if (!PageChecksums.pageIsValid(page, 0, block, startLsn)) {
                still.add(block);
            }
        }
        return still;
    }

    private OutputStream compressor(OutputStream out) throws IOException {
        return switch (compression) {
            case NONE -> out;
            case ZSTD -> new ZstdOutputStream(out, level);
            case LZ4 -> {
                LZ4Factory f = LZ4Factory.fastestJavaInstance();
                yield new LZ4FrameOutputStream(out, LZ4FrameOutputStream.BLOCKSIZE.SIZE_4MB, -1,
                        level <= 1 ? f.fastCompressor() : f.highCompressor(level), XXHashFactory.fastestJavaInstance().hash32(),
                        LZ4FrameOutputStream.FLG.Bits.BLOCK_INDEPENDENCE, LZ4FrameOutputStream.FLG.Bits.CONTENT_CHECKSUM);
            }
        };
    }

    private static long roundUpToPage(long n) {
        return (n + PageChecksums.PAGE_SIZE - 1) / PageChecksums.PAGE_SIZE * PageChecksums.PAGE_SIZE;
    }

    /** Fills {@code buf} from the channel's position; fewer bytes only at end of file. */
    static int readChunk(FileChannel ch, byte[] buf) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(buf);
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) {
                break;
            }
        }
        return b.position();
    }

    /**
     * Never updated: {@link #sha256()} hands out clones. A backup takes a few thousand hashers (two
     * per file, one per bundle), and {@code getInstance} looks the algorithm up in the provider list
     * each time: 0.8 % of a full backup's CPU samples at scale 100 (docs/benchmarks.md, issue 16),
     * where a clone copies the initial state.
     */
    private static final MessageDigest SHA256_PROTOTYPE = newSha256();

    static MessageDigest sha256() {
        try {
            return (MessageDigest) SHA256_PROTOTYPE.clone();
        } catch (CloneNotSupportedException e) {
            return newSha256();
        }
    }

    private static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }
}
