package io.tidemark.functions.retain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.layout.StorageLayout;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.functions.CloudFixture;
import io.tidemark.functions.aws.DynamoDbCatalogStore;
import io.tidemark.functions.aws.S3ObjectStore;
import io.tidemark.functions.catalog.Item;
import io.tidemark.functions.catalog.Keys;
import io.tidemark.functions.index.TestWal;
import io.tidemark.localcloud.LocalCloud;
import io.tidemark.localcloud.LocalCloudFunctions;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Retention on the real local cloud: WAL indexed and backups validated by the real functions on
 * real S3 events, then the real {@link RetentionHandler} invoked with the daily schedule's event
 * JSON, against S3Proxy and DynamoDB Local; and the in-process run after a valid backup.
 *
 * <p>Each stanza: timeline 1, segments 1..30 (segment s commits at T0+s s), three fulls
 * (segments 2..3, 10..11, 20..21, consistent at T0+3, T0+11, T0+21 s). Stanza {@code sched} is
 * configured to keep 9 fulls (so the runs after its backups keep them all) and the test runs the
 * schedule's count-2 event itself; stanza {@code auto} has no configured policy (default count 2),
 * so the run after its third backup removes the first.
 */
@Tag("localcloud")
class RetentionLocalCloudTest {

    @TempDir
    static Path dir;
    static CloudFixture f;
    static S3ObjectStore bucket;
    static DynamoDbCatalogStore catalog;
    static final int SIZE = TestWal.SIZE.bytes();
    static final String COUNT_TWO = "{\"fullType\":\"count\",\"full\":2,\"diff\":6}";

    static Instant at(double s) {
        return ThreeFulls.at(s);
    }

    @BeforeAll
    static void start() {
        f = new CloudFixture(dir, LocalCloudFunctions.register(LocalCloud.builder())
                .functionSetting(StanzaPolicies.SETTING, "{\"sched\":{\"fullType\":\"count\",\"full\":9,\"diff\":6}}")
                // these backups are seconds old: no minimum age, so the policy alone decides
                .functionSetting(RetentionHandler.MIN_FULL_AGE_HOURS, "0"));
        bucket = new S3ObjectStore(f.aws.s3(), f.cloud.bucket());
        catalog = new DynamoDbCatalogStore(f.aws.dynamoDb(), f.cloud.table());
    }

    @AfterAll
    static void stop() {
        if (f != null) {
            f.close();
        }
    }

    /** The stanza, its WAL 1..30 and three fulls ({@link ThreeFulls}), each validated; the fulls' labels. */
    static List<BackupLabelName> stanzaWithThreeFulls(String name) throws Exception {
        StanzaName stanza = StanzaName.of(name);
        assertEquals(200, f.call("PUT", "/stanzas/" + name, CloudFixture.stanzaBody(TestWal.SYSTEM_ID_TEXT, SIZE))
                .status());
        // quiesce also waits for the retention runs the validator starts
        List<BackupLabelName> labels = ThreeFulls.upload(bucket, stanza, () -> {
            try {
                f.quiesce();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        });
        for (BackupLabelName label : labels.subList(1, 3)) { // the first may be gone already (stanza auto)
            assertEquals("valid", catalog.get(Keys.pk(stanza), Keys.backup(label)).map(i -> i.string("status")
                    .orElse("?")).orElse("gone"), label.toString());
        }
        return labels;
    }

    static JsonNode invoke(String event) throws Exception {
        // its metrics into the cloud's collector, as local-cloud's scheduled retention function
        try (RetentionHandler h = new RetentionHandler(f.cloud.functionConfig(),
                f.cloud.metrics().publisher(LocalCloudFunctions.RETENTION))) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            h.handleRequest(new ByteArrayInputStream(event.getBytes(StandardCharsets.UTF_8)), out, null);
            return CloudFixture.MAPPER.readTree(out.toByteArray());
        }
    }

    static List<String> keys(String prefix) {
        return bucket.list(prefix).stream().map(o -> o.key()).toList();
    }

