package io.tidemark.e2e.drill;

import static io.tidemark.e2e.StanzaCli.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.e2e.CloudFixture;
import io.tidemark.e2e.ShimInstall;
import io.tidemark.e2e.ShimProcess;
import io.tidemark.e2e.StanzaCli;
import io.tidemark.e2e.Waits;
import io.tidemark.functions.runtime.AwsClients;
import io.tidemark.testkit.PgCluster;
import io.tidemark.testkit.PgTest;
import io.tidemark.testkit.Processes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Issue 18, restore drills: {@code tidemark drill --now} through the packaged shim against real
 * PostgreSQL 15 archived into the real local cloud, with the real planner. The source's
 * postgresql.conf archives with no guard: a drill copy that archived would push its new
 * timeline's history file into the stanza, which the first test proves does not happen.
 *
 * <p>Data: table t (primary key) 1-300 after a full backup, in three WAL segments.
 */
@PgTest
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DrillE2eTest {
    private static final String STANZA = "main";
    private static final ObjectMapper JSON = new ObjectMapper();

    private static Path work;
    private static CloudFixture cloud;
    private static Path conf;
    private static PgCluster pg;
    private static StanzaCli cli;
    /** A moment after rows 1-300 committed (the database's clock, as commit times are). */
    private static java.time.Instant after300;

    @BeforeAll
    static void setUp() throws Exception {
        work = Files.createTempDirectory(Path.of("/tmp"), "tidemark-drill-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        cloud = new CloudFixture(work.resolve("cloud")).start();
        conf = cloud.nodeConfig(work.resolve("node"), STANZA, "drill.check.rows=select count(*) = 300 from t\n"
                + "drill.check.max=select max(id) from t\ndrill.check.max.expect=300\n");
        String push = ShimInstall.get().launcher() + " archive-push --config " + conf + " --stanza " + STANZA + " %p";
        pg = PgCluster.builder().setting("archive_mode", "on").setting("archive_command", push).build();
        cli = new StanzaCli(work, conf, STANZA, pg);
        pg.start();
        ok(cli.run("stanza-create"));
        pg.sql("create table t(id int primary key, v text)");
        pg.sql("create index t_v on t(v)");
        ok(cli.run("backup", "--type", "full"));
        Waits.until(() -> cloud.stanzaDocument(STANZA).path("backups").size() > 0
                        && cloud.stanzaDocument(STANZA).path("backups").get(0).path("status").asText().equals("valid"),
                Duration.ofMinutes(2), "the full backup to be valid");
        for (int batch = 0; batch < 3; batch++) {
            pg.sql("insert into t select g, 'row ' || g from generate_series(" + (batch * 100 + 1) + ", " + (batch * 100 + 100)
                    + ") g");
            pg.switchWal();
        }
        after300 = java.time.Instant.ofEpochMilli((long) Math.ceil(Double.parseDouble(
                pg.sql("select extract(epoch from clock_timestamp())")) * 1000) + 1);
        String last = pg.switchWal();
        Waits.archived(pg, last, Duration.ofMinutes(2));
        Waits.until(() -> cloud.stanzaDocument(STANZA).path("timelines").get(0).path("lastSegment").asText().compareTo(last) >= 0,
                Duration.ofMinutes(2), "the catalog to reach " + last);
    }

    @AfterAll
    static void tearDown() {
        if (pg != null) {
            pg.close();
        }
        if (cloud != null) {
            cloud.close();
        }
        io.tidemark.testkit.FileTrees.deleteQuietly(work);
    }

    @Test
    @Order(1)
    void aDrillRestoresTheLatestBackupChecksItAndMeasuresTheRto() throws Exception {
        Path scratch = work.resolve("scratch");
        ShimProcess.Result r = cli.run("drill", "--now", "--scratch", scratch.toString(), "--timeout", "300");
        System.out.println("drill:\n" + r); // what an operator sees, kept in the test report
        ok(r);
        String out = r.out();
        assertTrue(out.contains("check restore passed: backup "), out);
        assertFalse(out.contains("start the cluster with"), "the drill starts it; restore gives no hint: " + out);
        assertTrue(out.contains("check target passed: promoted at LSN ") && out.contains("latest (pinned to LSN "), out);
        assertTrue(out.contains("check connections passed: "), out);
        Matcher am = Pattern.compile("check amcheck passed: bt_index_check passed on (\\d+) B-tree indexes").matcher(out);
        assertTrue(am.find(), out);
        assertTrue(Integer.parseInt(am.group(1)) >= 2, "t's primary key and t_v at least: " + out);
        assertTrue(out.contains("check query:rows passed: select count(*) = 300 from t = t"), out);
        assertTrue(out.contains("check query:max passed: select max(id) from t = 300"), out);
        Matcher m = Pattern.compile("PASSED: backup \\S+, target .*; files restored ([0-9.]+) s, consistent ([0-9.]+) s,"
                + " promoted ([0-9.]+) s; RTO ([0-9.]+) s").matcher(out);
        assertTrue(m.find(), out);
        double files = Double.parseDouble(m.group(1));
        double consistent = Double.parseDouble(m.group(2));
        double promoted = Double.parseDouble(m.group(3));
        assertTrue(files > 0 && files <= consistent && consistent <= promoted, out);
        assertEquals(m.group(3), m.group(4), "the RTO is the time to promotion");
        assertFalse(Files.exists(scratch), "the scratch directory is removed");
        // the copy promoted to timeline 2 with archiving off: nothing of it in the stanza
        assertTrue(cloud.objectKeys(STANZA + "/").stream().noneMatch(k -> k.contains("/00000002")),
                "the drill's copy archived nothing: " + cloud.objectKeys(STANZA + "/"));
        assertEquals("300", pg.sql("select count(*) from t"), "the source is untouched");

        // recorded in the catalog through the node's API route, shown by info, counted for the alarm
        String id = out.substring(out.indexOf("drill ") + 6, out.indexOf(" of stanza"));
        JsonNode drills = JSON.readTree(cloud.api("GET", "/stanzas/" + STANZA + "/drills", null).body()).get("drills");
        JsonNode d = drills.get(0);
        assertEquals(id, d.get("drillId").asText(), drills.toString());
        assertEquals("passed", d.get("result").asText());
        assertEquals(Math.round(promoted * 1000), d.get("promotedMs").asLong(), 100.0, d.toString());
        assertTrue(d.get("bytes").asLong() > 0 && d.get("backup").asText().endsWith("F"), d.toString());
        assertEquals(6, d.get("checks").size(), d.toString());
        String info = cli.run("info").out();
        assertTrue(info.contains("last drill         " + id + " PASSED on ") && info.contains(", RTO " + m.group(4) + " s"), info);
        assertEquals(java.util.List.of(0.0), drillFailed(), "DrillFailed 0 for a drill that passed");
    }

    /**
     * A random target: with a second full backup taken after rows 1-300 and rows 301-400 after it,
     * a seed whose point falls between the two backups makes the drill restore the first backup and
     * replay its WAL (the three segments of rows 1-300), and stop at the point: 300 rows, as the
     * configured queries check. The seed is found with the drill's own draw over the window the
     * catalog shows, the one the drill reads.
     */
    @Test
    @Order(4)
    void aRandomTargetBeforeTheNewestBackupRestoresTheOlderBackupAndItsWal() throws Exception {
        String first = cloud.stanzaDocument(STANZA).path("backups").get(0).path("label").asText();
        ok(cli.run("backup", "--type", "full"));
        Waits.until(() -> cloud.stanzaDocument(STANZA).path("backups").size() == 2 && java.util.stream.StreamSupport.stream(
                        cloud.stanzaDocument(STANZA).path("backups").spliterator(), false)
                        .allMatch(b -> b.path("status").asText().equals("valid")),
                Duration.ofMinutes(2), "the second full backup to be valid");
        JsonNode second = null;
        for (JsonNode b : cloud.stanzaDocument(STANZA).path("backups")) {
            second = b.path("label").asText().equals(first) ? second : b;
        }
        java.time.Instant secondStart = java.time.Instant.parse(second.path("startTime").asText());
        pg.sql("insert into t select g, 'row ' || g from generate_series(301, 400) g");
        String last = pg.switchWal();
        Waits.archived(pg, last, Duration.ofMinutes(2));
        Waits.until(() -> cloud.stanzaDocument(STANZA).path("timelines").get(0).path("lastSegment").asText().compareTo(last) >= 0
                        && !cloud.stanzaDocument(STANZA).path("window").path("latest").path("time").asText("")
                        .isEmpty() && java.time.Instant.parse(cloud.stanzaDocument(STANZA).path("window").path("latest")
                        .path("time").asText()).isAfter(secondStart),
                Duration.ofMinutes(2), "the window to reach past the second backup");
        JsonNode window = cloud.stanzaDocument(STANZA).path("window");
        long seed = -1;
        io.tidemark.shim.drill.RandomTarget point = null;
        for (long s = 0; s < 10_000 && point == null; s++) {
            io.tidemark.shim.drill.RandomTarget t = io.tidemark.shim.drill.RandomTarget.pick(window,
                    new java.util.SplittableRandom(s));
            if (t.time().isAfter(after300) && t.time().isBefore(secondStart)) {
                seed = s;
                point = t;
            }
        }
        assertTrue(point != null, "no seed draws a point between " + after300 + " and " + secondStart + " from " + window);

        Path scratch = work.resolve("scratch-random");
        ShimProcess.Result r = cli.run("drill", "--now", "--target", "random", "--random-seed", Long.toString(seed),
                "--scratch", scratch.toString(), "--timeout", "300", "--no-amcheck");
        System.out.println("random point " + point + " (seed " + seed + "):\n" + r);
        ok(r);
        String out = r.out();
        assertTrue(out.contains("check window passed: random point " + point.time() + " on timeline 1, drawn from"), out);
        Matcher restored = Pattern.compile("check restore passed: backup " + first + " restored \\(.*\\) in [0-9.]+ s; (\\d+) WAL"
                + " segments to replay").matcher(out);
        assertTrue(restored.find(), "the older backup " + first + ", not " + second.path("label").asText() + ": " + out);
        assertTrue(Integer.parseInt(restored.group(1)) >= 3, "its WAL: rows 1-300 were three segments: " + out);
        assertTrue(out.contains("check target passed: promoted at LSN ") && out.contains("time " + point.time()), out);
        assertTrue(out.contains("check query:rows passed: select count(*) = 300 from t = t"), "stopped at the point: " + out);
        assertFalse(Files.exists(scratch), "the scratch directory is removed");
        JsonNode d = JSON.readTree(cloud.api("GET", "/stanzas/" + STANZA + "/drills", null).body()).get("drills").get(0);
        assertEquals("passed", d.get("result").asText(), d.toString());
        assertEquals(first, d.get("backup").asText(), d.toString());
        assertTrue(d.get("target").asText().startsWith("random: time " + point.time()), d.toString());
        assertEquals("window", d.get("checks").get(0).get("name").asText(), d.toString());
    }

    private static java.util.List<Double> drillFailed() {
        return cloud.cloud().metrics().of("Tidemark", "DrillFailed", Map.of("Stanza", STANZA)).stream()
                .map(p -> p.value()).toList();
    }

    @Test
    @Order(2)
    void aDrillOverADamagedWalObjectFailsNamingIt() throws Exception {
        String key = cloud.objectKeys(STANZA + "/wal/").stream().filter(k -> !k.contains(".history"))
                .max(String::compareTo).orElseThrow();
        byte[] original;
        Map<String, String> metadata;
        try (AwsClients aws = AwsClients.create(cloud.cloud().functionConfig())) {
            var o = aws.s3().getObjectAsBytes(b -> b.bucket(cloud.cloud().bucket()).key(key));
            original = o.asByteArray();
            metadata = o.response().metadata();
        }
        byte[] damaged = original.clone();
        damaged[damaged.length / 2] ^= 0x01;
        cloud.overwrite(key, damaged, metadata);
        try {
            Path scratch = work.resolve("scratch-damaged");
            ShimProcess.Result r = cli.run("drill", "--now", "--scratch", scratch.toString(), "--timeout", "300");
            System.out.println("damaged " + key + ":\n" + r);
            assertEquals(1, r.code(), r.toString());
            String segment = key.substring(key.lastIndexOf('/') + 1, key.indexOf('.', key.lastIndexOf('/')));
            assertTrue(r.err().contains("FAILED: check target failed"), r.toString());
            assertTrue(r.err().contains("ABORTING RECOVERY: " + segment + " (" + key + "): damaged"), r.toString());
            assertTrue(r.out().contains("check restore passed"), "the files restored; the WAL failed: " + r);
            assertFalse(Files.exists(scratch), "the scratch directory is removed after a failed drill too");
            JsonNode d = JSON.readTree(cloud.api("GET", "/stanzas/" + STANZA + "/drills", null).body()).get("drills").get(0);
            assertEquals("failed", d.get("result").asText(), d.toString());
            assertTrue(d.get("promotedMs").isNull(), d.toString());
            assertTrue(d.toString().contains(key), "the record names the damaged object: " + d);
            assertEquals(java.util.List.of(0.0, 1.0), drillFailed(), "DrillFailed 1 for the failed drill");
            String info = cli.run("info").out();
            assertTrue(info.contains("FAILED on ") && info.contains("failed check target: ") && info.contains(key), info);
        } finally {
            cloud.overwrite(key, original, metadata);
        }
    }

    /**
     * kill -9 of the drill's process while its server recovers: the server keeps running in the
     * scratch directory. The next drill on that directory stops it, removes the directory, records
     * the killed drill as failed with why, then runs its own.
     */
    @Test
    @Order(3)
    void aDrillKilledMidwayIsCleanedUpAndRecordedAsFailedByTheNext() throws Exception {
        Path scratch = work.resolve("scratch-killed");
        Path log = work.resolve("killed.out");
        java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of(ShimInstall.get().launcher().toString(),
                "drill", "--now", "--scratch", scratch.toString(), "--timeout", "300", "--config", conf.toString(),
                "--stanza", STANZA));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(work.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().putAll(cli.env());
        Process p = pb.start();
        Path pid = scratch.resolve("pgdata/postmaster.pid");
        try {
            Waits.until(() -> Files.exists(pid), Duration.ofMinutes(2), "the drill's server to start");
        } finally {
            p.toHandle().destroyForcibly(); // SIGKILL: the JVM (bin/tidemark execs it) gets no say
            p.waitFor();
        }
        String first = Files.readAllLines(log).get(0);
        String killedId = first.substring("drill ".length(), first.indexOf(" of stanza"));
        long postmaster = Long.parseLong(Files.readAllLines(pid).get(0).trim());
        assertTrue(Processes.running(postmaster), "the killed drill's server runs on (state " + Processes.state(postmaster) + ")");

        ShimProcess.Result r = cli.run("drill", "--now", "--scratch", scratch.toString(), "--timeout", "300", "--no-amcheck");
        System.out.println("after kill -9:\n" + r);
        ok(r);
        assertTrue(r.out().contains("note: drill " + killedId + " (process " + p.pid() + ", started ")
                && r.out().contains("did not finish: its server (pid " + postmaster + ") was stopped and its scratch directory "
                + scratch + " removed"), r.out());
        assertTrue(r.out().contains("note: the interrupted drill " + killedId + " is recorded as failed"), r.out());
        // exited (a zombie until PID 1 reaps it counts: it runs nothing and holds nothing)
        assertFalse(Processes.running(postmaster), "stopped (state " + Processes.state(postmaster) + ")");
        assertFalse(Files.exists(scratch), "the new drill removed its own directory too");
        JsonNode killed = null;
        for (JsonNode d : JSON.readTree(cloud.api("GET", "/stanzas/" + STANZA + "/drills", null).body()).get("drills")) {
            if (d.get("drillId").asText().equals(killedId)) {
                killed = d;
            }
        }
        assertTrue(killed != null, "the killed drill is recorded");
        assertEquals("failed", killed.get("result").asText(), killed.toString());
        assertEquals("interrupted", killed.get("checks").get(0).get("name").asText(), killed.toString());
        assertTrue(killed.get("checks").get(0).get("message").asText().contains("process " + p.pid() + " is gone"),
                killed.toString());
    }
}
