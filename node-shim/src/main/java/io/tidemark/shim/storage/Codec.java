package io.tidemark.shim.storage;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;
import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.Decompression;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4FrameOutputStream;
import net.jpountz.xxhash.XXHashFactory;

/**
 * Compression of stored objects: zstd frames (zstd-jni; readable by {@code zstd -d}), LZ4 frames
 * (lz4-java; readable by {@code lz4 -d}) or none. Decompression is events' {@link Decompression}
 * (shared with the functions), bounded here by {@link #MAX_RAW} (the largest WAL segment).
 */
public final class Codec {
    public static final int MAX_RAW = 1 << 30;

    private Codec() {
    }

    public static byte[] compress(Compression c, int level, byte[] raw) {
        return switch (c) {
            case NONE -> raw;
            case ZSTD -> zstd(raw, level);
            case LZ4 -> lz4(raw, level);
        };
    }

    /** Below this one zstd thread is as quick as starting more (zstd cuts input in 2 MB jobs at level 1). */
    static final int ZSTD_PARALLEL_FROM = 4 << 20;

    /**
     * An output buffer for {@link #compress(Compression, int, byte[], byte[])}: for zstd, as large
     * as the worst case for {@code rawSize} bytes; null for the other compressions. Allocating it
     * apart lets a caller do it (zeroing 16 MB of fresh memory, page faults on a cold JVM) while
     * the input is still being read.
     */
    public static byte[] outputBuffer(Compression c, int rawSize) {
        return c == Compression.ZSTD ? new byte[(int) Zstd.compressBound(rawSize)] : null;
    }

    /** As {@link #compress(Compression, int, byte[])}, writing zstd output into {@code buffer} first (may be null). */
    public static byte[] compress(Compression c, int level, byte[] raw, byte[] buffer) {
        if (c != Compression.ZSTD) {
            return compress(c, level, raw);
        }
        byte[] dst = buffer != null && buffer.length >= Zstd.compressBound(raw.length)
                ? buffer : outputBuffer(c, raw.length);
        try (ZstdCompressCtx ctx = zstdContext(level, raw.length)) {
            int n = ctx.compressByteArray(dst, 0, dst.length, raw, 0, raw.length);
            return Arrays.copyOf(dst, n);
        }
    }

    /**
     * A zstd context with one worker per core (at most four) for a segment-sized input: a WAL
     * segment is compressed while PostgreSQL waits, so the archive path wants all cores. The frame
     * is the same format with the content size recorded; any zstd reads it.
     */
    private static ZstdCompressCtx zstdContext(int level, int rawSize) {
        int workers = rawSize < ZSTD_PARALLEL_FROM ? 0 : Math.min(4, Runtime.getRuntime().availableProcessors());
        ZstdCompressCtx ctx = new ZstdCompressCtx();
        ctx.setLevel(level);
        if (workers > 1) {
            ctx.setWorkers(workers);
        }
        ctx.setContentSize(true);
        return ctx;
    }

    /**
     * Compresses blocks one after another with one native context and one output buffer, so a
     * block costs the compression and a copy of its (small) result, not a new context and a new
     * worst-case buffer. The frames are the same as {@link #compress(Compression, int, byte[])}'s
     * for the same bytes. One user at a time (hand it out through a {@link Pool}).
     */
    public static final class BlockEncoder implements AutoCloseable {
        private final Compression compression;
        private final int level;
        private ZstdCompressCtx single;
        private ZstdCompressCtx parallel;
        private byte[] out = new byte[0];

        public BlockEncoder(Compression compression, int level) {
            this.compression = compression;
            this.level = level;
        }

