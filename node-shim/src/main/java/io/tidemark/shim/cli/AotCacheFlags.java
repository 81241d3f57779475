package io.tidemark.shim.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The JVM flags that use one of the package build's AOT caches ({@code tidemark-NAME.aot} beside
 * the shim's jar) for a JVM the shim starts itself (the archive-get prefetcher, the archive-push
 * worker), on the launcher's terms (bin/tidemark): the cache is there, newer than the jar (one
 * made for an older jar could run stale code), and this Java is 25 or newer; a cache the JVM
 * finds unfit is ignored without a message. Anything else: no flags, a start without a cache.
 */
public final class AotCacheFlags {
    private static final String JAR = "tidemark-node-shim.jar";

    private AotCacheFlags() {
    }

    /** The flags for {@code tidemark-NAME.aot} beside {@code jar}; none when it is missing, stale or this Java is below 25. */
    public static List<String> of(Path jar, String name) {
        return of(jar, name, Runtime.version().feature());
    }

    static List<String> of(Path jar, String name, int javaFeature) {
        if (javaFeature < 25 || jar.getParent() == null) {
            return List.of();
        }
        Path cache = jar.getParent().resolve("tidemark-" + name + ".aot");
        try {
            if (!Files.isReadable(cache)
                    || Files.getLastModifiedTime(cache).compareTo(Files.getLastModifiedTime(jar)) <= 0) {
                return List.of();
            }
        } catch (IOException e) {
            return List.of(); // no jar or no cache to compare: start without one, never wrong
        }
        return List.of("-XX:AOTCache=" + cache, "-Xlog:aot*=off,cds*=off");
    }

    /**
     * How a JVM the shim starts itself runs {@code io.tidemark.shim.Main}, with the cache
     * {@code tidemark-NAME.aot} when it fits. With a cache: {@code CACHE FLAGS -jar JAR}, when this
     * JVM's class path is the shim's jar (the launcher's {@code -jar}): the JVM uses a cache only
     * when its native-access setting is the training's, which came from the jar's manifest
     * ({@code Enable-Native-Access}); {@code --enable-native-access} on the command line made it
     * refuse the cache ("Mismatched values for property jdk.module.enable.native.access").
     * Without one (no cache, a stale one, JDK 21-24, tests run from classes directories):
     * {@code --enable-native-access=ALL-UNNAMED -cp CLASSPATH io.tidemark.shim.Main}, as before.
     */
    public static List<String> startMain(String name) {
        return startMain(System.getProperty("java.class.path", ""), name, Runtime.version().feature());
    }

    static List<String> startMain(String cp, String name, int javaFeature) {
        if (!cp.contains(java.io.File.pathSeparator) && cp.endsWith("/" + JAR)) {
            Path jar = Path.of(cp).toAbsolutePath();
            List<String> cache = of(jar, name, javaFeature);
            if (!cache.isEmpty()) {
                List<String> out = new java.util.ArrayList<>(cache);
                out.addAll(List.of("-jar", jar.toString()));
                return List.copyOf(out);
            }
        }
        return List.of("--enable-native-access=ALL-UNNAMED", "-cp", cp, "io.tidemark.shim.Main");
    }
}