    static List<Item> items(String stanza) {
        return catalog.query(Keys.pk(StanzaName.of(stanza)), "");
    }

    static int planStatus(String stanza, Instant target) throws Exception {
        return f.call("POST", "/stanzas/" + stanza + "/restore-plans",
                "{\"target\":{\"type\":\"time\",\"value\":\"" + target + "\"}}").status();
    }

    @Test
    void theScheduleEventRemovesObjectsAndItemsTogetherMovesTheWindowAndARerunIsANoOp() throws Exception {
        List<BackupLabelName> fulls = stanzaWithThreeFulls("sched");
        StanzaName stanza = StanzaName.of("sched");
        String pk = Keys.pk(stanza);
        String firstPrefix = StorageLayout.backupPrefix(stanza, fulls.get(0));
        String walPrefix = StorageLayout.timelineWalPrefix(stanza, TimelineId.FIRST);
        // The runs after each backup kept all three fulls (configured: 9); they removed segment 1,
        // which no backup needs.
        assertFalse(keys(firstPrefix).isEmpty());
        assertEquals(29, keys(walPrefix).size());
        assertEquals(201, planStatus("sched", at(5.5)));

        // a dry run: the plan, and nothing deleted
        List<String> objectsBefore = keys("sched/");
        List<Item> itemsBefore = items("sched");
        JsonNode dry = invoke("{\"stanza\":\"sched\",\"retention\":" + COUNT_TWO + ",\"dryRun\":true}");
        assertTrue(dry.path("dryRun").asBoolean(), dry.toString());
        assertEquals("backup", dry.path("deletions").get(0).path("kind").asText());
        assertEquals(fulls.get(0).toString(), dry.path("deletions").get(0).path("label").asText());
        assertEquals("wal", dry.path("deletions").get(1).path("kind").asText());
        assertEquals("000000010000000000000009", dry.path("deletions").get(1).path("through").asText());
        assertEquals(8, dry.path("deletions").get(1).path("segments").asLong(), dry.toString());
        assertEquals(objectsBefore, keys("sched/"));
        assertEquals(itemsBefore.size(), items("sched").size());

        // the daily schedule's event
        JsonNode run = invoke("{\"stanza\":\"sched\",\"retention\":" + COUNT_TWO + "}");
        assertFalse(run.path("dryRun").asBoolean(), run.toString());
        assertTrue(run.path("objectsDeleted").asLong() > 8, run.toString());
        assertEquals(List.of(), keys(firstPrefix));
        assertTrue(catalog.get(pk, Keys.backup(fulls.get(0))).isEmpty());
        assertFalse(keys(StorageLayout.backupPrefix(stanza, fulls.get(1))).isEmpty());
        assertTrue(catalog.get(pk, Keys.backup(fulls.get(1))).isPresent());
        // WAL 1..9 gone from the bucket and the catalog (WAL# and its commit-time lookups)
        assertEquals(21, keys(walPrefix).size());
        for (long seg = 1; seg <= 30; seg++) {
            String name = WalSegmentName.of(TimelineId.FIRST, seg, TestWal.SIZE).toString();
            assertEquals(seg >= 10, keys(walPrefix).stream().anyMatch(k -> k.contains(name)), name);
        }
        assertEquals(21, catalog.query(pk, Keys.walPrefix(TimelineId.FIRST)).size());
        assertEquals(21, catalog.query(pk, Keys.commitTimePrefix(TimelineId.FIRST)).size());
        assertEquals(21, catalog.query(pk, Keys.xidMaxPrefix(TimelineId.FIRST)).size());

        // the removal events of retention's own deletes reach the indexer: no loss, no gap
        f.quiesce();
        // the window and the timeline ranges the API shows start at the second full
        JsonNode doc = f.call("GET", "/stanzas/sched", null).json();
        assertEquals(0, doc.path("lostObjects").size(), doc.toString());
        assertEquals(0, doc.path("timelines").get(0).path("lostWal").size(), doc.toString());
        assertEquals(0, doc.path("timelines").get(0).path("gaps").size(), doc.toString());
        assertEquals(0, doc.path("window").path("gaps").size(), doc.toString());
        assertEquals(at(11).toString(), doc.path("window").path("earliest").path("time").asText(), doc.toString());
        assertEquals("00000001000000000000000A",
                doc.path("timelines").get(0).path("walRanges").get(0).path("start").asText(), doc.toString());
        assertEquals(2, doc.path("backups").size());
        // what the run did, for tidemark info; and its BackupsExpired in the cloud's metrics
        assertEquals(1, doc.path("retention").path("backupsExpired").asLong(), doc.toString());
        assertEquals(0, doc.path("retention").path("heldBack").size(), doc.toString());
        assertTrue(f.cloud.metrics().of("Tidemark", "BackupsExpired", java.util.Map.of("Stanza", "sched")).stream()
                .anyMatch(p -> p.value() == 1), f.cloud.metrics().all().toString());
        // the planner refuses what went and still plans inside the window
        assertEquals(422, planStatus("sched", at(5.5)));
        assertEquals(201, planStatus("sched", at(15.5)));

        // a re-run removes nothing
        List<String> objectsAfter = keys("sched/");
        int itemsAfter = items("sched").size();
        JsonNode again = invoke("{\"stanza\":\"sched\",\"retention\":" + COUNT_TWO + "}");
        assertEquals(0, again.path("deletions").size(), again.toString());
        assertEquals(0, again.path("objectsDeleted").asLong());
        assertEquals(objectsAfter, keys("sched/"));
        assertEquals(itemsAfter, items("sched").size());
    }

