package io.tidemark.e2e.crash;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.e2e.CloudFixture;
import io.tidemark.e2e.ShimInstall;
import io.tidemark.e2e.Waits;
import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.layout.StorageLayout;
import io.tidemark.events.paths.SafeRelativePath;
import io.tidemark.shim.archivepush.async.ArchiveSpool;
import io.tidemark.shim.config.ShimConfig;
import io.tidemark.shim.storage.Codec;
import io.tidemark.shim.storage.CredentialSource;
import io.tidemark.shim.storage.ObjectStore;
import io.tidemark.shim.storage.Stores;
import io.tidemark.testkit.FileTrees;
import io.tidemark.testkit.PgCluster;
import io.tidemark.testkit.PgTest;
import io.tidemark.testkit.RunAs;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * Issue 12, crashed commands: {@code kill -9} of a real {@code tidemark backup}, {@code tidemark
 * restore} and the asynchronous archive worker, each in the middle of its work, on a real
 * PostgreSQL 15 cluster with the packaged shim run as the postgres user and the real local cloud;
 * then the next run resolves what was left at once and its result is checked against the data.
 */
@PgTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CrashE2eTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final StanzaName STANZA = StanzaName.of("main");

    private final RunAs runAs = RunAs.detect();
    private final HttpClient http = HttpClient.newHttpClient();
    private Path dir;
    private CloudFixture cloud;
    private Path conf;
    private Path spool;
    private PgCluster primary;
    private ObjectStore store;
    private Compression compression;
    private BackupLabelName backup;
    private String atBackup;
    private final List<Running> running = new ArrayList<>();

    @BeforeAll
    void setUp() throws Exception {
        dir = Files.createTempDirectory(Path.of("/tmp"), "tidemark-e2e-crash-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        // a schedule the test runs by hand (every day: it does not come due by itself during the test)
        Files.createDirectories(dir.resolve("cloud"));
        Files.writeString(dir.resolve("cloud/schedules.json"), """
                {"schedules": [{"name": "main-full", "function": "backup-scheduler", "every": "1d",
                                "input": {"stanza": "main", "type": "full"}}]}""");
        cloud = new CloudFixture(dir.resolve("cloud")).start();
        conf = cloud.nodeConfig(dir.resolve("node"), "main", "archive-push.async=true\narchive-push.process=2\n");
        // the spool belongs to the postgres user, who runs every command here (as an operator installs it)
        runAs.giveOwnership(dir.resolve("node/spool"));
        Path stanzaSpool = Files.createDirectories(dir.resolve("node/spool/main"));
        Files.setPosixFilePermissions(stanzaSpool, PosixFilePermissions.fromString("rwx------"));
        runAs.giveOwnership(stanzaSpool);
        spool = stanzaSpool.resolve("archive");
        primary = PgCluster.builder()
                .setting("archive_mode", "on")
                .setting("archive_command", ShimInstall.get().launcher() + " archive-push --config " + conf + " %p")
                .setting("archive_timeout", "0")
                .setting("max_wal_size", "2GB")
                .setting("wal_keep_size", "2GB") // the segments stay in pg_wal to compare with what S3 holds
                .build().start();
        Done created = run("stanza-create", "--config", conf.toString(), "--pg-port", String.valueOf(primary.port()),
                "--pg-user", "postgres");
        assertEquals(0, created.code(), created.toString());
        ShimConfig config = ShimConfig.load(io.tidemark.shim.config.CommonOptions.parse("--config", conf.toString()),
                Map.of());
        store = Stores.open(config, CredentialSource.of(config, Map.of()));
        compression = config.compression();
    }

    @AfterAll
    void tearDown() {
        running.forEach(Running::kill9);
        if (primary != null) {
            primary.close();
        }
        if (cloud != null) {
            cloud.close();
        }
        if (dir != null) {
            FileTrees.deleteQuietly(dir);
        }
    }

    @Test
    @Order(1)
    void aBackupKilledMidCopyIsNeverValidAndTheNextOneTakesOverItsLeaseAtOnceAndResumes() throws Exception {
        primary.run(List.of(primary.bin("pgbench").toString(), "-h", primary.socketDir().toString(), "-p",
                String.valueOf(primary.port()), "-U", "postgres", "-i", "-s", "5", "-q", "postgres"), Duration.ofMinutes(3));
        atBackup = state(primary);
        String accounts = primary.sql("select pg_relation_filepath('pgbench_accounts')");

        // One copy thread, largest file first: once the 64 MB table is in S3, hundreds of files are still to go.
        Running killed = start("backup-killed", backupArgs("--process-max", "1"));
        String started = killed.awaitOutput(l -> l.startsWith("backup ") && l.contains("(full) of"), Duration.ofMinutes(1));
        BackupLabelName label = BackupLabelName.parse(started.split(" ")[1]);
        String big = StorageLayout.backupFileKey(STANZA, label, SafeRelativePath.of(accounts), compression);
        // the moment its resume record notes the stored table (written once S3 confirmed the object)
        Path record = dir.resolve("node/spool/main/backup-resume.jsonl");
        awaitTight(() -> {
            try {
                return Files.exists(record) && Files.readString(record).contains("\"path\":\"" + accounts + "\"");
            } catch (IOException e) {
                return false;
            }
        }, Duration.ofMinutes(1), "the first object of " + label + " in " + record, killed);
        killed.kill9();
        assertTrue(store.head(big).isPresent(), big);
        byte[] bigBytes = store.get(big).orElseThrow().data();

        assertTrue(store.head(StorageLayout.manifestKey(STANZA, label)).isEmpty(),
                "killed mid-copy, no manifest was written:\n" + killed.output());
        JsonNode before = stanzaDoc();
        assertEquals(label.toString(), before.path("lease").path("label").asText(),
                "the killed backup's lease is still held (nobody released it): " + before.path("lease"));
        for (JsonNode b : before.path("backups")) {
            assertNotEquals(label.toString(), b.path("label").asText(), "a half-written backup is never in the catalog");
        }

        long t0 = System.nanoTime();
        Done next = run(backupArgs());
        double seconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf("backup after kill -9: %.1f s%n%s%n", seconds, next);
        assertEquals(0, next.code(), next.toString());
        assertTrue(next.err().contains("took over the backup lease of") && next.err().contains("is gone"), next.toString());
        Matcher resumed = Pattern.compile("resuming backup " + label + ": ([0-9]+) files already uploaded").matcher(next.out());
        // The table was written by the checkpoint that started the killed run, inside the mtime margin
        // before its read: the resumed run reads it again rather than trust the copy (0 reused here),
        // and never replaces the object the killed run stored (docs/backup.md, Resume).
        assertTrue(resumed.find(), "the same label, resumed: " + next);
        assertArrayEquals(bigBytes, store.get(big).orElseThrow().data(), big + " was replaced by the resumed run");
        assertTrue(seconds < 60, "no wait for the dead holder's lease to expire: " + seconds + " s");
        awaitValid(label);
        backup = label;
    }

    @Test
    @Order(2)
    void aRestoreKilledMidDownloadIsRefusedWithoutDeltaAndFinishedWithIt() throws Exception {
        assertTrue(backup != null, "needs the backup of the first test");
        String accounts = primary.sql("select pg_relation_filepath('pgbench_accounts')");
        try (PgCluster restored = PgCluster.builder().emptyDataDir().setting("archive_mode", "off")
                .startTimeout(Duration.ofMinutes(3)).build()) {
            Path pgdata = restored.dataDir();
            Path bigFile = pgdata.resolve(accounts);
            Path bigTemp = bigFile.resolveSibling("." + bigFile.getFileName() + ".tidemark.tmp");
            List<String> args = List.of("restore", "--config", conf.toString(), "--pgdata", pgdata.toString(),
                    "--target-immediate", "--backup", backup.toString(), "--process-max", "1");
            Running killed = start("restore-killed", args.toArray(String[]::new));
            awaitTight(() -> Files.exists(bigTemp), Duration.ofMinutes(1), "the download of " + accounts, killed);
            // kill -9 of the restore's JVM alone: the prefetcher it started goes on running
            List<ProcessHandle> leftBehind = killed.kill9JvmOnly(runAs.switchesUser());
            assertFalse(leftBehind.isEmpty(), "the restore had started its WAL prefetcher before the download");
            assertFalse(Files.exists(pgdata.resolve("global/pg_control")), "killed before the end:\n" + killed.output());

            Done plain = run(args.toArray(String[]::new));
            assertEquals(1, plain.code(), plain.toString());
            assertTrue(plain.err().contains("holds an incomplete restore") && plain.err().contains("with --delta"),
                    plain.toString());

            List<String> delta = new ArrayList<>(args);
            delta.add("--delta");
            Done done = run(delta.toArray(String[]::new));
            assertEquals(0, done.code(), done.toString());
            assertTrue(done.out().contains("restore done"), done.toString());
            try (Stream<Path> s = Files.walk(pgdata)) {
                assertEquals(List.of(), s.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList(),
                        "no temp file of the killed run is left");
            }
            // the new restore's generation sent the killed restore's prefetcher away
            Waits.until(() -> leftBehind.stream().noneMatch(ProcessHandle::isAlive), Duration.ofSeconds(30),
                    "the prefetcher of the killed restore is still running: " + leftBehind);
            restored.start();
            Waits.until(() -> restored.sql("select pg_is_in_recovery()").equals("f"), Duration.ofMinutes(2),
                    "recovery of the restored cluster\n" + restored.logContext());
            assertEquals(atBackup, state(restored), "the restored data is the backup's");
        }
    }

    @Test
    @Order(3)
    void anArchiveWorkerKilledMidBurstIsReplacedAtOnceAndEverySegmentArrivesOnceAndIntact() throws Exception {
        primary.sql("create table burst (id int, v text)");
        Waits.archived(primary, primary.switchWal(), Duration.ofMinutes(2));
        String failedBefore = primary.sql("select failed_count from pg_stat_archiver");
        List<String> burst = new ArrayList<>();
        long killedPid = -1;
        for (int i = 0; i < 16; i++) {
            // about one segment of WAL each: real content to compress and upload, not a switch of an empty segment
            primary.sql("insert into burst select g, md5(g::text) from generate_series(1, 120000) g");
            burst.add(primary.switchWal());
            if (i == 7) {
                killedPid = workerPid();
                ProcessHandle worker = ProcessHandle.of(killedPid).orElseThrow();
                worker.destroyForcibly();
                worker.onExit().get(30, TimeUnit.SECONDS);
            }
        }
        String last = burst.get(burst.size() - 1);
        Waits.archived(primary, last, Duration.ofMinutes(3));
        assertEquals(failedBefore, primary.sql("select failed_count from pg_stat_archiver"),
                "nothing failed: the next archive-push started a new worker at once");
        long newPid = workerPid();
        assertNotEquals(killedPid, newPid, "a new worker runs");

        Map<String, List<String>> keys = walKeys();
        for (String segment : burst) {
            List<String> k = keys.getOrDefault(segment, List.of());
            assertEquals(1, k.size(), segment + " is in S3 exactly once: " + k);
            ObjectStore.Fetched o = store.get(k.get(0)).orElseThrow();
            String ext = k.get(0).substring(k.get(0).indexOf('.', k.get(0).lastIndexOf('/')) + 1);
            byte[] content = Codec.decompress(Compression.fromExtension(ext), o.data());
            byte[] original = Files.readAllBytes(primary.walDir().resolve(segment));
            assertArrayEquals(original, content, segment + " in S3 is the segment PostgreSQL wrote");
            assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(original)),
                    o.metadata().get("sha256"), segment + ": the checksum S3 carries");
        }
        try (Stream<Path> s = Files.list(spool)) {
            List<String> left = s.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".error") || n.endsWith(".tmp")).toList();
            assertEquals(List.of(), left, "no error record or temp file of the killed worker is left");
        }
    }

    @Test
    @Order(4)
    void anAgentKilledMidBackupFailsItsJobWithWhyAndTheRestartedAgentsNextJobResumesAtOnce() throws Exception {
        assertTrue(backup != null, "needs the backup of the first test");
        String accounts = primary.sql("select pg_relation_filepath('pgbench_accounts')");
        String[] agentArgs = {"agent", "--config", conf.toString(), "--pg-port", String.valueOf(primary.port()),
                "--pg-user", "postgres", "--pgdata", primary.dataDir().toString(), "--metrics-port", "0"};
        Running agent = start("agent-killed", agentArgs);
        agent.awaitOutput(l -> l.contains("metrics on "), Duration.ofMinutes(1));
        String killedJob = JSON.readTree(cloud.cloud().runSchedule("main-full")).path("jobId").asText();
        String started = agent.awaitOutput(l -> l.contains("job " + killedJob + ": backup ") && l.contains("(full) of"),
                Duration.ofMinutes(2));
        BackupLabelName label = BackupLabelName.parse(started.substring(started.indexOf(": backup ") + 9).split(" ")[0]);
        Path record = dir.resolve("node/spool/main/backup-resume.jsonl");
        awaitTight(() -> {
            try {
                return Files.exists(record) && Files.readString(record).contains("\"path\":\"" + accounts + "\"");
            } catch (IOException e) {
                return false;
            }
        }, Duration.ofMinutes(1), "the first object of " + label, agent);
        agent.kill9();
        assertTrue(store.head(StorageLayout.manifestKey(STANZA, label)).isEmpty(), "killed mid-copy:\n" + agent.output());
        assertEquals("running", job(killedJob).path("state").asText(), "nobody reported it yet");

        Running restarted = start("agent-restarted", agentArgs);
        restarted.awaitOutput(l -> l.contains("metrics on "), Duration.ofMinutes(1));
        String nextJob = JSON.readTree(cloud.cloud().runSchedule("main-full")).path("jobId").asText();
        Waits.until(() -> job(nextJob).path("state").asText().equals("done"), Duration.ofMinutes(3),
                "the next job did not finish:\n" + restarted.output());
        assertEquals(label.toString(), job(nextJob).path("label").asText(), "the same label, resumed");
        String log = restarted.output();
        assertTrue(log.contains("took over the backup lease of") && log.contains("resuming backup " + label), log);
        JsonNode failed = job(killedJob);
        assertEquals("failed", failed.path("state").asText(), failed.toString());
        assertTrue(failed.path("error").asText().contains("died while the backup ran (process ")
                && failed.path("error").asText().contains(" is gone)"), failed.toString());
        awaitValid(label);
        // the restarted agent hosts the archive worker again: archiving goes on
        Waits.archived(primary, primary.switchWal(), Duration.ofMinutes(2));
    }

    // ---------------------------------------------------------------- helpers

    private JsonNode job(String id) {
        try {
            for (JsonNode j : stanzaDoc().path("jobs")) {
                if (j.path("jobId").asText().equals(id)) {
                    return j;
                }
            }
            throw new AssertionError("no job " + id + " in " + stanzaDoc().path("jobs"));
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    private String[] backupArgs(String... more) {
        List<String> args = new ArrayList<>(List.of("backup", "--config", conf.toString(), "--pg-port",
                String.valueOf(primary.port()), "--pg-user", "postgres", "--type", "full"));
        args.addAll(List.of(more));
        return args.toArray(String[]::new);
    }

    private static String state(PgCluster pg) {
        return pg.sql("select (select count(*) || ':' || sum(abalance) from pgbench_accounts) || '/'"
                + " || (select sum(bbalance) from pgbench_branches) || '/' || (select sum(tbalance) from pgbench_tellers)");
    }

    private long workerPid() throws IOException {
        // read as the shim reads it (the pid, then the data directory the worker follows)
        ArchiveSpool archive = ArchiveSpool.existing(dir.resolve("node/spool"), StanzaName.of("main")).orElseThrow();
        Waits.until(() -> archive.workerPid().isPresent(), Duration.ofSeconds(30), "a worker announces itself in " + spool);
        ArchiveSpool.WorkerPid w = archive.workerPid().orElseThrow();
        assertEquals(Optional.of(primary.dataDir().toRealPath()), w.pgdata(), "the worker follows the primary's data directory");
        assertTrue(ProcessHandle.of(w.pid()).map(ProcessHandle::isAlive).orElse(false), "worker " + w.pid() + " runs");
        return w.pid();
    }

    /** Every WAL object of the stanza by file name (no extension): more than one key for a name would be a duplicate. */
    private Map<String, List<String>> walKeys() {
        var c = cloud.cloud();
        try (S3Client s3 = S3Client.builder().endpointOverride(c.s3Endpoint()).region(Region.of(c.region()))
                .forcePathStyle(true).credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(
                        c.credentials().accessKeyId(), c.credentials().secretAccessKey()))).build()) {
            Map<String, List<String>> out = new HashMap<>();
            for (S3Object o : s3.listObjectsV2Paginator(b -> b.bucket(c.bucket()).prefix(STANZA + "/wal/")).contents()) {
                String file = o.key().substring(o.key().lastIndexOf('/') + 1);
                out.computeIfAbsent(file.contains(".") ? file.substring(0, file.indexOf('.')) : file, x -> new ArrayList<>())
                        .add(o.key());
            }
            return out;
        }
    }

    private JsonNode stanzaDoc() throws IOException, InterruptedException {
        // signed as the operator: the API enforces IAM
        HttpResponse<String> r = cloud.api("GET", "/stanzas/main", null);
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }

    private void awaitValid(BackupLabelName label) {
        Waits.until(() -> {
            try {
                for (JsonNode b : stanzaDoc().path("backups")) {
                    if (b.path("label").asText().equals(label.toString())) {
                        return b.path("status").asText().equals("valid");
                    }
                }
                return false;
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }, Duration.ofMinutes(1), "backup " + label + " did not become valid");
    }

    /** Polls every few milliseconds: the moment to kill is short. */
    private static void awaitTight(java.util.function.BooleanSupplier condition, Duration timeout, String what, Running r)
            throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end || !r.process.isAlive()) {
                throw new AssertionError("never saw " + what + " while the command ran:\n" + r.output());
            }
            Thread.sleep(3);
        }
    }

    record Done(int code, String out, String err) {
        @Override
        public String toString() {
            return "exit " + code + "\nstdout: " + out + "\nstderr: " + err;
        }
    }

    /** The packaged shim as the postgres user, to the end. */
    private Done run(String... args) throws IOException, InterruptedException {
        Running r = start("run-" + System.nanoTime(), args);
        if (!r.process.waitFor(3, TimeUnit.MINUTES)) {
            r.kill9();
            throw new AssertionError("tidemark " + String.join(" ", args) + " did not finish:\n" + r.output());
        }
        return new Done(r.process.exitValue(), Files.readString(r.out), Files.readString(r.err));
    }

    private Running start(String name, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(ShimInstall.get().launcher().toString()));
        cmd.addAll(List.of(args));
        Path out = dir.resolve(name + ".out");
        Path err = dir.resolve(name + ".err");
        Process p = new ProcessBuilder(runAs.wrap(cmd)).directory(dir.toFile()).redirectOutput(out.toFile())
                .redirectError(err.toFile()).start();
        Running r = new Running(p, out, err);
        running.add(r);
        return r;
    }

    /** A shim started in the background; output in files (a pipe could lose the last lines of a killed process). */
    private static final class Running {
        final Process process;
        final Path out;
        final Path err;

        Running(Process process, Path out, Path err) {
            this.process = process;
            this.out = out;
            this.err = err;
        }

        String output() {
            try {
                return "stdout: " + Files.readString(out) + "\nstderr: " + Files.readString(err);
            } catch (IOException e) {
                return e.toString();
            }
        }

        String awaitOutput(Predicate<String> line, Duration timeout) throws IOException, InterruptedException {
            long end = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < end) {
                for (String l : Files.readAllLines(out, StandardCharsets.UTF_8)) {
                    if (line.test(l)) {
                        return l;
                    }
                }
                if (!process.isAlive()) {
                    break;
                }
                Thread.sleep(20);
            }
            throw new AssertionError("no such line:\n" + output());
        }

        /**
         * SIGKILL to the JVM alone (the child of runuser), as {@code kill -9 <pid>} would; returns
         * what it had started (still running).
         */
        List<ProcessHandle> kill9JvmOnly(boolean underRunuser) throws Exception {
            ProcessHandle jvm = process.toHandle();
            if (underRunuser) {
                List<ProcessHandle> children = process.children().toList();
                assertEquals(1, children.size(), "one JVM under runuser: " + children);
                jvm = children.get(0);
            }
            List<ProcessHandle> started = jvm.descendants().toList();
            jvm.destroyForcibly();
            jvm.onExit().get(30, TimeUnit.SECONDS);
            process.waitFor(30, TimeUnit.SECONDS);
            return started;
        }

        /** SIGKILL to the JVM (under runuser) and everything it started in its process tree. */
        void kill9() {
            List<ProcessHandle> tree = process.descendants().toList();
            tree.forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            try {
                process.waitFor(30, TimeUnit.SECONDS);
                for (ProcessHandle h : tree) {
                    h.onExit().get(30, TimeUnit.SECONDS);
                }
            } catch (Exception e) {
                throw new IllegalStateException("the killed process did not end", e);
            }
        }
    }
}
