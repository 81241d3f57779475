package io.tidemark.functions.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.metrics.TidemarkMetric;
import io.tidemark.functions.CloudFixture;
import io.tidemark.functions.aws.S3ObjectStore;
import io.tidemark.functions.index.TestWal;
import io.tidemark.functions.runtime.FunctionLog;
import io.tidemark.functions.validate.TestBackup;
import io.tidemark.localcloud.LocalMetrics;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The metrics the stack's alarms watch, emitted by the real handlers on real S3 events and
 * schedules in the local cloud, collected as CloudWatch would extract them from the functions'
 * embedded-metric lines: archive lag per archived segment (indexer), backup age per valid backup
 * (validator), verify's two after a whole-stanza run, and both health metrics from the scheduled
 * publisher, which keeps the lag growing while no WAL arrives. Also: function log lines are JSON
 * with function, request id and stanza.
 */
@Tag("localcloud")
class StanzaMetricsLocalCloudTest {

    @TempDir
    static Path dir;
    static CloudFixture f;
    static S3ObjectStore bucket;
    static final TestWal WAL = new TestWal(4, Set.of(1));

    @BeforeAll
    static void start() throws Exception {
        // The scheduled publisher as an operator configures it: every second for "idle" (the stack
        // would say every minute), and a schedule for a stanza nobody created, run by hand.
        Files.writeString(dir.resolve("schedules.json"), "{\"schedules\": ["
                + "{\"name\": \"metrics-idle\", \"function\": \"stanza-metrics\", \"every\": \"1s\","
                + " \"input\": {\"stanza\": \"idle\"}},"
                + "{\"name\": \"metrics-ghost\", \"function\": \"stanza-metrics\", \"dailyAt\": \"03:00\","
                + " \"input\": {\"stanza\": \"ghost\"}}]}");
        f = new CloudFixture(dir);
        bucket = new S3ObjectStore(f.aws.s3(), f.cloud.bucket());
    }

    @AfterAll
    static void stop() {
        if (f != null) {
            f.close();
        }
    }

    static void createStanza(String stanza) throws Exception {
        f.createStanza(stanza);
    }

    static void uploadWal(String stanza, int... indexes) {
        for (int i : indexes) {
            f.uploadWal(stanza, WAL, i);
        }
    }

    static List<LocalMetrics.DataPoint> points(TidemarkMetric m, String stanza) {
        return f.cloud.metrics().of(TidemarkMetric.NAMESPACE, m.metricName(), Map.of(TidemarkMetric.DIMENSION, stanza));
    }

    static List<LocalMetrics.DataPoint> points(TidemarkMetric m, String stanza, String function) {
        return points(m, stanza).stream().filter(p -> p.function().equals(function)).toList();
    }

