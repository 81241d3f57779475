package io.tidemark.functions.retain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.StorageLayout;
import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.functions.catalog.BackupEntry;
import io.tidemark.functions.catalog.Keys;
import io.tidemark.functions.index.TestWal;
import io.tidemark.functions.metrics.MetricsPublisher;
import io.tidemark.functions.plan.PlanFixture;
import io.tidemark.functions.validate.BackupValidator;
import io.tidemark.functions.validate.TestBackup;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The attack of issue 14: a compromised node uploads two "full backups" labelled in the future
 * with almost no files; then retention runs. The real validator (in-memory bucket and catalog,
 * real WAL indexed by the real indexer) judges the manifests, the real retention service runs the
 * default policy (count 2). On the code before this change the fakes were valid and the newest by
 * label, so retention kept them and removed the three real fulls and the WAL below segment 28.
 */
@Tag("unit")
class FakeFullsRetentionTest {

    static final int SIZE = TestWal.SIZE.bytes();

    final PlanFixture f = new PlanFixture();
    final List<String> published = new ArrayList<>();
    final MetricsPublisher metrics = (stanza, at, values) -> values.forEach((m, v) -> {
        for (long i = 0; i < v; i++) {
            published.add(m.metricName());
        }
    });
    final BackupValidator validator = new BackupValidator(f.objects, f.catalog, 2, RetentionTrigger.NONE, metrics);
    final RetentionPolicy countTwo = new RetentionPolicy(new RetentionPolicy.FullRetention.ByCount(2), 6);

    List<TestBackup> real = new ArrayList<>();

    /** WAL 1..30; real fulls over 2..3, 10..11, 20..21 (labels March 2026, accepted T0+130..). */
    void history() {
        f.archive(1, 1, 30, Map.of());
        real.add(f.backup(1, 1, 2, 3, PlanFixture.at(3)));
        real.add(f.backup(2, 1, 10, 11, PlanFixture.at(11)));
        real.add(f.backup(3, 1, 20, 21, PlanFixture.at(21)));
    }

    /** A fake full on the archived WAL near its end, labelled at {@code labelled}, self-consistent times. */
    TestBackup fake(LocalDateTime labelled, long startSeg, Map<String, byte[]> content, Instant accepted) {
        BackupLabelName label = BackupLabelName.full(labelled);
        TestBackup b = TestBackup.build(PlanFixture.STANZA, label, null, content, Lsn.of(startSeg * SIZE + 0x28),
                Lsn.of((startSeg + 1) * SIZE + 0x100), TimelineId.FIRST,
                labelled.toInstant(ZoneOffset.UTC).plusSeconds(30));
        b.upload(f.objects);
        validator.validate(b.manifestKey(), accepted);
        return b;
    }

    static Map<String, byte[]> almostNothing() {
        Map<String, byte[]> m = new TreeMap<>();
        m.put("PG_VERSION", "15\n".getBytes(StandardCharsets.UTF_8));
        return m;
    }

    BackupEntry entry(TestBackup b) {
        return validator.entry(PlanFixture.STANZA, b.manifest.label()).orElseThrow();
    }

    long walObjects() {
        return f.objects.keys().stream()
                .filter(k -> k.startsWith(StorageLayout.timelineWalPrefix(PlanFixture.STANZA, TimelineId.FIRST))).count();
    }

    @Test
    void twoFakeFullsLabelledInTheFutureAreRefusedAndRetentionRemovesOnlyWhatThePolicySays() {
        history();
        TestBackup fake1 = fake(LocalDateTime.of(2031, 1, 1, 0, 0), 27, almostNothing(), PlanFixture.at(200));
        TestBackup fake2 = fake(LocalDateTime.of(2031, 1, 2, 0, 0), 28, almostNothing(), PlanFixture.at(201));

        for (TestBackup fake : List.of(fake1, fake2)) {
            BackupEntry e = entry(fake);
            assertEquals(BackupEntry.INVALID, e.status(), e.reasons().toString());
            assertTrue(e.reasons().stream().anyMatch(r -> r.startsWith("refused: the backup stops at")), e.reasons().toString());
            assertTrue(e.reasons().stream().anyMatch(r -> r.contains("without global/pg_control")), e.reasons().toString());
        }
        assertEquals(2, published.stream().filter("ManifestsRefused"::equals).count(), published.toString());

        // Two days later (every real full is older than any minimum age), the default policy.
        Instant now = PlanFixture.at(2 * 86400);
        RetentionService service = new RetentionService(f.objects, f.catalog, new RetentionPlanner(),
                Clock.fixed(now, ZoneOffset.UTC));
        RetentionService.Result r = service.run(PlanFixture.STANZA, countTwo, false);

        // What count 2 says for the real history: the first full and the WAL only it needs (1..9).
        for (TestBackup b : real.subList(1, 3)) {
            assertTrue(f.catalog.get(Keys.pk(PlanFixture.STANZA), Keys.backup(b.manifest.label())).isPresent(),
                    b.manifest.label() + " was removed: " + r.plan().deletions());
            assertTrue(f.objects.contains(b.manifestKey()), b.manifestKey());
        }
        assertTrue(r.plan().deletions().stream().noneMatch(d -> d instanceof RetentionPlan.BackupDeletion b
                && !b.label().equals(real.get(0).manifest.label()) && b.label().isFull()
                && b.label().fullStart().getYear() < 2031), r.plan().deletions().toString());
        assertEquals(30 - 9, walObjects(), r.plan().deletions().toString());
    }

