package io.tidemark.events.layout;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdInputStreamNoFinalizer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4FrameInputStream;
import net.jpountz.xxhash.XXHashFactory;

/**
 * Undoes the node shim's compression of stored objects, for the shim (archive-get, restore) and
 * the functions (the indexer, the validator) alike: zstd frames (zstd-jni; what {@code zstd -d}
 * reads), LZ4 frames (lz4-java's frame format, as the {@code lz4} tool writes), or nothing. Never
 * trusts a size it is told: output is bounded by the caller's {@code maxBytes}, so a hostile or
 * damaged object cannot make a reader allocate more than it expects.
 */
public final class Decompression {

    private Decompression() {
    }

    /**
     * The most bytes an object holding {@code rawBytes} of content can take stored with
     * {@code compression}: the content itself when raw; otherwise the content plus the codec's
     * worst-case expansion of incompressible data (zstd: 1/256 plus block headers; an LZ4 frame:
     * 1/255 plus block and frame headers), bounded here by 1/128 plus 64 KiB.
     */
    public static long maxStoredSize(Compression compression, long rawBytes) {
        return compression == Compression.NONE ? rawBytes : rawBytes + rawBytes / 128 + 65_536;
    }

    /**
     * The raw content of {@code stored}.
     *
     * @throws IOException when the data is not a valid stream of that kind or decompresses to more
     *                     than {@code maxBytes}
     */
    public static byte[] decompress(Compression compression, byte[] stored, int maxBytes) throws IOException {
        try {
            return switch (compression) {
                case NONE -> {
                    if (stored.length > maxBytes) {
                        throw new TooLarge("object holds " + stored.length + " bytes, more than the " + maxBytes
                                + " expected");
                    }
                    yield stored;
                }
                case ZSTD -> zstd(stored, maxBytes);
                case LZ4 -> {
                    try (InputStream in = decompressing(Compression.LZ4, new ByteArrayInputStream(stored))) {
                        yield readBounded(in, maxBytes, "lz4");
                    }
                }
            };
        } catch (TooLarge e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            // the codecs signal corruption with their own words, some with unchecked exceptions
            throw new IOException("not a valid " + compression.extension() + " stream: " + e.getMessage(), e);
        }
    }

    /** Our own refusal of a stream larger than its bound: said as it is, not as a corrupt stream. */
    private static final class TooLarge extends IOException {
        TooLarge(String message) {
            super(message);
        }
    }

    private static byte[] zstd(byte[] stored, int maxBytes) throws IOException {
        long size;
        try {
            size = Zstd.getFrameContentSize(stored);
            // the declared size is the first frame's: an object of several frames (a block-mapped
            // file stores one per block, back to back) is decompressed as a stream
            if (Zstd.findFrameCompressedSize(stored) != stored.length) {
                size = -1;
            }
        } catch (RuntimeException unknown) {
            // a frame written by a streaming compressor (large backup files) does not record its
            // size; zstd-jni throws for that: decompress as a stream, bounded
            size = -1;
        }
        if (size >= 0 && size <= maxBytes) {
            // one call into the native library with an exact buffer: the quick path for WAL segments
            byte[] out = Zstd.decompress(stored, (int) size);
            if (out.length != size) {
                throw new IOException("zstd frame is shorter than its declared size");
            }
            return out;
        }
        try (InputStream in = new ZstdInputStreamNoFinalizer(new ByteArrayInputStream(stored))) {
            return readBounded(in, maxBytes, "zstd");
        }
    }

    /**
     * A stream of the decompressed bytes of {@code stored} (for files too large to hold in memory,
     * e.g. restored relation segments); errors surface as {@link IOException}s on read.
     */
    public static InputStream decompressing(Compression c, InputStream stored) throws IOException {
        try {
            return switch (c) {
                case NONE -> stored;
                case ZSTD -> new ZstdInputStreamNoFinalizer(stored);
                case LZ4 -> new LZ4FrameInputStream(stored, LZ4Factory.fastestJavaInstance().safeDecompressor(),
                        XXHashFactory.fastestJavaInstance().hash32());
            };
        } catch (RuntimeException e) {
            throw new IOException("not a valid " + c.extension() + " stream: " + e.getMessage(), e);
        }
    }

    /**
     * Runs both codecs once on a small buffer (SnapStart priming): zstd-jni extracts and loads its
     * native library on first use, which then happens before the snapshot, not in an invocation.
     */
    public static void primeCodecs() throws IOException {
        byte[] raw = new byte[8192];
        decompress(Compression.ZSTD, Zstd.compress(raw), raw.length);
        java.io.ByteArrayOutputStream lz4 = new java.io.ByteArrayOutputStream();
        try (var out = new net.jpountz.lz4.LZ4FrameOutputStream(lz4)) {
            out.write(raw);
        }
        decompress(Compression.LZ4, lz4.toByteArray(), raw.length);
    }

    private static byte[] readBounded(InputStream in, int maxBytes, String kind) throws IOException {
        byte[] out = in.readNBytes(maxBytes + 1);
        if (out.length > maxBytes) {
            throw new TooLarge(kind + " stream decompresses to more than " + maxBytes + " bytes");
        }
        return out;
    }
}
