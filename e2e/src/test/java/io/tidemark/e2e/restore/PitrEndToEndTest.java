package io.tidemark.e2e.restore;

import static io.tidemark.e2e.StanzaCli.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tidemark.e2e.CloudFixture;
import io.tidemark.e2e.ShimInstall;
import io.tidemark.e2e.ShimProcess;
import io.tidemark.e2e.StanzaCli;
import io.tidemark.e2e.Waits;
import io.tidemark.events.sign.EcKeys;
import io.tidemark.events.sign.LocalSigner;
import io.tidemark.events.sign.SignedEnvelope;
import io.tidemark.functions.runtime.AwsClients;
import io.tidemark.testkit.PgCluster;
import io.tidemark.testkit.PgTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Issue 5 end to end: real backups and WAL from a PostgreSQL 15 cluster archived through the
 * packaged shim, the real planner in local-cloud, and {@code tidemark restore} as a user runs it;
 * each restored cluster is started and its rows counted.
 *
 * <p>Timeline of the data (table t, one row per id): full backup (0 rows) | A: 1-100 | 101-200,
 * restore point rp-200 | 201-300, LSN mark | diff backup | B: 301-400 (xid and commit time
 * recorded) | C: 401-500 | incr backup | D: 501-600. The second PITR adds a timeline and rows
 * 1001-1010 on it; timeline 1 then goes on (2001-2100) and the last two tests verify the archive.
 */
