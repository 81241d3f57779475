package io.tidemark.functions.index;

import static io.tidemark.functions.index.IndexFixture.MAIN;
import static io.tidemark.functions.index.IndexFixture.eventTime;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.layout.StorageLayout;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.functions.catalog.ExpiredWal;
import io.tidemark.functions.catalog.Item;
import io.tidemark.functions.catalog.ItemMerger;
import io.tidemark.functions.catalog.Keys;
import io.tidemark.functions.catalog.SegmentRanges;
import io.tidemark.functions.catalog.TimelineAggregate;
import io.tidemark.functions.catalog.UnknownStanzaException;
import io.tidemark.functions.runtime.ObjectCreatedEvents;
import io.tidemark.functions.runtime.S3EventNotification;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * Objects lost from the bucket (removal events) or found damaged: the catalog's items, timeline
 * ranges and marks follow, in any order of events, and a new upload brings the object back.
 */
@net.jqwik.api.Tag("unit")
class LostObjectsTest {

    /** Segments 0..7 of timeline 1 (numbers 5..12), each with a commit, no record across a boundary. */
    private static final TestWal WAL = new TestWal(8, Set.of());
    private static final Instant NOW = Instant.parse("2026-06-01T00:00:00Z");

    private static String seq(long n) {
        return String.format(Locale.ROOT, "%018X", n);
    }

    private static TimelineAggregate timeline(IndexFixture f) {
        return TimelineAggregate.fromItem(f.item(Keys.timeline(TimelineId.FIRST)), TestWal.SIZE);
    }

    /** A fixture with exactly the segments {@code present} indexed. */
    private static IndexFixture twin(TreeSet<Integer> present) {
        IndexFixture f = new IndexFixture();
        for (int i : present) {
            f.indexer.index(f.upload(WAL, i), eventTime(i));
        }
        return f;
    }

    private static void assertSameRangesAndMarks(IndexFixture expected, IndexFixture actual, String why) {
        TimelineAggregate e = timeline(expected);
        TimelineAggregate a = timeline(actual);
        assertEquals(e.ranges(), a.ranges(), why);
        assertEquals(e.rangeEnds(), a.rangeEnds(), why);
        assertEquals(e.rangeCommits(), a.rangeCommits(), why);
    }

    private record Event(int segment, boolean removal, String sequencer) {
    }

    /**
     * Every segment is uploaded, then segment {@code k} is deleted and perhaps uploaded again; the
     * events of these operations are delivered late, repeated and in any order, each after its
     * operation. The catalog ends as if exactly the segments in the bucket had been archived.
     */
    @Property(tries = 40)
    void anyOrderOfUploadsDeletesAndReuploadsEndsWithTheRangesOfWhatIsInTheBucket(
            @ForAll @IntRange(min = 1, max = 6) int k, @ForAll boolean reupload, @ForAll long seed) {
        Random random = new Random(seed);
        IndexFixture f = new IndexFixture();
        List<Runnable> operations = new ArrayList<>();
        List<Event> events = new ArrayList<>();
        long[] s = {100};
        for (int i = 0; i < WAL.segments.size(); i++) {
            int seg = i;
            operations.add(() -> f.upload(WAL, seg));
            events.add(new Event(seg, false, seq(s[0]++)));
        }
        String key = WAL.key(MAIN, k, Compression.ZSTD);
        operations.add(() -> f.objects.delete(key));
        events.add(new Event(k, true, seq(s[0]++)));
        if (reupload) {
            operations.add(() -> f.upload(WAL, k));
            events.add(new Event(k, false, seq(s[0]++)));
        }
        List<Event> pending = new ArrayList<>();
        int done = 0;
        while (done < operations.size() || !pending.isEmpty()) {
            if (done < operations.size() && (pending.isEmpty() || random.nextBoolean())) {
                operations.get(done).run();
                pending.add(events.get(done));
                if (random.nextInt(4) == 0) {
                    pending.add(events.get(done)); // delivered twice
                }
                done++;
                continue;
            }
            Event e = pending.remove(random.nextInt(pending.size()));
            String eKey = WAL.key(MAIN, e.segment(), Compression.ZSTD);
            if (e.removal()) {
                f.indexer.removed(eKey, "ObjectRemoved:Delete", e.sequencer());
            } else {
                f.indexer.index(eKey, eventTime(e.segment()), e.sequencer());
            }
        }
        TreeSet<Integer> present = new TreeSet<>();
        for (int i = 0; i < WAL.segments.size(); i++) {
            if (i != k || reupload) {
                present.add(i);
            }
        }
        assertSameRangesAndMarks(twin(present), f, "seed " + seed);
        Item item = f.catalog.get(io.tidemark.functions.catalog.Keys.pk(MAIN), Keys.wal(WAL.name(k))).orElse(null);
        if (reupload) {
            assertEquals("archived", item.string("status").orElseThrow());
            assertTrue(timeline(f).lost().isEmpty());
        } else if (item != null) {
            assertEquals("missing", item.string("status").orElseThrow());
            assertEquals(SegmentRanges.EMPTY.add(WAL.name(k).segmentNumber()), timeline(f).lost());
        }
    }

