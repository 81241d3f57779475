package io.tidemark.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The packaged shim is a multi-release jar: on Java 22+ its SHA-256 calls libcrypto. Checked on
 * the jar itself (unit tests see target/classes, where META-INF/versions is not used).
 */
@Tag("unit")
class NativeSha256Test {

    @Test
    void packagedJarHashesWithLibcryptoAndAgreesWithTheJdk() throws Exception {
        Path jar = ShimInstall.repositoryRoot().resolve("node-shim/target/tidemark-node-shim.jar");
        try (URLClassLoader loader = new URLClassLoader(new URL[] {jar.toUri().toURL()}, null)) {
            Class<?> sha = loader.loadClass("io.tidemark.shim.storage.Sha256");
            Method digest = sha.getMethod("digest", byte[].class);
            Method impl = sha.getMethod("implementation");
            boolean libcrypto = Files.exists(Path.of("/usr/lib/x86_64-linux-gnu/libcrypto.so.3"))
                    || Files.exists(Path.of("/usr/lib/aarch64-linux-gnu/libcrypto.so.3"));
            assertEquals(libcrypto && Runtime.version().feature() >= 22 ? "libcrypto" : "jdk", impl.invoke(null));
            Random r = new Random(42);
            for (int size : new int[] {0, 100, (1 << 20) - 1, 1 << 20, 16 << 20}) {
                byte[] data = new byte[size];
                r.nextBytes(data);
                assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(data), (byte[]) digest.invoke(null, (Object) data),
                        "size " + size);
            }
        }
    }

    /**
     * With the JNI library that `./mvnw package` builds (a C compiler is part of the build's
     * requirements, see .ci/run), as bin/tidemark passes it: libcrypto through JNI, same digests.
     */
    @Test
    void packagedJniLibraryHashesWithLibcryptoAndAgreesWithTheJdk() throws Exception {
        Path root = ShimInstall.repositoryRoot();
        Path jar = root.resolve("node-shim/target/tidemark-node-shim.jar");
        String arch = System.getProperty("os.arch");
        Path lib = root.resolve("node-shim/target/native/linux/" + arch + "/libtidemark-sha256.so");
        org.junit.jupiter.api.Assertions.assertTrue(Files.isRegularFile(lib), "not built: " + lib);
        String before = System.getProperty("tidemark.sha256.native");
        System.setProperty("tidemark.sha256.native", lib.toString());
        try (URLClassLoader loader = new URLClassLoader(new URL[] {jar.toUri().toURL()}, null)) {
            Class<?> sha = loader.loadClass("io.tidemark.shim.storage.Sha256");
            assertEquals("libcrypto-jni", sha.getMethod("implementation").invoke(null));
            Method digest = sha.getMethod("digest", byte[].class);
            Random r = new Random(43);
            for (int size : new int[] {(1 << 20) - 1, 1 << 20, 16 << 20, (16 << 20) + 5}) {
                byte[] data = new byte[size];
                r.nextBytes(data);
                assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(data), (byte[]) digest.invoke(null, (Object) data),
                        "size " + size);
            }
        } finally {
            if (before == null) {
                System.clearProperty("tidemark.sha256.native");
            } else {
                System.setProperty("tidemark.sha256.native", before);
            }
        }
    }
}
