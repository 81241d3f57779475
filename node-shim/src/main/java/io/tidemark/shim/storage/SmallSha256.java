package io.tidemark.shim.storage;

import java.util.Arrays;

/**
 * SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104) in plain Java, for the few small inputs of a
 * request signature. Why not {@code MessageDigest} and {@code Mac}: in a JVM that lives for one
 * WAL segment, initialising the JDK's security providers and the JCE policy costs about 25 ms,
 * more than signing needs in total (measured in docs/startup.md). Large data (whole segments)
 * goes to {@link Sha256}. A unit test compares both with the JDK's on random inputs.
 */
public final class SmallSha256 {
    private static final int[] K = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    };
    private static final int[] INITIAL = {
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
    };
    private static final int BLOCK = 64;

    private SmallSha256() {
    }

    /** The digest of {@code data} (meant for kilobytes, not megabytes). */
    public static byte[] digest(byte[] data) {
        return digest(new byte[0], data);
    }

    /** HMAC-SHA256 of {@code message} under {@code key}. */
    public static byte[] hmac(byte[] key, byte[] message) {
        byte[] k = key.length > BLOCK ? digest(key) : key;
        byte[] inner = new byte[BLOCK];
        byte[] outer = new byte[BLOCK];
        for (int i = 0; i < BLOCK; i++) {
            byte b = i < k.length ? k[i] : 0;
            inner[i] = (byte) (b ^ 0x36);
            outer[i] = (byte) (b ^ 0x5c);
        }
        return digest(outer, digest(inner, message));
    }

    /** SHA-256 of {@code prefix} followed by {@code data}, without joining them first. */
    private static byte[] digest(byte[] prefix, byte[] data) {
        long total = (long) prefix.length + data.length;
        // message, the 0x80 marker, zero padding, then the bit length in the last 8 bytes of a block
        int padded = (int) ((total + 8) / BLOCK + 1) * BLOCK;
        byte[] tail = new byte[padded - (int) (total / BLOCK) * BLOCK];
        int[] h = Arrays.copyOf(INITIAL, 8);
        int[] w = new int[64];
        byte[] block = new byte[BLOCK];
        long fullBlocks = total / BLOCK;
        for (long b = 0; b < fullBlocks; b++) {
            fill(block, prefix, data, b * BLOCK);
            compress(h, w, block, 0);
        }
        int rest = (int) (total - fullBlocks * BLOCK);
        fill(tail, prefix, data, fullBlocks * BLOCK, rest);
        tail[rest] = (byte) 0x80;
        long bits = total * 8;
        for (int i = 0; i < 8; i++) {
            tail[tail.length - 1 - i] = (byte) (bits >>> (8 * i));
        }
        for (int off = 0; off < tail.length; off += BLOCK) {
            compress(h, w, tail, off);
        }
        byte[] out = new byte[32];
        for (int i = 0; i < 8; i++) {
            out[4 * i] = (byte) (h[i] >>> 24);
            out[4 * i + 1] = (byte) (h[i] >>> 16);
            out[4 * i + 2] = (byte) (h[i] >>> 8);
            out[4 * i + 3] = (byte) h[i];
        }
        return out;
    }

    private static void fill(byte[] block, byte[] prefix, byte[] data, long from) {
        fill(block, prefix, data, from, BLOCK);
    }

    /** Copies {@code n} bytes of the virtual concatenation prefix+data, starting at {@code from}. */
    private static void fill(byte[] dst, byte[] prefix, byte[] data, long from, int n) {
        for (int i = 0; i < n; i++) {
            long pos = from + i;
            dst[i] = pos < prefix.length ? prefix[(int) pos] : data[(int) (pos - prefix.length)];
        }
    }

    private static void compress(int[] h, int[] w, byte[] block, int off) {
        for (int t = 0; t < 16; t++) {
            int i = off + 4 * t;
            w[t] = (block[i] & 0xff) << 24 | (block[i + 1] & 0xff) << 16 | (block[i + 2] & 0xff) << 8 | (block[i + 3] & 0xff);
        }
        for (int t = 16; t < 64; t++) {
            int s0 = Integer.rotateRight(w[t - 15], 7) ^ Integer.rotateRight(w[t - 15], 18) ^ (w[t - 15] >>> 3);
            int s1 = Integer.rotateRight(w[t - 2], 17) ^ Integer.rotateRight(w[t - 2], 19) ^ (w[t - 2] >>> 10);
            w[t] = w[t - 16] + s0 + w[t - 7] + s1;
        }
        int a = h[0];
        int b = h[1];
        int c = h[2];
        int d = h[3];
        int e = h[4];
        int f = h[5];
        int g = h[6];
        int hh = h[7];
        for (int t = 0; t < 64; t++) {
            int sum1 = Integer.rotateRight(e, 6) ^ Integer.rotateRight(e, 11) ^ Integer.rotateRight(e, 25);
            int choose = (e & f) ^ (~e & g);
            int t1 = hh + sum1 + choose + K[t] + w[t];
            int sum0 = Integer.rotateRight(a, 2) ^ Integer.rotateRight(a, 13) ^ Integer.rotateRight(a, 22);
            int majority = (a & b) ^ (a & c) ^ (b & c);
            int t2 = sum0 + majority;
            hh = g;
            g = f;
            f = e;
            e = d + t1;
            d = c;
            c = b;
            b = a;
            a = t1 + t2;
        }
        h[0] += a;
        h[1] += b;
        h[2] += c;
        h[3] += d;
        h[4] += e;
        h[5] += f;
        h[6] += g;
        h[7] += hh;
    }
}
