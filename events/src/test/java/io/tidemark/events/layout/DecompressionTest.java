package io.tidemark.events.layout;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import net.jpountz.lz4.LZ4FrameOutputStream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class DecompressionTest {

    static final byte[] RAW = new byte[100_000];

    static {
        for (int i = 0; i < RAW.length; i++) {
            RAW[i] = (byte) (i % 251);
        }
    }

    static byte[] zstdStream(byte[] raw) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZstdOutputStream z = new ZstdOutputStream(out)) {
            z.write(raw);
        }
        return out.toByteArray();
    }

    static byte[] lz4(byte[] raw) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (LZ4FrameOutputStream z = new LZ4FrameOutputStream(out)) {
            z.write(raw);
        }
        return out.toByteArray();
    }

    @Test
    void everyFormReadsBackWithinItsBound() throws IOException {
        assertArrayEquals(RAW, Decompression.decompress(Compression.ZSTD, Zstd.compress(RAW), RAW.length));
        assertArrayEquals(RAW, Decompression.decompress(Compression.ZSTD, zstdStream(RAW), RAW.length));
        assertArrayEquals(RAW, Decompression.decompress(Compression.LZ4, lz4(RAW), RAW.length));
        assertArrayEquals(RAW, Decompression.decompress(Compression.NONE, RAW, RAW.length));
    }

    @Test
    void framesBackToBackEachDeclaringItsSizeReadBackWhole() throws IOException {
        // as a block-mapped backup file is stored: one frame per block, the first declaring only its own size
        byte[] first = Zstd.compress(java.util.Arrays.copyOfRange(RAW, 0, 40_000));
        byte[] second = Zstd.compress(java.util.Arrays.copyOfRange(RAW, 40_000, RAW.length));
        ByteArrayOutputStream both = new ByteArrayOutputStream();
        both.write(first);
        both.write(second);
        assertArrayEquals(RAW, Decompression.decompress(Compression.ZSTD, both.toByteArray(), RAW.length));
    }

    @Test
    void moreThanTheBoundIsRefusedNamingIt() throws IOException {
        int bound = RAW.length - 1;
        // a frame that declares its size, one that does not (a streaming compressor), an LZ4 frame
        for (var c : new Object[][] {{Compression.ZSTD, Zstd.compress(RAW)}, {Compression.ZSTD, zstdStream(RAW)},
                {Compression.LZ4, lz4(RAW)}}) {
            IOException e = assertThrows(IOException.class,
                    () -> Decompression.decompress((Compression) c[0], (byte[]) c[1], bound));
            assertEquals(true, e.getMessage().contains("stream decompresses to more than " + bound + " bytes")
                    && !e.getMessage().startsWith("not a valid"), e.getMessage());
        }
        assertThrows(IOException.class, () -> Decompression.decompress(Compression.NONE, RAW, bound));
    }

    @Test
    void garbageIsAnIoErrorNamingTheFormat() {
        byte[] garbage = "not compressed at all".getBytes();
        for (Compression c : new Compression[] {Compression.ZSTD, Compression.LZ4}) {
            IOException e = assertThrows(IOException.class, () -> Decompression.decompress(c, garbage, 1 << 20));
            assertEquals(true, e.getMessage().contains(c == Compression.ZSTD ? "zst" : "lz4"), e.getMessage());
        }
    }
}
