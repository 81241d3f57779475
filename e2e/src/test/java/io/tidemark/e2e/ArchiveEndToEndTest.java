package io.tidemark.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.testkit.PgCluster;
import io.tidemark.testkit.PgTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
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
 * Issue 3 end to end: a real PostgreSQL 15 cluster whose archive_command is the packaged shim
 * (run by PostgreSQL as the postgres user), a real local cloud with the real indexer, and
 * {@code tidemark info} reading the catalog through the API. Its cluster archives synchronously
 * ({@code archive-push.async=false}: a JVM per segment, the path the product takes without a usable
 * spool); {@code AsyncArchiveEndToEndTest} and every other class archive asynchronously, the default.
 */
@PgTest
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ArchiveEndToEndTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String STANZA = "main";

    private static Path cloudDir;
    private static Path nodeDir;
    private static CloudFixture cloud;
    private static Path conf;
    private static PgCluster pg;

    @BeforeAll
    static void start() throws Exception {
        cloudDir = Files.createTempDirectory("tidemark-e2e-cloud");
        nodeDir = Files.createTempDirectory(Path.of("/tmp"), "tidemark-e2e-node",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        cloud = new CloudFixture(cloudDir).start();
        conf = cloud.nodeConfig(nodeDir, STANZA, "archive-push.async=false\n");
        String push = ShimInstall.get().launcher() + " archive-push --config " + conf + " --stanza " + STANZA + " %p";
        pg = PgCluster.builder()
                .setting("archive_mode", "on")
                .setting("archive_command", push)
                .setting("archive_timeout", "0")
                .setting("max_wal_size", "2GB")
                .build().start();
        ShimProcess.Result created = shim("stanza-create");
        assertEquals(0, created.code(), created.toString());
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

    static ShimProcess.Result shim(String... args) {
        List<String> all = new java.util.ArrayList<>(List.of(args));
        all.addAll(List.of("--config", conf.toString(), "--stanza", STANZA));
        return ShimProcess.run(nodeDir, Map.of("PGHOST", "127.0.0.1", "PGPORT", Integer.toString(pg.port()),
                "PGUSER", "postgres", "PGDATA", pg.dataDir().toString()), all.toArray(String[]::new));
    }

    /**
     * A burst of several segments, one archive-push JVM each (PostgreSQL runs archive_command for
     * one segment at a time, so a longer synchronous burst is the same call more often). The 300 MB
     * burst is {@code AsyncArchiveEndToEndTest#aBurstIsArchivedAheadAndMostCallsAreAnsweredWithoutAJvm},
     * on the default path; here 19 JVMs in a row were most of this class's time.
     */
    @Test
    @Order(1)
    void aBurstIsArchivedSegmentBySegmentIndexedAndContiguous() throws Exception {
        String first = pg.currentWalFile();
        pg.sql("create table burst as select g as id, md5(g::text) as v from generate_series(1, 700000) g");
        pg.sql("select pg_create_restore_point('after-burst')");
        String last = pg.switchWal();
        Waits.archived(pg, last, Duration.ofMinutes(5));
        assertTrue(cloud.awaitQuiescent(Duration.ofMinutes(2)));
        assertEquals(List.of(), cloud.cloud().failedEvents());

        long segments = Waits.segmentNumber(last) - Waits.segmentNumber(first) + 1;
        assertTrue(segments >= 4, "only " + segments + " segments of WAL");
        Set<String> inS3 = cloud.walObjectNames(STANZA);
        for (long s = Waits.segmentNumber(first); s <= Waits.segmentNumber(last); s++) {
            String name = String.format("00000001%08X%08X", s / 256, s % 256);
            assertTrue(inS3.contains(name), name + " is not in S3");
        }

        ShimProcess.Result info = shim("info", "--output", "json");
        assertEquals(0, info.code(), info.toString());
        JsonNode timeline = JSON.readTree(info.out()).get("timelines").get(0);
        assertEquals(1, timeline.get("timeline").asInt());
        assertEquals(1, timeline.get("walRanges").size(), info.out());
        assertEquals(0, timeline.get("gaps").size(), info.out());
        assertEquals(last, timeline.get("walRanges").get(0).get("end").asText());
        assertEquals(last, timeline.get("lastSegment").asText());
        assertTrue(!timeline.get("lastCommitTime").isNull(), info.out());
    }

    @Test
    @Order(2)
    void anS3OutageKeepsTheSegmentsAndNothingIsLost() throws Exception {
        String before = pg.switchWal();
        Waits.archived(pg, before, Duration.ofMinutes(2));
        long failedBefore = Long.parseLong(pg.sql("select failed_count from pg_stat_archiver"));

        cloud.stop();
        pg.sql("create table during_outage as select g as id, md5(g::text) as v from generate_series(1, 600000) g");
        String last = pg.switchWal();
        Waits.until(() -> Long.parseLong(pg.sql("select failed_count from pg_stat_archiver")) > failedBefore,
                Duration.ofMinutes(2), "archive-push never failed while S3 was down");
        try (Stream<Path> ready = Files.list(pg.walDir().resolve("archive_status"))) {
            assertTrue(ready.anyMatch(p -> p.getFileName().toString().endsWith(".ready")),
                    "PostgreSQL must keep the segments it could not archive");
        }

        cloud.start();
        Waits.wakeArchiver(pg);
        Waits.archived(pg, last, Duration.ofMinutes(5));
        assertTrue(cloud.awaitQuiescent(Duration.ofMinutes(2)));
        ShimProcess.Result info = shim("info", "--output", "json");
        assertEquals(0, info.code(), info.toString());
        JsonNode timeline = JSON.readTree(info.out()).get("timelines").get(0);
        assertEquals(1, timeline.get("walRanges").size(), info.out());
        assertEquals(0, timeline.get("gaps").size(), info.out());
        assertEquals(last, timeline.get("lastSegment").asText());
    }

    @Test
    @Order(3)
    void foreignTruncatedAndNonWalFilesAreRefused() throws Exception {
        try (PgCluster other = PgCluster.builder().build().start()) {
            other.sql("create table x as select 1");
            String seg = other.currentWalFile();
            other.switchWal();
            Path foreign = nodeDir.resolve("pg_wal_foreign");
            Files.createDirectories(foreign);
            Path copy = foreign.resolve(seg);
            Files.copy(other.walDir().resolve(seg), copy);
            ShimProcess.Result r = shim("archive-push", copy.toString());
            assertNotEquals(0, r.code(), r.toString());
            assertTrue(r.err().contains("belongs to database system"), r.toString());

            Path truncated = foreign.resolve("00000001000000000000007A");
            Files.write(truncated, java.util.Arrays.copyOf(Files.readAllBytes(copy), 1_000_000));
            ShimProcess.Result t = shim("archive-push", truncated.toString());
            assertNotEquals(0, t.code(), t.toString());
            assertTrue(t.err().toLowerCase().contains("size") || t.err().contains("truncated"), t.toString());

            Path junk = foreign.resolve("00000001000000000000007B");
            Files.write(junk, new byte[16 * 1024 * 1024]);
            ShimProcess.Result j = shim("archive-push", junk.toString());
            assertNotEquals(0, j.code(), j.toString());
            assertTrue(j.err().contains("not a WAL") || j.err().contains("not WAL"), j.toString());
        }
        Set<String> inS3 = cloud.walObjectNames(STANZA);
        assertTrue(!inS3.contains("00000001000000000000007A") && !inS3.contains("00000001000000000000007B"));
    }


    /**
     * A second, different body for a segment already archived (a compromised node or a second
     * cluster): archive-push refuses it with one line naming the key and both checksums, the
     * cloud hears of it (HistoryConflicts), and the archive keeps the first body. Not on Ceph RGW,
     * which ignores If-None-Match on a versioned bucket (docs/testing.md).
     */
    @Test
    @Order(4)
    void aDifferentBodyForAnArchivedSegmentIsRefusedReportedAndKeepsTheFirst() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(System.getProperty(ExternalStorage.PROPERTY, "").isEmpty(),
                "create-only needs S3 that honours If-None-Match");
        pg.sql("create table conflict_probe as select g from generate_series(1, 1000) g");
        String seg = pg.switchWal();
        Waits.archived(pg, seg, Duration.ofMinutes(2));
        byte[] original = Files.readAllBytes(pg.walDir().resolve(seg));
        byte[] forged = original.clone();
        forged[forged.length - 1] ^= 1; // deep inside the segment: archive-push's checks pass
        Path other = nodeDir.resolve("pg_wal_forged");
        Files.createDirectories(other);
        Files.write(other.resolve(seg), forged);

        ShimProcess.Result r = shim("archive-push", other.resolve(seg).toString());
        assertEquals(1, r.code(), r.toString());
        String key = STANZA + "/wal/" + seg.substring(0, 16) + "/" + seg + ".zst";
        assertTrue(r.err().contains(seg + " is already archived with different content; refusing to replace " + key),
                r.toString());
        assertTrue(r.err().contains("the archive's sha256 " + io.tidemark.shim.storage.CreateOnly.sha256(original))
                && r.err().contains("this file's " + io.tidemark.shim.storage.CreateOnly.sha256(forged)), r.toString());
        assertTrue(r.err().contains("; reported to the cloud"), r.toString());
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
        List<io.tidemark.localcloud.LocalMetrics.DataPoint> points = cloud.cloud().metrics().of("Tidemark",
                "HistoryConflicts", Map.of("Stanza", STANZA));
        assertEquals(1, points.size(), cloud.cloud().metrics().all().toString());

        // the archive still holds the first body
        Path fetched = nodeDir.resolve("fetched-" + seg);
        ShimProcess.Result get = shim("archive-get", seg, fetched.toString());
        assertEquals(0, get.code(), get.toString());
        assertTrue(java.util.Arrays.equals(original, Files.readAllBytes(fetched)), "the archived segment was replaced");
    }

    /**
     * {@code tidemark check} on this primary: every step ok, the forced WAL switch archived and
     * indexed; then a stanza registered by another cluster (another system identifier) and an
     * archive_command that is not the shim, each named as the broken step, exit 1.
     */
    @Test
    @Order(5)
    void checkPassesEndToEndAndNamesTheBrokenStep() throws Exception {
        ShimProcess.Result ok = shim("check", "--archive-timeout", "120");
        assertEquals(0, ok.code(), ok.toString());
        for (String step : List.of("postgresql", "api", "stanza", "archive_command", "wal-archived")) {
            assertTrue(ok.out().contains(step + ": ok ("), step + ": " + ok);
        }
        String switched = ok.out().lines().filter(l -> l.startsWith("wal-archived: ok")).findFirst().orElseThrow()
                .replaceAll(".*ok \\(([0-9A-F]{24}) .*", "$1");
        JsonNode timeline = JSON.readTree(shim("info", "--output", "json").out()).get("timelines").get(0);
        assertTrue(timeline.get("lastSegment").asText().compareTo(switched) >= 0, switched + " vs " + timeline);

        // a stanza of another cluster: registered with another system identifier
        var put = cloud.api("PUT", "/stanzas/other", "{\"systemIdentifier\":\"42\",\"pgVersion\":15,"
                + "\"pgVersionNum\":150000,\"walSegmentSize\":16777216}");
        assertTrue(put.statusCode() / 100 == 2, put.body());
        Path otherNode = nodeDir.resolve("other-node");
        Path otherConf = cloud.nodeConfig(otherNode, "other", "");
        ShimProcess.Result other = ShimProcess.run(nodeDir, Map.of("PGHOST", "127.0.0.1", "PGPORT",
                Integer.toString(pg.port()), "PGUSER", "postgres"), "check", "--config", otherConf.toString());
        assertEquals(1, other.code(), other.toString());
        assertTrue(other.out().contains("api: ok"), other.toString());
        assertTrue(other.out().contains("stanza: FAILED: stanza other belongs to another cluster: system identifier 42 in the cloud, "
                + Long.toUnsignedString(pg.systemIdentifier()) + " here"), other.toString());
        assertTrue(other.out().contains("archive_command: FAILED: ") && other.out().contains("archives to stanza 'main', not 'other'"),
                other.toString());
        assertTrue(other.out().contains("wal-archived: skipped"), other.toString());
        assertEquals("tidemark check: FAILED: stanza, archive_command, wal-archived", other.err().strip());

        // archive_command not the shim: named, and no WAL switch is forced into a command that would lose it
        pg.sql("alter system set archive_command = 'cp %p /dev/null'");
        pg.sql("select pg_reload_conf()");
        try {
            Waits.until(() -> pg.sql("show archive_command").equals("cp %p /dev/null"), Duration.ofSeconds(30),
                    "the new archive_command was not loaded");
            // Not pg_walfile_name: right after check's own switch the insert position sits on a
            // segment boundary, which pg_walfile_name names after the previous segment, so any
            // background record (a standby snapshot every 15 s) "changed" the file. A record of
            // our own moves off the boundary; a switch would then move to the next segment.
            pg.sql("create table if not exists check_marker(i int); insert into check_marker values (1)");
            long before = currentSegmentNumber();
            ShimProcess.Result wrong = shim("check");
            assertEquals(1, wrong.code(), wrong.toString());
            assertTrue(wrong.out().contains("stanza: ok"), wrong.toString());
            assertTrue(wrong.out().contains("archive_command: FAILED: archive_command 'cp %p /dev/null' does not run tidemark archive-push"),
                    wrong.toString());
            assertEquals("tidemark check: FAILED: archive_command, wal-archived", wrong.err().strip());
            assertEquals(before, currentSegmentNumber(), "check switched WAL although the command would not archive it");
        } finally {
            pg.sql("alter system reset archive_command");
            pg.sql("select pg_reload_conf()");
        }
    }

    /** The number of the segment the insert position is in (a position on a boundary counts as the next one). */
    private long currentSegmentNumber() {
        return Long.parseLong(pg.sql("select floor(pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0') / "
                + "(select setting::bigint from pg_settings where name = 'wal_segment_size'))::bigint"));
    }
}
