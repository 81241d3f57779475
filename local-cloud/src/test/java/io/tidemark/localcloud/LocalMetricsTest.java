package io.tidemark.localcloud;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.metrics.TidemarkMetric;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Extraction as CloudWatch does it: data points from valid EMF lines, nothing from broken ones. */
@Tag("unit")
class LocalMetricsTest {

    @Test
    void aPublishedLineBecomesOneDataPointPerMetric() {
        LocalMetrics m = new LocalMetrics();
        Instant at = Instant.parse("2026-12-06T12:00:00Z");
        m.publisher("wal-indexer").publish(StanzaName.of("main"), at,
                Map.of(TidemarkMetric.ARCHIVE_LAG, 12L, TidemarkMetric.LAST_VALID_BACKUP_AGE, 3600L));
        assertEquals(List.of(new LocalMetrics.DataPoint("wal-indexer", "Tidemark", "ArchiveLagSeconds", "Seconds",
                Map.of("Stanza", "main"), 12, at)), m.of("Tidemark", "ArchiveLagSeconds", Map.of("Stanza", "main")));
        assertEquals(2, m.all().size());
        assertEquals(List.of(), m.of("Tidemark", "ArchiveLagSeconds", Map.of()), "dimension sets match exactly");
    }

    @Test
    void linesCloudWatchCouldNotReadAreRejectedWithTheReason() {
        LocalMetrics m = new LocalMetrics();
        String directive = "\"_aws\":{\"Timestamp\":1,\"CloudWatchMetrics\":[{\"Namespace\":\"Tidemark\","
                + "\"Dimensions\":[[\"Stanza\"]],\"Metrics\":[{\"Name\":\"ArchiveLagSeconds\"}]}]}";
        m.accept("f", "{" + directive + ",\"ArchiveLagSeconds\":5}");
        m.accept("f", "{" + directive + ",\"Stanza\":\"main\",\"ArchiveLagSeconds\":\"five\"}");
        m.accept("f", "{\"Stanza\":\"main\",\"ArchiveLagSeconds\":5}");
        m.accept("f", "ArchiveLagSeconds=5");
        assertEquals(List.of(), m.all());
        assertEquals(List.of("dimension Stanza has no string member", "metric ArchiveLagSeconds has no numeric member",
                "no _aws object", "not JSON"), m.rejected().stream().map(LocalMetrics.Rejected::why).toList());
    }
}
