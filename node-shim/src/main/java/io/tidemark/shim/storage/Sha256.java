package io.tidemark.shim.storage;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * SHA-256 of whole segments and files. This is the Java 21 form: the JDK's digest. On Java 22
 * and later the multi-release jar holds another form of this class
 * ({@code src/main/java22}) that calls OpenSSL's libcrypto through the foreign function API:
 * a short-lived JVM running only C1 has no SHA intrinsic and hashes 16 MB in about 130 ms,
 * libcrypto with the CPU's SHA instructions in about 10 ms.
 */
public final class Sha256 {
    private Sha256() {
    }

    public static byte[] digest(byte[] data) {
        return jdk(data);
    }

    /** Which implementation {@link #digest} uses, for traces and docs. */
    public static String implementation() {
        return "jdk";
    }

    static byte[] jdk(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
    }
}
