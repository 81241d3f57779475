package io.tidemark.localcloud;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.events.layout.StanzaName;
import io.tidemark.functions.job.Job;
import io.tidemark.functions.job.JobDelivery;
import io.tidemark.functions.verify.VerifyEvent;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Calls between functions through local-cloud's in-process stand-ins, judged by the caller's role. */
@Tag("unit")
class InProcessCallGateTest {

    private final RulesPolicy policy = new RulesPolicy("tidemark", "tidemark")
            .allow("function/WalIndex", "lambda:InvokeFunction", "*:function:Retention:*")
            .allow("function/VerifyApi", "sqs:SendMessage", "*:tidemark-verify")
            .allow("function/BackupScheduler", "sqs:SendMessage", "*:tidemark-jobs-main");
    private final Enforcement enforcement = new Enforcement(policy, policy,
            new SessionKeys(Duration.ofMinutes(45), Duration.ofMinutes(60), Clock.systemUTC()));
    private final InProcessCallGate gate = new InProcessCallGate();

    @Test
    void retentionIsStartedOnlyByARoleAllowedToInvokeIt() {
        gate.bind(enforcement);
        List<String> runs = new ArrayList<>();
        gate.retention((s, label) -> runs.add(label), "WalIndex").backupValid(StanzaName.of("main"), "b1");
        gate.retention((s, label) -> runs.add(label), "ManifestValidate").backupValid(StanzaName.of("main"), "b2");
        assertEquals(List.of("b1"), runs); // the refused invoke is logged and skipped, as a 403 from Lambda is
        Denial d = enforcement.denials().getLast();
        assertEquals("lambda:InvokeFunction", d.action());
        assertEquals(policy.functionInvokeArn("Retention"), d.resource());
        assertTrue(d.principal().startsWith("function/ManifestValidate"), d.toString());
    }

    @Test
    void verifyWorkIsSentOnlyByARoleAllowedToSendToTheQueue() {
        gate.bind(enforcement);
        List<VerifyEvent> sent = new ArrayList<>();
        VerifyEvent plan = new VerifyEvent.Plan(StanzaName.of("main"), "run-1");
        gate.verify(sent::add, "VerifyApi").dispatch(plan);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> gate.verify(sent::add, "Verify").dispatch(plan));
        assertTrue(e.getMessage().contains("is not authorized to perform: sqs:SendMessage on resource: "
                + policy.verifyQueueArn()), e.getMessage());
        assertEquals(List.of(plan), sent);
    }

    @Test
    void jobsAreDeliveredOnlyToQueuesTheSchedulerMaySendTo() {
        gate.bind(enforcement);
        List<String> delivered = new ArrayList<>();
        JobDelivery jobs = gate.jobs(job -> delivered.add(job.stanza()), "BackupScheduler");
        Instant now = Instant.now();
        jobs.deliver(Job.queued("main", "backup", "schedule", now, now.plusSeconds(60)));
        JobDelivery.JobDeliveryException e = assertThrows(JobDelivery.JobDeliveryException.class,
                () -> jobs.deliver(Job.queued("other", "backup", "schedule", now, now.plusSeconds(60))));
        assertTrue(e.getMessage().contains(policy.jobQueueArn("other")), e.getMessage());
        assertEquals(List.of("main"), delivered);
    }

    @Test
    void withoutEnforcementNothingIsJudged() {
        List<String> runs = new ArrayList<>();
        gate.retention((s, label) -> runs.add(label), "ManifestValidate").backupValid(StanzaName.of("main"), "b");
        assertEquals(List.of("b"), runs);
        assertTrue(enforcement.denials().isEmpty());
    }
}
