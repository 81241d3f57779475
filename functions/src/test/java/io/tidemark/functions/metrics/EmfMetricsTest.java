package io.tidemark.functions.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.metrics.TidemarkMetric;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The embedded-metric line: the directive CloudWatch reads, the dimension and the values as members. */
@Tag("unit")
class EmfMetricsTest {

    @Test
    void oneLineCarriesTheDirectiveTheDimensionAndEachValue() throws Exception {
        List<String> lines = new ArrayList<>();
        Instant at = Instant.parse("2026-12-06T12:00:00.250Z");
        new EmfMetrics(lines::add).publish(StanzaName.of("main"), at,
                Map.of(TidemarkMetric.LAST_VALID_BACKUP_AGE, 7200L, TidemarkMetric.ARCHIVE_LAG, 42L));
        assertEquals(1, lines.size());
        assertTrue(!lines.get(0).contains("\n"), "one log event is one line");
        JsonNode l = new ObjectMapper().readTree(lines.get(0));
        assertEquals(at.toEpochMilli(), l.path("_aws").path("Timestamp").asLong());
        JsonNode directive = l.path("_aws").path("CloudWatchMetrics").get(0);
        assertEquals("Tidemark", directive.path("Namespace").asText());
        assertEquals("[[\"Stanza\"]]", directive.path("Dimensions").toString());
        assertEquals("[{\"Name\":\"ArchiveLagSeconds\",\"Unit\":\"Seconds\"},"
                + "{\"Name\":\"LastValidBackupAgeSeconds\",\"Unit\":\"Seconds\"}]", directive.path("Metrics").toString());
        assertEquals("main", l.path("Stanza").asText());
        assertEquals(42, l.path("ArchiveLagSeconds").asLong());
        assertEquals(7200, l.path("LastValidBackupAgeSeconds").asLong());
        assertEquals("INFO", l.path("level").asText(), "Lambda's log-level filter keeps it at INFO");
    }

    @Test
    void aFailingSinkDoesNotFailTheWorkAndNothingIsWrittenForNoValues() {
        List<String> lines = new ArrayList<>();
        new EmfMetrics(lines::add).publish(StanzaName.of("main"), Instant.EPOCH, Map.of());
        assertEquals(List.of(), lines);
        new EmfMetrics(line -> {
            throw new IllegalStateException("log stream closed");
        }).publish(StanzaName.of("main"), Instant.EPOCH, Map.of(TidemarkMetric.VERIFY_PROBLEMS, 1L));
    }
}
