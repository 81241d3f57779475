package io.tidemark.e2e.retain;

import static io.tidemark.e2e.StanzaCli.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.e2e.CloudFixture;
import io.tidemark.e2e.ShimInstall;
import io.tidemark.e2e.ShimProcess;
import io.tidemark.e2e.StanzaCli;
import io.tidemark.e2e.Waits;
import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.events.wal.WalSegmentSize;
import io.tidemark.functions.aws.S3ObjectStore;
import io.tidemark.functions.catalog.ObjectStore;
import io.tidemark.functions.retain.RetentionHandler;
import io.tidemark.functions.runtime.AwsClients;
import io.tidemark.testkit.PgCluster;
import io.tidemark.testkit.PgTest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Retention end to end: a PostgreSQL 15 cluster archiving and backing up through the packaged
 * shim into local-cloud with the real functions; three full backups with rows between them; then
 * the daily schedule's event (count 2) run through the real {@link RetentionHandler}.
 *
 * <p>Data: full 1 (0 rows) | 1-100, time T100 | full 2 | 101-200, time T200 | full 3 | 201-300.
 * The stanza is configured to keep 9 fulls, so the runs the validator starts after each backup
 * keep all three, and the scheduled count-2 run is what removes full 1.
 */
@PgTest
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RetentionE2eTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String STANZA = "main";

    private static Path work;
    private static CloudFixture cloud;
    private static AwsClients aws;
    private static ObjectStore bucket;
    private static Path conf;
    private static PgCluster pg;
    private static StanzaCli cli;
    private static final List<String> fulls = new ArrayList<>();
    private static final List<JsonNode> entries = new ArrayList<>();
    private static String t100;
    private static String t200;
    private static JsonNode runResult;
    private static final List<PgCluster> restored = new ArrayList<>();

    @BeforeAll
    static void setUp() throws Exception {
        work = Files.createTempDirectory(Path.of("/tmp"), "tidemark-retain-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        cloud = new CloudFixture(work.resolve("cloud"),
                // the fulls are seconds old: no minimum age, so the policy alone decides
                Map.of("TIDEMARK_RETENTION_POLICIES", "{\"main\":{\"fullType\":\"count\",\"full\":9}}",
                        "TIDEMARK_RETENTION_MIN_FULL_AGE_HOURS", "0")).start();
        aws = AwsClients.create(cloud.cloud().functionConfig());
        bucket = new S3ObjectStore(aws.s3(), cloud.cloud().bucket());
        conf = cloud.nodeConfig(work.resolve("node"), STANZA, "");
        String push = ShimInstall.get().launcher() + " archive-push --config " + conf + " --stanza " + STANZA + " %p";
        pg = PgCluster.builder().setting("archive_mode", "on").setting("archive_command", push).build().start();
        cli = new StanzaCli(work, conf, STANZA, pg);
        ok(shim("stanza-create"));
        pg.sql("create table t(id int primary key)");
        fullBackup();
        pg.sql("insert into t select generate_series(1, 100)");
        t100 = pg.sql("select clock_timestamp()");
        Thread.sleep(1100);
        fullBackup();
        pg.sql("insert into t select generate_series(101, 200)");
        t200 = pg.sql("select clock_timestamp()");
        Thread.sleep(1100);
        fullBackup();
        pg.sql("insert into t select generate_series(201, 300)");
        String last = pg.switchWal();
        Waits.archived(pg, last, Duration.ofMinutes(2));
        waitUntil(() -> cloud.stanzaDocument(STANZA).path("timelines").get(0).path("lastSegment").asText().compareTo(last) >= 0,
                Duration.ofMinutes(2), "the catalog to index " + last);
        assertTrue(cloud.awaitQuiescent(Duration.ofMinutes(2)), "the runs after each backup to finish");
        for (JsonNode b : cloud.stanzaDocument(STANZA).path("backups")) {
            entries.add(b);
        }
        assertEquals(fulls, entries.stream().map(b -> b.path("label").asText()).toList(), "all three kept so far");
    }

    @AfterAll
    static void tearDown() {
        PgCluster.closeAll(restored);
        if (pg != null) {
            pg.close();
        }
        if (aws != null) {
            aws.close();
        }
        if (cloud != null) {
            cloud.close();
        }
        io.tidemark.testkit.FileTrees.deleteQuietly(work);
    }

    @Test
    @Order(1)
    void theScheduledRunRemovesTheOldestFullAndTheWalOnlyItNeeded() throws Exception {
        long segmentSize = cloud.stanzaDocument(STANZA).path("walSegmentSize").asLong();
        WalSegmentSize size = WalSegmentSize.ofBytes(segmentSize);
        String firstNeeded = segmentOf(entries.get(1).path("startLsn").asText(), size);
        String oldest = segmentOf(entries.get(0).path("startLsn").asText(), size);
        assertTrue(walNames().contains(oldest), "before: " + walNames());
        assertFalse(bucket.list(STANZA + "/backup/" + fulls.get(0) + "/").isEmpty());
        String text = shim("expire", "--dry-run", "--retention-full", "2").out();
        assertTrue(text.contains("backup  " + fulls.get(0)), text);
        JsonNode preview = JSON.readTree(shim("expire", "--dry-run", "--output", "json", "--retention-full", "2").out());
        JsonNode earliestAfter = preview.path("windowAfter").path("earliest");
        assertNotEquals(preview.path("windowBefore").path("earliest"), earliestAfter, preview.toString());

        runResult = invokeRetention("{\"stanza\":\"main\",\"retention\":{\"fullType\":\"count\",\"full\":2,\"diff\":6}}");
        assertEquals(fulls.get(0), runResult.path("deletions").get(0).path("label").asText(), runResult.toString());

        // S3: the full's prefix is empty, WAL starts where full 2 needs it
        assertEquals(List.of(), bucket.list(STANZA + "/backup/" + fulls.get(0) + "/"));
        assertFalse(bucket.list(STANZA + "/backup/" + fulls.get(1) + "/").isEmpty());
        List<String> wal = walNames();
        assertFalse(wal.contains(oldest), wal.toString());
        assertEquals(firstNeeded, wal.getFirst(), wal.toString());
        // the removal events of retention's own deletes have reached the indexer: nothing is lost
        assertTrue(cloud.awaitQuiescent(Duration.ofMinutes(1)), "S3 events still pending");
        // catalog (through tidemark info): two backups, the window and WAL ranges start at full 2
        JsonNode info = cli.info();
        assertEquals(0, info.path("lostObjects").size(), info.toString());
        assertEquals(0, info.path("timelines").get(0).path("gaps").size(), info.toString());
        assertEquals(fulls.subList(1, 3), info.path("backups").findValuesAsText("label"));
        // the earliest point is the one the preview announced, full 2's consistent point
        assertEquals(earliestAfter, info.path("window").path("earliest"), info.path("window").toString());
        assertEquals(Lsn.parse(entries.get(1).path("stopLsn").asText()),
                Lsn.parse(earliestAfter.path("lsn").asText()), earliestAfter.toString());
        assertEquals(firstNeeded, info.path("timelines").get(0).path("walRanges").get(0).path("start").asText());
        String infoText = shim("info").out();
        assertTrue(infoText.contains("recovery window    " + earliestAfter.path("time").asText()), infoText);
    }

    @Test
    @Order(2)
    void afterwardsTheDryRunHasNothingToDo() throws Exception {
        ShimProcess.Result json = shim("expire", "--dry-run", "--output", "json", "--retention-full", "2");
        ok(json);
        assertEquals(0, JSON.readTree(json.out()).path("deletions").size(), json.out());
        ShimProcess.Result text = shim("expire", "--dry-run");
        ok(text);
        assertTrue(text.out().contains("nothing to expire"), text.out());
        ShimProcess.Result refused = shim("expire");
        assertEquals(2, refused.code(), refused.toString());
        assertTrue(refused.err().contains("retention runs in the cloud"), refused.toString());
        // and a second scheduled run removes nothing
        JsonNode again = invokeRetention("{\"stanza\":\"main\",\"retention\":{\"fullType\":\"count\",\"full\":2}}");
        assertEquals(0, again.path("deletions").size(), again.toString());
    }

    @Test
    @Order(3)
    void aPitrInsideTheRemainingWindowRestoresTheRightRows() throws Exception {
        PgCluster c = restore("--target-time", t200);
        assertEquals("200", c.sql("select count(*) from t"));
    }

    @Test
    @Order(4)
    void aTargetBeforeTheNewEarliestPointIsRefused() throws Exception {
        Path dir = work.resolve("target-too-early");
        Files.createDirectories(dir);
        ShimProcess.Result r = shim("restore", "--pgdata", dir.toString(), "--target-time", t100);
        assertNotEquals(0, r.code(), r.toString());
        assertTrue((r.out() + r.err()).toLowerCase().contains("nearest"), r.toString());
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of(), s.toList(), "nothing written");
        }
    }

    // ---------------------------------------------------------------- helpers

    private static JsonNode invokeRetention(String event) throws Exception {
        // as the retention function runs in AWS: its own role, the only one the bucket policy lets delete
        try (RetentionHandler h = new RetentionHandler(cloud.cloud().functionConfigAs("Retention"))) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            h.handleRequest(new ByteArrayInputStream(event.getBytes(StandardCharsets.UTF_8)), out, null);
            return JSON.readTree(out.toByteArray());
        }
    }

    private static String segmentOf(String lsn, WalSegmentSize size) {
        return WalSegmentName.of(TimelineId.FIRST, Lsn.parse(lsn).value() / size.bytes(), size).toString();
    }

    /** The archived segment names of timeline 1, in order (not the .backup history files). */
    private static List<String> walNames() {
        return bucket.list(STANZA + "/wal/00000001").stream()
                .map(o -> o.key().substring(o.key().lastIndexOf('/') + 1))
                .filter(n -> n.matches("[0-9A-F]{24}(\\.[a-z0-9]+)?"))
                .map(n -> n.substring(0, 24)).sorted().toList();
    }

    private static void fullBackup() {
        ShimProcess.Result r = shim("backup", "--type", "full");
        ok(r);
        int before = fulls.size();
        waitUntil(() -> cloud.stanzaDocument(STANZA).path("backups").size() > before
                && cloud.stanzaDocument(STANZA).path("backups").get(before).path("status").asText().equals("valid"),
                Duration.ofMinutes(2), "full backup " + (before + 1) + " to be valid");
        fulls.add(cloud.stanzaDocument(STANZA).path("backups").get(before).path("label").asText());
    }

    private static PgCluster restore(String... args) throws Exception {
        PgCluster c = PgCluster.builder().emptyDataDir().setting("archive_mode", "off")
                .startTimeout(Duration.ofMinutes(3)).build();
        restored.add(c);
        List<String> all = new ArrayList<>(List.of("restore", "--pgdata", c.dataDir().toString()));
        all.addAll(List.of(args));
        ShimProcess.Result r = shim(all.toArray(String[]::new));
        assertEquals(0, r.code(), r.toString());
        assertTrue((r.out() + r.err()).contains(fulls.get(1)), "restores from full 2: " + r);
        try (Stream<Path> s = Files.walk(c.dataDir())) {
            s.forEach(c.runAs()::giveOwnership);
        }
        c.start();
        waitUntil(() -> c.sql("select pg_is_in_recovery()").equals("f"), Duration.ofMinutes(3),
                "recovery of " + String.join(" ", args) + "\n" + c.logContext());
        return c;
    }

    private static ShimProcess.Result shim(String... args) {
        return cli.run(args);
    }

    private static void waitUntil(java.util.function.BooleanSupplier condition, Duration timeout, String what) {
        Waits.until(condition, timeout, "gave up waiting for " + what);
    }
}
