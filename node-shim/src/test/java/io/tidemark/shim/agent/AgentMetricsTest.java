package io.tidemark.shim.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import io.tidemark.events.json.Json;
import io.tidemark.shim.info.InfoCommand;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class AgentMetricsTest {
    private static final Instant NOW = Instant.parse("2026-05-10T02:00:00Z");

    private static final String DOC = """
            {"timelines": [{"timeline": 1, "lastSegment": "000000010000000000000007",
                            "lastArchivedAt": "2026-05-10T01:59:00Z", "endLsn": "0/8000000"}],
             "backups": [
               {"label": "20260509-010000F", "type": "full", "status": "valid", "startTime": "2026-05-09T01:00:00Z",
                "stopTime": "2026-05-09T01:00:30Z", "storedSize": 100, "originalSize": 300},
               {"label": "20260509-010000F_20260510-010000I", "type": "incr", "status": "valid",
                "startTime": "2026-05-10T01:00:00Z", "stopTime": "2026-05-10T01:00:02.500Z", "storedSize": 7,
                "originalSize": 300},
               {"label": "20260509-010000F_20260510-015000I", "type": "incr", "status": "invalid"}],
             "window": {"earliest": {"time": "2026-05-09T01:00:30Z"}, "latest": {"time": "2026-05-10T01:58:00Z"},
                        "gaps": []},
             "jobs": [{"state": "done"}, {"state": "failed"}, {"state": "done"}]}""";

    private static String scrape(JsonNode doc, InfoCommand.Lag lag, String error, AgentCounters c) {
        StanzaSnapshot.Read read = new StanzaSnapshot.Read(doc, lag, error, NOW);
        return new AgentMetrics("main", () -> read, c, () -> NOW).scrape();
    }

    /** Series (name and labels) to value. */
    private static Map<String, String> samples(String text) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            if (!line.startsWith("#") && !line.isBlank()) {
                int sp = line.lastIndexOf(' ');
                out.put(line.substring(0, sp), line.substring(sp + 1));
            }
        }
        return out;
    }

    private static double value(Map<String, String> samples, String series) {
        String v = samples.get(series);
        if (v == null) {
            throw new AssertionError("no series " + series + " in " + samples.keySet());
        }
        return Double.parseDouble(v);
    }

    @Test
    void theStanzaAsTheCatalogDescribesIt() throws Exception {
        AgentCounters c = new AgentCounters();
        c.primary = 1;
        c.done.set(2);
        c.failed.set(1);
        String text = scrape(Json.mapper().readTree(DOC), new InfoCommand.Lag(60L, 4096L, null), null, c);
        Map<String, String> s = samples(text);
        assertEquals(1, value(s, "tidemark_catalog_up{stanza=\"main\"}"));
        assertEquals(1, value(s, "tidemark_agent_is_primary{stanza=\"main\"}"));
        assertEquals(1, value(s, "tidemark_last_archived_timeline{stanza=\"main\"}"));
        assertEquals(0x8000000, value(s, "tidemark_last_archived_end_lsn_bytes{stanza=\"main\"}"));
        assertEquals(60, value(s, "tidemark_archive_lag_seconds{stanza=\"main\"}"));
        assertEquals(4096, value(s, "tidemark_archive_lag_bytes{stanza=\"main\"}"));
        String last = "{stanza=\"main\",type=\"incr\"}";
        assertEquals(7, value(s, "tidemark_last_backup_stored_bytes" + last), text);
        assertEquals(2.5, value(s, "tidemark_last_backup_duration_seconds" + last));
        assertEquals(3597, value(s, "tidemark_last_backup_age_seconds" + last), "whole seconds, rounded down");
        assertEquals(Instant.parse("2026-05-10T01:58:00Z").getEpochSecond(),
                value(s, "tidemark_window_latest_timestamp_seconds{stanza=\"main\"}"));
        assertEquals(2, value(s, "tidemark_recent_jobs{stanza=\"main\",state=\"done\"}"));
        assertEquals(1, value(s, "tidemark_recent_jobs{stanza=\"main\",state=\"failed\"}"));
        assertEquals(0, value(s, "tidemark_recent_jobs{stanza=\"main\",state=\"missed\"}"));
        assertEquals(2, value(s, "tidemark_agent_jobs_total{result=\"done\",stanza=\"main\"}"));
        assertEquals(1, value(s, "tidemark_agent_job_failures_total{stanza=\"main\"}"));
        assertEquals(1, text.split("# TYPE tidemark_agent_jobs_total counter", -1).length - 1, "one TYPE line per metric: " + text);
    }

    /** A new segment or a new backup changes values, never the set of series. */
    @Test
    void noLabelChangesWithEachSegmentOrBackup() throws Exception {
        JsonNode before = Json.mapper().readTree(DOC);
        JsonNode after = Json.mapper().readTree(DOC
                .replace("000000010000000000000007", "000000010000000000000008").replace("0/8000000", "0/9000000")
                .replace("20260510-010000I", "20260510-013000I"));
        InfoCommand.Lag lag = new InfoCommand.Lag(1L, 0L, null);
        String first = scrape(before, lag, null, new AgentCounters());
        String second = scrape(after, lag, null, new AgentCounters());
        assertEquals(samples(first).keySet(), samples(second).keySet());
        assertFalse(first.contains("0000000100000000000000"), "no WAL file name in any label: " + first);
        assertFalse(first.contains("20260509-010000F"), "no backup label in any label: " + first);
        assertEquals(0x9000000, value(samples(second), "tidemark_last_archived_end_lsn_bytes{stanza=\"main\"}"));
    }

    @Test
    void withoutTheCatalogOnlyTheAgentsOwnFigures() {
        String text = scrape(null, null, "HTTP 503", new AgentCounters());
        Map<String, String> s = samples(text);
        assertEquals(0, value(s, "tidemark_catalog_up{stanza=\"main\"}"));
        assertEquals(-1, value(s, "tidemark_agent_is_primary{stanza=\"main\"}"));
        assertFalse(text.contains("tidemark_last_backup"), text);
        assertFalse(text.contains("tidemark_window_"), text);
        assertFalse(text.contains("tidemark_last_archived"), text);
    }

    @Test
    void theStreamsFiguresWhenItStreams() {
        io.tidemark.shim.stream.StreamCounters st = new io.tidemark.shim.stream.StreamCounters();
        StanzaSnapshot.Read read = new StanzaSnapshot.Read(null, null, "HTTP 503", NOW);
        Map<String, String> before = samples(new AgentMetrics("main", () -> read, new AgentCounters(), () -> NOW, st)
                .scrape());
        assertEquals(0, value(before, "tidemark_stream_up{stanza=\"main\"}"));
        assertEquals(0, value(before, "tidemark_stream_chunks_stored_total{stanza=\"main\"}"));
        org.junit.jupiter.api.Assertions.assertFalse(before.containsKey("tidemark_stream_lag_bytes{stanza=\"main\"}"),
                "no lag before anything was stored");
        st.streaming = 1;
        st.timeline = 2;
        st.bytesStreamed.set(5000);
        st.chunksStored.set(3);
        st.bytesStored.set(4096);
        st.slotsLost.set(1);
        st.storedEnd = 0x3000000L;
        st.serverFlush = 0x3000400L;
        st.lastStoredAt = NOW.minusMillis(1500);
        Map<String, String> s = samples(new AgentMetrics("main", () -> read, new AgentCounters(), () -> NOW, st).scrape());
        assertEquals(1, value(s, "tidemark_stream_up{stanza=\"main\"}"));
        assertEquals(5000, value(s, "tidemark_stream_received_bytes_total{stanza=\"main\"}"));
        assertEquals(3, value(s, "tidemark_stream_chunks_stored_total{stanza=\"main\"}"));
        assertEquals(1, value(s, "tidemark_stream_slot_lost_total{stanza=\"main\"}"));
        assertEquals(1024, value(s, "tidemark_stream_lag_bytes{stanza=\"main\"}"));
        assertEquals(1.5, value(s, "tidemark_stream_last_chunk_age_seconds{stanza=\"main\"}"));
        assertEquals(2, value(s, "tidemark_stream_timeline{stanza=\"main\"}"));
        org.junit.jupiter.api.Assertions.assertFalse(samples(scrape(null, null, "x", new AgentCounters())).keySet()
                .stream().anyMatch(k -> k.startsWith("tidemark_stream_")), "nothing of the stream when it is off");
    }
}
