package io.tidemark.functions.index;

import static io.tidemark.functions.index.IndexFixture.MAIN;
import static io.tidemark.functions.index.IndexFixture.eventTime;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StorageLayout;
import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalFileName;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.functions.api.CatalogJson;
import io.tidemark.functions.catalog.Item;
import io.tidemark.functions.catalog.Keys;
import io.tidemark.functions.catalog.UnknownStanzaException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class WalIndexerTest {

    private static final TestWal FOUR = new TestWal(4, Set.of());
    private static final TestWal CROSSING = new TestWal(3, Set.of(0, 1));

    @Test
    void contiguousSegmentsAreOneRange() {
        IndexFixture f = new IndexFixture();
        for (int i = 0; i < 4; i++) {
            assertEquals(WalIndexer.Outcome.SEGMENT_ARCHIVED, f.indexer.index(f.upload(FOUR, i), eventTime(i)));
        }
        JsonNode t = timeline1(f);
        assertEquals(1, t.get("timeline").asInt());
        assertTrue(t.get("parent").isNull());
        assertTrue(t.get("switchPoint").isNull());
        assertEquals(1, t.get("walRanges").size());
        assertEquals(FOUR.names.get(0), t.get("walRanges").get(0).get("start").asText());
        assertEquals(FOUR.names.get(3), t.get("walRanges").get(0).get("end").asText());
        assertEquals(0, t.get("gaps").size());
        assertEquals(4, t.get("segments").asInt());
        assertEquals(FOUR.names.get(3), t.get("lastSegment").asText());
        assertEquals(at(TestWal.T0 + 3_000_000L).toString(), t.get("lastCommitTime").asText());
        assertEquals(eventTime(3).toString(), t.get("lastArchivedAt").asText());
        assertEquals(f.item(Keys.wal(FOUR.name(3))).string("endLsn").orElseThrow(), t.get("endLsn").asText());

        Item seg = f.item(Keys.wal(FOUR.name(1)));
        assertEquals("archived", seg.string("status").orElseThrow());
        assertEquals("segment", seg.string("kind").orElseThrow());
        assertEquals(FOUR.key(MAIN, 1, Compression.ZSTD), seg.string("key").orElseThrow());
        assertEquals(TestWal.sha256(FOUR.segments.get(1)), seg.string("sha256").orElseThrow());
        assertEquals(2L, seg.number("records").orElseThrow()); // the commit and the switch
        assertEquals(1L, seg.number("commits").orElseThrow());
        assertEquals(1001L, seg.number("minXid").orElseThrow());
        assertEquals(1001L, seg.number("maxXid").orElseThrow());
        assertEquals("switch", seg.string("stopReason").orElseThrow());
        assertEquals(eventTime(1).toString(), seg.string("archivedAt").orElseThrow());
        assertFalse(seg.attributes().containsKey("transactions"));
        assertNotNull(seg.revision());
    }

    @Test
    void aHoleIsAGap() {
        IndexFixture f = new IndexFixture();
        for (int i : new int[] {3, 0, 1}) {
            f.indexer.index(f.upload(FOUR, i), eventTime(i));
        }
        JsonNode t = timeline1(f);
        assertEquals(2, t.get("walRanges").size());
        assertEquals(FOUR.names.get(1), t.get("walRanges").get(0).get("end").asText());
        assertEquals(FOUR.names.get(3), t.get("walRanges").get(1).get("start").asText());
        assertEquals(1, t.get("gaps").size());
        assertEquals(FOUR.names.get(2), t.get("gaps").get(0).get("start").asText());
        assertEquals(FOUR.names.get(2), t.get("gaps").get(0).get("end").asText());
        assertEquals(3, t.get("segments").asInt());
    }

    @Test
    void aRecordAcrossABoundaryIsCountedOnceInAnyOrder() {
        List<List<Integer>> orders = List.of(List.of(0, 1, 2), List.of(2, 1, 0), List.of(1, 0, 2), List.of(0, 2, 1));
        List<Item> first = null;
        for (List<Integer> order : orders) {
            IndexFixture f = new IndexFixture();
            for (int i : order) {
                f.indexer.index(f.upload(CROSSING, i), eventTime(i));
            }
            long records = 0;
            for (int i = 0; i < 3; i++) {
                Item seg = f.item(Keys.wal(CROSSING.name(i)));
                assertFalse(seg.flag("pendingTail"), "order " + order + " left " + i + " pending");
                records += seg.number("records").orElseThrow();
            }
            assertEquals(CROSSING.records, records, "order " + order);
            if (first == null) {
                first = f.items();
            } else {
                assertEquals(first, f.items(), "order " + order);
            }
        }
    }

    @Test
    void aPendingTailIsFinishedWhenTheNextSegmentArrivesLater() {
        IndexFixture f = new IndexFixture();
        assertEquals(WalIndexer.Outcome.SEGMENT_PENDING_TAIL, f.indexer.index(f.upload(CROSSING, 0), eventTime(0)));
        Item pending = f.item(Keys.wal(CROSSING.name(0)));
        assertTrue(pending.flag("pendingTail"));
        assertNotNull(pending.string("continuesAt").orElse(null));
        // It is archived all the same: the segment itself is intact.
        assertEquals(1, timeline1(f).get("segments").asInt());

        f.indexer.index(f.upload(CROSSING, 1), eventTime(1));
        Item done = f.item(Keys.wal(CROSSING.name(0)));
        assertFalse(done.flag("pendingTail"));
        assertFalse(done.attributes().containsKey("continuesAt"));
        assertEquals(pending.number("records").orElseThrow() + 1, done.number("records").orElseThrow());
        assertEquals(eventTime(0).toString(), done.string("archivedAt").orElseThrow());
    }

    @Test
    void aRecordAbandonedByCrashRecoveryFinishesThePreviousSegmentInEitherOrder() {
        io.tidemark.testkit.wal.SyntheticWal w = io.tidemark.testkit.wal.SyntheticWal.pg15OneMb();
        w.commit(1, TestWal.T0);
        w.fillSegmentUntil(3000, 500);
        w.abandonedThenOverwritten(12_000, TestWal.T0 + 1); // cut off at the end of segment 0
        w.commit(2, TestWal.T0 + 2);
        w.switchSegment();
        List<String> keys = List.of(0, 1).stream().map(i -> StorageLayout.walKey(MAIN,
                new WalFileName.Segment(WalSegmentName.parse(w.segmentName(i), TestWal.SIZE)), Compression.ZSTD))
                .toList();
        List<Item> first = null;
        for (List<Integer> order : List.of(List.of(0, 1), List.of(1, 0))) {
            IndexFixture f = new IndexFixture();
            for (int i : order) {
                f.upload(keys.get(i), Compression.ZSTD, w.segment(i), null);
                f.indexer.index(keys.get(i), eventTime(i));
            }
            Item seg0 = f.item(Keys.wal(WalSegmentName.parse(w.segmentName(0), TestWal.SIZE)));
            assertFalse(seg0.flag("pendingTail"), "order " + order);
            assertEquals(0L, f.item(Keys.wal(WalSegmentName.parse(w.segmentName(1), TestWal.SIZE)))
                    .number("skippedLeadingBytes").orElseThrow());
            if (first == null) {
                first = f.items();
            } else {
                assertEquals(first, f.items());
            }
        }
    }

    @Test
    void theNextSegmentIsFoundUnderAnyCompression() {
        IndexFixture f = new IndexFixture();
        String k1 = CROSSING.key(MAIN, 1, Compression.LZ4);
        f.upload(k1, Compression.LZ4, CROSSING.segments.get(1), null);
        String k0 = CROSSING.key(MAIN, 0, Compression.NONE);
        f.upload(k0, Compression.NONE, CROSSING.segments.get(0), null);
        assertEquals(WalIndexer.Outcome.SEGMENT_ARCHIVED, f.indexer.index(k0, eventTime(0)));
        assertEquals("raw", f.item(Keys.wal(CROSSING.name(0))).string("compression").orElseThrow());
        f.indexer.index(k1, eventTime(1));
        assertEquals("lz4", f.item(Keys.wal(CROSSING.name(1))).string("compression").orElseThrow());
    }

    @Test
    void aCorruptObjectIsNotArchived() {
        IndexFixture f = new IndexFixture();
        String bad = FOUR.key(MAIN, 1, Compression.ZSTD);
        f.upload(bad, Compression.ZSTD, FOUR.segments.get(1), "00".repeat(32));
        assertEquals(WalIndexer.Outcome.SEGMENT_CORRUPT, f.indexer.index(bad, eventTime(1)));
        Item item = f.item(Keys.wal(FOUR.name(1)));
        assertEquals("corrupt", item.string("status").orElseThrow());
        assertTrue(item.string("problem").orElseThrow().contains("sha256 mismatch"));
        assertFalse(item.attributes().containsKey("records"));
        assertTrue(f.catalog.get(Keys.pk(MAIN), Keys.timeline(TimelineId.FIRST)).isEmpty());

        String noSha = FOUR.key(MAIN, 2, Compression.ZSTD);
        f.objects.put(noSha, TestWal.compress(Compression.ZSTD, FOUR.segments.get(2)), "x", java.util.Map.of());
        assertEquals(WalIndexer.Outcome.SEGMENT_CORRUPT, f.indexer.index(noSha, eventTime(2)));

        String garbage = FOUR.key(MAIN, 3, Compression.ZSTD);
        f.objects.put(garbage, "not zstd".getBytes(StandardCharsets.UTF_8), "x", java.util.Map.of("sha256", "00"));
        assertEquals(WalIndexer.Outcome.SEGMENT_CORRUPT, f.indexer.index(garbage, eventTime(3)));
        assertTrue(f.item(Keys.wal(FOUR.name(3))).string("problem").orElseThrow().contains("cannot decompress"));

        f.indexer.index(f.upload(FOUR, 0), eventTime(0));
        assertEquals(1, timeline1(f).get("segments").asInt());
    }

    @Test
    void aCorruptNextSegmentDoesNotFinishTheRecord() {
        IndexFixture f = new IndexFixture();
        String k1 = CROSSING.key(MAIN, 1, Compression.ZSTD);
        f.upload(k1, Compression.ZSTD, CROSSING.segments.get(1), "11".repeat(32));
        assertEquals(WalIndexer.Outcome.SEGMENT_PENDING_TAIL, f.indexer.index(f.upload(CROSSING, 0), eventTime(0)));
        f.indexer.index(k1, eventTime(1));
        assertTrue(f.item(Keys.wal(CROSSING.name(0))).flag("pendingTail"));
    }

    @Test
    void walOfAnotherSystemIsInvalid() {
        IndexFixture f = new IndexFixture();
        byte[] foreign = FOUR.segments.get(0).clone();
        foreign[24] ^= 1; // system identifier in the long page header
        String key = FOUR.key(MAIN, 0, Compression.ZSTD);
        f.upload(key, Compression.ZSTD, foreign, null);
        assertEquals(WalIndexer.Outcome.SEGMENT_INVALID, f.indexer.index(key, eventTime(0)));
        Item item = f.item(Keys.wal(FOUR.name(0)));
        assertEquals("invalid", item.string("status").orElseThrow());
        assertTrue(item.string("problem").orElseThrow().contains("WAL of system"), item.describe());
    }

    @Test
    void historyFileGivesTheTimelineItsParent() {
        IndexFixture f = new IndexFixture();
        f.indexer.index(f.upload(FOUR, 0), eventTime(0));
        String key = StorageLayout.historyKey(MAIN, TimelineId.of(2));
        byte[] history = "1\t0/5400000\tno recovery target specified\n".getBytes(StandardCharsets.UTF_8);
        f.upload(key, Compression.NONE, history, null);
        assertEquals(WalIndexer.Outcome.HISTORY, f.indexer.index(key, eventTime(9)));

        JsonNode stanza = CatalogJson.stanza(f.service.describe("main"));
        assertEquals(2, stanza.get("timelines").size());
        JsonNode t2 = stanza.get("timelines").get(1);
        assertEquals(2, t2.get("timeline").asInt());
        assertEquals(1, t2.get("parent").asInt());
        assertEquals("0/5400000", t2.get("switchPoint").asText());
        assertEquals(0, t2.get("walRanges").size());
        assertEquals(0, t2.get("segments").asInt());
        assertTrue(t2.get("lastSegment").isNull());
        assertTrue(t2.get("endLsn").isNull());
        assertEquals("[2]", stanza.get("histories").toString());
        assertEquals("archived", f.item(Keys.history(TimelineId.of(2))).string("status").orElseThrow());
    }

    @Test
    void partialsAreListedButNotInRanges() {
        IndexFixture f = new IndexFixture();
        WalSegmentName seg = FOUR.name(2);
        String key = StorageLayout.walKey(MAIN, new WalFileName.Partial(seg), Compression.ZSTD);
        f.upload(key, Compression.ZSTD, FOUR.segments.get(2), null);
        assertEquals(WalIndexer.Outcome.PARTIAL, f.indexer.index(key, eventTime(2)));
        JsonNode stanza = CatalogJson.stanza(f.service.describe("main"));
        assertEquals("[\"" + seg + ".partial\"]", stanza.get("partials").toString());
        assertEquals(0, stanza.get("timelines").get(0).get("segments").asInt());
        assertEquals("archived", f.item(Keys.partial(seg)).string("status").orElseThrow());
    }

    @Test
    void backupHistoryFilesAreStored() {
        IndexFixture f = new IndexFixture();
        WalSegmentName seg = FOUR.name(1);
        WalFileName.BackupHistory file = new WalFileName.BackupHistory(seg, 0x28);
        String content = "START WAL LOCATION: 0/600028 (file " + seg + ")\n"
                + "STOP WAL LOCATION: 0/600100 (file " + seg + ")\n"
                + "CHECKPOINT LOCATION: 0/600060\n"
                + "BACKUP METHOD: streamed\n"
                + "BACKUP FROM: primary\n"
                + "START TIME: 2026-05-01 10:00:00 UTC\n"
                + "LABEL: nightly\n"
                + "START TIMELINE: 1\n"
                + "STOP TIME: 2026-05-01 10:05:00 UTC\n"
                + "STOP TIMELINE: 1\n";
        String key = StorageLayout.walKey(MAIN, file, Compression.ZSTD);
        f.upload(key, Compression.ZSTD, content.getBytes(StandardCharsets.UTF_8), null);
        assertEquals(WalIndexer.Outcome.BACKUP_HISTORY, f.indexer.index(key, eventTime(1)));
        Item item = f.item(Keys.backupHistory(file));
        assertEquals("0/600028", item.string("startLsn").orElseThrow());
        assertEquals("0/600100", item.string("stopLsn").orElseThrow());
        assertEquals("nightly", item.string("label").orElseThrow());
        assertEquals("2026-05-01T10:05:00Z", item.string("stopTimeUtc").orElseThrow());
        assertEquals(1L, item.number("startTimeline").orElseThrow());
    }

    @Test
    void foreignKeysAreIgnoredAndUnknownStanzasFail() {
        IndexFixture f = new IndexFixture();
        assertEquals(WalIndexer.Outcome.IGNORED, f.indexer.index("main/stanza.json", null));
        assertEquals(WalIndexer.Outcome.IGNORED, f.indexer.index("main/backup/20260101-000000F/manifest.json", null));
        assertEquals(WalIndexer.Outcome.IGNORED, f.indexer.index("not a key", null));
        assertEquals(WalIndexer.Outcome.IGNORED, f.indexer.index("main/wal/0000000100000000/garbage.zst", null));
        assertEquals(WalIndexer.Outcome.MISSING, f.indexer.index(FOUR.key(MAIN, 0, Compression.ZSTD), null));
        assertThrows(UnknownStanzaException.class,
                () -> f.indexer.index("other/wal/0000000100000000/000000010000000000000005.zst", null));
        assertThrows(UnknownStanzaException.class, () -> f.indexer.index("other/wal/00000002.history", null));
    }

    @Test
    void repeatedEventsChangeNothing() {
        IndexFixture f = new IndexFixture();
        for (int i = 0; i < 3; i++) {
            f.indexer.index(f.upload(CROSSING, i), eventTime(i));
        }
        List<Item> once = f.items();
        for (int i = 2; i >= 0; i--) {
            f.indexer.index(CROSSING.key(MAIN, i, Compression.ZSTD), eventTime(i));
        }
        assertEquals(once, f.items());
    }

    private static JsonNode timeline1(IndexFixture f) {
        JsonNode stanza = CatalogJson.stanza(f.service.describe("main"));
        return stanza.get("timelines").get(0);
    }

    private static Instant at(long unixMicros) {
        return Instant.ofEpochSecond(unixMicros / 1_000_000, (unixMicros % 1_000_000) * 1000);
    }

    @SuppressWarnings("unused")
    private static Lsn lsn(String s) {
        return Lsn.parse(s);
    }
}
