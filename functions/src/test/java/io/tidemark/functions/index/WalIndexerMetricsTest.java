package io.tidemark.functions.index;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.metrics.TidemarkMetric;
import io.tidemark.functions.catalog.Keys;
import io.tidemark.functions.metrics.MetricsPublisher;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The archive lag the indexer publishes: from the newest arrival, and never at the cost of indexing. */
@Tag("unit")
class WalIndexerMetricsTest {

    static final TestWal WAL = new TestWal(2, Set.of());

    record Published(StanzaName stanza, Map<TidemarkMetric, Long> values) {
    }

    @Test
    void theLagIsMeasuredFromTheNewestArrivalWhateverOrderTheEventsComeIn() {
        IndexFixture f = new IndexFixture();
        List<Published> published = new ArrayList<>();
        WalIndexer indexer = new WalIndexer(f.objects, f.catalog, (meta, segment) -> { },
                (stanza, at, values) -> published.add(new Published(stanza, values)));
        Instant now = Instant.now();
        // Segment 1 arrived 100 s ago; the (retried) event of segment 0, which arrived 200 s ago, comes last.
        assertEquals(WalIndexer.Outcome.SEGMENT_ARCHIVED, indexer.index(f.upload(WAL, 1), now.minusSeconds(100)));
        assertEquals(WalIndexer.Outcome.SEGMENT_ARCHIVED, indexer.index(f.upload(WAL, 0), now.minusSeconds(200)));
        assertEquals(2, published.size(), String.valueOf(published));
        for (Published p : published) {
            assertEquals(IndexFixture.MAIN, p.stanza());
            assertEquals(Set.of(TidemarkMetric.ARCHIVE_LAG), p.values().keySet());
            long lag = p.values().get(TidemarkMetric.ARCHIVE_LAG);
            assertTrue(lag >= 100 && lag <= 110, "newest arrival 100 s ago, lag " + lag);
        }
    }

    @Test
    void aFailingPublisherDoesNotFailTheIndexing() {
        IndexFixture f = new IndexFixture();
        MetricsPublisher broken = (stanza, at, values) -> {
            throw new IllegalStateException("metrics sink gone");
        };
        WalIndexer indexer = new WalIndexer(f.objects, f.catalog, (meta, segment) -> { }, broken);
        assertEquals(WalIndexer.Outcome.SEGMENT_ARCHIVED, indexer.index(f.upload(WAL, 0), Instant.now()));
        assertEquals("archived", f.item(Keys.wal(WAL.name(0))).string("status").orElseThrow());
    }
}
