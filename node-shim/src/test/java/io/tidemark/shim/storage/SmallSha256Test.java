package io.tidemark.shim.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class SmallSha256Test {

    @Test
    void knownDigests() {
        // FIPS 180-4 examples: one block, and two blocks (448-bit message)
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", hex(SmallSha256.digest(ascii("abc"))));
        assertEquals("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
                hex(SmallSha256.digest(ascii("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))));
        assertEquals(SigV4.EMPTY_SHA256, hex(SmallSha256.digest(new byte[0])));
    }

    /** Every length around the padding boundaries (55, 56, 63, 64 ...) and beyond, against the JDK. */
    @Test
    void agreesWithTheJdkDigestForEveryLengthUpTo300AndSomeLarger() throws Exception {
        Random r = new Random(7);
        for (int len = 0; len <= 300; len++) {
            checkDigest(r, len);
        }
        for (int len : new int[] {1000, 4095, 4096, 65_537}) {
            checkDigest(r, len);
        }
    }

    private static void checkDigest(Random r, int len) throws Exception {
        byte[] data = new byte[len];
        r.nextBytes(data);
        assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(data), SmallSha256.digest(data), "length " + len);
    }

    /** Keys shorter than, equal to and longer than the 64-byte block (which are hashed first). */
    @Test
    void hmacAgreesWithTheJdk() throws Exception {
        Random r = new Random(11);
        for (int keyLen : new int[] {0, 1, 20, 63, 64, 65, 131}) {
            for (int msgLen : new int[] {0, 1, 55, 56, 64, 200}) {
                byte[] key = new byte[keyLen];
                byte[] msg = new byte[msgLen];
                r.nextBytes(key);
                r.nextBytes(msg);
                Mac mac = Mac.getInstance("HmacSHA256");
                mac.init(new SecretKeySpec(keyLen == 0 ? new byte[1] : key, "HmacSHA256"));
                if (keyLen == 0) {
                    // SecretKeySpec refuses an empty key; a single zero byte pads to the same block
                    assertArrayEquals(mac.doFinal(msg), SmallSha256.hmac(new byte[0], msg), "empty key, message " + msgLen);
                } else {
                    assertArrayEquals(mac.doFinal(msg), SmallSha256.hmac(key, msg), "key " + keyLen + ", message " + msgLen);
                }
            }
        }
    }

    /** RFC 4231 test case 2. */
    @Test
    void rfc4231Case2() {
        assertEquals("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
                hex(SmallSha256.hmac(ascii("Jefe"), ascii("what do ya want for nothing?"))));
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }
}
