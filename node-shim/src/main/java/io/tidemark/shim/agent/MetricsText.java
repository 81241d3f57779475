package io.tidemark.shim.agent;

import com.fasterxml.jackson.databind.JsonNode;
import io.tidemark.shim.info.InfoCommand;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The Prometheus text exposition (format 0.0.4) of the agent's metrics: the stanza as the catalog
 * describes it ({@code GET /stanzas/{stanza}}: archive, backups, window, jobs) and the agent's own
 * counters. A value the catalog does not give (nothing archived, no valid backup) is left out
 * rather than shown as 0, so that alerts on "absent" and on thresholds both work.
 */
final class MetricsText {

    private final StringBuilder out = new StringBuilder();
    private final String stanzaLabel;

    private MetricsText(String stanza) {
        this.stanzaLabel = "stanza=\"" + escape(stanza) + "\"";
    }

    /**
     * @param doc the stanza document, or null when the catalog could not be read ({@code catalogError} says why)
     * @param lag the archive lag computed from it, or null
     */
    static String render(String stanza, JsonNode doc, InfoCommand.Lag lag, String catalogError, AgentCounters c,
                         Instant now) {
        MetricsText m = new MetricsText(stanza);
        m.gauge("tidemark_catalog_up", "1 when the agent could read the stanza from the catalog API", "",
                doc == null ? 0 : 1);
        if (catalogError != null) {
            m.out.append("# catalog error: ").append(catalogError.replace('\n', ' ')).append('\n');
        }
        m.gauge("tidemark_agent_is_primary", "1 on the primary, 0 on a replica, -1 when PostgreSQL was not reachable",
                "", c.primary);
        m.counter("tidemark_agent_jobs_received_total", "job messages this agent received", "", c.received.get());
        m.counter("tidemark_agent_jobs_total", "jobs this agent ran or left, by result", "result=\"done\"", c.done.get());
        m.sample("tidemark_agent_jobs_total", "result=\"failed\"", c.failed.get());
        m.sample("tidemark_agent_jobs_total", "result=\"passed\"", c.passed.get());
        m.counter("tidemark_agent_job_failures_total", "backups this agent ran that failed", "", c.failed.get());
        m.counter("tidemark_agent_receive_errors_total", "failed receives from the job queue", "", c.receiveErrors.get());
        if (doc == null) {
            return m.out.toString();
        }
        JsonNode newest = InfoCommand.newestTimeline(doc);
        if (newest != null) {
            m.gauge("tidemark_last_archived_segment_info", "the newest archived WAL segment (as a label)",
                    "timeline=\"" + newest.path("timeline").asLong() + "\",segment=\""
                            + escape(newest.path("lastSegment").asText("")) + "\"", 1);
            time(newest.path("lastArchivedAt")).ifPresent(t -> m.gauge("tidemark_last_archived_timestamp_seconds",
                    "when the newest segment was archived (Unix time)", "", t.getEpochSecond()));
        }
        if (lag != null && lag.seconds() != null) {
            m.gauge("tidemark_archive_lag_seconds", "seconds since the newest segment was archived", "", lag.seconds());
        }
        if (lag != null && lag.bytes() != null) {
            m.gauge("tidemark_archive_lag_bytes", "WAL bytes written by PostgreSQL and not archived yet", "", lag.bytes());
        }
        JsonNode last = null;
        for (JsonNode b : doc.path("backups")) {
            if ("valid".equals(b.path("status").asText()) && (last == null
                    || b.path("label").asText().compareTo(last.path("label").asText()) > 0)) {
                last = b;
            }
        }
        if (last != null) {
            String labels = "label=\"" + escape(last.path("label").asText()) + "\",type=\""
                    + escape(last.path("type").asText("")) + "\"";
            var start = time(last.path("startTime"));
            var stop = time(last.path("stopTime"));
            if (stop.isPresent()) {
                m.gauge("tidemark_last_backup_timestamp_seconds", "when the newest valid backup stopped (Unix time)",
                        labels, stop.get().getEpochSecond());
                m.gauge("tidemark_last_backup_age_seconds", "seconds since the newest valid backup stopped", labels,
                        Math.max(0, Duration.between(stop.get(), now).toSeconds()));
            }
            if (start.isPresent() && stop.isPresent()) {
                m.gauge("tidemark_last_backup_duration_seconds", "how long the newest valid backup ran", labels,
                        Duration.between(start.get(), stop.get()).toMillis() / 1000.0);
            }
            if (last.path("storedSize").isNumber()) {
                m.gauge("tidemark_last_backup_stored_bytes", "bytes the newest valid backup stored in S3", labels,
                        last.path("storedSize").asLong());
            }
            if (last.path("originalSize").isNumber()) {
                m.gauge("tidemark_last_backup_original_bytes", "size of the data directory it covers", labels,
                        last.path("originalSize").asLong());
            }
        }
        JsonNode window = doc.path("window");
        time(window.path("earliest").path("time")).ifPresent(t -> m.gauge("tidemark_window_earliest_timestamp_seconds",
                "earliest restorable time (Unix time)", "", t.getEpochSecond()));
        time(window.path("latest").path("time")).ifPresent(t -> m.gauge("tidemark_window_latest_timestamp_seconds",
                "latest restorable time (Unix time)", "", t.getEpochSecond()));
        m.gauge("tidemark_window_gaps", "breaks in the recovery window", "", window.path("gaps").size());
        Map<String, Long> states = new LinkedHashMap<>();
        for (String s : new String[] {"queued", "running", "done", "failed", "skipped-by-replica", "missed"}) {
            states.put(s, 0L);
        }
        for (JsonNode j : doc.path("jobs")) {
            states.merge(j.path("state").asText("?"), 1L, Long::sum);
        }
        boolean first = true;
        for (Map.Entry<String, Long> e : states.entrySet()) {
            if (first) {
                m.header("tidemark_recent_jobs", "gauge", "the stanza's newest backup jobs (up to 10) by state");
                first = false;
            }
            m.sample("tidemark_recent_jobs", "state=\"" + escape(e.getKey()) + "\"", e.getValue());
        }
        return m.out.toString();
    }

    private static java.util.Optional<Instant> time(JsonNode n) {
        if (!n.isTextual()) {
            return java.util.Optional.empty();
        }
        try {
            return java.util.Optional.of(Instant.parse(n.asText()));
        } catch (DateTimeParseException e) {
            return java.util.Optional.empty();
        }
    }

    private void gauge(String name, String help, String labels, double value) {
        header(name, "gauge", help);
        sample(name, labels, value);
    }

    private void counter(String name, String help, String labels, double value) {
        header(name, "counter", help);
        sample(name, labels, value);
    }

    private void header(String name, String type, String help) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private void sample(String name, String labels, double value) {
        out.append(name).append('{').append(stanzaLabel);
        if (!labels.isEmpty()) {
            out.append(',').append(labels);
        }
        out.append("} ");
        if (value == Math.rint(value) && Math.abs(value) < 1e15) {
            out.append((long) value);
        } else {
            out.append(String.format(Locale.ROOT, "%.3f", value));
        }
        out.append('\n');
    }

    private static String escape(String v) {
        return v.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
