package io.tidemark.functions.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StorageLayout;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalFileName;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.functions.catalog.Item;
import io.tidemark.functions.catalog.Keys;
import io.tidemark.functions.index.TestWal;
import io.tidemark.functions.index.WalIndexer;
import io.tidemark.functions.window.WindowService;
import io.tidemark.testkit.wal.SyntheticWal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A compromised node archives a segment whose commit claims a time ten days after the segment
 * arrived: on the code before, the window reached ten days into the future and a time target
 * there was planned. The real indexer (in-memory stores) now drops the time, flags the items and
 * publishes FutureWalTimes; the window and the planner ignore it.
 */
@Tag("unit")
class FutureCommitTimesTest {

    final PlanFixture f = new PlanFixture();
    final List<String> published = new ArrayList<>();
    final WalIndexer indexer = new WalIndexer(f.objects, f.catalog, (meta, segment) -> { },
            (stanza, at, values) -> values.keySet().forEach(m -> published.add(m.metricName())));
    static final Instant FUTURE = PlanFixture.at(10 * 86400);

    /** Segments 1..10; segment s commits at at(s), segment 10 at FUTURE; each arrives at T0+100+s. */
    void archive() {
        SyntheticWal w = new SyntheticWal(SyntheticWal.PG15, TestWal.SIZE.bytes(), 8192, 1, 1, TestWal.SYSTEM_ID);
        for (long s = 1; s <= 10; s++) {
            Instant t = s == 10 ? FUTURE : PlanFixture.at(s);
            w.commit(1000 + s, t.getEpochSecond() * 1_000_000L);
            w.switchSegment();
        }
        for (int i = 0; i < 10; i++) {
            byte[] raw = w.segment(i);
            WalSegmentName name = WalSegmentName.of(TimelineId.FIRST, i + 1, TestWal.SIZE);
            String key = StorageLayout.walKey(PlanFixture.STANZA, new WalFileName.Segment(name), Compression.ZSTD);
            f.objects.put(key, TestWal.compress(Compression.ZSTD, raw), "application/octet-stream",
                    Map.of("sha256", TestWal.sha256(raw)));
            indexer.index(key, PlanFixture.T0.plusSeconds(100 + i + 1));
        }
    }

    @Test
    void aCommitTimeAheadOfTheSegmentsArrivalIsFlaggedAndNeitherWidensTheWindowNorServesATarget() {
        archive();
        f.backup(1, 1, 2, 3, PlanFixture.at(3));
        String pk = Keys.pk(PlanFixture.STANZA);
        WalSegmentName ten = WalSegmentName.of(TimelineId.FIRST, 10, TestWal.SIZE);

        Item wal = f.catalog.get(pk, Keys.wal(ten)).orElseThrow();
        assertEquals("archived", wal.string("status").orElseThrow());
        assertEquals(1L, wal.number("futureCommitTimes").orElseThrow());
        assertFalse(wal.string("lastCommitTime").isPresent(), wal.toString());
        assertTrue(f.catalog.query(pk, Keys.COMMIT_TIME_PREFIX).stream()
                .noneMatch(i -> i.string("maxCommitTime").map(Instant::parse).orElseThrow().isAfter(PlanFixture.at(100))),
                "a COMMITTIME# item with the future time");
        assertEquals(List.of(ten.toString()), f.catalog.get(pk, Keys.FUTURE_WAL_TIMES).orElseThrow().list("segments"));
        assertEquals(1, published.stream().filter("FutureWalTimes"::equals).count(), published.toString());

        var window = new WindowService(f.catalog).read(f.meta).orElseThrow().window();
        Instant latest = window.latest().orElseThrow().time();
        assertTrue(latest.isBefore(PlanFixture.at(100)), "the window reaches " + latest);
        assertThrows(TargetUnreachableException.class,
                () -> f.plan("{\"target\":{\"type\":\"time\",\"value\":\"" + PlanFixture.at(5 * 86400) + "\"}}"));
        // the honest part still restores
        f.plan("{\"target\":{\"type\":\"time\",\"value\":\"" + PlanFixture.at(8.5) + "\"}}");
    }

    @Test
    void commitTimesWithinTheSkewAreKept() {
        SyntheticWal w = new SyntheticWal(SyntheticWal.PG15, TestWal.SIZE.bytes(), 8192, 1, 1, TestWal.SYSTEM_ID);
        // 5 minutes ahead of the arrival: a node clock a little fast, within the default 10 minutes
        Instant ahead = PlanFixture.T0.plusSeconds(101).plus(Duration.ofMinutes(5));
        w.commit(1001, ahead.getEpochSecond() * 1_000_000L);
        w.switchSegment();
        WalSegmentName one = WalSegmentName.of(TimelineId.FIRST, 1, TestWal.SIZE);
        String key = StorageLayout.walKey(PlanFixture.STANZA, new WalFileName.Segment(one), Compression.ZSTD);
        byte[] raw = w.segment(0);
        f.objects.put(key, TestWal.compress(Compression.ZSTD, raw), "application/octet-stream",
                Map.of("sha256", TestWal.sha256(raw)));
        indexer.index(key, PlanFixture.T0.plusSeconds(101));
        Item wal = f.catalog.get(Keys.pk(PlanFixture.STANZA), Keys.wal(one)).orElseThrow();
        assertEquals(ahead.toString(), wal.string("lastCommitTime").orElseThrow());
        assertFalse(wal.number("futureCommitTimes").isPresent());
        assertTrue(published.isEmpty() || !published.contains("FutureWalTimes"), published.toString());
    }
}