    @Example
    void aDamagedSegmentIsCutOutUntilItIsUploadedAgainAndALateOldEventDoesNotBringItBack() {
        IndexFixture f = new IndexFixture();
        for (int i = 0; i < WAL.segments.size(); i++) {
            f.indexer.index(f.upload(WAL, i), eventTime(i), seq(100 + i));
        }
        LostObjects lost = new LostObjects(f.catalog, Clock.fixed(NOW, ZoneOffset.UTC));
        String key = WAL.key(MAIN, 3, Compression.ZSTD);
        assertTrue(lost.markLost(MAIN, key, LostObjects.DAMAGED, "sha256 abc, expected def"));
        assertFalse(lost.markLost(MAIN, key, LostObjects.DAMAGED, "sha256 abc, expected def"), "idempotent");
        Item item = f.item(Keys.wal(WAL.name(3)));
        assertEquals("damaged", item.string("status").orElseThrow());
        assertEquals("sha256 abc, expected def", item.string("problem").orElseThrow());
        assertEquals(NOW.toString(), item.string("lostAt").orElseThrow());
        TreeSet<Integer> without3 = new TreeSet<>(List.of(0, 1, 2, 4, 5, 6, 7));
        assertSameRangesAndMarks(twin(without3), f, "damaged");

        // the original ObjectCreated event again (same sequencer): still damaged
        f.indexer.index(key, eventTime(3), seq(103));
        assertEquals("damaged", f.item(Keys.wal(WAL.name(3))).string("status").orElseThrow());
        assertSameRangesAndMarks(twin(without3), f, "late event");

        // a new upload of the same content: archived, the range whole again
        f.indexer.index(f.upload(WAL, 3), eventTime(3), seq(200));
        assertEquals("archived", f.item(Keys.wal(WAL.name(3))).string("status").orElseThrow());
        assertSameRangesAndMarks(twin(new TreeSet<>(List.of(0, 1, 2, 3, 4, 5, 6, 7))), f, "uploaded again");
        assertTrue(timeline(f).lost().isEmpty());

        // a removal event older than that upload does not win, even with the object gone meanwhile
        f.objects.delete(key);
        assertFalse(lost.markLost(MAIN, key, LostObjects.MISSING, "deleted", seq(150)));
        assertEquals("archived", f.item(Keys.wal(WAL.name(3))).string("status").orElseThrow());
        // the delete's own event does
        assertEquals(WalIndexer.Outcome.LOST, f.indexer.removed(key, "ObjectRemoved:Delete", seq(201)));
        assertEquals("missing", f.item(Keys.wal(WAL.name(3))).string("status").orElseThrow());
    }

    @Example
    void removalsOfWhatRetentionDeletesOrTheCatalogDoesNotKnowChangeNothing() {
        IndexFixture f = new IndexFixture();
        for (int i = 0; i < WAL.segments.size(); i++) {
            f.indexer.index(f.upload(WAL, i), eventTime(i));
        }
        String pk = Keys.pk(MAIN);
        // retention is deleting segments up to number 7 (index 2): written before its first delete
        new ItemMerger(f.catalog).merge(pk, ExpiredWal.key(TimelineId.FIRST),
                cur -> ExpiredWal.deleting(pk, TimelineId.FIRST, cur, WAL.name(2).segmentNumber()));
        List<Item> before = f.items();
        for (int i = 0; i <= 2; i++) {
            String key = WAL.key(MAIN, i, Compression.ZSTD);
            f.objects.delete(key);
            assertEquals(WalIndexer.Outcome.REMOVAL_IGNORED, f.indexer.removed(key, "ObjectRemoved:Delete", seq(900)));
        }
        assertEquals(before, f.items());
        // not retention's: a segment above the watermark
        String above = WAL.key(MAIN, 4, Compression.ZSTD);
        f.objects.delete(above);
        assertEquals(WalIndexer.Outcome.LOST, f.indexer.removed(above, "ObjectRemoved:Delete", seq(901)));

        // never indexed, a key of no stanza, an object that is still there
        String unknown = StorageLayout.walKey(MAIN, new io.tidemark.events.wal.WalFileName.Segment(
                WAL.name(7).next()), Compression.ZSTD);
        assertEquals(WalIndexer.Outcome.REMOVAL_IGNORED, f.indexer.removed(unknown, "ObjectRemoved:Delete", null));
        assertTrue(f.catalog.get(pk, Keys.wal(WAL.name(7).next())).isEmpty(), "no item is created");
        assertEquals(WalIndexer.Outcome.IGNORED, f.indexer.removed("other/wal/x", "ObjectRemoved:Delete", null));
        assertEquals(WalIndexer.Outcome.REMOVAL_IGNORED,
                f.indexer.removed(WAL.key(MAIN, 6, Compression.ZSTD), "ObjectRemoved:Delete", seq(902)));
        assertEquals("archived", f.item(Keys.wal(WAL.name(6))).string("status").orElseThrow());
    }

