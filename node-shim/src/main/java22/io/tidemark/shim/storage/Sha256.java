package io.tidemark.shim.storage;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Optional;

/**
 * SHA-256 for Java 22 and later (the multi-release jar's form of this class). Large inputs go
 * to OpenSSL's {@code SHA256()} in libcrypto, which uses the CPU's SHA instructions at once,
 * where a short-lived JVM's C1 code has no intrinsic: through the JNI library
 * ({@link NativeSha256}) when the launcher provides it, else through the foreign function API
 * (whose binding costs a cold JVM about 50 ms of CPU). Small inputs, and machines without
 * libcrypto, use the JDK's digest; all give the same bytes (unit tests check).
 */
public final class Sha256 {
    /** Below this the JDK digest is cheaper than binding the native function. */
    static final int NATIVE_FROM = 1 << 20;
    private static final String[] LIBRARIES = {"libcrypto.so.3", "libcrypto.so", "libcrypto.3.dylib"};

    private Sha256() {
    }

    private static final class Native {
        static final MethodHandle SHA256 = bind().orElse(null);

        private static Optional<MethodHandle> bind() {
            if (Boolean.getBoolean("tidemark.sha256.jdk")) {
                return Optional.empty();
            }
            for (String lib : LIBRARIES) {
                try {
                    SymbolLookup lookup = SymbolLookup.libraryLookup(lib, Arena.global());
                    Optional<MemorySegment> fn = lookup.find("SHA256");
                    if (fn.isPresent()) {
                        return Optional.of(Linker.nativeLinker().downcallHandle(fn.get(),
                                FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                                        ValueLayout.ADDRESS),
                                Linker.Option.critical(true)));
                    }
                } catch (IllegalArgumentException | IllegalCallerException | UnsupportedOperationException e) {
                    // not this library, or native access not granted: try the next, then the JDK
                }
            }
            return Optional.empty();
        }
    }

    /**
     * Loads the JNI library, or failing that binds libcrypto through the foreign function API,
     * on a background thread: archive-push calls this first thing, so that it runs while the main
     * thread reads its configuration and the file.
     */
    public static void prepareInBackground() {
        Thread t = new Thread(() -> {
            if (!NativeSha256.isAvailable()) {
                MethodHandle ignored = Native.SHA256;
            }
        }, "tidemark-sha256-prepare");
        t.setDaemon(true);
        t.start();
    }

    public static byte[] digest(byte[] data) {
        if (data.length < NATIVE_FROM) {
            return jdk(data);
        }
        byte[] viaJni = NativeSha256.digest(data);
        if (viaJni != null) {
            return viaJni;
        }
        if (Native.SHA256 != null) {
            byte[] out = new byte[32];
            try {
                MemorySegment ignored = (MemorySegment) Native.SHA256.invokeExact(MemorySegment.ofArray(data),
                        (long) data.length, MemorySegment.ofArray(out));
                return out;
            } catch (Throwable t) {
                // fall back below: a failed native call must never break archiving
            }
        }
        return jdk(data);
    }

    public static String implementation() {
        if (NativeSha256.isAvailable()) {
            return "libcrypto-jni";
        }
        return Native.SHA256 != null ? "libcrypto" : "jdk";
    }

    static byte[] jdk(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
    }
}
