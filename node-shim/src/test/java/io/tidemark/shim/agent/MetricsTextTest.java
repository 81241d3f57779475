package io.tidemark.shim.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.shim.info.InfoCommand;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class MetricsTextTest {
    private static final Instant NOW = Instant.parse("2026-05-10T02:00:00Z");

    private static Map<String, String> samples(String text) {
        Map<String, String> out = new HashMap<>();
        for (String line : text.split("\n")) {
            if (!line.startsWith("#")) {
                int sp = line.lastIndexOf(' ');
                out.put(line.substring(0, sp), line.substring(sp + 1));
            }
        }
        return out;
    }

    @Test
    void theStanzaAsTheCatalogDescribesIt() throws Exception {
        JsonNode doc = new ObjectMapper().readTree("""
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
                 "jobs": [{"state": "done"}, {"state": "failed"}, {"state": "done"}]}""");
        AgentCounters c = new AgentCounters();
        c.primary = 1;
        c.done.set(2);
        c.failed.set(1);
        String text = MetricsText.render("main", doc, new InfoCommand.Lag(60L, 4096L, null), null, c, NOW);
        Map<String, String> s = samples(text);
        assertEquals("1", s.get("tidemark_catalog_up{stanza=\"main\"}"));
        assertEquals("1", s.get("tidemark_agent_is_primary{stanza=\"main\"}"));
        assertEquals("1", s.get("tidemark_last_archived_segment_info{stanza=\"main\",timeline=\"1\","
                + "segment=\"000000010000000000000007\"}"));
        assertEquals("60", s.get("tidemark_archive_lag_seconds{stanza=\"main\"}"));
        assertEquals("4096", s.get("tidemark_archive_lag_bytes{stanza=\"main\"}"));
        String last = "{stanza=\"main\",label=\"20260509-010000F_20260510-010000I\",type=\"incr\"}";
        assertEquals("7", s.get("tidemark_last_backup_stored_bytes" + last), text);
        assertEquals("2.500", s.get("tidemark_last_backup_duration_seconds" + last));
        assertEquals("3597", s.get("tidemark_last_backup_age_seconds" + last), "whole seconds, rounded down");
        assertEquals(String.valueOf(Instant.parse("2026-05-10T01:58:00Z").getEpochSecond()),
                s.get("tidemark_window_latest_timestamp_seconds{stanza=\"main\"}"));
        assertEquals("2", s.get("tidemark_recent_jobs{stanza=\"main\",state=\"done\"}"));
        assertEquals("1", s.get("tidemark_recent_jobs{stanza=\"main\",state=\"failed\"}"));
        assertEquals("0", s.get("tidemark_recent_jobs{stanza=\"main\",state=\"missed\"}"));
        assertEquals("1", s.get("tidemark_agent_job_failures_total{stanza=\"main\"}"));
        assertEquals(1, text.split("# TYPE tidemark_agent_jobs_total ", -1).length - 1, "one TYPE line per metric");
    }

    @Test
    void withoutTheCatalogOnlyTheAgentsOwnFigures() {
        String text = MetricsText.render("main", null, null, "HTTP 503", new AgentCounters(), NOW);
        Map<String, String> s = samples(text);
        assertEquals("0", s.get("tidemark_catalog_up{stanza=\"main\"}"));
        assertEquals("-1", s.get("tidemark_agent_is_primary{stanza=\"main\"}"));
        assertTrue(text.contains("# catalog error: HTTP 503"), text);
        assertFalse(text.contains("tidemark_last_backup"), text);
        assertFalse(text.contains("tidemark_window_"), text);
    }
}
