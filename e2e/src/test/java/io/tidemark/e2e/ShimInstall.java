package io.tidemark.e2e;

import io.tidemark.testkit.FileTrees;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.stream.Stream;

/**
 * The packaged shim copied to a world-readable temp dir, laid out as the repository has it
 * ({@code bin/tidemark}, {@code node-shim/target/...}): PostgreSQL runs {@code archive_command}
 * as the postgres user, who cannot read a build tree under /root or a private CI checkout.
 */
public final class ShimInstall {
    private static ShimInstall instance;

    private final Path root;

    private ShimInstall(Path root) {
        this.root = root;
    }

    public static synchronized ShimInstall get() {
        if (instance == null) {
            instance = create();
        }
        return instance;
    }

    /** {@code <install>/bin/tidemark}. */
    public Path launcher() {
        return root.resolve("bin/tidemark");
    }

    public Path root() {
        return root;
    }

    private static ShimInstall create() {
        Path repo = repositoryRoot();
        Path jar = repo.resolve("node-shim/target/tidemark-node-shim.jar");
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " is missing: run the e2e tests through the reactor (./mvnw verify),"
                    + " which packages node-shim first");
        }
        try {
            Path dir = Files.createTempDirectory(Path.of("/tmp"), "tidemark-e2e-install-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
            copyTree(repo.resolve("bin"), dir.resolve("bin"));
            copyTree(repo.resolve("node-shim/target/lib"), dir.resolve("node-shim/target/lib"));
            if (Files.isDirectory(repo.resolve("node-shim/target/native"))) {
                copyTree(repo.resolve("node-shim/target/native"), dir.resolve("node-shim/target/native"));
            }
            Files.copy(jar, dir.resolve("node-shim/target/tidemark-node-shim.jar"), StandardCopyOption.COPY_ATTRIBUTES);
            // The AOT caches `package` trains on JDK 25+ (docs/startup.md), as an installed shim has
            // them: without them every archive-push and archive-get PostgreSQL starts in these tests
            // would run a slower JVM start than users get. The JVM accepts a cache whose jar moved
            // with its lib directory; the launcher uses one only when it is newer than the jar, so
            // both keep their build times.
            for (String aot : new String[] {"tidemark-push.aot", "tidemark-get.aot"}) {
                Path cache = repo.resolve("node-shim/target").resolve(aot);
                if (Files.isRegularFile(cache)) {
                    Files.copy(cache, dir.resolve("node-shim/target").resolve(aot), StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
            makeReadable(dir);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(dir)));
            return new ShimInstall(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Path repositoryRoot() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.isRegularFile(p.resolve("bin/tidemark"))) {
            p = p.getParent();
        }
        if (p == null) {
            throw new IllegalStateException("cannot find the repository root (bin/tidemark) above " + Path.of("").toAbsolutePath());
        }
        return p;
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target, StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
    }

    private static void makeReadable(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                boolean exec = Files.isDirectory(p) || Files.isExecutable(p);
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(exec ? "rwxr-xr-x" : "rw-r--r--"));
            }
        }
    }

    static void deleteTree(Path dir) {
        FileTrees.deleteQuietly(dir);
    }
}
