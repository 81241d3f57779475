package io.tidemark.shim.support;

import io.tidemark.localcloud.LocalCloud;
import io.tidemark.localcloud.LocalCloudFunctions;
import io.tidemark.shim.archivepush.ArchivePushCommand;
import io.tidemark.shim.cli.CopyJitFlags;
import io.tidemark.shim.stanzacreate.StanzaCreateCommand;
import io.tidemark.testkit.PgBinaries;
import io.tidemark.testkit.PgCluster;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The package build's training run for the AOT caches of {@code backup} and {@code restore}
 * ({@code target/tidemark-backup.aot}, {@code tidemark-restore.aot}; docs/startup.md, issue 16).
 * A cache only helps the copy commands when its method profiles come from a real copy (one
 * trained on short runs made a backup's copy 2.4x slower), so this runs the real thing: a
 * PostgreSQL 15 cluster with about 150 MB of table data, the local cloud (S3 over TLS, the API,
 * the stack's IAM), stanza-create, then a full backup and a file restore of it, each in a JVM of
 * its own started as bin/tidemark starts it (the copy flags of {@code bin/lib/copy-jit.flags},
 * SerialGC) plus {@code -XX:AOTCacheOutput}.
 *
 * <p>Without PostgreSQL binaries it prints one line and writes no cache (the launcher then runs
 * these commands without one); any other failure ends the build with its reason.
 *
 * <pre>java -cp TEST_CLASSPATH io.tidemark.shim.support.CopyAotTraining SHIM_TARGET BIN_LIB</pre>
 */
public final class CopyAotTraining {
    private static final String STANZA = "aottrain";

    private CopyAotTraining() {
    }

    public static void main(String[] args) throws Exception {
        Path target = Path.of(args[0]).toAbsolutePath();
        Path lib = Path.of(args[1]).toAbsolutePath();
        Path jar = target.resolve("tidemark-node-shim.jar");
        Path backupCache = target.resolve("tidemark-backup.aot");
        Path restoreCache = target.resolve("tidemark-restore.aot");
        // never leave a cache of an earlier build beside this jar's (the launcher would ignore it
        // while older than the jar, but the distribution would still carry it)
        Files.deleteIfExists(backupCache);
        Files.deleteIfExists(restoreCache);
        try {
            PgBinaries.locate();
        } catch (IllegalStateException none) {
            System.out.println("[aot] no PostgreSQL binaries found: tidemark-backup.aot and tidemark-restore.aot not built,"
                    + " backup and restore will run without an AOT cache (" + none.getMessage().lines().findFirst().orElse("") + ")");
            return;
        }
        quietLogs();
        long t0 = System.nanoTime();
        long loaded = 0;
        Path dir = Files.createTempDirectory("tidemark-aot-train");
        LocalCloud cloud = null;
        PgCluster pg = null;
        try {
            io.tidemark.localcloud.iam.StackAccess access = LocalCloud.defaultStackAccess();
            cloud = LocalCloudFunctions.register(LocalCloud.builder()).dir(dir.resolve("cloud")).tls(true)
                    .enforce(access, access).nodeStanza(STANZA).start();
            pg = PgCluster.builder().archiving().setting("max_wal_size", "1GB").build().start();
            Path conf = TestCloud.config(cloud, dir, Map.of("spool.dir", dir.resolve("spool").toString(),
                    "compress-type", "zst"));
            String[] conn = {"--config", conf.toString(), "--pg-host", pg.socketDir().toString(),
                    "--pg-port", String.valueOf(pg.port()), "--pg-user", "postgres"};
            expect(Shim.run(new StanzaCreateCommand(Map.of()), conn), "stanza-create");
            // pgbench-like rows (zstd stores about a third): a 150 MB relation file read in blocks,
            // its index, and the catalog's many small files
            // (the index built after the rows, as pgbench -i does: the load is most of the training's time)
            pg.sql("create table acc (aid int, bid int, abalance int, filler char(84))"
                    + " with (autovacuum_enabled = off, fillfactor = 90);"
                    + " insert into acc select g, g / 100000, (g * 7) % 10000, md5(g::text) from generate_series(1, 1000000) g;"
                    + " alter table acc add primary key (aid); checkpoint");
            loaded = System.nanoTime();
            Thread.sleep(2100); // files older than a backup's referencing margin, as on a node
            List<String> backup = new ArrayList<>(List.of("backup"));
            backup.addAll(List.of(conn));
            backup.addAll(List.of("--pgdata", pg.dataDir().toString(), "--type", "full", "--process-max", "2"));
            // as bin/tidemark starts backup and restore (a cache trained under G1 ran slower under SerialGC)
            List<String> copyFlags = new ArrayList<>(CopyJitFlags.of(lib));
            copyFlags.add("-XX:+UseSerialGC");
            // the WAL into the stanza while the backup runs, as the node's archive_command would:
            // its validation then finds the backup's WAL at once instead of retrying 30 s later
            WalPusher pusher = new WalPusher(pg, conf);
            pusher.pushNew(); // the load's segments, before the training backup starts
            Thread pushing = Thread.ofPlatform().daemon().start(pusher);
            try {
                train(jar, lib, backupCache, copyFlags, backup, dir);
            } finally {
                pusher.stop = true;
                pushing.join();
            }
            String last = pg.switchWal();
            pg.waitForArchived(last, Duration.ofMinutes(2));
            pusher.pushNew();
            if (pusher.failure != null) {
                throw pusher.failure;
            }
            if (!cloud.awaitQuiescent(Duration.ofMinutes(2))) {
                throw new IllegalStateException("the local cloud did not process the pushed WAL within 2 minutes");
            }
            List<String> restore = List.of("restore", "--config", conf.toString(),
                    "--pgdata", dir.resolve("restored").toString(), "--process-max", "2");
            train(jar, lib, restoreCache, copyFlags, restore, dir);
            System.out.println("[aot] tidemark-backup.aot (" + Files.size(backupCache) / (1 << 20) + " MB) and tidemark-restore.aot ("
                    + Files.size(restoreCache) / (1 << 20) + " MB) trained on a real full backup and restore of "
                    + pg.binaries() + " in " + (System.nanoTime() - t0) / 1_000_000_000 + " s (set-up and load "
                    + (loaded - t0) / 1_000_000_000 + " s)");
        } catch (Exception | AssertionError e) {
            Files.deleteIfExists(backupCache);
            Files.deleteIfExists(restoreCache);
            throw e;
        } finally {
            if (pg != null) {
                pg.close();
            }
            if (cloud != null) {
                cloud.close();
            }
            deleteTree(dir);
        }
        System.exit(0); // the cloud's and the driver's non-daemon threads
    }

    /**
     * The local cloud's and the cloud functions' INFO lines (validation, retention, plans) would
     * fill the build's log; warnings and errors still show, and a failed training prints the
     * command's own output.
     */
    private static void quietLogs() {
        java.util.logging.Logger root = java.util.logging.Logger.getLogger("");
        root.setLevel(java.util.logging.Level.WARNING);
        for (java.util.logging.Handler h : root.getHandlers()) {
            h.setLevel(java.util.logging.Level.WARNING);
        }
        if (org.slf4j.LoggerFactory.getILoggerFactory() instanceof ch.qos.logback.classic.LoggerContext logback) {
            logback.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).setLevel(ch.qos.logback.classic.Level.WARN);
        }
    }

    /** {@code command} in a JVM of its own with the launcher's flags and {@code -XX:AOTCacheOutput=cache}. */
    private static void train(Path jar, Path lib, Path cache, List<String> flags, List<String> command, Path dir)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(flags);
        cmd.add("-XX:AOTCacheOutput=" + cache);
        cmd.add("-Xlog:aot=error,cds=error");
        String zstd = System.getProperty("ZstdNativePath");
        if (zstd != null && Files.isReadable(Path.of(zstd))) {
            cmd.add("-DZstdNativePath=" + zstd);
        }
        cmd.add("-Dtidemark.launcher=" + lib.getParent().resolve("tidemark"));
        cmd.add("-Xmx256m");
        cmd.add("-jar");
        cmd.add(jar.toString());
        cmd.addAll(command);
        Path log = dir.resolve(command.get(0) + ".log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        p.getOutputStream().close();
        if (!p.waitFor(10, java.util.concurrent.TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new IllegalStateException("the training " + command.get(0) + " did not end within 10 minutes");
        }
        if (p.exitValue() != 0 || !Files.isRegularFile(cache)) {
            throw new IllegalStateException("the training " + command.get(0) + " exited " + p.exitValue()
                    + (Files.isRegularFile(cache) ? "" : " and wrote no " + cache.getFileName()) + ":\n" + Files.readString(log));
        }
    }

    /** Pushes each segment the cluster's archive command copied, once, with the shim's archive-push. */
    private static final class WalPusher implements Runnable {
        private final PgCluster pg;
        private final Path conf;
        private final java.util.Set<Path> pushed = new java.util.HashSet<>();
        volatile boolean stop;
        volatile IllegalStateException failure;

        WalPusher(PgCluster pg, Path conf) {
            this.pg = pg;
            this.conf = conf;
        }

        @Override
        public void run() {
            try {
                while (!stop) {
                    pushNew();
                    Thread.sleep(200);
                }
            } catch (IllegalStateException e) {
                failure = e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        synchronized void pushNew() {
            for (Path seg : pg.archivedSegments()) {
                if (pushed.add(seg)) {
                    expect(Shim.run(new ArchivePushCommand(Map.of()), seg.toString(), "--config", conf.toString()),
                            "archive-push " + seg.getFileName());
                }
            }
        }
    }

    private static void expect(Shim.Run run, String what) {
        if (run.code() != 0) {
            throw new IllegalStateException("training set-up: " + what + " exited " + run.code() + ": " + run.out() + run.err());
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> all = Files.walk(dir)) {
            all.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
        }
    }
}