    @Test
    void aValidBackupStartsRetentionWithTheStanzasPolicy() throws Exception {
        List<BackupLabelName> fulls = stanzaWithThreeFulls("auto");
        StanzaName stanza = StanzaName.of("auto");
        // No event was sent by the test: the validator's trigger ran the real handler (default
        // count 2) after the third backup, and awaitQuiescent waited for it.
        assertEquals(List.of(), keys(StorageLayout.backupPrefix(stanza, fulls.get(0))));
        assertTrue(catalog.get(Keys.pk(stanza), Keys.backup(fulls.get(0))).isEmpty());
        assertTrue(catalog.get(Keys.pk(stanza), Keys.backup(fulls.get(1))).isPresent());
        assertEquals(21, keys(StorageLayout.timelineWalPrefix(stanza, TimelineId.FIRST)).size());
        assertEquals(at(11).toString(), f.call("GET", "/stanzas/auto", null).json().path("window").path("earliest")
                .path("time").asText());
    }

    /**
     * Issue 14's attack through the real functions on real S3 events: a node uploads two fulls
     * labelled in 2031 with almost no files, on archived WAL near the end; then the daily
     * schedule's event. Before, the fakes were valid, their validation started retention at once,
     * and count 2 kept them and removed every real full and the WAL below segment 27.
     */
    @Test
    void fakeFullsLabelledInTheFutureAreRefusedAndTheScheduleRunRemovesOnlyWhatThePolicySays() throws Exception {
        List<BackupLabelName> fulls = stanzaWithThreeFulls("attack");
        StanzaName stanza = StanzaName.of("attack");
        for (int i = 0; i < 2; i++) {
            java.time.LocalDateTime labelled = java.time.LocalDateTime.of(2031, 1, 1 + i, 0, 0);
            java.util.Map<String, byte[]> almostNothing = new java.util.TreeMap<>();
            almostNothing.put("PG_VERSION", "15\n".getBytes(StandardCharsets.UTF_8));
            io.tidemark.functions.validate.TestBackup.build(stanza, BackupLabelName.full(labelled), null, almostNothing,
                    io.tidemark.events.wal.Lsn.of((27L + i) * SIZE + 0x28),
                    io.tidemark.events.wal.Lsn.of((28L + i) * SIZE + 0x100), TimelineId.FIRST,
                    labelled.toInstant(java.time.ZoneOffset.UTC).plusSeconds(30)).upload(bucket);
            f.quiesce();
        }
        JsonNode doc = f.call("GET", "/stanzas/attack", null).json();
        int refused = 0;
        for (JsonNode b : doc.path("backups")) {
            if (b.path("label").asText().startsWith("2031")) {
                assertEquals("invalid", b.path("status").asText(), b.toString());
                assertTrue(b.path("reasons").toString().contains("refused: the backup stops at"), b.toString());
                refused++;
            }
        }
        assertEquals(2, refused, doc.toString());
        // one data point per refusal (an S3 event delivered twice would refuse, and count, twice)
        assertTrue(f.cloud.metrics().of("Tidemark", "ManifestsRefused", java.util.Map.of("Stanza", "attack"))
                .size() >= 2, f.cloud.metrics().all().toString());

        JsonNode run = invoke("{\"stanza\":\"attack\",\"retention\":" + COUNT_TWO + "}");
        // the run after the third real backup already removed the first (count 2); nothing else goes
        for (BackupLabelName real : fulls.subList(1, 3)) {
            assertTrue(catalog.get(Keys.pk(stanza), Keys.backup(real)).isPresent(), real + ": " + run);
            assertFalse(keys(StorageLayout.backupPrefix(stanza, real)).isEmpty(), real + ": " + run);
        }
        assertEquals(21, keys(StorageLayout.timelineWalPrefix(stanza, TimelineId.FIRST)).size(), run.toString());
        assertEquals(at(11).toString(), f.call("GET", "/stanzas/attack", null).json().path("window").path("earliest")
                .path("time").asText());
    }

