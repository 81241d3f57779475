package io.tidemark.e2e.restore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.e2e.CloudFixture;
import io.tidemark.e2e.ShimInstall;
import io.tidemark.e2e.ShimProcess;
import io.tidemark.e2e.Waits;
import io.tidemark.functions.runtime.AwsClients;
import io.tidemark.testkit.PgCluster;
import io.tidemark.testkit.PgTest;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Issue 12's acceptance matrix: each of a WAL segment, a timeline history file, a backup data
 * file, a bundle and a manifest, deleted, truncated, and with one byte changed in the store.
 * For each of the 15: a restore to a target that needs the object is refused (by the planner,
 * by the pre-check before anything is written, by the download before PGDATA can be started) or
 * recovery aborts with archive-get naming the key; never a promoted cluster with fewer rows than
 * the target; {@code tidemark verify} names the key; the original bytes put back make the
 * catalog whole again for the next case.
 *
 * <p>How the damage is done decides which defence answers, and each case says which it expects:
 * <ul>
 *   <li><b>deleted</b> through S3: the removal event marks the object missing in the catalog at
 *       once, so the planner refuses (422, with the nearest reachable points);</li>
 *   <li><b>truncated</b> or <b>one byte changed</b> in the object store's own file (bit rot: no S3
 *       event, the catalog does not know): the planner issues a plan as if nothing happened, and
 *       the node must catch it: a wrong size in the pre-check (PGDATA never created), a changed
 *       byte of a backup object in the download (PGDATA without {@code global/pg_control}, which
 *       PostgreSQL refuses to start), a changed byte of WAL or history in archive-get during
 *       recovery (exit 200: PostgreSQL aborts). A manifest is read by the planner itself, which
 *       compares it with the SHA-256 the validator recorded: refused at plan time.</li>
 * </ul>
 * The restore runs before verify: verify marks what it finds lost, after which every case would
 * end at the planner. That the planner then refuses is checked too, after verify.
 *
 * <p>Archive: timeline 1 with a full backup and rows 1-100, a restore point {@code branch}, rows
 * 101-150 that only timeline 1 has; a point-in-time restore to {@code branch} promoted onto
 * timeline 2 (so its history file is needed by every target below), then on timeline 2, a segment
 * each: rows 101-200 and restore point {@code rp-200} | 201-300, time T300 | 301-400 in one
 * transaction X | 401-500.
 */
