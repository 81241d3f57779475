package io.tidemark.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Makes sure no postmaster outlives the test JVM that started it.
 * <ul>
 *   <li>A shutdown hook closes every cluster still open when the JVM exits (a test that forgot
 *       {@code close()}, an uncaught error, SIGTERM from a CI timeout).</li>
 *   <li>A JVM killed with SIGKILL runs no hooks, so each cluster dir carries an owner marker (pid
 *       and start time of its JVM). The first cluster built in a JVM stops and deletes the clusters
 *       whose owner JVM is gone.</li>
 * </ul>
 */
final class ClusterReaper {

    static final String DIR_PREFIX = "tidemark-pg-";
    private static final String OWNER_MARKER = "tidemark-owner";

    private static final Set<PgCluster> OPEN = ConcurrentHashMap.newKeySet();
    private static boolean hookInstalled;
    private static boolean swept;

    private ClusterReaper() {
    }

    static synchronized void register(PgCluster cluster) {
        if (!hookInstalled) {
            Runtime.getRuntime().addShutdownHook(new Thread(ClusterReaper::closeAll, "tidemark-pg-reaper"));
            hookInstalled = true;
        }
        OPEN.add(cluster);
    }

    static void unregister(PgCluster cluster) {
        OPEN.remove(cluster);
    }

    private static void closeAll() {
        for (PgCluster c : List.copyOf(OPEN)) {
            try {
                c.closeAtJvmExit();
            } catch (RuntimeException e) {
                System.err.println("tidemark testkit: could not close " + c + " at JVM exit: " + e.getMessage());
            }
        }
    }

    /** Marks {@code baseDir} as owned by this JVM. */
    static void writeOwnerMarker(Path baseDir) throws IOException {
        ProcessHandle self = ProcessHandle.current();
        long started = self.info().startInstant().map(Instant::toEpochMilli).orElse(0L);
        Files.writeString(baseDir.resolve(OWNER_MARKER), self.pid() + " " + started + "\n", StandardCharsets.UTF_8);
    }

    /** Once per JVM: stops and deletes cluster dirs under {@code tempRoot} whose owner JVM is dead. */
    static synchronized void sweepOrphansOnce(Path tempRoot, PgBinaries binaries, RunAs runAs) {
        if (swept) {
            return;
        }
        swept = true;
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(tempRoot, DIR_PREFIX + "*")) {
            for (Path dir : dirs) {
                if (ownerIsGone(dir)) {
                    reap(dir, binaries, runAs);
                }
            }
        } catch (IOException | RuntimeException e) {
            // best effort: a sweep must never fail the test that triggered it
            System.err.println("tidemark testkit: orphan sweep of " + tempRoot + " skipped: " + e);
        }
    }

    private static boolean ownerIsGone(Path dir) {
        Path marker = dir.resolve(OWNER_MARKER);
        String[] parts;
        try {
            parts = Files.readString(marker, StandardCharsets.UTF_8).trim().split(" ");
        } catch (IOException e) {
            return false; // no marker (yet): not ours to judge
        }
        if (parts.length != 2) {
            return false;
        }
        long pid = Long.parseLong(parts[0]);
        long started = Long.parseLong(parts[1]);
        Optional<ProcessHandle> owner = ProcessHandle.of(pid);
        if (owner.isEmpty() || !owner.get().isAlive()) {
            return true;
        }
        // a reused pid belongs to a process that started at a different time
        long ownerStart = owner.get().info().startInstant().map(Instant::toEpochMilli).orElse(started);
        return ownerStart != started;
    }

    private static void reap(Path dir, PgBinaries binaries, RunAs runAs) {
        Path data = dir.resolve(PgCluster.DATA_DIR_NAME);
        if (Files.exists(data.resolve("postmaster.pid"))) {
            new CommandRunner(runAs, dir, Map.of("LC_ALL", "C"))
                    .run(List.of(binaries.tool("pg_ctl").toString(), "-D", data.toString(),
                            "-m", "immediate", "-w", "-t", "20", "stop"), Duration.ofSeconds(30));
            PgCluster.postmasterPid(data).flatMap(ProcessHandle::of).ifPresent(ProcessHandle::destroyForcibly);
        }
        FileTrees.deleteQuietly(dir);
        System.err.println("tidemark testkit: removed orphaned cluster " + dir + " (its test JVM is gone)");
    }
}
