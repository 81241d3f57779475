package io.tidemark.functions.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.events.layout.StanzaName;
import io.tidemark.functions.catalog.CatalogException;
import io.tidemark.functions.catalog.InMemoryCatalogStore;
import io.tidemark.functions.catalog.Item;
import io.tidemark.functions.catalog.Keys;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class JobServiceTest {
    private static final Instant T0 = Instant.parse("2026-05-10T01:00:00Z");
    private final InMemoryCatalogStore store = new InMemoryCatalogStore();
    private final AtomicReference<Instant> now = new AtomicReference<>(T0);
    private final Clock clock = new Clock() {
        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now.get();
        }
    };
    private final JobService jobs = new JobService(store, clock);

    @BeforeEach
    void stanza() {
        store.put(Item.of(Keys.pk(StanzaName.of("main")), Keys.META, Map.of("kind", "stanza")).withRevision(), null);
    }

    private Job queued(Duration deadline) {
        return jobs.record(Job.queued("main", "incr", "test", now.get(), now.get().plus(deadline)));
    }

    private static byte[] body(String json) {
        return json.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void oneClaimWinsAmongManyAndTheWinnerMayAskAgain() throws Exception {
        Job job = queued(Duration.ofMinutes(60));
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<Future<String>> results = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            String holder = "node" + (i % 4) + ":" + i;
            results.add(pool.submit((Callable<String>) () -> {
                try {
                    return jobs.claim("main", job.id(), body("{\"holder\":\"" + holder + "\"}")).holder();
                } catch (JobConflictException e) {
                    return null;
                }
            }));
        }
        List<String> winners = new ArrayList<>();
        for (Future<String> f : results) {
            String w = f.get();
            if (w != null) {
                winners.add(w);
            }
        }
        pool.shutdown();
        assertEquals(1, winners.size(), winners.toString());
        Job again = jobs.claim("main", job.id(), body("{\"holder\":\"" + winners.get(0) + "\"}"));
        assertEquals(JobState.RUNNING, again.state());
        JobConflictException lost = assertThrows(JobConflictException.class,
                () -> jobs.claim("main", job.id(), body("{\"holder\":\"late:1\"}")));
        assertTrue(lost.getMessage().contains("is running (claimed by " + winners.get(0) + ")"), lost.getMessage());
    }

    @Test
    void reportsComeFromTheHolderOnly() {
        Job job = queued(Duration.ofMinutes(60));
        jobs.claim("main", job.id(), body("{\"holder\":\"db1:10\"}"));
        assertThrows(JobConflictException.class, () -> jobs.report("main", job.id(),
                body("{\"holder\":\"db2:20\",\"result\":\"done\",\"label\":\"20260510-010000F\"}")));
        CatalogException noLabel = assertThrows(CatalogException.class, () -> jobs.report("main", job.id(),
                body("{\"holder\":\"db1:10\",\"result\":\"done\"}")));
        assertEquals(CatalogException.Kind.BAD_REQUEST, noLabel.kind());
        Job done = jobs.report("main", job.id(), body("{\"holder\":\"db1:10\",\"result\":\"done\","
                + "\"label\":\"20260510-010000F\",\"originalSize\":100,\"storedSize\":40,\"durationMs\":1234}"));
        assertEquals(JobState.DONE, done.state());
        assertEquals("20260510-010000F", done.label());
        assertEquals(40L, done.storedSize());
        // The same report again (a retried request) is answered with the job; a different one is refused.
        assertEquals(done, jobs.report("main", job.id(), body("{\"holder\":\"db1:10\",\"result\":\"done\","
                + "\"label\":\"20260510-010000F\"}")));
        assertThrows(JobConflictException.class, () -> jobs.report("main", job.id(),
                body("{\"holder\":\"db1:10\",\"result\":\"failed\",\"error\":\"x\"}")));
    }

    @Test
    void aFailedReportKeepsItsError() {
        Job job = queued(Duration.ofMinutes(60));
        jobs.claim("main", job.id(), body("{\"holder\":\"db1:10\"}"));
        Job failed = jobs.report("main", job.id(), body("{\"holder\":\"db1:10\",\"result\":\"failed\","
                + "\"error\":\"cannot connect to PostgreSQL\"}"));
        assertEquals(JobState.FAILED, failed.state());
        assertEquals("cannot connect to PostgreSQL", failed.error());
        assertNull(failed.label());
    }

    @Test
    void overdueJobsAreMissedOrSkippedByReplicas() {
        Job seenByReplica = queued(Duration.ofMinutes(5));
        now.set(T0.plusSeconds(1));
        Job unseen = queued(Duration.ofMinutes(5));
        jobs.pass("main", seenByReplica.id(), body("{\"holder\":\"replica:7\"}"));
        jobs.pass("main", seenByReplica.id(), body("{\"holder\":\"replica:7\"}"));
        now.set(T0.plusSeconds(301));
        List<Job> recent = jobs.recent("main", 10);
        assertEquals(List.of(unseen.id(), seenByReplica.id()), recent.stream().map(Job::id).toList(), "newest first");
        assertEquals(JobState.MISSED, recent.get(0).state());
        assertEquals(JobState.SKIPPED_BY_REPLICA, recent.get(1).state());
        assertEquals(List.of("replica:7"), recent.get(1).passedBy());
        // Settled in the catalog, not only in the answer; and too late to claim.
        assertEquals("skipped-by-replica", store.get(Keys.pk(StanzaName.of("main")), Keys.job(seenByReplica.id()))
                .orElseThrow().string("state").orElseThrow());
        assertThrows(JobConflictException.class, () -> jobs.claim("main", unseen.id(), body("{\"holder\":\"db1:1\"}")));
    }

    @Test
    void badRequestsSayWhat() {
        Job job = queued(Duration.ofMinutes(5));
        CatalogException badId = assertThrows(CatalogException.class,
                () -> jobs.claim("main", "../x", body("{\"holder\":\"a:1\"}")));
        assertTrue(badId.getMessage().contains("job id must look like"), badId.getMessage());
        CatalogException noHolder = assertThrows(CatalogException.class, () -> jobs.claim("main", job.id(), body("{}")));
        assertTrue(noHolder.getMessage().contains("holder"), noHolder.getMessage());
        CatalogException unknown = assertThrows(CatalogException.class,
                () -> jobs.claim("main", "20990101T000000Z-00000000", body("{\"holder\":\"a:1\"}")));
        assertEquals(CatalogException.Kind.NOT_FOUND, unknown.kind());
        CatalogException noStanza = assertThrows(CatalogException.class, () -> jobs.recent("other", 10));
        assertEquals(CatalogException.Kind.NOT_FOUND, noStanza.kind());
    }

    @Test
    void theItemCarriesItsTtl() {
        Job job = queued(Duration.ofMinutes(5));
        Item item = store.get(Keys.pk(StanzaName.of("main")), Keys.job(job.id())).orElseThrow();
        assertEquals(T0.plus(Job.KEPT).getEpochSecond(), item.number(Job.TTL_ATTRIBUTE).orElseThrow());
        assertTrue(Job.ID.matcher(job.id()).matches(), job.id());
        assertTrue(job.id().startsWith("20260510T010000Z-"), job.id());
    }

    private void lease(String holder, Instant expires, boolean released) {
        store.put(new io.tidemark.functions.catalog.BackupLease("11111111-2222-4333-8444-555555555555",
                "20260510-010000F", holder, now.get(), expires, released, released ? now.get() : null)
                .toItem(Keys.pk(StanzaName.of("main"))).withRevision(), store.get(Keys.pk(StanzaName.of("main")),
                Keys.BACKUP_LEASE).map(Item::revision).orElse(null));
    }

    @Test
    void aRunningJobWhoseAgentHoldsNoLeaseAnyMoreIsSettledFailed() {
        Job job = queued(Duration.ofMinutes(60));
        jobs.claim("main", job.id(), body("{\"holder\":\"db1:4242\"}"));
        // within the grace after the claim: running, lease or not
        now.set(T0.plus(Duration.ofMinutes(1)));
        assertEquals(JobState.RUNNING, jobs.recent("main", 10).get(0).state());
        // the agent holds the lease and renews it: still running long after
        lease("db1:4242", T0.plus(Duration.ofMinutes(20)), false);
        now.set(T0.plus(Duration.ofMinutes(15)));
        assertEquals(JobState.RUNNING, jobs.recent("main", 10).get(0).state());
        // its lease expired (the agent died): failed, with why
        now.set(T0.plus(Duration.ofMinutes(21)));
        Job settled = jobs.recent("main", 10).get(0);
        assertEquals(JobState.FAILED, settled.state());
        assertTrue(settled.error().contains("db1:4242 stopped reporting"), settled.error());
        assertEquals(JobState.FAILED, jobs.get(StanzaName.of("main"), job.id()).orElseThrow().state(), "stored");

        // released just now (the backup ended, its report is on the way): not yet; minutes later: failed
        Job ended = queued(Duration.ofMinutes(60));
        jobs.claim("main", ended.id(), body("{\"holder\":\"db3:1\"}"));
        now.set(now.get().plus(Duration.ofMinutes(5)));
        lease("db3:1", now.get().plus(Duration.ofMinutes(5)), true);
        assertEquals(JobState.RUNNING, jobs.get(StanzaName.of("main"), ended.id()).orElseThrow().state());
        now.set(now.get().plus(Duration.ofMinutes(3)));
        assertEquals(JobState.FAILED, jobs.get(StanzaName.of("main"), ended.id()).orElseThrow().state());

        // a lease held by another node's backup does not keep this job alive either
        Job other = queued(Duration.ofMinutes(60));
        jobs.claim("main", other.id(), body("{\"holder\":\"db2:7\"}"));
        lease("db1:999", now.get().plus(Duration.ofMinutes(10)), false);
        now.set(now.get().plus(Duration.ofMinutes(3)));
        assertEquals(JobState.FAILED, jobs.get(StanzaName.of("main"), other.id()).orElseThrow().state());
    }

    @Test
    void aRunningJobWhoseAgentWasProvedDeadAndItsLeaseTakenOverFailsAtOnce() {
        Job job = queued(Duration.ofMinutes(60));
        jobs.claim("main", job.id(), body("{\"holder\":\"db1:4242\"}"));
        now.set(T0.plus(Duration.ofSeconds(30)));
        // the agent was killed; the next backup on db1 proved pid 4242 gone and took the lease over
        store.put(new io.tidemark.functions.catalog.BackupLease("11111111-2222-4333-8444-666666666666", "20260510-010000F",
                "db1:5000", now.get(), now.get().plusSeconds(60), false, null,
                new io.tidemark.functions.catalog.BackupLease.Identity("db1/m/1", "0f4f1c2e-7d1a", 5000, 77),
                new io.tidemark.functions.catalog.BackupLease.Takeover("11111111-2222-4333-8444-555555555555", "db1:4242",
                        "process 4242 is gone", now.get()))
                .toItem(Keys.pk(StanzaName.of("main"))).withRevision(), null);
        Job settled = jobs.get(StanzaName.of("main"), job.id()).orElseThrow();
        assertEquals(JobState.FAILED, settled.state(), "no 2-minute grace: its process is known dead");
        assertTrue(settled.error().contains("db1:4242 died while the backup ran (process 4242 is gone)"), settled.error());
        // a job the new holder claims later is not touched by that record
        Job later = queued(Duration.ofMinutes(60));
        now.set(now.get().plusSeconds(5));
        jobs.claim("main", later.id(), body("{\"holder\":\"db1:4242\"}"));
        assertEquals(JobState.RUNNING, jobs.get(StanzaName.of("main"), later.id()).orElseThrow().state());
    }
}
