package io.tidemark.functions.index;

import com.github.luben.zstd.ZstdInputStreamNoFinalizer;
import io.tidemark.events.layout.Compression;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import net.jpountz.lz4.LZ4FrameInputStream;

/**
 * Undoes the node shim's compression: zstd frames (zstd-jni), LZ4 frames (lz4-java's frame
 * format, as the {@code lz4} command line tool writes), or nothing ({@code raw}). Output is
 * bounded so that a hostile object cannot make the function allocate more than a segment.
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
     * @throws IOException when the data is not a valid stream of that kind or decompresses to more than {@code maxBytes}
     */
    public static byte[] decompress(Compression compression, byte[] stored, int maxBytes) throws IOException {
        return switch (compression) {
            case NONE -> {
                if (stored.length > maxBytes) {
                    throw new IOException("object holds " + stored.length + " bytes, more than the " + maxBytes
                            + " expected");
                }
                yield stored;
            }
            case ZSTD -> {
                try (InputStream in = new ZstdInputStreamNoFinalizer(new ByteArrayInputStream(stored))) {
                    yield readBounded(in, maxBytes, "zstd");
                }
            }
            case LZ4 -> {
                try (InputStream in = new LZ4FrameInputStream(new ByteArrayInputStream(stored))) {
                    yield readBounded(in, maxBytes, "lz4");
                }
            }
        };
    }

    /**
     * Runs both codecs once on a small buffer (SnapStart priming): zstd-jni extracts and loads
     * its native library on first use, which then happens before the snapshot, not in an
     * invocation.
     */
    public static void primeCodecs() throws IOException {
        byte[] raw = new byte[8192];
        decompress(Compression.ZSTD, com.github.luben.zstd.Zstd.compress(raw), raw.length);
        java.io.ByteArrayOutputStream lz4 = new java.io.ByteArrayOutputStream();
        try (var out = new net.jpountz.lz4.LZ4FrameOutputStream(lz4)) {
            out.write(raw);
        }
        decompress(Compression.LZ4, lz4.toByteArray(), raw.length);
    }

    private static byte[] readBounded(InputStream in, int maxBytes, String kind) throws IOException {
        byte[] out;
        try {
            out = in.readNBytes(maxBytes + 1);
        } catch (RuntimeException e) {
            // Codecs signal some corruptions with unchecked exceptions.
            throw new IOException("not a valid " + kind + " stream: " + e.getMessage(), e);
        }
        if (out.length > maxBytes) {
            throw new IOException(kind + " stream decompresses to more than " + maxBytes + " bytes");
        }
        return Arrays.copyOf(out, out.length);
    }
}
