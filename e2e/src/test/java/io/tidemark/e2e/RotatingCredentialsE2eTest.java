package io.tidemark.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.testkit.PgCluster;
import io.tidemark.testkit.PgTest;
import io.tidemark.testkit.RunAs;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 13, credentials as in production, end to end: the node has no keys in its configuration,
 * only {@code credentials.uri} naming local-cloud's node endpoint ({@code /credentials/node/main}),
 * whose session keys rotate and expire. The agent hosts the archive worker (as the postgres user),
 * a steady WAL stream is archived through at least five rotations with no failed push, and a
 * backup taken meanwhile, which outlives the keys it started with, completes and is valid.
 *
 * <p>The cloud enforces the stack's IAM with keys that rotate every second and live 3 s; the rotations
 * are counted by watching the endpoint's keys, so this is a one-minute soak.
 * {@code -Dtidemark.e2e.rotationSoakMinutes} bounds the soak (default 30).
 */
@PgTest
class RotatingCredentialsE2eTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final Pattern COMPLETE = Pattern.compile("backup (\\S+) \\((full|diff|incr)\\) complete");
    static final int ROTATIONS = 5;

    private static Path cloudDir;
    private static Path nodeDir;
    private static CloudFixture cloud;
    private static PgCluster pg;
    private static Path conf;
    private static URI endpoint;

    @BeforeAll
    static void start() throws Exception {
        cloudDir = Files.createTempDirectory("tidemark-e2e-cloud");
        nodeDir = Files.createTempDirectory(Path.of("/tmp"), "tidemark-e2e-creds",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        org.junit.jupiter.api.Assumptions.assumeTrue(System.getProperty(ExternalStorage.PROPERTY, "").isBlank(),
                "rotation soak skipped: it needs local-cloud's own S3, which honours the session keys local-cloud"
                        + " issues (" + ExternalStorage.PROPERTY + " is set)");
        // keys change every second and die after 3 s: the soak crosses many rotations, and the backup
        // (about 4 s on an idle machine) outlives the keys it started with even when nothing slows it
        io.tidemark.localcloud.iam.StackAccess access = io.tidemark.localcloud.LocalCloud.defaultStackAccess();
        cloud = new CloudFixture(cloudDir).enforce(access, access, Duration.ofSeconds(1), Duration.ofSeconds(3)).start();
        endpoint = cloud.cloud().nodeCredentialsUri("main");
        conf = cloud.nodeConfig(nodeDir.resolve("main"), "main",
                "archive-push.async=true\narchive-push.process=2\narchive-push.timeout=60\n");
        assertFalse(Files.readString(conf).contains("s3.accessKeyId"), "the endpoint is the node's only key source");
        Path spool = Files.createDirectories(nodeDir.resolve("main").resolve("spool").resolve("main"));
        Files.setPosixFilePermissions(spool, PosixFilePermissions.fromString("rwx------"));
        RunAs.detect().giveOwnership(spool);
        pg = PgCluster.builder()
                .setting("archive_mode", "on")
                .setting("archive_command", ShimInstall.get().launcher() + " archive-push --config " + conf
                        + " --stanza main %p")
                .setting("archive_timeout", "0")
                .build().start();
        ShimProcess.Result created = shim("stanza-create");
        assertEquals(0, created.code(), created.toString());
    }

    /** What the endpoint hands out: a key and when it expires. */
    record Served(String accessKeyId, Instant expiration) {
    }

    /** The keys the endpoint hands out now, or null when it does not answer with keys. */
    static Served served(URI uri) {
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                return null;
            }
            JsonNode n = JSON.readTree(r.body());
            return n.path("AccessKeyId").isTextual() && n.path("Expiration").isTextual()
                    ? new Served(n.path("AccessKeyId").asText(), Instant.parse(n.path("Expiration").asText())) : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    static ShimProcess.Result shim(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--config", conf.toString(), "--stanza", "main", "--pg-port", String.valueOf(pg.port()),
                "--pg-user", "postgres"));
        return ShimProcess.run(nodeDir, Map.of("PGHOST", "127.0.0.1"), all.toArray(String[]::new));
    }

    @Test
    void theAgentsArchiveWorkerAndABackupKeepWorkingThroughFiveRotations() throws Exception {
        Path out = nodeDir.resolve("agent.out");
        Process agent = new ProcessBuilder(RunAs.detect().wrap(List.of("env", "PGHOST=127.0.0.1",
                "PGPORT=" + pg.port(), "PGUSER=postgres", ShimInstall.get().launcher().toString(), "agent",
                "--config", conf.toString(), "--stanza", "main", "--pgdata", pg.dataDir().toString(),
                "--metrics-port", "0")))
                .redirectErrorStream(true).redirectOutput(out.toFile()).start();
        BackupRun backup = null;
        try {
            Waits.until(() -> read(out).contains("archive-push worker running"), Duration.ofMinutes(1),
                    "the agent did not start its archive worker: " + read(out));
            pg.sql("create table soak (id bigint, v text)");
            // enough data that the backup outlives the keys it starts with (seconds-long test lifetimes)
            pg.sql("create table bulk as select g as id, md5(g::text) as v from generate_series(1, 2000000) g");
            Set<String> keys = new LinkedHashSet<>(List.of(served(endpoint).accessKeyId()));
            Instant deadline = Instant.now().plus(Duration.ofMinutes(Long.getLong("tidemark.e2e.rotationSoakMinutes", 30)));
            String last = pg.currentWalFile();
            int segments = 0;
            while (keys.size() < ROTATIONS + 1) {
                // a steady stream: a segment about every second
                pg.sql("insert into soak select g, md5(g::text) from generate_series(1, 20000) g");
                last = pg.switchWal();
                segments++;
                Served k = served(endpoint);
                assertTrue(k != null, "the credentials endpoint stopped answering");
                keys.add(k.accessKeyId());
                if (keys.size() == 3 && backup == null) {
                    // mid-soak: a backup whose keys rotate under it
                    backup = BackupRun.start();
                }
                assertFalse(Instant.now().isAfter(deadline), "only " + (keys.size() - 1) + " rotations seen by " + deadline);
                Thread.sleep(1000);
            }
            Waits.archived(pg, last, Duration.ofMinutes(3));
            assertEquals("0", pg.sql("select failed_count from pg_stat_archiver"),
                    "no archive-push failed; server log:\n" + pg.logContext());
            assertFalse(read(out).contains(" failed (attempt"), "no push of the worker failed, not even once: " + read(out));
            System.out.printf("%d segments archived through %d keys%n", segments, keys.size());
            assertTrue(backup != null, "the backup started");
            String label = backup.finish();
            assertTrue(backup.ended().isAfter(backup.keysAtStart().expiration()), "the backup (" + backup.started() + " to "
                    + backup.ended() + ") did not outlive the keys it started with (valid until "
                    + backup.keysAtStart().expiration() + "): shorten the fixture's credential lifetime");
            Waits.until(() -> "valid".equals(statusOf(label)), Duration.ofMinutes(2),
                    "backup " + label + " did not become valid: " + statusOf(label));
        } finally {
            agent.descendants().forEach(ProcessHandle::destroy);
            assertTrue(agent.waitFor(2, java.util.concurrent.TimeUnit.MINUTES), read(out));
        }
    }

    /** A {@code tidemark backup} running in the background. */
    record BackupRun(Thread thread, ShimProcess.Result[] result, Instant started, Served keysAtStart, Instant[] end) {
        static BackupRun start() {
            ShimProcess.Result[] r = new ShimProcess.Result[1];
            Instant[] end = new Instant[1];
            Instant started = Instant.now();
            Served keys = served(endpoint);
            Thread t = Thread.ofPlatform().start(() -> {
                r[0] = shim("backup", "--type", "full", "--process-max", "1");
                end[0] = Instant.now();
            });
            return new BackupRun(t, r, started, keys, end);
        }

        Instant ended() {
            return end[0];
        }

        String finish() throws InterruptedException {
            thread.join(Duration.ofMinutes(5));
            ShimProcess.Result r = result[0];
            assertTrue(r != null && r.code() == 0, "the backup under rotating keys failed: " + r);
            Matcher m = COMPLETE.matcher(r.out());
            assertTrue(m.find(), r.toString());
            return m.group(1);
        }
    }

    /** The backup's status in {@code tidemark info --output json} (signed with the node's keys). */
    static String statusOf(String label) {
        ShimProcess.Result r = shim("info", "--output", "json");
        if (r.code() != 0) {
            return "info failed: " + r;
        }
        try {
            for (JsonNode b : JSON.readTree(r.out()).path("backups")) {
                if (b.path("label").asText().equals(label)) {
                    return b.path("status").asText();
                }
            }
            return "not in the catalog";
        } catch (IOException e) {
            return e.toString();
        }
    }

    private static String read(Path f) {
        try {
            return Files.exists(f) ? Files.readString(f) : "";
        } catch (IOException e) {
            return e.toString();
        }
    }

    @AfterAll
    static void stop() {
        if (pg != null) {
            pg.close();
        }
        if (cloud != null) {
            cloud.close();
        }
        ShimInstall.deleteTree(nodeDir);
        ShimInstall.deleteTree(cloudDir);
    }
}
