package io.tidemark.infra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import io.tidemark.events.metrics.TidemarkMetric;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Every alarm of the synthesized template watches a metric somebody publishes: AWS's own
 * (Lambda errors, SQS queue depth), or one of {@link TidemarkMetric}, the definition the functions
 * render their embedded-metric lines from, in its namespace and with exactly its one dimension
 * (an alarm matches a metric only on the exact dimension set). That the functions really emit
 * each of them, with that dimension, is StanzaMetricsLocalCloudTest's part (local-cloud).
 */
@Tag("unit")
class AlarmMetricsTest {

    /** AWS namespaces whose metrics the services publish themselves: metric name -> its dimension. */
    static final Map<String, Map<String, String>> AWS_METRICS = Map.of(
            "AWS/Lambda", Map.of("Errors", "FunctionName"),
            "AWS/SQS", Map.of("ApproximateNumberOfMessagesVisible", "QueueName"));

    /** What the alarm on each metric does with missing data (docs/deploy.md says why). */
    static final Map<TidemarkMetric, String> MISSING_DATA = Map.of(
            TidemarkMetric.ARCHIVE_LAG, "breaching",
            TidemarkMetric.LAST_VALID_BACKUP_AGE, "breaching",
            TidemarkMetric.VERIFY_PROBLEMS, "ignore",
            TidemarkMetric.LAST_CLEAN_VERIFY_AGE, "breaching",
            // no report is no conflict
            TidemarkMetric.HISTORY_CONFLICTS, "notBreaching",
            TidemarkMetric.MANIFESTS_REFUSED, "notBreaching",
            // no chunk superseded with other bytes is no mismatch
            TidemarkMetric.STREAM_MISMATCH, "notBreaching",
            // no chunk indexed (no streaming, a quiet cluster) is no break seen
            TidemarkMetric.STREAM_GAPS, "notBreaching",
            // a failed drill stays in alarm until a drill passes (publishes 0); no drill changes nothing
            TidemarkMetric.DRILL_FAILED, "ignore",
            // published only by a drill that passed: days without one are the alarm (with a drill schedule)
            TidemarkMetric.DRILL_RTO, "breaching");

    /** Published for dashboards and logs, watched by no alarm (the issue asks for none). */
    static final java.util.Set<TidemarkMetric> NOT_ALARMED = java.util.EnumSet.of(TidemarkMetric.BACKUPS_EXPIRED,
            TidemarkMetric.BACKUPS_HELD_BACK, TidemarkMetric.FUTURE_WAL_TIMES,
            // published with each streamed chunk; a stream that stops is ArchiveLagSeconds' alarm (issue 17)
            TidemarkMetric.STREAM_LAG);

    static Synth synth;
    static final List<String> STANZAS = List.of("main", "reports");

    @BeforeAll
    static void synthesize() {
        Map<String, Object> ctx = new HashMap<>();
        ctx.put("stanzas", STANZAS);
        ctx.put("verifySchedule", "cron(0 4 * * ? *)"); // with it, the verify alarms exist too
        ctx.put("drillSchedule", "cron(0 5 ? * SUN,WED *)"); // with it, the no-drill alarm exists too
        ctx.put("archiveLagAlarmSeconds", 290); // not whole minutes: the lag period rounds up
        synth = Synth.of(ctx);
    }

    @Test
    void everyAlarmWatchesAMetricThatIsPublished() {
        Map<String, JsonNode> alarms = synth.ofType("AWS::CloudWatch::Alarm");
        assertFalse(alarms.isEmpty());
        Map<String, Set<TidemarkMetric>> watchedPerStanza = new TreeMap<>();
        alarms.forEach((id, alarm) -> {
            JsonNode p = alarm.path("Properties");
            if (p.has("Metrics")) {
                fail(id + " is an alarm on metric math, which this test does not check yet: " + p.path("Metrics"));
            }
            String namespace = p.path("Namespace").asText();
            String name = p.path("MetricName").asText();
            Map<String, JsonNode> dimensions = new LinkedHashMap<>();
            p.path("Dimensions").forEach(d -> dimensions.put(d.path("Name").asText(), d.path("Value")));
            if (AWS_METRICS.containsKey(namespace)) {
                String dimension = AWS_METRICS.get(namespace).get(name);
                assertTrue(dimension != null, id + " watches " + namespace + " " + name + ", which the stack does not expect");
                assertEquals(Set.of(dimension), dimensions.keySet(), id + ": dimensions of " + namespace + " " + name);
                return;
            }
            assertEquals(TidemarkMetric.NAMESPACE, namespace, id + " watches a namespace nothing publishes to");
            TidemarkMetric metric = TidemarkMetric.named(name).orElseThrow(() -> new AssertionError(
                    id + " watches " + namespace + " " + name + ", which no function publishes (TidemarkMetric)"));
            assertEquals(Set.of(TidemarkMetric.DIMENSION), dimensions.keySet(),
                    id + ": the functions publish " + name + " with the one dimension " + TidemarkMetric.DIMENSION);
            String stanza = dimensions.get(TidemarkMetric.DIMENSION).asText();
            assertTrue(STANZAS.contains(stanza), id + " watches stanza " + stanza);
            assertEquals(MISSING_DATA.get(metric), p.path("TreatMissingData").asText(), id + ": missing data");
            if (metric == TidemarkMetric.ARCHIVE_LAG) {
                // Missing data is breaching: one period without a point must mean lag above the threshold.
                assertTrue(p.path("Period").asInt() >= p.path("Threshold").asDouble()
                        && p.path("Period").asInt() % 60 == 0, id + ": period " + p.path("Period")
                        + " for a threshold of " + p.path("Threshold"));
            }
            watchedPerStanza.computeIfAbsent(stanza, s -> EnumSet.noneOf(TidemarkMetric.class)).add(metric);
        });
        // And the other way round: each stanza has an alarm on each metric the functions publish.
        for (String stanza : STANZAS) {
            EnumSet<TidemarkMetric> alarmed = EnumSet.allOf(TidemarkMetric.class);
            alarmed.removeAll(NOT_ALARMED);
            assertEquals(alarmed, watchedPerStanza.get(stanza), "alarms of stanza " + stanza);
        }
    }
}