        /** The stored form of {@code raw[0..len)}, in an array of its own (never {@code raw} itself). */
        public byte[] compress(byte[] raw, int len) {
            if (compression != Compression.ZSTD) {
                byte[] exact = Arrays.copyOf(raw, len); // NONE returns its input: never the caller's buffer
                return Codec.compress(compression, level, exact);
            }
            ZstdCompressCtx ctx;
            if (len < ZSTD_PARALLEL_FROM) {
                ctx = single == null ? single = zstdContext(level, len) : single;
            } else {
                ctx = parallel == null ? parallel = zstdContext(level, len) : parallel;
            }
            int bound = (int) Zstd.compressBound(len);
            if (out.length < bound) {
                out = new byte[bound];
            }
            int n = ctx.compressByteArray(out, 0, out.length, raw, 0, len);
            return Arrays.copyOf(out, n);
        }

        @Override
        public void close() {
            if (single != null) {
                single.close();
            }
            if (parallel != null) {
                parallel.close();
            }
        }
    }

    /**
     * Decompresses blocks one after another into the caller's buffer with one native context (no
     * new array per block). One user at a time (hand it out through a {@link Pool}).
     */
    public static final class BlockDecoder implements AutoCloseable {
        private ZstdDecompressCtx ctx;

        /**
         * Decompresses {@code stored[0..len)} into {@code out}; returns the raw length.
         *
         * @throws IOException when the bytes are not a valid stream of that compression or hold
         *                     more than {@code out.length} bytes
         */
        public int decompress(Compression c, byte[] stored, int len, byte[] out) throws IOException {
            switch (c) {
                case ZSTD -> {
                    if (ctx == null) {
                        ctx = new ZstdDecompressCtx();
                    }
                    try {
                        return ctx.decompressByteArray(out, 0, out.length, stored, 0, len);
                    } catch (RuntimeException e) {
                        // zstd-jni reports a damaged frame and one too large for out alike
                        throw new IOException("not a valid zst stream of at most " + out.length + " bytes: "
                                + e.getMessage(), e);
                    }
                }
                case NONE, LZ4 -> {
                    byte[] raw = c == Compression.NONE ? stored : Codec.decompress(c, Arrays.copyOf(stored, len));
                    int n = c == Compression.NONE ? len : raw.length;
                    if (n > out.length) {
                        throw new IOException("holds " + n + " bytes, more than the " + out.length + " expected");
                    }
                    System.arraycopy(raw, 0, out, 0, n);
                    return n;
                }
                default -> throw new IllegalArgumentException(String.valueOf(c));
            }
        }

        @Override
        public void close() {
            if (ctx != null) {
                ctx.close();
            }
        }
    }

    private static byte[] zstd(byte[] raw, int level) {
        return compress(Compression.ZSTD, level, raw, null);
    }

    private static byte[] lz4(byte[] raw, int level) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length / 2 + 64);
        LZ4Factory f = LZ4Factory.fastestJavaInstance();
        try (LZ4FrameOutputStream lz = new LZ4FrameOutputStream(out, LZ4FrameOutputStream.BLOCKSIZE.SIZE_4MB, raw.length,
                level <= 1 ? f.fastCompressor() : f.highCompressor(level),
                XXHashFactory.fastestJavaInstance().hash32(),
                LZ4FrameOutputStream.FLG.Bits.BLOCK_INDEPENDENCE, LZ4FrameOutputStream.FLG.Bits.CONTENT_CHECKSUM,
                LZ4FrameOutputStream.FLG.Bits.CONTENT_SIZE)) {
            lz.write(raw);
        } catch (IOException e) {
            throw new IllegalStateException("LZ4 compression in memory failed", e);
        }
        return out.toByteArray();
    }

    /**
     * The raw content of {@code stored}, at most {@link #MAX_RAW} bytes (one decompressor for the
     * shim and the functions: {@link Decompression}).
     *
     * @throws IOException when the data is not a valid stream of that compression
     */
    public static byte[] decompress(Compression c, byte[] stored) throws IOException {
        return Decompression.decompress(c, stored, MAX_RAW);
    }

    /**
     * A stream of the decompressed bytes of {@code stored} (for files too large to hold in
     * memory, e.g. restored relation segments); errors surface as {@link IOException}s on read.
     */
    public static InputStream decompressing(Compression c, InputStream stored) throws IOException {
        return Decompression.decompressing(c, stored);
    }
}
