package io.tidemark.localcloud;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.stream.Stream;

/**
 * Where DynamoDB Local keeps its SQLite file: {@code <dir>/dynamodb}, so that the catalog survives
 * a restart of the local cloud and of its JVM ({@code tidemark local-cloud}).
 *
 * <p>Test JVMs set {@code -Dtidemark.localcloud.dynamoDbInRam=true} (the root pom's Surefire
 * configuration): the file then lives on the RAM filesystem ({@code /dev/shm}), one directory per
 * JVM and cloud directory, removed when the JVM exits. SQLite syncs the file to disk at every
 * committed write; on this build machine's disk a PutItem took 17-34 ms against 5.5-8.3 ms on
 * {@code /dev/shm}, 6.5-7.8 against 3.4-5.3 ms of CPU (docs/testing.md, "DynamoDB Local's disk
 * syncs"). The same DynamoDB Local, the same file format; what is lost is only what a test
 * never needs: the catalog outliving the test JVM. A restart of the cloud on the same directory in
 * the same JVM (the outage tests) finds its items again. Without {@code /dev/shm} (not Linux) the
 * file stays under the cloud directory.
 */
final class DynamoDbDirectory {

    static final String IN_RAM_PROPERTY = "tidemark.localcloud.dynamoDbInRam";
    private static final Path RAM = Path.of("/dev/shm");
    private static final String PREFIX = "tidemark-dynamodb-";
    private static final Object LOCK = new Object();
    private static Path ownRoot; // this JVM's directory under RAM, once made

    private DynamoDbDirectory() {
    }

    /** The directory for the cloud directory {@code cloudDir}, per the system property. */
    static Path of(Path cloudDir) {
        return of(cloudDir, Boolean.getBoolean(IN_RAM_PROPERTY), RAM);
    }

    static Path of(Path cloudDir, boolean inRam, Path ram) {
        if (!inRam || !Files.isDirectory(ram) || !Files.isWritable(ram)) {
            return cloudDir.resolve("dynamodb");
        }
        return root(ram).resolve(digest(cloudDir.toAbsolutePath().normalize().toString()));
    }

    private static Path root(Path ram) {
        synchronized (LOCK) {
            if (ownRoot == null || !ownRoot.getParent().equals(ram)) {
                removeLeftovers(ram);
                Path root = ram.resolve(PREFIX + ProcessHandle.current().pid());
                // a test fork killed by Surefire leaves its directory: removed by the next one above
                Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(root), "tidemark-dynamodb-ram-cleanup"));
                ownRoot = root;
            }
            return ownRoot;
        }
    }

    /** Directories of JVMs that are gone (killed before their shutdown hook ran). */
    private static void removeLeftovers(Path ram) {
        try (DirectoryStream<Path> s = Files.newDirectoryStream(ram, PREFIX + "*")) {
            for (Path p : s) {
                String pid = p.getFileName().toString().substring(PREFIX.length());
                if (pid.chars().allMatch(Character::isDigit) && !pid.isEmpty()
                        && ProcessHandle.of(Long.parseLong(pid)).isEmpty()) {
                    deleteTree(p);
                }
            }
        } catch (IOException | RuntimeException e) {
            // leftovers are only space on a RAM filesystem; never a reason to fail a start
        }
    }

    private static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> all = Files.walk(root)) {
            all.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // best effort, as above
                }
            });
        } catch (IOException | RuntimeException ignored) {
            // best effort, as above
        }
    }

    private static String digest(String s) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(h, 0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
