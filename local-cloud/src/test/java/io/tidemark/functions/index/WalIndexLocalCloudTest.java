package io.tidemark.functions.index;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.layout.StorageLayout;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.functions.CloudFixture;
import io.tidemark.functions.aws.DynamoDbCatalogStore;
import io.tidemark.functions.catalog.Item;
import io.tidemark.functions.catalog.Keys;
import io.tidemark.functions.runtime.FunctionConfig;
import io.tidemark.functions.runtime.S3EventNotification;
import io.tidemark.localcloud.FailedEvent;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;

/**
 * WAL uploaded to the local cloud's S3 the way the shim does it (zstd, sha256 metadata, keys
 * from StorageLayout) is indexed by the real handler through real S3 events; the catalog shows
 * through the real API. The replay test feeds the recorded events to fresh tables in other
 * orders, repeated and concurrently, and expects the very same items.
 */
@Tag("localcloud")
class WalIndexLocalCloudTest {

    @TempDir
    static Path dir;
    static CloudFixture f;

    @BeforeAll
    static void start() {
        f = new CloudFixture(dir);
    }

    @AfterAll
    static void stop() {
        if (f != null) {
            f.close();
        }
    }

    private static void createStanza(String stanza) throws Exception {
        f.createStanza(stanza);
    }

    private static String upload(String stanza, TestWal wal, int i) {
        return f.uploadWal(stanza, wal, i);
    }

    private static JsonNode stanza(String name) throws Exception {
        CloudFixture.Answer a = f.call("GET", "/stanzas/" + name, null);
        assertEquals(200, a.status(), String.valueOf(a.json()));
        return a.json();
    }

    private static DynamoDbCatalogStore store(String table) {
        return new DynamoDbCatalogStore(f.aws.dynamoDb(), table);
    }

    private static String range(JsonNode r) {
        return r.get("start").asText() + ".." + r.get("end").asText();
    }

    @Test
    void segmentsShowAsRangesAndAHoleAsAGap() throws Exception {
        createStanza("ranges");
        TestWal wal = new TestWal(5, Set.of(1));
        for (int i : new int[] {0, 1, 2, 4}) {
            upload("ranges", wal, i);
        }
        f.quiesce();
        JsonNode t = stanza("ranges").get("timelines").get(0);
        assertEquals(1, t.get("timeline").asInt());
        assertEquals(2, t.get("walRanges").size());
        assertEquals(wal.names.get(0) + ".." + wal.names.get(2), range(t.get("walRanges").get(0)));
        assertEquals(wal.names.get(4) + ".." + wal.names.get(4), range(t.get("walRanges").get(1)));
        assertEquals(1, t.get("gaps").size());
        assertEquals(wal.names.get(3) + ".." + wal.names.get(3), range(t.get("gaps").get(0)));
        assertEquals(4, t.get("segments").asInt());
        assertEquals(wal.names.get(4), t.get("lastSegment").asText());
        Instant lastCommit = Instant.ofEpochSecond((TestWal.T0 + 4_000_000L) / 1_000_000);
        assertEquals(lastCommit.toString(), t.get("lastCommitTime").asText());
        assertTrue(t.get("lastArchivedAt").isTextual());
        assertTrue(t.get("endLsn").asText().matches("[0-9A-F]+/[0-9A-F]+"));

        // The record from segment 1 into 2 is counted once, in segment 1.
        DynamoDbCatalogStore catalog = store(f.cloud.table());
        String pk = Keys.pk(StanzaName.of("ranges"));
        for (int i : new int[] {0, 1, 2, 4}) {
            Item item = catalog.get(pk, Keys.wal(wal.name(i))).orElseThrow();
            assertEquals(wal.recordsIn(i), item.number("records").orElseThrow(), "segment " + i);
            assertFalse(item.flag("pendingTail"));
        }
        assertTrue(f.cloud.failedEvents().isEmpty(), String.valueOf(f.cloud.failedEvents()));
    }

    @Test
    void aCorruptObjectIsNotArchived() throws Exception {
        createStanza("corrupt");
        TestWal wal = new TestWal(3, Set.of());
        upload("corrupt", wal, 0);
        String bad = wal.key(StanzaName.of("corrupt"), 1, Compression.ZSTD);
        f.put(bad, TestWal.compress(Compression.ZSTD, wal.segments.get(1)), Map.of("sha256", "0".repeat(64)));
        upload("corrupt", wal, 2);
        f.quiesce();
        JsonNode t = stanza("corrupt").get("timelines").get(0);
        assertEquals(2, t.get("segments").asInt());
        assertEquals(1, t.get("gaps").size());
        assertEquals(wal.names.get(1) + ".." + wal.names.get(1), range(t.get("gaps").get(0)));
        Item item = store(f.cloud.table()).get(Keys.pk(StanzaName.of("corrupt")), Keys.wal(wal.name(1))).orElseThrow();
        assertEquals("corrupt", item.string("status").orElseThrow());
    }

