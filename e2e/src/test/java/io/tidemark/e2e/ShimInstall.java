package io.tidemark.e2e;

import io.tidemark.testkit.FileTrees;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.stream.Stream;

/**
 * The unpacked distribution archive (dist module, {@code dist/target/tidemark-VERSION/}) copied to
 * a world-readable temp dir: the tests run the launcher and jar as a node installs them
 * (docs/deploy.md), and PostgreSQL runs {@code archive_command} as the postgres user, who cannot
 * read a build tree under /root or a private CI checkout.
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
        Path archive = unpackedArchive(repositoryRoot());
        try {
            Path dir = Files.createTempDirectory(Path.of("/tmp"), "tidemark-e2e-install-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
            // with their build times: the launcher uses an AOT cache (lib/*.aot, JDK 25+) only when
            // it is newer than the jar; the JVM accepts a cache whose jar moved with its lib directory
            copyTree(archive, dir);
            makeReadable(dir);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(dir)));
            return new ShimInstall(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code dist/target/tidemark-V/tidemark-V}: what the assembly's {@code dir} format wrote. */
    static Path unpackedArchive(Path repo) {
        Path target = repo.resolve("dist/target");
        try (Stream<Path> s = Files.isDirectory(target) ? Files.list(target) : Stream.empty()) {
            List<Path> found = s.filter(p -> p.getFileName().toString().startsWith("tidemark-"))
                    .map(p -> p.resolve(p.getFileName()))
                    .filter(p -> Files.isRegularFile(p.resolve("bin/tidemark"))
                            && Files.isRegularFile(p.resolve("lib/tidemark-node-shim.jar")))
                    .toList();
            if (found.size() != 1) {
                throw new IllegalStateException((found.isEmpty() ? "no unpacked distribution archive"
                        : "several unpacked distribution archives " + found) + " in " + target
                        + ": run the e2e tests through the reactor (./mvnw verify), which packages node-shim and dist first");
            }
            return found.get(0);
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