@PgTest
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DamagedArchiveE2eTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String STANZA = "main";
    /** In a cluster's base dir (never in its data dir, so never in a backup): this cluster archives. */
    private static final String ARCHIVES_MARKER = "tidemark-archives";

    private static Path work;
    private static CloudFixture cloud;
    private static AwsClients aws;
    private static Path conf;
    private static PgCluster source;
    private static PgCluster primary;
    /** The port restored clusters listen on (the backup's postgresql.conf says so). */
    private static int restoredPort;
    private static String t300;
    private static String xid400;
    private static JsonNode latestPlan;
    private static JsonNode baseline;
    /** Timeline 1's insert position before and after the commit of rows 1-100 (what a target LSN there holds). */
    private static String lsnBefore100;
    private static String lsnAfter100;
    private static final List<Path> started = new ArrayList<>();

    enum Target {
        LATEST(500), TIME(300), XID(400), NAME(200);

        final int rows;

        Target(int rows) {
            this.rows = rows;
        }

        List<String> flags() {
            return switch (this) {
                case LATEST -> List.of();
                case TIME -> List.of("--target-time", t300);
                case XID -> List.of("--target-xid", xid400);
                case NAME -> List.of("--target-name", "rp-200");
            };
        }
    }

    enum Kind { WAL, HISTORY, DATA_FILE, BUNDLE, MANIFEST }

    enum Damage { DELETED, TRUNCATED, BYTE_CHANGED }

    /** Which defence answers. */
    enum Outcome { PLANNER, PRECHECK, DOWNLOAD, RECOVERY_ABORTED }

    /** The 15 cases, each target type used at least twice. */
    enum Case {
        WAL_DELETED(Kind.WAL, Damage.DELETED, Target.NAME, Outcome.PLANNER),
        WAL_TRUNCATED(Kind.WAL, Damage.TRUNCATED, Target.TIME, Outcome.PRECHECK),
        WAL_BYTE_CHANGED(Kind.WAL, Damage.BYTE_CHANGED, Target.LATEST, Outcome.RECOVERY_ABORTED),
        HISTORY_DELETED(Kind.HISTORY, Damage.DELETED, Target.XID, Outcome.PLANNER),
        HISTORY_TRUNCATED(Kind.HISTORY, Damage.TRUNCATED, Target.LATEST, Outcome.PRECHECK),
        HISTORY_BYTE_CHANGED(Kind.HISTORY, Damage.BYTE_CHANGED, Target.NAME, Outcome.RECOVERY_ABORTED),
        DATA_FILE_DELETED(Kind.DATA_FILE, Damage.DELETED, Target.LATEST, Outcome.PLANNER),
        DATA_FILE_TRUNCATED(Kind.DATA_FILE, Damage.TRUNCATED, Target.XID, Outcome.PRECHECK),
        DATA_FILE_BYTE_CHANGED(Kind.DATA_FILE, Damage.BYTE_CHANGED, Target.TIME, Outcome.DOWNLOAD),
        BUNDLE_DELETED(Kind.BUNDLE, Damage.DELETED, Target.TIME, Outcome.PLANNER),
        BUNDLE_TRUNCATED(Kind.BUNDLE, Damage.TRUNCATED, Target.NAME, Outcome.PRECHECK),
        BUNDLE_BYTE_CHANGED(Kind.BUNDLE, Damage.BYTE_CHANGED, Target.XID, Outcome.DOWNLOAD),
        MANIFEST_DELETED(Kind.MANIFEST, Damage.DELETED, Target.XID, Outcome.PLANNER),
        MANIFEST_TRUNCATED(Kind.MANIFEST, Damage.TRUNCATED, Target.LATEST, Outcome.PLANNER),
        MANIFEST_BYTE_CHANGED(Kind.MANIFEST, Damage.BYTE_CHANGED, Target.NAME, Outcome.PLANNER);

        final Kind kind;
        final Damage damage;
        final Target target;
        final Outcome outcome;

        Case(Kind kind, Damage damage, Target target, Outcome outcome) {
            this.kind = kind;
            this.damage = damage;
            this.target = target;
            this.outcome = outcome;
        }
    }

    @BeforeAll
    static void setUp() throws Exception {
        long t0 = System.nanoTime();
        work = Files.createTempDirectory(Path.of("/tmp"), "tidemark-damaged-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        cloud = new CloudFixture(work.resolve("cloud")).start();
        aws = AwsClients.create(cloud.cloud().functionConfig());
        Assumptions.assumeTrue(Files.isDirectory(storeFile(STANZA).getParent()),
                "objects are local files (no external storage): bit rot is done in the store's files");
        // retries=1: a damaged download is tried twice, not five times with pauses up to 4 s
        conf = cloud.nodeConfig(work.resolve("node"), STANZA, "retries=1\n");
        try (ServerSocket s = new ServerSocket(0)) {
            restoredPort = s.getLocalPort();
        }
        String push = ShimInstall.get().launcher() + " archive-push --config " + conf + " --stanza " + STANZA + " %p";
        // restored clusters inherit this configuration: only a cluster whose base dir holds the marker archives
        String archive = "test ! -f ../" + ARCHIVES_MARKER + " || " + push;
        source = PgCluster.builder().setting("archive_mode", "on").setting("archive_command", archive)
                .setting("port", Integer.toString(restoredPort)).build();
        Files.writeString(source.baseDir().resolve(ARCHIVES_MARKER), "");
        source.start();
        ok(shim("stanza-create"));
        source.sql("create table t(id int primary key)");
        ok(shim("backup", "--type", "full"));
        assertTrue(cloud.awaitQuiescent(Duration.ofMinutes(1)));
        Waits.until(() -> "valid".equals(cloud.stanzaDocument(STANZA).path("backups").path(0).path("status").asText()),
                Duration.ofMinutes(2), "the full backup to be valid");
        lsnBefore100 = source.sql("select pg_current_wal_insert_lsn()");
        source.sql("insert into t select generate_series(1, 100)");
        lsnAfter100 = source.sql("select pg_current_wal_insert_lsn()");
        source.sql("select pg_create_restore_point('branch')");
        source.sql("insert into t select generate_series(101, 150)");
        String tl1 = source.switchWal();
        Waits.archived(source, tl1, Duration.ofMinutes(2));
        assertTrue(cloud.awaitQuiescent(Duration.ofMinutes(1)));
        Waits.until(() -> cloud.stanzaDocument(STANZA).path("timelines").path(0).path("lastSegment").asText().compareTo(tl1) >= 0,
                Duration.ofMinutes(2), "the catalog to index " + tl1);

        // the point-in-time restore that makes timeline 2 (and its history file)
        primary = PgCluster.builder().emptyDataDir().startTimeout(Duration.ofMinutes(3)).build();
        // it archives timeline 2 with the source's archive_command: kept on purpose
        ok(shim("restore", "--pgdata", primary.dataDir().toString(), "--target-name", "branch", "--keep-config-commands"));
        try (Stream<Path> s = Files.walk(primary.dataDir())) {
            s.forEach(primary.runAs()::giveOwnership);
        }
        // stopped, not closed: restored clusters share its socket directory (from the backup's configuration)
        source.stop();
        Files.writeString(primary.baseDir().resolve(ARCHIVES_MARKER), "");
        primary.start();
        Waits.until(() -> primary.sql("select pg_is_in_recovery()").equals("f"), Duration.ofMinutes(2),
                "promotion at branch\n" + primary.logContext());
        assertEquals("100", primary.sql("select count(*) from t"));

        primary.sql("insert into t select generate_series(101, 200)");
        primary.sql("select pg_create_restore_point('rp-200')");
        primary.switchWal();
        primary.sql("insert into t select generate_series(201, 300)");
        Thread.sleep(20);
        t300 = primary.sql("select clock_timestamp()");
        Thread.sleep(20);
        primary.switchWal();
        xid400 = primary.sql("with i as (insert into t select generate_series(301, 400) returning 1)"
                + " select txid_current() from i limit 1");
        primary.switchWal();
        primary.sql("insert into t select generate_series(401, 500)");
        String last = primary.switchWal();
        Waits.archived(primary, last, Duration.ofMinutes(2));
        assertTrue(cloud.awaitQuiescent(Duration.ofMinutes(1)));
        Waits.until(() -> cloud.stanzaDocument(STANZA).path("timelines").size() == 2
                && cloud.stanzaDocument(STANZA).path("timelines").path(1).path("lastSegment").asText().equals(last), Duration.ofMinutes(2),
                "the catalog to index " + last + " on timeline 2");
        assertTrue(cloud.awaitQuiescent(Duration.ofMinutes(1)));
        baseline = catalogShape();
        System.out.printf("set up in %d ms%n", (System.nanoTime() - t0) / 1_000_000);
    }

    @AfterEach
    void stopRestored() {
        for (Path dir : started) {
            primary.tryRun(List.of(primary.bin("pg_ctl").toString(), "-D", dir.toString(), "-m", "immediate", "-w", "stop"),
                    Duration.ofSeconds(60));
        }
        started.clear();
    }

    @AfterAll
    static void tearDown() {
        for (PgCluster c : new PgCluster[] {primary, source}) {
            if (c != null) {
                c.close();
            }
        }
        if (aws != null) {
            aws.close();
        }
        if (cloud != null) {
            cloud.close();
        }
        io.tidemark.testkit.FileTrees.deleteQuietly(work);
    }

    /**
     * Undamaged, {@code latest} restores every row through timeline 1, the history file and
     * timeline 2: what makes the refusals below mean something. (One restore, not one per target:
     * each other target is shown reachable by a case below in which the planner issues its plan.)
     */
    @Test
    @Order(1)
    void latestRestoresEveryRowWhenNothingIsDamaged() throws Exception {
        ShimProcess.Result clean = shim("verify");
        assertEquals(0, clean.code(), clean.toString());
        ShimProcess.Result r = restore(Target.LATEST);
        assertEquals(0, r.code(), r.toString());
        assertEquals(Target.LATEST.rows, count(), r.out());
        latestPlan = document(planFileOf(r.out()));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Case.class)
    @Order(2)
    void aDamagedObjectIsNamedAndNeverRestoresShort(Case c) throws Exception {
        assertNotNull(latestPlan, "the undamaged restores ran first");
        String key = keyOf(c.kind);
        Stored original = s3Get(key);
        List<String> repair = new ArrayList<>(List.of(key));
        if (c.kind == Kind.DATA_FILE || c.kind == Kind.BUNDLE) {
            // the validator re-checks a backup when its manifest arrives: uploaded again after the object
            repair.add(manifestKey());
        }
        Map<String, Stored> originals = new java.util.LinkedHashMap<>();
        for (String k : repair) {
            originals.put(k, k.equals(key) ? original : s3Get(k));
        }
        try {
            damage(key, c.damage, original);
            long t0 = System.nanoTime();
            ShimProcess.Result r = restore(c.target);
            System.out.printf("%s (%s): restore %s in %d ms:%n%s%n", c, key, c.outcome,
                    (System.nanoTime() - t0) / 1_000_000, r);
            neverPromotedShort(c, r);
            assertRefused(c, key, r);

            long t1 = System.nanoTime();
            ShimProcess.Result v = shim("verify");
            System.out.printf("%s: verify in %d ms%n", c, (System.nanoTime() - t1) / 1_000_000);
            assertEquals(1, v.code(), c + ": verify must fail\n" + v);
            assertTrue(v.out().contains(key), c + ": verify names " + key + "\n" + v.out());

            // Bit rot verify found is lost for the planner too: a fresh plan is refused now. (Deleted
            // objects and manifests were refused by the planner already.) latest included: with a
            // segment or the history file of its path damaged, archived WAL continues past the loss.
            if (c.damage != Damage.DELETED && c.kind != Kind.MANIFEST) {
                ShimProcess.Result again = restore(c.target);
                neverPromotedShort(c, again);
                assertNotEquals(0, again.code(), again.toString());
                assertTrue(again.err().contains("target not reachable: "), c + " after verify: " + again);
            }
        } finally {
            stopRestored();
            for (Map.Entry<String, Stored> e : originals.entrySet()) {
                s3Put(e.getKey(), e.getValue());
            }
        }
        long t2 = System.nanoTime();
        assertTrue(cloud.awaitQuiescent(Duration.ofMinutes(1)));
        Waits.until(() -> catalogShape().equals(baseline), Duration.ofSeconds(30),
                c + ": the catalog to be whole again after the original bytes were put back: " + catalogShape()
                        + " vs " + baseline);
        System.out.printf("%s: repaired in %d ms%n", c, (System.nanoTime() - t2) / 1_000_000);
    }

    /**
     * The first segment of timeline 2 deleted: {@code latest} (500 rows) cannot be reached, and the
     * planner says so instead of planning the WAL before the gap (which promoted with 0 rows, exit
     * 0). The refusal names the segment, where archived WAL continues and the nearest point with
     * the option that restores to it; that option, given explicitly, restores exactly that point.
     */
    @Test
    @Order(3)
    void latestIsRefusedWhenASegmentOfItsPathIsDeletedAndTheNamedPointRestores() throws Exception {
        String key = keyOf(Kind.WAL);
        withDeleted(key, () -> {
            ShimProcess.Result r = restore(Target.LATEST);
            System.out.printf("latest with %s deleted:%n%s%n", key, r);
            refusedAtTheGap(r);
            String err = r.err();
            assertTrue(err.contains(name(key).replace(".zst", "") + " is missing (deleted from the bucket"), err);
            assertTrue(err.contains("archived WAL continues at 00000002"), err);
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("--target-lsn ([0-9A-F]+/[0-9A-F]+)").matcher(err);
            assertTrue(m.find(), err);
            String lsn = m.group(1);

            // accepting the loss: exactly that point, promoted, with the rows committed before it
            ShimProcess.Result explicit = shim("restore", "--pgdata", newDir().toString(), "--wait", "--wait-timeout",
                    "120", "--target-lsn", lsn);
            System.out.printf("--target-lsn %s:%n%s%n", lsn, explicit);
            assertEquals(0, explicit.code(), explicit.toString());
            int expected;
            if (compareLsn(lsn, lsnAfter100) >= 0) {
                expected = 100;
            } else if (compareLsn(lsn, lsnBefore100) < 0) {
                expected = 0;
            } else {
                throw new AssertionError("the nearest point " + lsn + " lies inside the commit of rows 1-100 ("
                        + lsnBefore100 + ".." + lsnAfter100 + ")");
            }
            assertEquals(expected, count(), explicit.out());
        });
    }

    /**
     * Timeline 2's history file deleted: {@code latest} must not fall back to timeline 1 (150 rows,
     * and the promoted cluster would take timeline id 2 again). Refused, naming the history file.
     */
    @Test
    @Order(4)
    void latestIsRefusedWhenTheNewerTimelinesHistoryIsDeleted() throws Exception {
        String key = keyOf(Kind.HISTORY);
        withDeleted(key, () -> {
            ShimProcess.Result r = restore(Target.LATEST);
            System.out.printf("latest with %s deleted:%n%s%n", key, r);
            refusedAtTheGap(r);
            assertTrue(r.err().contains("00000002.history is missing (deleted from the bucket"), r.err());
            assertTrue(r.err().contains("--target-timeline 1"), r.err());
        });
    }

    interface Body {
        void run() throws Exception;
    }

    /** Deletes {@code key} through S3 (the removal event marks it missing), runs {@code body}, puts it back. */
    private void withDeleted(String key, Body body) throws Exception {
        Stored original = s3Get(key);
        try {
            damage(key, Damage.DELETED, original);
            body.run();
        } finally {
            stopRestored();
            s3Put(key, original);
        }
        assertTrue(cloud.awaitQuiescent(Duration.ofMinutes(1)));
        Waits.until(() -> catalogShape().equals(baseline), Duration.ofSeconds(30),
                key + ": the catalog to be whole again after the original bytes were put back: " + catalogShape());
    }

    /** Refused by the planner for latest: the nearest point printed, nothing written, no server. */
    private static void refusedAtTheGap(ShimProcess.Result r) throws Exception {
        assertNotEquals(0, r.code(), r.toString());
        assertTrue(r.err().contains("target not reachable: target latest"), r.toString());
        assertTrue(r.err().contains("latest cannot be reached: "), r.toString());
        assertTrue(r.err().contains("nearest reachable point before: "), r.toString());
        assertTrue(r.err().contains("to accept the loss"), r.toString());
        assertFalse(Files.exists(started.getLast()), "nothing written\n" + r);
        assertFalse(serverAnswers(), "no server answers\n" + r);
    }

    private static int compareLsn(String a, String b) {
        return io.tidemark.events.wal.Lsn.parse(a).compareTo(io.tidemark.events.wal.Lsn.parse(b));
    }

    // ---------------------------------------------------------------- the outcomes

    /** Whatever else happened: no server answers with fewer rows than the target has. */
    private static void neverPromotedShort(Case c, ShimProcess.Result r) throws Exception {
        if (serverAnswers()) {
            int rows = count();
            assertTrue(rows >= c.target.rows, "BUG: " + c + " left a running cluster with " + rows + " rows, the target "
                    + c.target + " has " + c.target.rows + "\n" + r);
            throw new AssertionError(c + ": a server is running although the restore should have failed\n" + r);
        }
    }

    private static void assertRefused(Case c, String key, ShimProcess.Result r) throws Exception {
        assertNotEquals(0, r.code(), c + ": " + r);
        String text = r.out() + r.err();
        Path pgdata = started.getLast(); // the directory restore(...) was given
        switch (c.outcome) {
            case PLANNER -> {
                assertTrue(r.err().contains("target not reachable: "), c + ": " + r);
                assertTrue(r.err().contains("nearest reachable point") || r.err().contains("recovery window"),
                        c + ": the refusal says what is reachable\n" + r);
                assertFalse(Files.exists(pgdata), c + ": " + r);
            }
            case PRECHECK -> {
                assertTrue(r.err().contains("restore refused: 1 of "), c + ": " + r);
                assertTrue(r.err().contains(key + ": "), c + ": names " + key + "\n" + r);
                assertFalse(Files.exists(pgdata), c + ": nothing written, not even the directory\n" + r);
            }
            case DOWNLOAD -> {
                assertTrue(r.err().contains("refusing the damaged file"), c + ": " + r);
                assertTrue(r.err().contains(key), c + ": names " + key + "\n" + r);
                assertFalse(Files.exists(pgdata.resolve("global/pg_control")),
                        c + ": no pg_control: PostgreSQL refuses to start the directory\n" + r);
                assertFalse(Files.exists(pgdata.resolve("recovery.signal")), c + ": " + r);
            }
            case RECOVERY_ABORTED -> {
                assertTrue(r.err().contains("recovery FAILED: the server stopped before recovery ended"), c + ": " + r);
                assertTrue(r.err().contains("tidemark archive-get: ABORTING RECOVERY: ") && r.err().contains(key),
                        c + ": archive-get's line names " + key + "\n" + r);
                String log = Files.readString(Path.of(pgdata + ".log"));
                assertTrue(log.contains("FATAL:  could not restore file") && log.contains("exit code 200"), log);
                assertFalse(log.contains("selected new timeline ID"), c + ": never promoted\n" + log);
            }
        }
    }

    // ---------------------------------------------------------------- damage

    private static void damage(String key, Damage d, Stored original) throws Exception {
        switch (d) {
            case DELETED -> {
                // as the retention function: the only principal the bucket policy lets delete
                try (AwsClients retention = cloud.clientsAs("Retention")) {
                    retention.s3().deleteObject(b -> b.bucket(cloud.cloud().bucket()).key(key));
                }
                assertTrue(cloud.awaitQuiescent(Duration.ofMinutes(1)), "the removal event handled");
            }
            // the last KiB cut off (half of a small object): verify reports every bundled file past the cut,
            // so a bundle cut in half costs seconds of problem items
            case TRUNCATED -> Files.write(storeFile(key), Arrays.copyOf(original.bytes(),
                    Math.max(original.bytes().length / 2, original.bytes().length - 1024)), StandardOpenOption.TRUNCATE_EXISTING);
            case BYTE_CHANGED -> {
                byte[] b = original.bytes().clone();
                b[b.length / 2] ^= 0x01;
                Files.write(storeFile(key), b, StandardOpenOption.TRUNCATE_EXISTING);
            }
        }
    }

    /** The object store's own file of {@code key}: changed there, no S3 event tells anyone. */
    private static Path storeFile(String key) {
        return cloud.cloud().dir().resolve("s3").resolve(cloud.cloud().bucket()).resolve(key);
    }

    /** The key of the object of {@code kind} every target's plan needs, from the undamaged latest plan. */
    private static String keyOf(Kind kind) {
        return switch (kind) {
            // the first segment of timeline 2: every target is after it
            case WAL -> walKeys().stream().filter(k -> name(k).startsWith("00000002") && !k.contains(".history")
                    && !k.contains(".partial")).findFirst().orElseThrow(() -> new AssertionError("no timeline 2 segment: "
                    + walKeys()));
            case HISTORY -> walKeys().stream().filter(k -> name(k).startsWith("00000002.history")).findFirst()
                    .orElseThrow(() -> new AssertionError("no history file in the plan: " + walKeys()));
            case DATA_FILE -> {
                // the largest data file stored as its own object (restore writes every one of them)
                JsonNode best = null;
                for (JsonNode f : latestPlan.get("files")) {
                    String path = f.get("path").asText();
                    if (!f.get("bundled").asBoolean() && (path.startsWith("base/") || path.startsWith("global/"))
                            && (best == null || f.get("storedSize").asLong() > best.get("storedSize").asLong())) {
                        best = f;
                    }
                }
                assertNotNull(best, "a data file stored as its own object");
                yield best.get("key").asText();
            }
            case BUNDLE -> {
                for (JsonNode f : latestPlan.get("files")) {
                    if (f.get("bundled").asBoolean() && f.get("path").asText().startsWith("base/")) {
                        yield f.get("key").asText();
                    }
                }
                throw new AssertionError("no bundle in the plan");
            }
            case MANIFEST -> manifestKey();
        };
    }

    private static List<String> walKeys() {
        List<String> keys = new ArrayList<>();
        latestPlan.get("wal").forEach(w -> keys.add(w.get("key").asText()));
        return keys;
    }

    private static String name(String key) {
        return key.substring(key.lastIndexOf('/') + 1);
    }

    private static String manifestKey() {
        return io.tidemark.events.layout.StorageLayout.manifestKey(io.tidemark.events.layout.StanzaName.of(STANZA),
                io.tidemark.events.layout.BackupLabelName.parse(latestPlan.get("backup").get("label").asText()));
    }

    // ---------------------------------------------------------------- helpers

    /**
     * What the repairs must bring back: the backups' statuses, each timeline's WAL ranges and history.
     * Read through the API (the document {@code info --output json} prints): the repair waits poll
     * it, and an info JVM per poll cost more than the repair (verify, run in each case, is the
     * shim's view of the damage).
     */
    private static JsonNode catalogShape() {
        JsonNode info = cloud.stanzaDocument(STANZA);
        var shape = JSON.createObjectNode();
        var backups = shape.putArray("backups");
        info.path("backups").forEach(b -> backups.add(b.path("label").asText() + " " + b.path("status").asText()));
        var tls = shape.putArray("timelines");
        info.path("timelines").forEach(t -> tls.add(JSON.createObjectNode().put("timeline", t.path("timeline").asText())
                .put("lastSegment", t.path("lastSegment").asText()).set("walRanges", t.path("walRanges"))));
        shape.set("window", info.path("window"));
        return shape;
    }

    /** {@code tidemark restore --wait} to {@code target}, into a new directory. */
    private static ShimProcess.Result restore(Target target) {
        Path dir = newDir();
        List<String> args = new ArrayList<>(List.of("restore", "--pgdata", dir.toString(), "--wait", "--wait-timeout", "120"));
        args.addAll(target.flags());
        return shim(args.toArray(String[]::new));
    }

    /** A new directory to restore into (stopped after each test). */
    private static Path newDir() {
        Path dir = work.resolve("restored-" + System.nanoTime());
        started.add(dir);
        return dir;
    }

    private static JsonNode document(Path plan) throws Exception {
        assertNotNull(plan, "a saved plan");
        return JSON.readTree(Files.readString(plan)).get("plan").get("document");
    }

    private static Path planFileOf(String output) {
        for (String word : output.split("\\s+")) {
            if (word.endsWith(".json") && word.contains("restore-plans")) {
                return Path.of(word.replaceAll("[,;:)]+$", ""));
            }
        }
        return null;
    }

    private static int count() throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + restoredPort + "/postgres?user=postgres");
             ResultSet rs = c.createStatement().executeQuery("select count(*) from t")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static boolean serverAnswers() {
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + restoredPort + "/postgres?user=postgres")) {
            return c.isValid(5);
        } catch (Exception e) {
            return false;
        }
    }

    /** An object's bytes and user metadata (put back as they were: archive-get checks the sha256 metadata). */
    record Stored(byte[] bytes, Map<String, String> metadata) {
    }

    private static Stored s3Get(String key) {
        var o = aws.s3().getObjectAsBytes(b -> b.bucket(cloud.cloud().bucket()).key(key));
        return new Stored(o.asByteArray(), o.response().metadata());
    }

    private static void s3Put(String key, Stored o) {
        // behind the bucket policy, which refuses every principal a PUT without If-None-Match
        cloud.overwrite(key, o.bytes(), o.metadata());
    }

    private static void ok(ShimProcess.Result r) {
        assertEquals(0, r.code(), r.toString());
    }

    private static ShimProcess.Result shim(String... args) {
        PgCluster c = primary != null && primary.isRunning() ? primary : source;
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--config", conf.toString(), "--stanza", STANZA));
        return ShimProcess.run(work, Map.of("PGHOST", "127.0.0.1", "PGPORT", Integer.toString(c.port()), "PGUSER",
                "postgres", "PGDATA", c.dataDir().toString()), all.toArray(String[]::new));
    }
}