    @Test
    void aHistoryFileStartsTimelineTwo() throws Exception {
        createStanza("tl");
        TestWal wal = new TestWal(1, Set.of());
        upload("tl", wal, 0);
        byte[] history = "1\t0/5100000\tno recovery target specified\n".getBytes(StandardCharsets.UTF_8);
        f.put(StorageLayout.historyKey(StanzaName.of("tl"), TimelineId.of(2)), history,
                Map.of("sha256", TestWal.sha256(history)));
        f.quiesce();
        JsonNode s = stanza("tl");
        assertEquals(2, s.get("timelines").size());
        JsonNode t2 = s.get("timelines").get(1);
        assertEquals(2, t2.get("timeline").asInt());
        assertEquals(1, t2.get("parent").asInt());
        assertEquals("0/5100000", t2.get("switchPoint").asText());
        assertEquals("[2]", s.get("histories").toString());
        assertTrue(s.get("timelines").get(0).get("parent").isNull());
    }

    @Test
    void walOfAnUnknownStanzaFailsLoudly() throws Exception {
        TestWal wal = new TestWal(1, Set.of());
        String key = upload("ghost", wal, 0);
        f.quiesce();
        List<FailedEvent> failed = f.cloud.failedEvents().stream().filter(e -> e.key().equals(key)).toList();
        assertEquals(1, failed.size(), String.valueOf(f.cloud.failedEvents()));
        assertEquals("wal-indexer", failed.get(0).function());
        assertEquals(3, failed.get(0).attempts());
        assertTrue(failed.get(0).lastError().getMessage().contains("no stanza 'ghost'"));
    }

    @Test
    void replayingTheEventsInAnyOrderGivesTheSameCatalog() throws Exception {
        createStanza("replay");
        StanzaName stanza = StanzaName.of("replay");
        // Records cross 0/1, 2/3 and 3/4; segment 4 is missing, so 3 keeps waiting for it.
        TestWal wal = new TestWal(6, Set.of(0, 2, 3));
        for (int i : new int[] {0, 1, 2, 3, 5}) {
            upload("replay", wal, i);
        }
        byte[] history = "1\t0/5800000\tno recovery target specified\n".getBytes(StandardCharsets.UTF_8);
        f.put(StorageLayout.historyKey(stanza, TimelineId.of(2)), history, Map.of("sha256", TestWal.sha256(history)));
        f.quiesce();

        String pk = Keys.pk(stanza);
        List<Item> live = store(f.cloud.table()).query(pk, "");
        for (int i : new int[] {0, 1, 2, 5}) {
            Item item = find(live, Keys.wal(wal.name(i)));
            assertEquals(wal.recordsIn(i), item.number("records").orElseThrow(), "segment " + i);
        }
        Item pending = find(live, Keys.wal(wal.name(3)));
        assertTrue(pending.flag("pendingTail"));
        assertEquals(wal.recordsIn(3) - 1, pending.number("records").orElseThrow());

        List<byte[]> events = new ArrayList<>();
        for (byte[] e : f.events) {
            String key = S3EventNotification.parse(e).records().get(0).key();
            if (key.startsWith("replay/wal/")) {
                events.add(e);
            }
        }
        assertEquals(6, events.size());
        assertEquals(6, events.stream().map(e -> S3EventNotification.parse(e).records().get(0).key()).distinct().count());

        DynamoDbClient dynamo = f.aws.dynamoDb();
        for (long seed = 1; seed <= 3; seed++) {
            String table = "replay-" + seed;
            dynamo.createTable(r -> r.tableName(table)
                    .billingMode(BillingMode.PAY_PER_REQUEST)
                    .attributeDefinitions(
                            AttributeDefinition.builder().attributeName("PK").attributeType(ScalarAttributeType.S).build(),
                            AttributeDefinition.builder().attributeName("SK").attributeType(ScalarAttributeType.S).build())
                    .keySchema(
                            KeySchemaElement.builder().attributeName("PK").keyType(KeyType.HASH).build(),
                            KeySchemaElement.builder().attributeName("SK").keyType(KeyType.RANGE).build()));
            DynamoDbCatalogStore fresh = store(table);
            Item meta = find(live, Keys.META);
            assertTrue(fresh.put(meta, null));

            Random random = new Random(seed);
            List<byte[]> replay = new ArrayList<>(events);
            for (byte[] e : events) {
                if (random.nextBoolean()) {
                    replay.add(e); // at-least-once delivery
                }
            }
            Collections.shuffle(replay, random);
            Map<String, String> env = new HashMap<>(f.cloud.functionConfig().toEnvironment());
            env.put(FunctionConfig.TABLE, table);
            try (WalIndexHandler handler = new WalIndexHandler(FunctionConfig.of(env))) {
                if (seed == 3) {
                    ExecutorService pool = Executors.newFixedThreadPool(3);
                    try {
                        List<Future<?>> done = new ArrayList<>();
                        for (byte[] e : replay) {
                            done.add(pool.submit(() -> {
                                invoke(handler, e);
                                return null;
                            }));
                        }
                        for (Future<?> d : done) {
                            d.get();
                        }
                    } finally {
                        pool.shutdownNow();
                    }
                } else {
                    for (byte[] e : replay) {
                        invoke(handler, e);
                    }
                }
            }
            assertEquals(live, fresh.query(pk, ""), "seed " + seed);
        }
    }

