package io.tidemark.shim.storage;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdInputStream;
import io.tidemark.events.layout.Compression;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4FrameInputStream;
import net.jpountz.lz4.LZ4FrameOutputStream;
import net.jpountz.xxhash.XXHashFactory;

/**
 * Compression of stored objects: zstd frames (zstd-jni; readable by {@code zstd -d}), LZ4 frames
 * (lz4-java; readable by {@code lz4 -d}) or none. Decompression never trusts sizes it is told:
 * output is bounded by {@link #MAX_RAW} (the largest WAL segment).
 */
public final class Codec {
    public static final int MAX_RAW = 1 << 30;

    private Codec() {
    }

    public static byte[] compress(Compression c, int level, byte[] raw) {
        return switch (c) {
            case NONE -> raw;
            case ZSTD -> Zstd.compress(raw, level);
            case LZ4 -> lz4(raw, level);
        };
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

    /** @throws IOException when the data is not a valid stream of that compression */
    public static byte[] decompress(Compression c, byte[] stored) throws IOException {
        try {
            return decompressUnchecked(c, stored);
        } catch (RuntimeException e) {
            throw new IOException("not a valid " + c.extension() + " stream: " + e.getMessage(), e);
        }
    }

    private static byte[] decompressUnchecked(Compression c, byte[] stored) throws IOException {
        switch (c) {
            case NONE:
                return stored;
            case ZSTD: {
                long size;
                try {
                    size = Zstd.getFrameContentSize(stored);
                } catch (RuntimeException unknown) {
                    // a frame written by a streaming compressor (large backup files) does not record
                    // its size; zstd-jni throws for that: decompress as a stream, bounded
                    size = -1;
                }
                if (size >= 0 && size <= MAX_RAW) {
                    byte[] out = Zstd.decompress(stored, (int) size);
                    if (out.length != size) {
                        throw new IOException("zstd frame is shorter than its declared size");
                    }
                    return out;
                }
                try (InputStream in = new ZstdInputStream(new ByteArrayInputStream(stored))) {
                    return readBounded(in);
                } catch (RuntimeException e) {
                    throw new IOException("not a valid zstd stream: " + e.getMessage(), e);
                }
            }
            case LZ4: {
                try (InputStream in = new LZ4FrameInputStream(new ByteArrayInputStream(stored),
                        LZ4Factory.fastestJavaInstance().safeDecompressor(), XXHashFactory.fastestJavaInstance().hash32())) {
                    return readBounded(in);
                } catch (RuntimeException e) {
                    throw new IOException("not a valid LZ4 frame: " + e.getMessage(), e);
                }
            }
            default:
                throw new IllegalArgumentException(c.toString());
        }
    }

    /**
     * A stream of the decompressed bytes of {@code stored} (for files too large to hold in
     * memory, e.g. restored relation segments); errors surface as {@link IOException}s on read.
     */
    public static InputStream decompressing(Compression c, InputStream stored) throws IOException {
        try {
            return switch (c) {
                case NONE -> stored;
                case ZSTD -> new ZstdInputStream(stored);
                case LZ4 -> new LZ4FrameInputStream(stored, LZ4Factory.fastestJavaInstance().safeDecompressor(),
                        XXHashFactory.fastestJavaInstance().hash32());
            };
        } catch (RuntimeException e) {
            throw new IOException("not a valid " + c.extension() + " stream: " + e.getMessage(), e);
        }
    }

    private static byte[] readBounded(InputStream in) throws IOException {
        byte[] out = in.readNBytes(MAX_RAW + 1);
        if (out.length > MAX_RAW) {
            throw new IOException("decompresses to more than " + MAX_RAW + " bytes");
        }
        return out;
    }
}
