package io.tidemark.shim.storage;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * SHA-256 of whole segments and files. A short-lived JVM running only C1 has no SHA intrinsic
 * and its JDK digest takes about 130 ms for 16 MB; libcrypto with the CPU's SHA instructions
 * about 10 ms. So large inputs go to libcrypto through {@link NativeSha256} (JNI) when the
 * launcher provides it. This is the Java 21 form; on Java 22 and later the multi-release jar
 * holds another form ({@code src/main/java22}) that can also reach libcrypto through the
 * foreign function API when the JNI library is not there. Otherwise: the JDK's digest.
 */
public final class Sha256 {
    /** Below this the JDK digest is as quick as any native call. */
    static final int NATIVE_FROM = 1 << 20;

    private Sha256() {
    }

    /**
     * Loads the JNI library on a background thread: archive-push calls this first thing, so
     * that it runs while the main thread reads its configuration and the file.
     */
    public static void prepareInBackground() {
        Thread t = new Thread(NativeSha256::isAvailable, "tidemark-sha256-prepare");
        t.setDaemon(true);
        t.start();
    }

    public static byte[] digest(byte[] data) {
        if (data.length >= NATIVE_FROM) {
            byte[] viaJni = NativeSha256.digest(data);
            if (viaJni != null) {
                return viaJni;
            }
        }
        return jdk(data);
    }

    /** Which implementation {@link #digest} uses for large inputs, for traces and docs. */
    public static String implementation() {
        return NativeSha256.isAvailable() ? "libcrypto-jni" : "jdk";
    }

    static byte[] jdk(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
    }
}