@PgTest
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PitrEndToEndTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String STANZA = "main";

    private static Path work;
    private static Path cloudDir;
    private static CloudFixture cloud;
    private static Path conf;
    private static PgCluster pg;
    private static StanzaCli cli;
    private static String fullLabel;
    private static String diffLabel;
    private static String incrLabel;
    private static String lsn300;
    private static long xidB;
    private static String timeB;
    private static String beforeBackup;
    private static final List<PgCluster> restored = new ArrayList<>();
    /**
     * Restores of the unchanged archive by their arguments: a test that needs the outcome (the
     * plan file, the output, the rows) of a restore another test already ran reads it here instead
     * of running the same restore again. Only until the archive changes (the second PITR).
     */
    private static final java.util.Map<List<String>, Restored> done = new java.util.HashMap<>();

    @BeforeAll
    static void setUp() throws Exception {
        work = Files.createTempDirectory(Path.of("/tmp"), "tidemark-pitr-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        cloudDir = work.resolve("cloud");
        cloud = new CloudFixture(cloudDir).start();
        conf = cloud.nodeConfig(work.resolve("node"), STANZA, "archive-get.prefetch=4\n");
        CloudFixture.stanzaSpoolForPostgres(conf, STANZA);
        String push = ShimInstall.get().launcher() + " archive-push --config " + conf + " --stanza " + STANZA + " %p";
        pg = PgCluster.builder().dataChecksums(true)
                .setting("archive_mode", "on").setting("archive_command", push)
                .setting("track_commit_timestamp", "on")
                .build().start();
        cli = new StanzaCli(work, conf, STANZA, pg);
        ok(shim("stanza-create"));
        pg.sql("create table t(id int primary key)");
        beforeBackup = pg.sql("select clock_timestamp()");
        Thread.sleep(1100);
        fullLabel = backup("full");
        pg.sql("insert into t select generate_series(1, 100)");
        pg.sql("insert into t select generate_series(101, 200)");
        pg.sql("select pg_create_restore_point('rp-200')");
        pg.sql("insert into t select generate_series(201, 300)");
        lsn300 = pg.sql("select pg_current_wal_insert_lsn()");
        diffLabel = backup("diff");
        String b = pg.sql("begin; insert into t select generate_series(301, 400); select txid_current(); commit;");
        xidB = Long.parseLong(b.lines().filter(l -> l.matches("[0-9]+")).findFirst().orElseThrow());
        timeB = pg.sql("select pg_xact_commit_timestamp('" + xidB + "'::xid)");
        Thread.sleep(50);
        pg.sql("insert into t select generate_series(401, 500)");
        incrLabel = backup("incr");
        pg.sql("insert into t select generate_series(501, 600)");
        String last = pg.switchWal();
        waitArchived(last);
        waitUntil(() -> latestWindowCovers(last), Duration.ofMinutes(2), "the window to reach " + last);
    }

    @AfterAll
    static void tearDown() {
        List<PgCluster> all = new ArrayList<>(restored);
        all.add(pg);
        PgCluster.closeAll(all);
        if (cloud != null) {
            cloud.close();
        }
        io.tidemark.testkit.FileTrees.deleteQuietly(work);
    }

    // ---------------------------------------------------------------- targets

    @Test
    @Order(1)
    void timeInclusiveAndExclusive() throws Exception {
        assertEquals(400, restoreAndCount("--target-time", timeB));
        assertEquals(300, restoreAndCount("--target-time", timeB, "--target-exclusive"));
    }

    @Test
    @Order(2)
    void xidInclusiveAndExclusive() throws Exception {
        assertEquals(400, restoreAndCount("--target-xid", Long.toString(xidB)));
        assertEquals(300, restoreAndCount("--target-xid", Long.toString(xidB), "--target-exclusive"));
    }

    @Test
    @Order(3)
    void lsnNameImmediateLatest() throws Exception {
        assertEquals(300, restoreAndCount("--target-lsn", lsn300));
        assertEquals(200, count(restoreOnce("--target-name", "rp-200")));
        assertEquals(0, count(restoreOnce("--target-immediate", "--backup", fullLabel)));
        assertEquals(600, count(restoreOnce()));
    }

    @Test
    @Order(4)
    void diffAndIncrChainsAreChosenAndRestore() throws Exception {
        Restored latest = restoreOnce();
        assertTrue(latest.output().contains(incrLabel), "latest restores through the newest chain (the incr): " + latest.output());
        assertEquals(600, count(latest));
        Restored viaDiff = restore("--target-immediate", "--backup", diffLabel);
        assertEquals(300, count(viaDiff));
        Restored viaIncr = restore("--target-immediate", "--backup", incrLabel);
        assertEquals(500, count(viaIncr));
    }

    @Test
    @Order(5)
    void aTargetOutsideTheWindowIsRefusedWithTheNearestPoints() {
        Path dir = freshDir("outside");
        ShimProcess.Result r = shim("restore", "--pgdata", dir.toString(), "--target-time", beforeBackup);
        assertNotEquals(0, r.code(), r.toString());
        assertTrue(r.err().toLowerCase().contains("nearest") || r.out().toLowerCase().contains("nearest"), r.toString());
        assertEmpty(dir);
    }

    @Test
    @Order(6)
    void tamperedForeignAndUnsafePlansAreRefusedAndNothingIsWritten() throws Exception {
        Restored ok = restoreOnce("--target-name", "rp-200");
        Path plan = ok.planFile();
        String text = Files.readString(plan);

        Path tampered = work.resolve("tampered.json");
        Files.writeString(tampered, text.replace("rp-200", "rp-201"));
        refused(shim("restore", "--pgdata", freshDir("tampered").toString(), "--plan-file", tampered.toString()), "signature");

        refused(ShimProcess.run(work, cli.env(), "restore", "--config", conf.toString(), "--stanza", "other",
                "--pgdata", freshDir("foreign").toString(), "--plan-file", plan.toString()), "stanza");

        // A correctly signed plan (local-cloud's own key) that smuggles a path out of PGDATA.
        JsonNode saved = JSON.readTree(text);
        ObjectNode doc = (ObjectNode) saved.get("plan").get("document").deepCopy();
        ((ObjectNode) doc.get("files").get(0)).put("path", "../escaped-by-plan");
        String pem = Files.readString(planKeyFile()); // the private key block, then the public one
        String privateBlock = pem.substring(pem.indexOf("-----BEGIN PRIVATE KEY-----"),
                pem.indexOf("-----END PRIVATE KEY-----") + "-----END PRIVATE KEY-----".length());
        KeyPair keys = new KeyPair(EcKeys.readPublic(publicKey()), EcKeys.readPrivate(privateBlock));
        ObjectNode evil = JSON.createObjectNode();
        evil.set("plan", SignedEnvelope.sign(doc, new LocalSigner(keys)));
        evil.set("urls", saved.get("urls"));
        evil.set("urlsExpireAt", saved.get("urlsExpireAt"));
        Path evilPlan = work.resolve("evil.json");
        Files.writeString(evilPlan, JSON.writeValueAsString(evil));
        Path target = freshDir("evil");
        refused(shim("restore", "--pgdata", target.toString(), "--plan-file", evilPlan.toString()), "..");
        assertFalse(Files.exists(target.getParent().resolve("escaped-by-plan")), "nothing written outside PGDATA");
        assertEmpty(target);
    }

    @Test
    @Order(7)
    void aDownloadedFileWhoseChecksumDiffersIsRefused() throws Exception {
        Restored ok = restoreOnce("--target-immediate", "--backup", fullLabel);
        JsonNode files = JSON.readTree(Files.readString(ok.planFile())).get("plan").get("document").get("files");
        String key = null;
        for (JsonNode f : files) {
            if (!f.get("bundled").asBoolean() && f.get("size").asLong() > 8192) {
                key = f.get("key").asText();
                break;
            }
        }
        assertTrue(key != null, "a single-object file to damage");
        String damaged = key;
        try (AwsClients aws = AwsClients.create(cloud.cloud().functionConfig())) {
            byte[] original = aws.s3().getObjectAsBytes(b -> b.bucket(cloud.cloud().bucket()).key(damaged)).asByteArray();
            byte[] stored = original.clone();
            stored[stored.length / 2] ^= 0x01;
            cloud.overwrite(damaged, stored, java.util.Map.of()); // behind the bucket policy (create-only for every principal)
            try {
                Path dir = freshDir("corrupt");
                ShimProcess.Result r = shim("restore", "--pgdata", dir.toString(), "--target-immediate", "--backup", fullLabel);
                refused(r, "SHA-256");
                assertFalse(Files.exists(dir.resolve("global/pg_control")), "a failed restore cannot be started");
            } finally {
                cloud.overwrite(damaged, original, java.util.Map.of());
            }
        }
    }

    @Test
    @Order(8)
    void aSecondPitrFollowsTheTimelineTheFirstCreated() throws Exception {
        done.clear(); // this test adds timeline 2 to the archive
        // The first PITR promotes to a new timeline and archives it (its archive_command is the shim's).
        Restored first = restore(true, "--target-name", "rp-200");
        assertEquals(200, count(first));
        first.cluster().sql("insert into t select generate_series(1001, 1010)");
        String tl = first.cluster().sql("select timeline_id from pg_control_checkpoint()");
        String seg = first.cluster().switchWal();
        Waits.archived(first.cluster(), seg, Duration.ofMinutes(2));
        assertTrue(Integer.parseInt(tl) >= 2, "promotion made a new timeline: " + tl);
        first.cluster().stop();
        Restored second = restore("--target-timeline", tl);
        assertEquals(210, count(second), second.output());
    }

    // ---------------------------------------------------------------- verify on the archive the tests made

    /**
     * {@code tidemark verify} on two timelines as PostgreSQL archives them: the first PITR above
     * promoted onto a new timeline and archived it (history file, timeline 1's partial segment, the
     * new timeline's WAL) beside timeline 1, which goes on after the branch here. None of that is a
     * problem: continuity per timeline and the history check accept what PostgreSQL writes. Then
     * {@code info} says when the last clean run was. (Formerly VerifyTimelineE2eTest and the first
     * test of VerifyE2eTest, each with a cloud, a cluster and a backup of its own.)
     */
    @Test
    @Order(9)
    void verifyAcceptsTwoTimelinesAsPostgresqlArchivesThemAndInfoSaysWhen() throws Exception {
        pg.sql("insert into t select generate_series(2001, 2100)");
        String more = pg.switchWal();
        waitArchived(more);
        waitUntil(() -> cloud.stanzaDocument(STANZA).path("timelines").get(0).path("lastSegment").asText().compareTo(more) >= 0,
                Duration.ofMinutes(2), "the catalog to index " + more + " on timeline 1");
        assertTrue(cloud.awaitQuiescent(Duration.ofMinutes(2)));
        assertTrue(cloud.stanzaDocument(STANZA).path("timelines").size() >= 2, "two timelines archived");

        ShimProcess.Result r = shim("verify", "--output", "json");
        JsonNode run = JSON.readTree(r.out());
        assertEquals(0, r.code(), r + "\n" + run.path("problems"));
        assertEquals(0, run.path("problemCount").asLong(), run.toString());
        assertEquals("complete", run.path("state").asText());
        // every segment of both timelines, the history file, the partial segment, the backups' objects
        assertTrue(run.path("checked").asLong() >= 6, run.toString());

        String info = shim("info").out();
        assertTrue(info.contains("no problems"), info);
        assertFalse(info.contains("last clean verify  never"), info);
    }

    /**
     * One byte of an archived WAL segment the full backup needs (the one it starts in) changed at
     * rest, in the object store's file (no S3 event, as bit rot would): the next verify names it
     * and exits 1, and the catalog no longer offers it (no WAL range holds it; info shows the
     * problem). Damages the archive for good: the last test. (Formerly VerifyE2eTest's second test.)
     */
    @Test
    @Order(10)
    void aChangedByteInASegmentTheFullBackupNeedsIsNamedAndMakesAGap() throws Exception {
        JsonNode full = null;
        for (JsonNode b : cloud.stanzaDocument(STANZA).path("backups")) {
            if (b.path("label").asText().equals(fullLabel)) {
                full = b;
            }
        }
        assertTrue(full != null, "the full backup " + fullLabel + " in the catalog");
        String damaged = segmentOf(full.path("startLsn").asText());
        String key = null;
        for (String k : cloud.objectKeys(STANZA + "/wal/")) {
            String name = k.substring(k.lastIndexOf('/') + 1);
            if (name.matches("[0-9A-F]{24}(\\.[a-z0-9]+)?") && name.substring(0, 24).equals(damaged)) {
                key = k;
            }
        }
        assertTrue(key != null, "the full backup's start segment " + damaged + " is archived");
        Path file = cloudDir.resolve("s3").resolve(cloud.cloud().bucket()).resolve(key);
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.exists(file), "objects are local files (no external storage)");
        byte[] content = Files.readAllBytes(file);
        content[content.length / 2] ^= 0x40;
        Files.write(file, content, java.nio.file.StandardOpenOption.TRUNCATE_EXISTING);

        ShimProcess.Result r = shim("verify");
        assertEquals(1, r.code(), r.toString());
        assertTrue(r.out().contains("  " + key + "\n"), r.out());
        assertTrue(r.out().matches("(?s).*(sha256|unreadable): expected .*"), r.out());

        ShimProcess.Result json = shim("verify", "--output", "json");
        assertEquals(1, json.code(), json.toString());
        List<String> keys = new ArrayList<>(JSON.readTree(json.out()).path("problems").findValuesAsText("key"));
        assertTrue(keys.contains(key), keys.toString());

        // verify marked it damaged: no archived WAL range of timeline 1 holds it any more (a gap, or
        // the range starts after it), and info says the last run found problems
        JsonNode doc = cli.info();
        for (JsonNode range : doc.path("timelines").get(0).path("walRanges")) {
            assertFalse(range.path("start").asText().compareTo(damaged) <= 0
                    && damaged.compareTo(range.path("end").asText()) <= 0, doc.path("timelines").toString());
        }
        assertTrue(doc.path("verify").path("problems").asLong() > 0, doc.path("verify").toString());
        assertTrue(shim("info").out().contains("PROBLEM"));
    }

    /** The name of the timeline 1 segment holding {@code lsn}, in the stanza's segment size. */
    private static String segmentOf(String lsn) {
        long size = cloud.stanzaDocument(STANZA).path("walSegmentSize").asLong();
        long value = io.tidemark.events.wal.Lsn.parse(lsn).value();
        return io.tidemark.events.wal.WalSegmentName.of(io.tidemark.events.wal.TimelineId.FIRST, value / size,
                io.tidemark.events.wal.WalSegmentSize.ofBytes(size)).toString();
    }

    // ---------------------------------------------------------------- helpers

    record Restored(PgCluster cluster, String output, Path planFile) {
    }

    private static int restoreAndCount(String... args) throws Exception {
        return count(restore(args));
    }

    private static Restored restore(String... args) throws Exception {
        return restore(false, args);
    }

    /** {@link #restore(String...)}, or the outcome of the same restore an earlier test ran. */
    private static Restored restoreOnce(String... args) throws Exception {
        Restored r = done.get(List.of(args));
        if (r == null) {
            r = restore(args);
            done.put(List.of(args), r);
        }
        return r;
    }

    private static Restored restore(boolean archive, String... args) throws Exception {
        PgCluster c = PgCluster.builder().emptyDataDir()
                .setting("archive_mode", archive ? "on" : "off")
                .startTimeout(Duration.ofMinutes(3))
                .build();
        restored.add(c);
        List<String> all = new ArrayList<>(List.of("restore", "--pgdata", c.dataDir().toString()));
        if (archive) {
            all.add("--keep-config-commands"); // the restored cluster archives with the source's archive_command
        }
        all.addAll(List.of(args));
        ShimProcess.Result r = shim(all.toArray(String[]::new));
        assertEquals(0, r.code(), r.toString());
        try (Stream<Path> s = Files.walk(c.dataDir())) {
            s.forEach(c.runAs()::giveOwnership);
        }
        c.start();
        waitUntil(() -> c.sql("select pg_is_in_recovery()").equals("f"), Duration.ofMinutes(3),
                "recovery of " + String.join(" ", args) + "\n" + c.logContext());
        return new Restored(c, r.out() + r.err(), planFileOf(r.out() + r.err()));
    }

    private static int count(Restored r) {
        return Integer.parseInt(r.cluster().sql("select count(*) from t"));
    }

    private static Path planFileOf(String output) {
        for (String word : output.split("\\s+")) {
            if (word.endsWith(".json") && word.contains("restore-plans")) {
                return Path.of(word.replaceAll("[,;:)]+$", ""));
            }
        }
        return null;
    }

    private static String backup(String type) throws Exception {
        ShimProcess.Result r = shim("backup", "--type", type);
        ok(r);
        waitUntil(() -> backupsWith(type, "valid") > 0, Duration.ofMinutes(2), type + " backup to be valid");
        JsonNode backups = cloud.stanzaDocument(STANZA).get("backups"); // the catalog through the API: no info JVM
        return backups.get(backups.size() - 1).get("label").asText();
    }

    private static int backupsWith(String type, String status) {
        int n = 0;
        for (JsonNode b : cloud.stanzaDocument(STANZA).path("backups")) {
            if (b.path("type").asText().equals(type) && b.path("status").asText().equals(status)) {
                n++;
            }
        }
        return n;
    }

    private static boolean latestWindowCovers(String segment) {
        JsonNode doc = cloud.stanzaDocument(STANZA);
        JsonNode latest = doc.path("window").path("latest");
        return !latest.isMissingNode() && !latest.isNull()
                && doc.path("timelines").get(0).path("lastSegment").asText().compareTo(segment) >= 0;
    }

    private static String publicKey() throws Exception {
        java.util.Properties p = new java.util.Properties();
        try (var in = Files.newBufferedReader(conf)) {
            p.load(in); // the file is written by Properties.store, which escapes '=' in values
        }
        return p.getProperty("plan.publicKey");
    }

    private static Path planKeyFile() {
        return cloudDir.resolve("plan-key.pem");
    }

    private static Path freshDir(String name) {
        Path d = work.resolve("target-" + name + "-" + System.nanoTime());
        try {
            Files.createDirectories(d);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        return d;
    }

    private static void assertEmpty(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of(), s.toList(), "nothing written into " + dir);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static void refused(ShimProcess.Result r, String why) {
        assertNotEquals(0, r.code(), r.toString());
        assertTrue((r.out() + r.err()).contains(why), "expected '" + why + "' in: " + r);
    }

    private static ShimProcess.Result shim(String... args) {
        return cli.run(args);
    }

    private static void waitArchived(String segment) throws InterruptedException {
        Waits.archived(pg, segment, Duration.ofMinutes(2));
    }

    private static void waitUntil(java.util.function.BooleanSupplier condition, Duration timeout, String what) {
        Waits.until(condition, timeout, "gave up waiting for " + what);
    }
}