    @Example
    void aLostHistoryFileTakesTheTimelineOutOfTheWindowUntilItIsArchivedAgain() {
        IndexFixture f = new IndexFixture();
        String key = StorageLayout.historyKey(MAIN, TimelineId.of(2));
        byte[] content = "1\t0/5400000\tno recovery target specified\n".getBytes(StandardCharsets.UTF_8);
        f.upload(key, Compression.NONE, content, null);
        f.indexer.index(key, eventTime(0), seq(1));
        TimelineAggregate t2 = TimelineAggregate.fromItem(f.item(Keys.timeline(TimelineId.of(2))), TestWal.SIZE);
        assertNotNull(t2.history());

        f.objects.delete(key);
        assertEquals(WalIndexer.Outcome.LOST, f.indexer.removed(key, "ObjectRemoved:DeleteMarkerCreated", seq(2)));
        Item h = f.item(Keys.history(TimelineId.of(2)));
        assertEquals("missing", h.string("status").orElseThrow());
        assertTrue(h.string("problem").orElseThrow().contains("delete marker"));
        assertNull(TimelineAggregate.fromItem(f.item(Keys.timeline(TimelineId.of(2))), TestWal.SIZE).history());

        f.upload(key, Compression.NONE, content, null);
        f.indexer.index(key, eventTime(1), seq(3));
        assertNotNull(TimelineAggregate.fromItem(f.item(Keys.timeline(TimelineId.of(2))), TestWal.SIZE).history());
    }

    @Example
    void badArgumentsAreRefusedWithTheReason() {
        IndexFixture f = new IndexFixture();
        LostObjects lost = new LostObjects(f.catalog, Clock.systemUTC());
        String key = WAL.key(MAIN, 1, Compression.ZSTD);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> lost.markLost(MAIN, key, "gone", "x"))
                .getMessage().contains("missing or damaged"));
        assertThrows(IllegalArgumentException.class, () -> lost.markLost(MAIN, key, "missing", " "));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> lost.markLost(StanzaName.of("main"), "main/stanza.json", "missing", "x"))
                .getMessage().contains("not a WAL, history or backup object"));
        assertThrows(UnknownStanzaException.class, () -> lost.markLost(StanzaName.of("nope"),
                WAL.key(StanzaName.of("nope"), 1, Compression.ZSTD), "missing", "x"));
    }

    /** The event JSON S3 sends, field for field, for a removal. */
    static String removalEvent(String eventName, String bucket, String key, String sequencer) {
        return """
                {"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"eu-west-1",
                "eventTime":"2026-06-01T10:00:00.123Z","eventName":"%s",
                "userIdentity":{"principalId":"AWS:AIDAEXAMPLE"},
                "requestParameters":{"sourceIPAddress":"203.0.113.7"},
                "responseElements":{"x-amz-request-id":"C3D13FE58DE4C810","x-amz-id-2":"FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"},
                "s3":{"s3SchemaVersion":"1.0","configurationId":"tidemark-wal-removed",
                "bucket":{"name":"%s","ownerIdentity":{"principalId":"A3NL1KOZZKExample"},"arn":"arn:aws:s3:::%s"},
                "object":{"key":"%s","sequencer":"%s"}}}]}
                """.formatted(eventName, bucket, bucket, S3EventNotification.encodeKey(key), sequencer);
    }

    @Example
    void realRemovalEventsGoThroughTheHandlersLoop() {
        IndexFixture f = new IndexFixture();
        for (int i = 0; i < WAL.segments.size(); i++) {
            f.indexer.index(f.upload(WAL, i), eventTime(i), seq(100 + i));
        }
        int n = 0;
        for (String name : List.of("ObjectRemoved:Delete", "ObjectRemoved:DeleteMarkerCreated",
                "LifecycleExpiration:Delete", "LifecycleExpiration:DeleteMarkerCreated")) {
            String key = WAL.key(MAIN, 1 + 2 * n, Compression.ZSTD);
            f.objects.delete(key);
            byte[] answer = ObjectCreatedEvents.process(
                    S3EventNotification.parse(removalEvent(name, "bucket", key, seq(300 + n))), "bucket", "indexes",
                    WalIndexer.Outcome.class, f.indexer::index, f.indexer::removed);
            assertEquals("{\"LOST\":1}", new String(answer, StandardCharsets.UTF_8), name);
            assertEquals("missing", f.item(Keys.wal(WAL.name(1 + 2 * n))).string("status").orElseThrow());
            n++;
        }
        assertEquals(List.of(new SegmentRanges.Range(5, 5), new SegmentRanges.Range(7, 7),
                new SegmentRanges.Range(9, 9), new SegmentRanges.Range(11, 11)), timeline(f).ranges().ranges());
        // the handlers that only follow creations skip removals
        byte[] skipped = ObjectCreatedEvents.process(S3EventNotification.parse(removalEvent("ObjectRemoved:Delete",
                "bucket", WAL.key(MAIN, 0, Compression.ZSTD), seq(400))), "bucket", "validates",
                WalIndexer.Outcome.class, (key, time, sequencer, version, size) -> WalIndexer.Outcome.REJECTED, null);
        assertEquals("{}", new String(skipped, StandardCharsets.UTF_8));
    }
}
