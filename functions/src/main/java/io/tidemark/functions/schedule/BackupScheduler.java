package io.tidemark.functions.schedule;

import io.tidemark.events.layout.StanzaName;
import io.tidemark.functions.catalog.BackupEntry;
import io.tidemark.functions.catalog.CatalogException;
import io.tidemark.functions.catalog.CatalogStore;
import io.tidemark.functions.catalog.Item;
import io.tidemark.functions.catalog.Keys;
import io.tidemark.functions.job.Job;
import io.tidemark.functions.job.JobDelivery;
import io.tidemark.functions.job.JobService;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;

/**
 * One schedule run: decide the backup type from the catalog ({@link BackupDecision}), settle the
 * stanza's overdue jobs, record the new job ({@code queued}) and deliver it to the nodes. A job
 * that cannot be delivered is marked failed with why, and the run fails (so the invocation is
 * retried, then parked in the failure queue).
 *
 * <p>A drill schedule's input ({@code "type": "drill"}) issues a restore drill job the same way:
 * same job item, same queue, the type {@code drill}; the agents allowed to drill claim it
 * (docs/drills.md#scheduled-drills). It does not depend on the backups: a stanza with none gets
 * the drill anyway, which then fails and says so (no silent gap in the drill record).
 */
public final class BackupScheduler {

    private final CatalogStore store;
    private final JobService jobs;
    private final JobDelivery delivery;
    private final Clock clock;

    public BackupScheduler(CatalogStore store, JobDelivery delivery, Clock clock) {
        this.store = store;
        this.jobs = new JobService(store, clock);
        this.delivery = delivery;
        this.clock = clock;
    }

    public record Scheduled(Job job, BackupDecision decision) {
    }

    public Scheduled schedule(ScheduleInput input) {
        StanzaName stanza = input.stanza();
        String pk = Keys.pk(stanza);
        if (store.get(pk, Keys.META).isEmpty()) {
            throw new CatalogException(CatalogException.Kind.NOT_FOUND, "no stanza '" + stanza
                    + "': run tidemark stanza-create before scheduling its backups");
        }
        List<BackupEntry> backups = new ArrayList<>();
        for (Item i : store.query(pk, Keys.BACKUP_PREFIX)) {
            backups.add(BackupEntry.fromItem(i));
        }
        Instant now = clock.instant().truncatedTo(ChronoUnit.MILLIS);
        BackupDecision decision = input.drill()
                ? new BackupDecision(ScheduleInput.DRILL, "scheduled restore drill (run by an agent allowed to drill)")
                : BackupDecision.decide(input.type(), input.fullIntervalDays(), backups, now);
        jobs.recent(stanza.value(), JobService.DEFAULT_LIST); // settles overdue jobs before the new one
        Job job = jobs.record(Job.queued(stanza.value(), decision.type(), decision.reason(), now,
                now.plus(input.deadlineMinutes(), ChronoUnit.MINUTES)));
        try {
            delivery.deliver(job);
        } catch (RuntimeException e) {
            jobs.undelivered(job, e.getMessage());
            throw e;
        }
        return new Scheduled(job, decision);
    }
}
