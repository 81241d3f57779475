package io.tidemark.shim.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.events.layout.Compression;
import java.io.IOException;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class CodecTest {
    static byte[] walLike(int size) {
        byte[] b = new byte[size];
        Random r = new Random(42);
        for (int i = 0; i < size / 3; i++) {
            b[i] = (byte) (r.nextInt(16)); // compressible head, zero tail, like a switched segment
        }
        return b;
    }

    @Test
    void roundTripsEveryCompressionAndLevel() throws IOException {
        byte[] raw = walLike(1 << 20);
        int[][] levels = {{3, 1, 19}, {1, 9}, {0}};
        Compression[] cs = {Compression.ZSTD, Compression.LZ4, Compression.NONE};
        for (int i = 0; i < cs.length; i++) {
            for (int level : levels[i]) {
                byte[] stored = Codec.compress(cs[i], level, raw);
                if (cs[i] != Compression.NONE) {
                    assertTrue(stored.length < raw.length / 2, cs[i] + " level " + level + ": " + stored.length);
                }
                assertArrayEquals(raw, Codec.decompress(cs[i], stored), cs[i] + " level " + level);
            }
        }
        assertArrayEquals(new byte[0], Codec.decompress(Compression.ZSTD, Codec.compress(Compression.ZSTD, 3, new byte[0])));
    }

    @Test
    void framesAreTheStandardOnes() {
        byte[] z = Codec.compress(Compression.ZSTD, 3, walLike(1000));
        assertArrayEquals(new byte[] {0x28, (byte) 0xB5, 0x2F, (byte) 0xFD}, Arrays.copyOf(z, 4));
        byte[] l = Codec.compress(Compression.LZ4, 1, walLike(1000));
        assertArrayEquals(new byte[] {0x04, 0x22, 0x4D, 0x18}, Arrays.copyOf(l, 4));
    }

    @Test
    void damagedDataIsAnIOException() {
        byte[] raw = walLike(100_000);
        for (Compression c : new Compression[] {Compression.ZSTD, Compression.LZ4}) {
            byte[] stored = Codec.compress(c, 1, raw);
            byte[] cut = Arrays.copyOf(stored, stored.length / 2);
            assertThrows(IOException.class, () -> Codec.decompress(c, cut), c + " truncated");
            assertThrows(IOException.class, () -> Codec.decompress(c, "not compressed".getBytes()), c + " garbage");
        }
    }

    /** A segment-sized input goes through zstd's worker threads: still one standard frame, with its size. */
    @Test
    void segmentSizedZstdFramesRecordTheirSizeAndRoundTrip() throws IOException {
        byte[] raw = new byte[16 << 20];
        Random r = new Random(3);
        for (int i = 0; i < raw.length; i += 64) {
            raw[i] = (byte) r.nextInt(4); // compressible, not trivially
        }
        byte[] viaBuffer = Codec.compress(Compression.ZSTD, 1, raw, Codec.outputBuffer(Compression.ZSTD, raw.length));
        byte[] plain = Codec.compress(Compression.ZSTD, 1, raw);
        for (byte[] frame : new byte[][] {viaBuffer, plain}) {
            assertTrue(frame.length < raw.length / 4, "compressed to " + frame.length);
            org.junit.jupiter.api.Assertions.assertEquals(raw.length, com.github.luben.zstd.Zstd.getFrameContentSize(frame));
            assertArrayEquals(raw, Codec.decompress(Compression.ZSTD, frame));
        }
        // a buffer too small for the worst case is not used; nothing is lost
        assertArrayEquals(raw, Codec.decompress(Compression.ZSTD, Codec.compress(Compression.ZSTD, 1, raw, new byte[10])));
        org.junit.jupiter.api.Assertions.assertNull(Codec.outputBuffer(Compression.LZ4, raw.length));
    }

    /**
     * A reused encoder writes the frames a one-shot compression writes (a re-run of a backup must
     * store the same bytes: objects are create-only), whatever it compressed before: a shorter
     * block after a longer one never carries the longer one's tail.
     */
    @Test
    void aReusedBlockEncoderWritesTheOneShotFrames() throws IOException {
        byte[] buf = walLike(6 << 20);
        try (Codec.BlockEncoder e = new Codec.BlockEncoder(Compression.ZSTD, 1);
             Codec.BlockEncoder none = new Codec.BlockEncoder(Compression.NONE, 0);
             Codec.BlockDecoder d = new Codec.BlockDecoder()) {
            for (int len : new int[] {6 << 20, 1 << 20, 5 << 20, 131_072, 1000, 1 << 20}) {
                byte[] exact = Arrays.copyOf(buf, len);
                byte[] stored = e.compress(buf, len);
                assertArrayEquals(Codec.compress(Compression.ZSTD, 1, exact), stored, "length " + len);
                byte[] out = new byte[(6 << 20) + 1];
                Arrays.fill(out, (byte) 7);
                int n = d.decompress(Compression.ZSTD, stored, stored.length, out);
                assertEquals(len, n);
                assertArrayEquals(exact, Arrays.copyOf(out, n));
                byte[] plain = none.compress(buf, len);
                assertArrayEquals(exact, plain);
                assertTrue(plain != buf, "NONE hands back a copy, never the caller's (pooled) buffer");
            }
        }
    }

    @Test
    void aBlockDecoderRefusesDamageAndMoreThanItsBuffer() throws IOException {
        byte[] raw = walLike(1 << 20);
        byte[] stored = Codec.compress(Compression.ZSTD, 1, raw);
        try (Codec.BlockDecoder d = new Codec.BlockDecoder()) {
            IOException big = assertThrows(IOException.class, () -> d.decompress(Compression.ZSTD, stored, stored.length, new byte[(1 << 20) - 1]));
            assertTrue(big.getMessage().contains("not a valid zst stream of at most 1048575 bytes"), big.getMessage());
            byte[] cut = Arrays.copyOf(stored, stored.length - 10);
            assertThrows(IOException.class, () -> d.decompress(Compression.ZSTD, cut, cut.length, new byte[2 << 20]));
            byte[] flipped = stored.clone();
            flipped[0] ^= 0x55; // the frame's magic number
            assertThrows(IOException.class, () -> d.decompress(Compression.ZSTD, flipped, flipped.length, new byte[2 << 20]));
            // after refusals the same decoder still decodes a good frame
            byte[] out = new byte[2 << 20];
            assertEquals(raw.length, d.decompress(Compression.ZSTD, stored, stored.length, out));
            assertArrayEquals(raw, Arrays.copyOf(out, raw.length));
            byte[] lz = Codec.compress(Compression.LZ4, 1, raw);
            assertEquals(raw.length, d.decompress(Compression.LZ4, lz, lz.length, out));
            assertArrayEquals(raw, Arrays.copyOf(out, raw.length));
            assertThrows(IOException.class, () -> d.decompress(Compression.NONE, raw, raw.length, new byte[10]));
        }
    }
}