    /** Polls {@code condition} until it holds (a condition awaited, not a fixed sleep). */
    static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + timeout + ": " + what);
            }
            Thread.sleep(50);
        }
    }

    @Test
    void everyMetricAnAlarmWatchesIsEmittedWithTheStanzaDimensionAndASensibleValue() throws Exception {
        String stanza = "main";
        createStanza(stanza);
        Instant beforeWal = Instant.now();
        uploadWal(stanza, 0, 1, 2, 3);
        f.quiesce();
        long walSeconds = Duration.between(beforeWal, Instant.now()).toSeconds() + 1;
        List<LocalMetrics.DataPoint> lag = points(TidemarkMetric.ARCHIVE_LAG, stanza, "wal-indexer");
        assertFalse(lag.isEmpty(), "the indexer published no archive lag: " + f.cloud.metrics().all());
        for (LocalMetrics.DataPoint p : lag) {
            // The newest segment arrived during the upload: the lag is at most the upload's duration.
            assertTrue(p.value() >= 0 && p.value() <= walSeconds, p.toString());
            assertEquals("Seconds", p.unit());
        }

        TestBackup b = TestBackup.full(StanzaName.of(stanza), TestBackup.fullLabel(1), TestBackup.files("m"));
        Instant beforeBackup = Instant.now();
        b.upload(bucket);
        f.quiesce();
        Instant afterBackup = Instant.now();
        JsonNode doc = f.call("GET", "/stanzas/" + stanza, null).json();
        JsonNode backup = doc.get("backups").get(0);
        assertEquals("valid", backup.get("status").asText(), doc.toString());
        Instant stop = Instant.parse(backup.get("stopTime").asText());
        List<LocalMetrics.DataPoint> age = points(TidemarkMetric.LAST_VALID_BACKUP_AGE, stanza, "manifest-validator");
        // One valid backup, one manifest event: one data point, that backup's age when published.
        assertEquals(1, age.size(), "backup age points: " + age + " (all: " + f.cloud.metrics().all() + ")");
        for (LocalMetrics.DataPoint p : age) {
            assertTrue(p.value() >= Duration.between(stop, beforeBackup).toSeconds()
                    && p.value() <= Duration.between(stop, afterBackup).toSeconds() + 1,
                    p + " for a backup stopped at " + stop + " (all: " + age + ")");
        }

        CloudFixture.Answer started = f.call("POST", "/stanzas/" + stanza + "/verify", "{}");
        assertEquals(202, started.status(), String.valueOf(started.json()));
        f.quiesce();
        List<LocalMetrics.DataPoint> problems = points(TidemarkMetric.VERIFY_PROBLEMS, stanza, "verify");
        assertEquals(1, problems.size(), String.valueOf(problems));
        assertEquals(0, problems.get(0).value());
        List<LocalMetrics.DataPoint> clean = points(TidemarkMetric.LAST_CLEAN_VERIFY_AGE, stanza, "verify");
        assertEquals(1, clean.size(), String.valueOf(clean));
        assertEquals(0, clean.get(0).value(), "a clean run: its own age");

        // A node's report of a re-push it refused (archive-push, backup): one HistoryConflicts point.
        CloudFixture.Answer reported = f.call("POST", "/stanzas/" + stanza + "/conflicts", "{\"key\":\"" + stanza
                + "/wal/0000000100000000/000000010000000000000001.zst\",\"existingSha256\":\"" + "a".repeat(64)
                + "\",\"newSha256\":\"" + "b".repeat(64) + "\"}");
        assertEquals(202, reported.status(), String.valueOf(reported.json()));
        List<LocalMetrics.DataPoint> conflicts = points(TidemarkMetric.HISTORY_CONFLICTS, stanza, "catalog");
        assertEquals(1, conflicts.size(), String.valueOf(conflicts));
        assertEquals(1, conflicts.get(0).value());

        // A manifest that cannot be true (labelled a year after it was uploaded): refused, alarmed.
        java.time.LocalDateTime future = java.time.LocalDateTime.now(java.time.ZoneOffset.UTC).plusYears(1)
                .withNano(0);
        TestBackup fake = TestBackup.build(StanzaName.of(stanza), io.tidemark.events.layout.BackupLabelName.full(future),
                null, TestBackup.files("f"), TestBackup.START, TestBackup.STOP, io.tidemark.events.wal.TimelineId.FIRST,
                future.toInstant(java.time.ZoneOffset.UTC).plusSeconds(30));
        fake.upload(bucket);
        f.quiesce();
        List<LocalMetrics.DataPoint> refused = points(TidemarkMetric.MANIFESTS_REFUSED, stanza, "manifest-validator");
        assertEquals(1, refused.size(), "ManifestsRefused: " + refused + " (all: " + f.cloud.metrics().all() + ")");
        assertEquals(1, refused.get(0).value(), refused.toString());

        // A second, different manifest for the validated label: refused, one conflict counted.
        TestBackup other = TestBackup.full(StanzaName.of(stanza), TestBackup.fullLabel(1), TestBackup.files("n"));
        other.uploadManifest(bucket, other.manifestBytes());
        f.quiesce();
        List<LocalMetrics.DataPoint> seen = points(TidemarkMetric.HISTORY_CONFLICTS, stanza, "manifest-validator");
        assertEquals(1, seen.size(), String.valueOf(seen));
        assertEquals(1, seen.get(0).value());
        assertEquals("Count", seen.get(0).unit());
        assertEquals("valid", f.call("GET", "/stanzas/" + stanza, null).json().get("backups").get(0).get("status")
                .asText());

        // Restore drills a node records (tidemark drill): DrillFailed 0 and the RTO for one that passed,
        // DrillFailed 1 for one that failed; the list answers newest first, the stanza carries the last.
        String passed = "{\"drillId\":\"20261206T010000Z-0000000a\",\"node\":\"db2:42\",\"startedAt\":"
                + "\"2026-12-06T01:00:00Z\",\"result\":\"passed\",\"target\":\"latest\",\"backup\":\""
                + TestBackup.fullLabel(1) + "\",\"bytes\":1000,\"filesRestoredMs\":1000,\"consistentMs\":2000,"
                + "\"promotedMs\":3400,\"checks\":[{\"name\":\"target\",\"status\":\"passed\",\"message\":\"ok\"}]}";
        CloudFixture.Answer drill = f.call("POST", "/stanzas/" + stanza + "/drills", passed);
        assertEquals(201, drill.status(), String.valueOf(drill.json()));
        assertEquals(201, f.call("POST", "/stanzas/" + stanza + "/drills", passed).status(), "a retried report is no error");
        String failed = passed.replace("0000000a", "0000000b").replace("T010000Z", "T020000Z")
                .replace("\"result\":\"passed\"", "\"result\":\"failed\"").replace("\"promotedMs\":3400", "\"promotedMs\":null")
                .replace("\"status\":\"passed\",\"message\":\"ok\"", "\"status\":\"failed\",\"message\":\"damaged\"");
        assertEquals(201, f.call("POST", "/stanzas/" + stanza + "/drills", failed).status());
        assertEquals(409, f.call("POST", "/stanzas/" + stanza + "/drills", failed.replace("damaged", "other")).status(),
                "the same drill with other results");
        assertEquals(400, f.call("POST", "/stanzas/" + stanza + "/drills", passed.replace("\"status\":\"passed\"",
                "\"status\":\"failed\"")).status(), "a result that disagrees with its checks");
        List<LocalMetrics.DataPoint> drillFailed = points(TidemarkMetric.DRILL_FAILED, stanza, "catalog");
        assertEquals(List.of(0.0, 1.0), drillFailed.stream().map(p -> (double) p.value()).toList(), String.valueOf(drillFailed));
        List<LocalMetrics.DataPoint> rto = points(TidemarkMetric.DRILL_RTO, stanza, "catalog");
        assertEquals(1, rto.size(), String.valueOf(rto));
        assertEquals(3, rto.get(0).value(), "3.4 s, in whole seconds");
        JsonNode drills = f.call("GET", "/stanzas/" + stanza + "/drills", null).json().get("drills");
        assertEquals(2, drills.size(), drills.toString());
        assertEquals("20261206T020000Z-0000000b", drills.get(0).get("drillId").asText(), "newest first");
        assertEquals("20261206T020000Z-0000000b", f.call("GET", "/stanzas/" + stanza, null).json().get("lastDrill")
                .get("drillId").asText());

        // Every metric the alarms watch (AlarmMetricsTest: every alarm watches one of these) was seen;
        // FutureWalTimes (no alarm) only when a segment carries commit times ahead of its arrival;
        // the streamed-WAL metrics only with streamed chunks (StreamedChunksTest in functions,
        // StreamedWalRestoreCloudTest in node-shim, through this collector).
        for (TidemarkMetric m : TidemarkMetric.values()) {
            if (m == TidemarkMetric.FUTURE_WAL_TIMES || m == TidemarkMetric.STREAM_LAG
                    || m == TidemarkMetric.STREAM_MISMATCH || m == TidemarkMetric.STREAM_GAPS) {
                continue;
            }
            assertFalse(points(m, stanza).isEmpty(), m + " was never emitted for " + stanza);
        }
        assertEquals(List.of(), f.cloud.metrics().rejected(), "every line was valid EMF");

        // The read-only listing over the local API.
        CloudFixture.Answer listed = f.call("GET", "/local/metrics?stanza=" + stanza + "&name=VerifyProblems", null);
        assertEquals(200, listed.status());
        assertEquals(1, listed.json().get("points").size(), listed.json().toString());
        JsonNode point = listed.json().get("points").get(0);
        assertEquals("Tidemark", point.get("namespace").asText());
        assertEquals(stanza, point.get("dimensions").get("Stanza").asText());
        assertEquals("verify", point.get("function").asText());
    }

    @Test
    void theArchiveLagGrowsWhileNoWalArrivesAndDropsWhenItDoes() throws Exception {
        String stanza = "idle";
        Instant created = Instant.now();
        createStanza(stanza);
        uploadWal(stanza, 0);
        f.quiesce();
        Instant archived = Instant.now();
        assertFalse(points(TidemarkMetric.ARCHIVE_LAG, stanza, "wal-indexer").isEmpty());

        // No WAL now: the scheduled publisher's lag climbs past 5 s.
        await("the scheduled lag of 'idle' reaches 5 s", Duration.ofSeconds(30), () ->
                points(TidemarkMetric.ARCHIVE_LAG, stanza, "stanza-metrics").stream().anyMatch(p -> p.value() >= 5));
        List<LocalMetrics.DataPoint> scheduled = points(TidemarkMetric.ARCHIVE_LAG, stanza, "stanza-metrics");
        List<Double> after = new ArrayList<>();
        scheduled.stream().filter(p -> !p.timestamp().isBefore(archived)).forEach(p -> after.add(p.value()));
        assertTrue(after.size() >= 2, "scheduled points since the segment: " + scheduled);
        for (int i = 1; i < after.size(); i++) {
            assertTrue(after.get(i) >= after.get(i - 1), "the lag never shrinks while nothing arrives: " + after);
        }
        assertTrue(after.getLast() > after.getFirst(), "the lag grows while nothing arrives: " + after);
        // The same run publishes the backup age: none valid, so the age of the stanza.
        List<LocalMetrics.DataPoint> age = points(TidemarkMetric.LAST_VALID_BACKUP_AGE, stanza, "stanza-metrics");
        assertFalse(age.isEmpty());
        long sinceCreated = Duration.between(created, Instant.now()).toSeconds();
        assertTrue(age.getLast().value() >= 5 && age.getLast().value() <= sinceCreated + 1,
                age.getLast() + ", the stanza is " + sinceCreated + " s old");

        // A segment arrives: the indexer's lag counts from it, not from the first segment (at least
        // 5 s older), and so does the schedule's next one. Bounded by the time since the upload
        // began, not by a constant: on a loaded machine indexing a segment alone took 5 s.
        Instant uploading = Instant.now();
        uploadWal(stanza, 1);
        f.quiesce();
        long sinceUpload = Duration.between(uploading, Instant.now()).toSeconds() + 1;
        List<LocalMetrics.DataPoint> indexed = points(TidemarkMetric.ARCHIVE_LAG, stanza, "wal-indexer");
        assertTrue(indexed.getLast().value() <= sinceUpload, indexed + ", uploaded " + sinceUpload + " s ago");
        int indexedAt = points(TidemarkMetric.ARCHIVE_LAG, stanza, "stanza-metrics").size();
        await("a scheduled point after the new segment was indexed", Duration.ofSeconds(10), () ->
                points(TidemarkMetric.ARCHIVE_LAG, stanza, "stanza-metrics").size() > indexedAt);
        List<LocalMetrics.DataPoint> latest = points(TidemarkMetric.ARCHIVE_LAG, stanza, "stanza-metrics");
        long sinceUploadNow = Duration.between(uploading, Instant.now()).toSeconds() + 1;
        assertTrue(latest.get(indexedAt).value() <= sinceUploadNow, latest + ", uploaded " + sinceUploadNow + " s ago");
    }

    @Test
    void aScheduleForAStanzaNobodyCreatedPublishesNothing() throws Exception {
        String answer = f.cloud.runSchedule("metrics-ghost");
        JsonNode out = CloudFixture.MAPPER.readTree(answer);
        assertFalse(out.get("published").asBoolean(), answer);
        assertEquals("no stanza 'ghost'", out.get("reason").asText());
        for (TidemarkMetric m : TidemarkMetric.values()) {
            assertEquals(List.of(), points(m, "ghost"));
        }
    }

    @Test
    void functionLogLinesAreJsonWithFunctionRequestIdAndStanza() throws Exception {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        Handler json = FunctionLog.jsonHandler(new PrintStream(buffer, true, StandardCharsets.UTF_8));
        json.setLevel(Level.ALL);
        Logger functions = Logger.getLogger("io.tidemark.functions");
        Level previous = functions.getLevel();
        functions.addHandler(json);
        functions.setLevel(Level.FINE);
        try {
            createStanza("logs");
            uploadWal("logs", 0, 1);
            f.quiesce();
        } finally {
            functions.removeHandler(json);
            functions.setLevel(previous);
        }
        List<JsonNode> lines = new ArrayList<>();
        for (String line : buffer.toString(StandardCharsets.UTF_8).split("\n")) {
            lines.add(CloudFixture.MAPPER.readTree(line)); // every line is one JSON object
        }
        assertFalse(lines.isEmpty());
        for (JsonNode l : lines) {
            assertTrue(l.path("level").isTextual() && l.path("message").isTextual() && l.path("timestamp").isTextual(),
                    l.toString());
        }
        List<JsonNode> indexer = lines.stream().filter(l -> "wal-indexer".equals(l.path("function").asText())
                && "logs".equals(l.path("stanza").asText())).toList();
        assertFalse(indexer.isEmpty(), "no indexer line for stanza logs among " + lines);
        for (JsonNode l : indexer) {
            assertTrue(l.path("requestId").asText().matches("[0-9a-f-]{36}"), l.toString());
        }
        // One invocation per object (stanza.json, two segments), each with its own request id.
        assertEquals(3, indexer.stream().map(l -> l.path("requestId").asText()).distinct().count(), indexer.toString());
        assertEquals(2, indexer.stream().filter(l -> l.path("message").asText().contains("/wal/"))
                .map(l -> l.path("requestId").asText()).distinct().count(), indexer.toString());
    }
}
