package io.tidemark.shim.storage;

/**
 * SHA-256 through libcrypto by way of a small JNI library ({@code src/main/c/tidemark_sha256.c},
 * built by {@code ./mvnw package} when a C compiler is there). bin/tidemark passes its path as
 * {@code -Dtidemark.sha256.native}; without it, or when it cannot be loaded or libcrypto is
 * missing, {@link #digest} answers null and {@link Sha256} uses the next way. Unlike the
 * foreign function API, a JNI method costs nothing to bind, which matters in a JVM that lives
 * for one WAL segment (docs/startup.md).
 */
final class NativeSha256 {
    static final String PROPERTY = "tidemark.sha256.native";
    private static final boolean AVAILABLE = load();

    private NativeSha256() {
    }

    private static boolean load() {
        String path = System.getProperty(PROPERTY);
        if (path == null || path.isEmpty() || Boolean.getBoolean("tidemark.sha256.jdk")) {
            return false;
        }
        try {
            System.load(path);
            return available();
        } catch (UnsatisfiedLinkError | SecurityException e) {
            return false; // not built for this machine, or no libcrypto: hash another way
        }
    }

    static boolean isAvailable() {
        return AVAILABLE;
    }

    /** The digest, or null when the native way is not available or failed. */
    static byte[] digest(byte[] data) {
        if (!AVAILABLE) {
            return null;
        }
        byte[] out = new byte[32];
        return digest0(data, data.length, out) ? out : null;
    }

    private static native boolean available();

    private static native boolean digest0(byte[] data, int len, byte[] out);
}
