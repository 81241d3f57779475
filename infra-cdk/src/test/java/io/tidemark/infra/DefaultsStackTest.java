package io.tidemark.infra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import software.amazon.awscdk.assertions.Annotations;
import software.amazon.awscdk.assertions.Match;

/**
 * A second synthesis with the smallest context ({@code -c stanzas=main} as a string, as the CLI
 * passes it): defaults (Object Lock in governance mode for 7 days), an alarm e-mail, and cdk-nag still clean.
 */
@Tag("unit")
class DefaultsStackTest {

    static Synth synth;

    @BeforeAll
    static void synthesize() {
        synth = Synth.of(Map.of("stanzas", "main", "alarmEmail", "dba@example.com"));
    }

    @Test
    void objectLockInGovernanceModeForSevenDaysByDefault() {
        String bucket = synth.logicalId(synth.stack.bucket());
        JsonNode p = synth.resources().path(bucket).path("Properties");
        assertTrue(p.path("ObjectLockEnabled").asBoolean());
        JsonNode retention = p.path("ObjectLockConfiguration").path("Rule").path("DefaultRetention");
        assertEquals("GOVERNANCE", retention.path("Mode").asText());
        assertEquals(7, retention.path("Days").asInt());
    }

    @Test
    void objectLockCanBeTurnedOff() {
        Synth off = Synth.of(Map.of("stanzas", "main", "objectLock", "off"));
        JsonNode p = off.resources().path(off.logicalId(off.stack.bucket())).path("Properties");
        assertTrue(p.path("ObjectLockEnabled").isMissingNode());
        assertTrue(p.path("ObjectLockConfiguration").isMissingNode());
    }

    @Test
    void plansLiveOneHourAndTheS3FunctionsReserveConcurrencyByDefault() {
        synth.ofType("AWS::Lambda::Function").values().forEach(fn -> {
            JsonNode p = fn.path("Properties");
            String handler = p.path("Handler").asText();
            if (handler.equals(Handlers.RESTORE_PLAN)) {
                assertEquals("60", p.path("Environment").path("Variables").path("TIDEMARK_PLAN_TTL_MINUTES").asText());
            }
            if (handler.equals(Handlers.WAL_INDEX)) {
                assertEquals(20, p.path("ReservedConcurrentExecutions").asInt());
            }
            if (handler.equals(Handlers.MANIFEST_VALIDATE)) {
                assertEquals(5, p.path("ReservedConcurrentExecutions").asInt());
            }
        });
    }

    @Test
    void defaultLifecycleAndSchedules() {
        String bucket = synth.logicalId(synth.stack.bucket());
        boolean abort = false;
        for (JsonNode r : synth.resources().path(bucket).path("Properties").path("LifecycleConfiguration").path("Rules")) {
            abort |= r.path("AbortIncompleteMultipartUpload").path("DaysAfterInitiation").asInt() == 3;
        }
        assertTrue(abort);
        List<String> expressions = new ArrayList<>();
        synth.ofType("AWS::Scheduler::Schedule").values()
                .forEach(s -> expressions.add(s.path("Properties").path("ScheduleExpression").asText()));
        // One daily backup schedule whose type the scheduler's policy decides, the daily retention and
        // verify, the stanza metrics every 5 minutes.
        assertEquals(List.of("cron(0 1 * * ? *)", "cron(0 4 * * ? *)", "cron(30 3 * * ? *)", "rate(5 minutes)"),
                expressions.stream().sorted().toList());
    }

    @Test
    void alarmEmailIsSubscribed() {
        Map<String, JsonNode> subs = synth.ofType("AWS::SNS::Subscription");
        assertEquals(1, subs.size());
        JsonNode p = subs.values().iterator().next().path("Properties");
        assertEquals("email", p.path("Protocol").asText());
        assertEquals("dba@example.com", p.path("Endpoint").asText());
    }

    @Test
    void cdkNagClean() {
        Annotations a = Annotations.fromStack(synth.stack);
        List<String> findings = new ArrayList<>();
        a.findError("*", Match.anyValue()).forEach(m -> findings.add(m.getId() + ": " + m.getEntry().getData()));
        a.findWarning("*", Match.anyValue()).forEach(m -> findings.add(m.getId() + ": " + m.getEntry().getData()));
        assertTrue(findings.isEmpty(), String.join("\n", findings));
        assertFalse(synth.ofType("AWS::Lambda::Function").isEmpty());
    }
}
