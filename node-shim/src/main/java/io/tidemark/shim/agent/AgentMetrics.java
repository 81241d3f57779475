package io.tidemark.shim.agent;

import com.fasterxml.jackson.databind.JsonNode;
import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.tidemark.events.wal.Lsn;
import io.tidemark.shim.info.InfoCommand;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The agent's metrics, through Prometheus client_java: the stanza as the catalog describes it
 * ({@code GET /stanzas/{stanza}}: archive, backups, window, jobs) and the agent's own counters,
 * built afresh at each scrape (a {@link MultiCollector}) from the cached stanza document.
 *
 * <p>Every series carries {@code stanza}; the only other labels have a handful of values
 * ({@code result}, {@code state}, a backup's {@code type}). Nothing that changes with each
 * segment or backup is a label (a WAL file name or a backup label would start a new series every
 * time): the newest segment is given as numbers (timeline, end LSN). A value the catalog does not
 * give (nothing archived, no valid backup) is left out rather than shown as 0, so that alerts on
 * "absent" and on thresholds both work.
 */
final class AgentMetrics implements MultiCollector {

    private final String stanza;
    private final Supplier<StanzaSnapshot.Read> snapshot;
    private final AgentCounters counters;
    private final Supplier<Instant> now;
    /** The WAL stream's counters, null when the agent does not stream. */
    private final io.tidemark.shim.stream.StreamCounters stream;
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();

    AgentMetrics(String stanza, Supplier<StanzaSnapshot.Read> snapshot, AgentCounters counters,
                 Supplier<Instant> now) {
        this(stanza, snapshot, counters, now, null);
    }

    AgentMetrics(String stanza, Supplier<StanzaSnapshot.Read> snapshot, AgentCounters counters,
                 Supplier<Instant> now, io.tidemark.shim.stream.StreamCounters stream) {
        this.stanza = stanza;
        this.snapshot = snapshot;
        this.counters = counters;
        this.now = now;
        this.stream = stream;
        registry.register(this);
    }

    /** The content type of {@link #scrape()}: Prometheus text format 0.0.4. */
    String contentType() {
        return writer.getContentType();
    }

    /** One scrape in the Prometheus text format. */
    String scrape() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            writer.write(out, registry.scrape(), EscapingScheme.UNDERSCORE_ESCAPING);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    @Override
    public MetricSnapshots collect() {
        StanzaSnapshot.Read r = snapshot.get();
        return collect(r.doc(), r.lag());
    }

    /**
     * @param doc the stanza document, or null when the catalog could not be read
     * @param lag the archive lag computed from it, or null
     */
    MetricSnapshots collect(JsonNode doc, InfoCommand.Lag lag) {
        Snapshots m = new Snapshots();
        m.gauge("tidemark_catalog_up", "1 when the agent could read the stanza from the catalog API", doc == null ? 0 : 1);
        m.gauge("tidemark_agent_is_primary", "1 on the primary, 0 on a replica, -1 when PostgreSQL was not reachable",
                counters.primary);
        m.counter("tidemark_agent_jobs_received", "job messages this agent received", Map.of("", counters.received.get()));
        Map<String, Long> results = new LinkedHashMap<>();
        results.put("done", counters.done.get());
        results.put("failed", counters.failed.get());
        results.put("passed", counters.passed.get());
        m.counter("tidemark_agent_jobs", "jobs this agent ran or left, by result", "result", results);
        m.counter("tidemark_agent_job_failures", "backups this agent ran that failed", Map.of("", counters.failed.get()));
        m.counter("tidemark_agent_receive_errors", "failed receives from the job queue",
                Map.of("", counters.receiveErrors.get()));
        if (stream != null) {
            streamMetrics(m);
        }
        if (doc == null) {
            return m.build();
        }
        JsonNode newest = InfoCommand.newestTimeline(doc);
        if (newest != null) {
            m.gauge("tidemark_last_archived_timeline", "timeline of the newest archived WAL segment",
                    newest.path("timeline").asLong());
            lsn(newest.path("endLsn")).ifPresent(l -> m.gauge("tidemark_last_archived_end_lsn_bytes",
                    "where the newest archived segment ends (the LSN as a byte position)", l));
            time(newest.path("lastArchivedAt")).ifPresent(t -> m.gauge("tidemark_last_archived_timestamp_seconds",
                    "when the newest segment was archived (Unix time)", t.getEpochSecond()));
        }
        if (lag != null && lag.seconds() != null) {
            m.gauge("tidemark_archive_lag_seconds", "seconds since the newest segment was archived", lag.seconds());
        }
        if (lag != null && lag.bytes() != null) {
            m.gauge("tidemark_archive_lag_bytes", "WAL bytes written by PostgreSQL and not archived yet", lag.bytes());
        }
        lastValidBackup(doc).ifPresent(last -> {
            Labels type = Labels.of("type", last.path("type").asText(""));
            Optional<Instant> start = time(last.path("startTime"));
            Optional<Instant> stop = time(last.path("stopTime"));
            if (stop.isPresent()) {
                m.gauge("tidemark_last_backup_timestamp_seconds", "when the newest valid backup stopped (Unix time)",
                        type, stop.get().getEpochSecond());
                m.gauge("tidemark_last_backup_age_seconds", "seconds since the newest valid backup stopped", type,
                        Math.max(0, Duration.between(stop.get(), now.get()).toSeconds()));
            }
            if (start.isPresent() && stop.isPresent()) {
                m.gauge("tidemark_last_backup_duration_seconds", "how long the newest valid backup ran", type,
                        Duration.between(start.get(), stop.get()).toMillis() / 1000.0);
            }
            if (last.path("storedSize").isNumber()) {
                m.gauge("tidemark_last_backup_stored_bytes", "bytes the newest valid backup stored in S3", type,
                        last.path("storedSize").asLong());
            }
            if (last.path("originalSize").isNumber()) {
                m.gauge("tidemark_last_backup_original_bytes", "size of the data directory it covers", type,
                        last.path("originalSize").asLong());
            }
        });
        JsonNode window = doc.path("window");
        time(window.path("earliest").path("time")).ifPresent(t -> m.gauge("tidemark_window_earliest_timestamp_seconds",
                "earliest restorable time (Unix time)", t.getEpochSecond()));
        time(window.path("latest").path("time")).ifPresent(t -> m.gauge("tidemark_window_latest_timestamp_seconds",
                "latest restorable time (Unix time)", t.getEpochSecond()));
        // gaps between intervals, and WAL missing past the window's end with WAL after it (issue 17)
        m.gauge("tidemark_window_gaps", "breaks in the recovery window",
                window.path("gaps").size() + window.path("breaks").size());
        Map<String, Long> states = new LinkedHashMap<>();
        for (String s : new String[] {"queued", "running", "done", "failed", "skipped-by-replica", "missed"}) {
            states.put(s, 0L);
        }
        for (JsonNode j : doc.path("jobs")) {
            states.merge(j.path("state").asText("?"), 1L, Long::sum);
        }
        GaugeSnapshot.Builder jobs = GaugeSnapshot.builder().name("tidemark_recent_jobs")
                .help("the stanza's newest backup jobs (up to 10) by state");
        states.forEach((state, n) -> jobs.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder()
                .labels(m.stanza.add("state", state)).value(n).build()));
        m.out.metricSnapshot(jobs.build());
        return m.build();
    }

    /** The WAL stream's part: what it received and stored, how far behind the server S3 is. */
    private void streamMetrics(Snapshots m) {
        io.tidemark.shim.stream.StreamCounters s = stream;
        m.gauge("tidemark_stream_up", "1 while this agent holds the stream lease and streams WAL", s.streaming);
        m.counter("tidemark_stream_received_bytes", "WAL bytes received over streaming replication",
                Map.of("", s.bytesStreamed.get()));
        m.counter("tidemark_stream_stored_bytes", "WAL bytes in chunk objects S3 confirmed", Map.of("", s.bytesStored.get()));
        m.counter("tidemark_stream_chunks_stored", "chunk objects S3 confirmed", Map.of("", s.chunksStored.get()));
        m.counter("tidemark_stream_upload_errors", "failed attempts to store a chunk (each retried)",
                Map.of("", s.uploadErrors.get()));
        m.counter("tidemark_stream_slot_lost", "times the replication slot was gone and created again (a gap may exist)",
                Map.of("", s.slotsLost.get()));
        m.counter("tidemark_stream_conflicts", "chunk keys found holding other bytes (never replaced)",
                Map.of("", s.conflicts.get()));
        m.counter("tidemark_stream_reconnects", "streaming connections that ended and were opened again",
                Map.of("", s.reconnects.get()));
        if (s.timeline > 0) {
            m.gauge("tidemark_stream_timeline", "the timeline streamed", s.timeline);
        }
        if (s.storedEnd >= 0) {
            m.gauge("tidemark_stream_stored_end_lsn_bytes", "where the stored chunks end (the LSN as a byte position)",
                    s.storedEnd);
        }
        Instant last = s.lastStoredAt;
        if (last != null) {
            m.gauge("tidemark_stream_last_chunk_age_seconds", "seconds since S3 confirmed the last chunk",
                    Math.max(0, Duration.between(last, now.get()).toMillis() / 1000.0));
        }
        if (s.serverFlush >= 0 && s.storedEnd >= 0) {
            m.gauge("tidemark_stream_lag_bytes", "WAL the server flushed and S3 does not hold yet",
                    Math.max(0, s.serverFlush - s.storedEnd));
        }
    }

    /** The newest valid backup (labels sort by time). */
    private static Optional<JsonNode> lastValidBackup(JsonNode doc) {
        JsonNode last = null;
        for (JsonNode b : doc.path("backups")) {
            if ("valid".equals(b.path("status").asText()) && (last == null
                    || b.path("label").asText().compareTo(last.path("label").asText()) > 0)) {
                last = b;
            }
        }
        return Optional.ofNullable(last);
    }

    private static Optional<Instant> time(JsonNode n) {
        if (!n.isTextual()) {
            return Optional.empty();
        }
        try {
            return Optional.of(Instant.parse(n.asText()));
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
    }

    private static Optional<Long> lsn(JsonNode n) {
        if (!n.isTextual()) {
            return Optional.empty();
        }
        try {
            return Optional.of(Lsn.parse(n.asText()).value());
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** The snapshots of one scrape, every data point labelled with the stanza. */
    private final class Snapshots {
        final Labels stanza = Labels.of("stanza", AgentMetrics.this.stanza);
        final MetricSnapshots.Builder out = MetricSnapshots.builder();

        void gauge(String name, String help, double value) {
            gauge(name, help, Labels.EMPTY, value);
        }

        void gauge(String name, String help, Labels labels, double value) {
            out.metricSnapshot(GaugeSnapshot.builder().name(name).help(help)
                    .dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(stanza.merge(labels))
                            .value(value).build())
                    .build());
        }

        /** A counter ({@code name} without {@code _total}, which the exposition adds) with no label of its own. */
        void counter(String name, String help, Map<String, Long> unlabelled) {
            counter(name, help, null, unlabelled);
        }

        /** A counter with one data point per value of {@code label} (none when {@code label} is null). */
        void counter(String name, String help, String label, Map<String, Long> values) {
            CounterSnapshot.Builder b = CounterSnapshot.builder().name(name).help(help);
            values.forEach((v, n) -> b.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder()
                    .labels(label == null ? stanza : stanza.add(label, v)).value(n).build()));
            out.metricSnapshot(b.build());
        }

        MetricSnapshots build() {
            return out.build();
        }
    }
}
