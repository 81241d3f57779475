package io.tidemark.infra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The drill schedule (issue 18): off unless {@code drillSchedule} is set; then one schedule per
 * stanza giving the backup scheduler a drill input, and an alarm per stanza when no drill passed
 * within {@code drillAlarmDays} (DrillRtoSeconds missing is breaching).
 */
class DrillScheduleStackTest {

    private static Synth synth(Map<String, Object> extra) {
        Map<String, Object> ctx = new HashMap<>(extra);
        ctx.put("stanzas", List.of("main", "reports"));
        return Synth.of(ctx);
    }

    private static List<String> drillInputs(Synth s) {
        return s.ofType("AWS::Scheduler::Schedule").values().stream()
                .map(n -> n.path("Properties").path("Target").path("Input").asText())
                .filter(i -> i.contains("\"type\":\"drill\"")).sorted().toList();
    }

    @Test
    void offUnlessConfiguredThenOneDrillScheduleAndOneNoDrillAlarmPerStanza() {
        Synth off = synth(Map.of());
        assertEquals(List.of(), drillInputs(off));
        assertTrue(off.ofType("AWS::CloudWatch::Alarm").keySet().stream().noneMatch(k -> k.startsWith("DrillMissingAlarm")));

        Synth on = synth(Map.of("drillSchedule", "cron(0 5 ? * SUN,WED *)", "drillAlarmDays", 4));
        assertEquals(List.of("{\"stanza\":\"main\",\"type\":\"drill\"}", "{\"stanza\":\"reports\",\"type\":\"drill\"}"),
                drillInputs(on));
        on.ofType("AWS::Scheduler::Schedule").values().stream()
                .filter(n -> n.path("Properties").path("Target").path("Input").asText().contains("\"type\":\"drill\""))
                .forEach(n -> assertEquals("cron(0 5 ? * SUN,WED *)", n.path("Properties").path("ScheduleExpression").asText()));
        Map<String, JsonNode> alarms = on.ofType("AWS::CloudWatch::Alarm");
        List<JsonNode> missing = alarms.entrySet().stream().filter(e -> e.getKey().startsWith("DrillMissingAlarm"))
                .map(e -> e.getValue().path("Properties")).toList();
        assertEquals(2, missing.size(), alarms.keySet().toString());
        for (JsonNode p : missing) {
            assertEquals("DrillRtoSeconds", p.path("MetricName").asText());
            assertEquals("SampleCount", p.path("Statistic").asText());
            assertEquals(86400, p.path("Period").asInt());
            assertEquals(4, p.path("EvaluationPeriods").asInt());
            assertEquals(4, p.path("DatapointsToAlarm").asInt());
            assertEquals("LessThanThreshold", p.path("ComparisonOperator").asText());
            assertEquals("breaching", p.path("TreatMissingData").asText());
        }
    }

    @Test
    void aBadDrillScheduleOrIntervalIsRefusedNamingIt() {
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> TidemarkConfig.fromContext(Map.<String, Object>of("stanzas", "main", "drillSchedule", "weekly",
                        "drillAlarmDays", 8)::get));
        assertTrue(e.getMessage().contains("drillSchedule='weekly' is neither off nor"), e.getMessage());
        assertTrue(e.getMessage().contains("drillAlarmDays"), e.getMessage());
    }
}
