package io.tidemark.functions.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.events.layout.StanzaName;
import io.tidemark.functions.catalog.InMemoryCatalogStore;
import io.tidemark.functions.catalog.Item;
import io.tidemark.functions.catalog.Keys;
import io.tidemark.functions.job.Job;
import io.tidemark.functions.job.JobMessage;
import io.tidemark.functions.job.JobService;
import io.tidemark.functions.job.JobState;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The drill schedule's input issues a drill job, delivered as backup jobs are; a backup
 * schedule's input never does; a drill job running long without a backup lease is not settled as
 * abandoned (a drill takes no backup lease).
 */
@Tag("unit")
class DrillScheduleTest {
    private static final Instant T0 = Instant.parse("2026-12-06T03:00:00Z");
    private final InMemoryCatalogStore store = new InMemoryCatalogStore();
    private final List<Job> delivered = new ArrayList<>();

    private BackupScheduler scheduler(Instant at) {
        store.put(Item.of(Keys.pk(StanzaName.of("main")), Keys.META, Map.of("kind", "stanza")).withRevision(), null);
        return new BackupScheduler(store, delivered::add, Clock.fixed(at, ZoneOffset.UTC));
    }

    private static ScheduleInput input(String json) {
        return ScheduleInput.parse(json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aDrillScheduleIssuesADrillJobAndABackupScheduleDoesNot() {
        BackupScheduler s = scheduler(T0);
        BackupScheduler.Scheduled drill = s.schedule(input("{\"stanza\":\"main\",\"type\":\"drill\",\"deadlineMinutes\":120}"));
        assertEquals("drill", drill.job().type());
        assertTrue(drill.job().drill());
        assertEquals(JobState.QUEUED, drill.job().state());
        assertEquals(T0.plusSeconds(7200), drill.job().deadline());
        assertEquals(List.of(drill.job()), delivered);
        assertTrue(JobMessage.of(delivered.get(0)).contains("\"type\":\"drill\""), JobMessage.of(delivered.get(0)));

        BackupScheduler.Scheduled backup = s.schedule(input("{\"stanza\":\"main\"}"));
        assertEquals("full", backup.job().type(), "no backup yet: the policy's full, not a drill");
        assertEquals(2, delivered.size());
        assertTrue(delivered.stream().filter(Job::drill).count() == 1, "exactly one drill job: " + delivered);
    }

    @Test
    void aRunningDrillJobWithoutABackupLeaseIsNotSettledAsAbandoned() {
        BackupScheduler s = scheduler(T0);
        Job job = s.schedule(input("{\"stanza\":\"main\",\"type\":\"drill\"}")).job();
        JobService at0 = new JobService(store, Clock.fixed(T0, ZoneOffset.UTC));
        at0.claim("main", job.id(), "{\"holder\":\"db2:42\"}".getBytes(StandardCharsets.UTF_8));
        // an hour later, no backup lease anywhere: a backup job would be failed here; a drill runs on
        JobService later = new JobService(store, Clock.fixed(T0.plusSeconds(3600), ZoneOffset.UTC));
        Job listed = later.recent("main", 10).get(0);
        assertEquals(JobState.RUNNING, listed.state(), "a drill job is not abandoned for want of a lease: " + listed);
        Job done = later.report("main", job.id(), ("{\"holder\":\"db2:42\",\"result\":\"done\",\"label\":\"20261206-010000F\","
                + "\"durationMs\":36200}").getBytes(StandardCharsets.UTF_8));
        assertEquals(JobState.DONE, done.state());
        assertEquals("20261206-010000F", done.label());
    }
}
