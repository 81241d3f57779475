package io.tidemark.e2e.pgrecovery;

import static io.tidemark.e2e.StanzaCli.ok;
import static io.tidemark.e2e.pgrecovery.RecoveryKit.count;
import static io.tidemark.e2e.pgrecovery.RecoveryKit.timeline;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.e2e.CloudFixture;
import io.tidemark.e2e.ShimProcess;
import io.tidemark.e2e.Waits;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.layout.StorageLayout;
import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.TimelineHistory;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.functions.runtime.AwsClients;
import io.tidemark.testkit.FileTrees;
import io.tidemark.testkit.PgCluster;
import io.tidemark.testkit.PgTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Timelines as PostgreSQL's recovery tests exercise them, through the packaged shim and the real
 * local cloud: one primary, a streaming standby that is promoted, a standby that reads only the
 * archive and has to follow that promotion, and point-in-time restores across the timelines,
 * one of them to a restore point before the followed timeline's branch point.
 *
 * <p>Data: table t. Full backup (0 rows) | 1-100, restore point rp-100 | 101-200 | standbys made |
 * 201-300 | primary stopped, standby promoted (timeline 2) | 301-400 on timeline 2 | 401-410 (not
 * in a finished segment: only a streaming standby has them).
 */
@PgTest
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TimelineRecoveryTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String STANZA = "tl";

    private static Path work;
    private static CloudFixture cloud;
    private static Path conf;
    private static PgCluster primary;
    private static PgCluster promoted;
    private static PgCluster archiveStandby;
    private static String rp100;
    private static final List<PgCluster> clusters = new ArrayList<>();

    @BeforeAll
    static void setUp() throws Exception {
        work = Files.createTempDirectory(Path.of("/tmp"), "tidemark-pgrec-tl-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        cloud = new CloudFixture(work.resolve("cloud")).start();
        conf = cloud.nodeConfig(work.resolve("node"), STANZA, "");
        CloudFixture.stanzaSpoolForPostgres(conf, STANZA); // as on a node: the standbys' prefetcher answers their asks
        primary = track(PgCluster.builder()
                .setting("archive_mode", "on")
                .setting("archive_command", RecoveryKit.archiveCommand(conf, STANZA))
                .build().start());
        ok(shim(primary, "stanza-create"));
        primary.sql("create table t(id int primary key)");
        ok(shim(primary, "backup", "--type", "full"));
        primary.sql("insert into t select generate_series(1, 100)");
        rp100 = primary.sql("select pg_create_restore_point('rp-100')");
        primary.sql("insert into t select generate_series(101, 200)");
    }

    @AfterAll
    static void tearDown() {
        PgCluster.closeAll(clusters);
        if (cloud != null) {
            cloud.close();
        }
        FileTrees.deleteQuietly(work);
    }

    /**
     * PostgreSQL's 004_timeline_switch (a standby follows a promoted standby onto the new timeline)
     * with the archive as the only source, as in 025_stuck_on_old_timeline (the follower learns of
     * the new timeline from the archived history file): the follower reads every segment through
     * archive-get, has replayed the end of timeline 1 when the promotion happens, and the segment
     * holding the switch point is archived only on timeline 2 (timeline 1 has it as .partial).
     * Restartpoints during its archive recovery (020_archive_status): restored segments are
     * marked .done, never .ready (an archive_mode=on standby must not archive them again), and a
     * restartpoint after the switch is on timeline 2. And 025_stuck_on_old_timeline itself: a
     * cascading standby made from the standby before its promotion (pg_wal empty), started after
     * it, streaming from it with the shim as restore_command, reaches timeline 2's newest rows.
     */
    @Test
    @Order(1)
    void anArchiveOnlyStandbyFollowsThePromotionOntoTimeline2() throws Exception {
        promoted = track(RecoveryKit.standbyOf(primary, true, "stream", Map.of(
                "archive_mode", "on",
                "archive_command", RecoveryKit.archiveCommand(conf, STANZA))));
        promoted.start();
        archiveStandby = track(RecoveryKit.standbyOf(primary, false, "none", Map.of(
                "archive_mode", "on",
                "archive_command", RecoveryKit.archiveCommand(conf, STANZA),
                "restore_command", RecoveryKit.restoreCommand(conf, STANZA),
                "recovery_target_timeline", "latest")));
        archiveStandby.start();

        primary.sql("insert into t select generate_series(201, 300)");
        primary.checkpoint(); // a checkpoint record for the standby's restartpoint
        String last1 = primary.switchWal();
        Waits.archived(primary, last1, Duration.ofMinutes(2));
        awaitCount(archiveStandby, 300);
        awaitCount(promoted, 300);

        // a restartpoint during archive recovery
        String redoBefore = archiveStandby.sql("select redo_lsn from pg_control_checkpoint()");
        archiveStandby.checkpoint();
        String redoAfter = archiveStandby.sql("select redo_lsn from pg_control_checkpoint()");
        assertTrue(Lsn.parse(redoAfter).isAfter(Lsn.parse(redoBefore)), "restartpoint moved " + redoBefore + " -> " + redoAfter);
        assertEquals(Set.of(), RecoveryKit.archiveStatus(archiveStandby, ".ready"),
                "restored segments are not archived again by an archive_mode=on standby");
        assertTrue(RecoveryKit.archiveStatus(archiveStandby, ".done").contains(last1)
                        || !Files.exists(archiveStandby.walDir().resolve(last1)),
                "a restored segment still in pg_wal is marked .done");

        // PostgreSQL's 025_stuck_on_old_timeline: a cascading standby made (-X none) from the
        // standby before its promotion, started after it, streaming from it and restoring from
        // the archive; it must find timeline 2 and not stay on timeline 1
        PgCluster cascade = track(RecoveryKit.standbyOf(promoted, true, "none", Map.of(
                "archive_mode", "off",
                "restore_command", RecoveryKit.restoreCommand(conf, STANZA),
                "recovery_target_timeline", "latest")));

        primary.stop();
        assertEquals("t", promoted.sql("select pg_promote(true, 120)"));
        promoted.checkpoint(); // on timeline 2, before the segment the follower reads last
        assertEquals(2, timeline(promoted));
        promoted.sql("insert into t select generate_series(301, 400)");
        String last2 = promoted.switchWal();
        Waits.archived(promoted, last2, Duration.ofMinutes(2));

        awaitCount(archiveStandby, 400);
        cascade.start();
        promoted.sql("insert into t select generate_series(401, 410)");
        awaitCount(cascade, 410);
        cascade.stop();
        archiveStandby.checkpoint();
        assertEquals(2, timeline(archiveStandby), "the restartpoint after the switch is on timeline 2");
        assertEquals(Set.of(), RecoveryKit.archiveStatus(archiveStandby, ".ready"));

        Set<String> archived = cloud.walObjectNames(STANZA);
        assertTrue(archived.contains("00000002"), "00000002.history is archived: " + archived); // names without extension
        assertTrue(archived.contains(last2), last2 + " of timeline 2 is archived");
        assertTrue(archived.contains(last1), last1 + " of timeline 1 is archived");
        archiveStandby.stop();
    }

    /**
     * A point-in-time recovery that follows timeline 2 to a restore point on timeline 1 before
     * timeline 2's branch point. PostgreSQL then writes 00000003.history with switch points that
     * go back (1 at the branch, 2 at the restore point) and accepts it; archive-push must archive
     * it, or archiving of timeline 3 stops for good and the next restore reuses timeline 3.
     * Restoring again from timeline 3 (PITR across timelines: a backup of timeline 1, then
     * timeline 3's WAL) reads timeline 1 up to the restore point and then timeline 3, and promotes
     * onto timeline 4.
     */
    @Test
    @Order(2)
    void aRestoreToAPointBeforeTheBranchWritesAHistoryGoingBackWhichIsArchivedAndRestoredFrom() throws Exception {
        // S3 events are asynchronous (on AWS and RGW; S3Proxy's arrive at once): the planner needs
        // 00000002.history indexed
        awaitWindowOn(2);
        PgCluster r3 = restore(true, "--target-timeline", "2", "--target-name", "rp-100");
        assertEquals(100, count(r3, "t"));
        assertEquals(3, timeline(r3));
        TimelineHistory h3 = TimelineHistory.parse(TimelineId.of(3),
                Files.readAllBytes(r3.walDir().resolve("00000003.history")));
        assertEquals(2, h3.entries().size(), h3.format());
        assertTrue(h3.entries().get(1).switchPoint().isBefore(h3.entries().get(0).switchPoint()),
                "PostgreSQL wrote switch points that go back: " + h3.format());
        assertTrue(!h3.owns(TimelineId.of(2)), "timeline 2 owns nothing on timeline 3's history");
        assertTrue(Lsn.parse(rp100).compareTo(h3.entries().get(1).switchPoint()) <= 0, rp100 + " " + h3.format());

        r3.sql("insert into t select generate_series(1001, 1010)");
        String seg3 = r3.switchWal();
        Waits.archived(r3, seg3, Duration.ofMinutes(2));
        assertEquals("0", r3.sql("select failed_count from pg_stat_archiver"), r3.logContext());
        try (AwsClients aws = AwsClients.create(cloud.cloud().functionConfig())) {
            byte[] archived = aws.s3().getObjectAsBytes(b -> b.bucket(cloud.cloud().bucket())
                    .key(StorageLayout.historyKey(StanzaName.of(STANZA), TimelineId.of(3)))).asByteArray();
            assertArrayEquals(Files.readAllBytes(r3.walDir().resolve("00000003.history")), archived,
                    "00000003.history is archived as PostgreSQL wrote it");
        }
        r3.stop();

        awaitWindowOn(3);
        JsonNode t3 = timelineInfo(3);
        assertEquals(2, t3.path("parent").asInt(), t3.toString());
        PgCluster r4 = restore(true, "--target-timeline", "latest");
        assertEquals(110, count(r4, "t"));
        assertEquals(0, Integer.parseInt(r4.sql("select count(*) from t where id between 101 and 1000")),
                "nothing of timeline 1 after the restore point, nothing of timeline 2");
        assertEquals(4, timeline(r4), "a new timeline id, not 3 again");
        Waits.until(() -> cloud.walObjectNames(STANZA).contains("00000004"), Duration.ofMinutes(1),
                "00000004.history was not archived\n" + r4.logContext());
        r4.close();
    }

    // ---------------------------------------------------------------- helpers

    private static PgCluster track(PgCluster c) {
        clusters.add(c);
        return c;
    }

    private static PgCluster restore(boolean archive, String... args) throws Exception {
        PgCluster c = PgCluster.builder().emptyDataDir()
                .setting("archive_mode", archive ? "on" : "off")
                .startTimeout(Duration.ofMinutes(3))
                .build();
        track(c);
        List<String> all = new ArrayList<>(List.of("restore", "--pgdata", c.dataDir().toString()));
        if (archive) {
            all.add("--keep-config-commands"); // the restored cluster archives with the source's archive_command
        }
        all.addAll(List.of(args));
        ShimProcess.Result r = shim(primary, all.toArray(String[]::new));
        assertEquals(0, r.code(), r.toString());
        try (Stream<Path> s = Files.walk(c.dataDir())) {
            s.forEach(c.runAs()::giveOwnership);
        }
        c.start();
        Waits.until(() -> c.sql("select pg_is_in_recovery()").equals("f"), Duration.ofMinutes(3),
                "recovery of " + String.join(" ", args) + "\n" + c.logContext());
        return c;
    }

    private static void awaitCount(PgCluster c, int n) {
        Waits.until(() -> count(c, "t") == n, Duration.ofMinutes(2),
                "expected " + n + " rows on " + c + "\n" + c.logContext());
    }

    /** Until the window of timeline {@code tli} reaches its last archived segment. */
    private static void awaitWindowOn(int tli) throws Exception {
        assertTrue(cloud.awaitQuiescent(Duration.ofMinutes(2)));
        Waits.until(() -> {
            JsonNode t = timelineInfo(tli);
            return t != null && !t.path("lastSegment").isMissingNode();
        }, Duration.ofMinutes(1), "timeline " + tli + " in the catalog");
    }

    private static JsonNode timelineInfo(int tli) {
        ShimProcess.Result r = shim(primary, "info", "--output", "json");
        ok(r);
        try {
            for (JsonNode t : JSON.readTree(r.out()).path("timelines")) {
                if (t.path("timeline").asInt() == tli) {
                    return t;
                }
            }
            return null;
        } catch (Exception e) {
            throw new AssertionError("info is not JSON: " + r.out(), e);
        }
    }

    private static ShimProcess.Result shim(PgCluster pg, String... args) {
        return RecoveryKit.shim(work, conf, STANZA, pg, args);
    }
}