    /**
     * Fakes the validator cannot tell from real ones (a whole file set, plausible times, WAL that
     * is archived): the floors bound the damage. Within the minimum age nothing of theirs pushes
     * a full out; later a run expires at most the cap, says so, and the rest waits for an
     * operator's confirmed run.
     */
    @Test
    void plausibleFakesTakeNoYoungFullAndNoMoreThanTheCapWithoutConfirmation() {
        history();
        for (int i = 0; i < 2; i++) {
            LocalDateTime labelled = LocalDateTime.ofInstant(PlanFixture.at(150 + i), ZoneOffset.UTC);
            TestBackup b = fake(labelled, 27 + i, TestBackup.files("fake" + i), PlanFixture.at(200 + i));
            assertEquals(BackupEntry.VALID, entry(b).status(), entry(b).reasons().toString());
        }
        RetentionPlanner floors = new RetentionPlanner(RetentionPlanner.DEFAULT_ORPHAN_AGE,
                RetentionPlanner.Floors.DEFAULT);

        // An hour after: every full is younger than 24 h, nothing goes.
        RetentionService early = new RetentionService(f.objects, f.catalog, floors,
                Clock.fixed(PlanFixture.at(3600), ZoneOffset.UTC), StanzaPolicies.NONE, metrics);
        RetentionService.Result r1 = early.run(PlanFixture.STANZA, countTwo, false);
        assertTrue(r1.plan().backupDeletions().isEmpty(), r1.plan().deletions().toString());
        assertTrue(r1.plan().kept().stream().filter(k -> k.reason().startsWith("younger than the minimum age"))
                .count() >= 3, r1.plan().kept().toString());

        // Two days later: count 2 keeps the two fakes; of the three real fulls due, two go, one is held.
        Clock later = Clock.fixed(PlanFixture.at(2 * 86400), ZoneOffset.UTC);
        RetentionService service = new RetentionService(f.objects, f.catalog, floors, later, StanzaPolicies.NONE,
                metrics);
        published.clear();
        RetentionService.Result r2 = service.run(PlanFixture.STANZA, countTwo, false);
        assertEquals(List.of(real.get(1).manifest.label(), real.get(0).manifest.label()),
                r2.plan().backupDeletions().stream().map(RetentionPlan.BackupDeletion::label).toList());
        assertEquals(List.of(real.get(2).manifest.label().toString()), r2.plan().heldBack(), r2.plan().kept().toString());
        assertTrue(f.objects.contains(real.get(2).manifestKey()));
        assertTrue(r2.plan().notes().stream().anyMatch(n -> n.startsWith("cap reached: 3 fulls were due")),
                r2.plan().notes().toString());
        // WAL from the held full's start stays
        assertEquals(30 - 19, walObjects());
        assertEquals(2, published.stream().filter("BackupsExpired"::equals).count(), published.toString());
        assertEquals(1, published.stream().filter("BackupsHeldBack"::equals).count(), published.toString());
        var last = RetentionService.last(f.catalog, PlanFixture.STANZA).orElseThrow();
        assertEquals(List.of(real.get(2).manifest.label().toString()), last.list("heldBack"));

        // A re-run (the daily one, or one after the next backup) holds it still; the operator's confirmed run expires it.
        assertEquals(List.of(real.get(2).manifest.label().toString()),
                service.run(PlanFixture.STANZA, countTwo, false).plan().heldBack());
        assertTrue(f.objects.contains(real.get(2).manifestKey()));
        RetentionService.Result r3 = service.run(PlanFixture.STANZA, countTwo, false, true);
        assertEquals(List.of(real.get(2).manifest.label()),
                r3.plan().backupDeletions().stream().map(RetentionPlan.BackupDeletion::label).toList());
        assertTrue(r3.plan().heldBack().isEmpty());
        assertTrue(!f.objects.contains(real.get(2).manifestKey()));
    }
}