    @Test
    void badEventsFailWithAMessageAndDeleteNothing() throws Exception {
        for (String[] c : new String[][]{
                {"{}", "stanza: missing"},
                {"{\"stanza\":\"sched\",\"retention\":{\"full\":0}}", "retention.full: must be between 1 and 9999"},
                {"{\"stanza\":\"sched\",\"keep\":3}", "keep: unknown field"},
                {"{\"stanza\":\"nosuch\"}", "nosuch"}}) {
            Exception e = org.junit.jupiter.api.Assertions.assertThrows(Exception.class, () -> invoke(c[0]));
            assertTrue(e.getMessage().contains(c[1]), c[0] + ": " + e.getMessage());
        }
    }

    @Test
    void theExpireRouteOnlyPreviews() throws Exception {
        assertEquals(200, f.call("PUT", "/stanzas/preview", CloudFixture.stanzaBody(TestWal.SYSTEM_ID_TEXT, SIZE))
                .status());
        CloudFixture.Answer dry = f.call("POST", "/stanzas/preview/expire", "{\"dryRun\":true,\"retention\":"
                + COUNT_TWO + "}");
        assertEquals(200, dry.status(), String.valueOf(dry.json()));
        assertEquals(0, dry.json().path("deletions").size());
        CloudFixture.Answer refused = f.call("POST", "/stanzas/preview/expire", "{}");
        assertEquals(400, refused.status());
        assertTrue(refused.json().path("message").asText().contains("Nodes may not delete"), refused.json().toString());
        // nor confirm: a confirmation from the API nodes call would confirm nothing
        assertEquals(400, f.call("POST", "/stanzas/preview/expire", "{\"confirm\":true}").status());
        CloudFixture.Answer preview = f.call("POST", "/stanzas/preview/expire", "{\"dryRun\":true,\"confirm\":true}");
        assertEquals(200, preview.status(), String.valueOf(preview.json()));
        assertTrue(preview.json().path("dryRun").asBoolean());
        assertEquals(404, f.call("POST", "/stanzas/nosuch/expire", "{\"dryRun\":true}").status());
        assertEquals(400, f.call("POST", "/stanzas/preview/expire", "{\"dryRun\":\"yes\"}").status());
    }
}