    /**
     * The real handlers on a real S3 event of a real, intact segment, whose size is rewritten to
     * 1.5 GB: the indexer marks the segment corrupt and the validator (the same event under a
     * manifest key) the backup invalid, both without reading the object: had either read it, the
     * segment would be archived and the manifest an unparsable "{}"-less body.
     */
    @Test
    void anEventNamingAHugeObjectIsRefusedWithoutReadingIt() throws Exception {
        createStanza("huge");
        TestWal wal = new TestWal(1, Set.of());
        String key = upload("huge", wal, 0);
        f.quiesce();
        byte[] recorded = f.events.stream().filter(e -> S3EventNotification.parse(e).records().get(0).key().equals(key))
                .findFirst().orElseThrow();
        long realSize = S3EventNotification.parse(recorded).records().get(0).size();
        String json = new String(recorded, StandardCharsets.UTF_8);
        assertTrue(json.contains("\"size\":" + realSize), json);
        String huge = json.replace("\"size\":" + realSize, "\"size\":1610612736");

        String table = "huge-" + System.nanoTime();
        DynamoDbCatalogStore fresh = freshTable(table);
        String pk = Keys.pk(StanzaName.of("huge"));
        assertTrue(fresh.put(store(f.cloud.table()).get(pk, Keys.META).orElseThrow(), null));
        Map<String, String> env = new HashMap<>(f.cloud.functionConfig().toEnvironment());
        env.put(FunctionConfig.TABLE, table);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (WalIndexHandler handler = new WalIndexHandler(FunctionConfig.of(env))) {
            handler.handleRequest(new ByteArrayInputStream(huge.getBytes(StandardCharsets.UTF_8)), out, null);
        }
        assertEquals("{\"OVERSIZED\":1}", out.toString(StandardCharsets.UTF_8));
        Item item = fresh.get(pk, Keys.wal(wal.name(0))).orElseThrow();
        assertEquals("corrupt", item.string("status").orElseThrow());
        assertTrue(item.string("problem").orElseThrow().contains("refused without reading it"), item.toString());
        // the live catalog, fed the true size, archived the very same object
        assertEquals("archived", store(f.cloud.table()).get(pk, Keys.wal(wal.name(0))).orElseThrow()
                .string("status").orElseThrow());

        String manifest = "huge/backup/20260301-020000F/manifest.json";
        ByteArrayOutputStream answer = new ByteArrayOutputStream();
        try (io.tidemark.functions.validate.ManifestValidateHandler validator =
                new io.tidemark.functions.validate.ManifestValidateHandler(FunctionConfig.of(env))) {
            validator.handleRequest(new ByteArrayInputStream(huge.replace(key, manifest)
                    .getBytes(StandardCharsets.UTF_8)), answer, null);
        }
        // the manifest is not even in the bucket: a GET would have answered MISSING
        assertEquals("{\"OVERSIZED\":1}", answer.toString(StandardCharsets.UTF_8));
        Item backup = fresh.get(pk, Keys.backup(io.tidemark.events.layout.BackupLabelName.parse("20260301-020000F"))).orElseThrow();
        assertEquals("invalid", backup.string("status").orElseThrow(), backup.toString());
    }

    private static DynamoDbCatalogStore freshTable(String table) {
        f.aws.dynamoDb().createTable(r -> r.tableName(table)
                .billingMode(BillingMode.PAY_PER_REQUEST)
                .attributeDefinitions(
                        AttributeDefinition.builder().attributeName("PK").attributeType(ScalarAttributeType.S).build(),
                        AttributeDefinition.builder().attributeName("SK").attributeType(ScalarAttributeType.S).build())
                .keySchema(
                        KeySchemaElement.builder().attributeName("PK").keyType(KeyType.HASH).build(),
                        KeySchemaElement.builder().attributeName("SK").keyType(KeyType.RANGE).build()));
        return store(table);
    }

    private static void invoke(WalIndexHandler handler, byte[] event) throws Exception {
        handler.handleRequest(new ByteArrayInputStream(event), new ByteArrayOutputStream(), null);
    }

    private static Item find(List<Item> items, String sk) {
        return items.stream().filter(i -> i.sk().equals(sk)).findFirst()
                .orElseThrow(() -> new AssertionError("no item " + sk + " in " + items.stream().map(Item::sk).toList()));
    }
}
