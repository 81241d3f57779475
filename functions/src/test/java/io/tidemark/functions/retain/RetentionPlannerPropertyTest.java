package io.tidemark.functions.retain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.TimelineHistory;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalSegmentSize;
import io.tidemark.functions.catalog.BackupEntry;
import io.tidemark.functions.catalog.ExpiredWal;
import io.tidemark.functions.catalog.SegmentRanges;
import io.tidemark.functions.catalog.TimelineAggregate;
import io.tidemark.functions.retain.RetentionPlan.BackupDeletion;
import io.tidemark.functions.retain.RetentionPlan.WalDeletion;
import io.tidemark.functions.window.RecoveryWindow;
import io.tidemark.functions.window.WindowBackup;
import io.tidemark.functions.window.WindowCalculator;
import io.tidemark.functions.window.WindowInterval;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Tag;

/**
 * Random backup histories (fulls, diffs, incrementals; valid, invalid, in progress; a promotion to
 * timeline 2; Object Lock; a held lease; both policy kinds): no plan ever breaks a safety rule,
 * and carrying a plan out leaves nothing for the next plan (a re-run is a no-op).
 */
@Tag("unit")
class RetentionPlannerPropertyTest {

    static final WalSegmentSize SIZE = WalSegmentSize.DEFAULT;
    static final Instant T0 = Instant.parse("2026-03-01T00:00:00Z");
    static final LocalDateTime L0 = LocalDateTime.parse("2026-03-01T00:00:00");

    record History(RetentionView view, RetentionPolicy policy, Instant now) {
    }

    static Instant time(long segment) {
        return T0.plusSeconds(segment * 3600);
    }

    static BackupEntry entry(BackupLabelName label, String status, String prior, List<String> refs, long tli,
                             long startSeg, long stopSeg) {
        return new BackupEntry(label.toString(), label.type().name().toLowerCase(java.util.Locale.ROOT), prior, status,
                List.of(), tli, Lsn.of(startSeg * SIZE.bytes() + 0x28).toString(),
                Lsn.of(stopSeg * SIZE.bytes() + 0x100).toString(), time(startSeg).toString(), time(stopSeg).toString(),
                10L, 1000L + startSeg, 10L, refs, false, 0L, List.of(), "1", 150004L, "zst", 1L, 0L,
                time(stopSeg).toString(), "k", "h", time(stopSeg).toString(), List.of(), List.of());
    }

    static History history(long seed) {
        Random r = new Random(seed);
        int n = 1 + r.nextInt(12);
        long switchSeg = r.nextInt(3) == 0 ? 12 + r.nextInt(5 * n + 1) : -1;
        List<RetentionView.Backup> backups = new ArrayList<>();
        BackupLabelName full = null;
        BackupLabelName lastOfSet = null;
        long seg = 10;
        for (int i = 0; i < n; i++) {
            LocalDateTime start = L0.plusHours(seg);
            int kind = full == null ? 0 : r.nextInt(3);
            BackupLabelName label;
            String prior = null;
            List<String> refs = List.of();
            if (kind == 0) {
                label = BackupLabelName.full(start);
                full = label;
            } else {
                BackupLabelName p = kind == 1 ? full : lastOfSet;
                label = BackupLabelName.childOf(full, kind == 1 ? BackupLabelName.Type.DIFF : BackupLabelName.Type.INCR, start);
                prior = p.toString();
                refs = r.nextBoolean() ? List.of(p.toString()) : List.of(full.toString());
            }
            lastOfSet = label;
            int s = r.nextInt(10);
            String status = s < 7 ? BackupEntry.VALID : s == 7 ? BackupEntry.INVALID
                    : s == 8 ? BackupEntry.WAITING_WAL : BackupEntry.VALIDATING;
            long tli = switchSeg >= 0 && seg >= switchSeg ? 2 : 1;
            Instant lock = r.nextInt(12) == 0 ? T0.plusSeconds(86400L * (r.nextBoolean() ? 1 : 400)) : null;
            backups.add(new RetentionView.Backup(entry(label, status, prior, refs, tli, seg, seg + 1), lock));
            seg += 2 + r.nextInt(5);
        }
        long last = seg + 5;
        List<TimelineAggregate> timelines = new ArrayList<>();
        long tli1End = switchSeg >= 0 ? switchSeg + 1 + r.nextInt(3) : last;
        // A gap in the WAL, where no backup is: a valid backup always has its WAL from start to stop.
        boolean gapFree = backups.stream().noneMatch(b -> {
            long st = SIZE.segmentNumberOf(Lsn.parse(b.entry().startLsn()));
            return st <= 16 && 16 <= st + 1;
        });
        SegmentRanges r1 = r.nextInt(5) == 0 && tli1End > 20 && gapFree
                ? SegmentRanges.of(List.of(new SegmentRanges.Range(0, 15), new SegmentRanges.Range(17, tli1End)))
                : SegmentRanges.of(List.of(new SegmentRanges.Range(0, tli1End)));
        timelines.add(new TimelineAggregate(TimelineId.of(1), r1, null, null, null, null, new TreeSet<>(), null, null));
        if (switchSeg >= 0) {
            TimelineHistory h = TimelineHistory.parse(TimelineId.of(2),
                    "1\t" + Lsn.of(switchSeg * SIZE.bytes()) + "\tno recovery target specified\n");
            timelines.add(new TimelineAggregate(TimelineId.of(2),
                    SegmentRanges.of(List.of(new SegmentRanges.Range(switchSeg, Math.max(last, switchSeg + 3)))), null, null, null, null,
                    new TreeSet<>(), h, "k"));
        }
        String lease = r.nextInt(6) == 0 ? BackupLabelName.full(L0.plusHours(last)).toString() : null;
        List<RetentionView.OrphanPrefix> orphans = new ArrayList<>();
        if (r.nextInt(5) == 0) {
            orphans.add(new RetentionView.OrphanPrefix(BackupLabelName.full(L0.plusHours(3)), 3, 300,
                    r.nextBoolean() ? T0 : time(last), false, null));
        }
        int keepFull = 1 + r.nextInt(4);
        RetentionPolicy policy = new RetentionPolicy(r.nextBoolean() ? new RetentionPolicy.FullRetention.ByCount(keepFull)
                : new RetentionPolicy.FullRetention.ByAge(keepFull), r.nextInt(5));
        RetentionView view = new RetentionView(SIZE, backups, orphans, lease, timelines, null, Map.of(), Map.of());
        return new History(view, policy, time(last).plusSeconds(3600L * r.nextInt(100)));
    }

    /**
     * The floors on random histories: no full younger than the minimum age (by acceptedAt) goes,
     * at most the cap of fulls goes unless confirmed, and the floors only ever keep more (backups
     * and WAL) than the policy alone.
     */
    @Property(tries = 300)
    void theFloorsOnlyKeepMore(@ForAll long seed) {
        History h = history(seed);
        Random r = new Random(seed * 31 + 7);
        RetentionPlanner.Floors floors = new RetentionPlanner.Floors(java.time.Duration.ofHours(r.nextInt(150)),
                1 + r.nextInt(3));
        RetentionPlanner planner = new RetentionPlanner(RetentionPlanner.DEFAULT_ORPHAN_AGE, floors);
        RetentionPlan plan = planner.plan(h.view(), h.policy(), h.now());
        RetentionPlan policyAlone = new RetentionPlanner().plan(h.view(), h.policy(), h.now());
        Map<String, BackupEntry> all = new HashMap<>();
        h.view().backups().forEach(b -> all.put(b.entry().label(), b.entry()));

        Instant limit = h.now().minus(floors.minFullAge());
        List<BackupDeletion> fulls = plan.backupDeletions().stream().filter(d -> d.label().isFull()).toList();
        for (BackupDeletion d : fulls) {
            assertFalse(all.get(d.label().toString()).acceptedAt().isAfter(limit), d + " is younger than " + floors);
        }
        assertTrue(fulls.size() <= floors.maxFullsPerRun(), fulls + " exceeds " + floors);
        Set<String> kept = new HashSet<>();
        plan.kept().forEach(k -> kept.add(k.label()));
        assertTrue(kept.containsAll(plan.heldBack()), plan.heldBack() + " not kept: " + plan.kept());

        Set<String> alone = new HashSet<>();
        policyAlone.backupDeletions().forEach(d -> alone.add(d.label().toString()));
        for (BackupDeletion d : plan.backupDeletions()) {
            assertTrue(alone.contains(d.label().toString()), d + " goes only with floors " + floors);
        }
        Map<TimelineId, Long> aloneThrough = new HashMap<>();
        policyAlone.walDeletions().forEach(w -> aloneThrough.put(w.timeline(), w.through()));
        for (WalDeletion w : plan.walDeletions()) {
            assertTrue(aloneThrough.containsKey(w.timeline()) && w.through() <= aloneThrough.get(w.timeline()),
                    w + " beyond the policy alone's " + aloneThrough);
        }

        // Confirmed, the cap is lifted and the minimum age still holds.
        RetentionPlan confirmed = planner.plan(h.view(), h.policy(), h.now(), true);
        assertTrue(confirmed.heldBack().isEmpty());
        for (BackupDeletion d : confirmed.backupDeletions()) {
            assertFalse(d.label().isFull() && all.get(d.label().toString()).acceptedAt().isAfter(limit), d.toString());
        }
        assertTrue(confirmed.backupDeletions().size() >= plan.backupDeletions().size());
    }

    @Property(tries = 400)
    void noSafetyRuleIsBroken(@ForAll long seed) {
        History h = history(seed);
        RetentionPlan plan = new RetentionPlanner().plan(h.view(), h.policy(), h.now());
        Map<String, BackupEntry> all = new HashMap<>();
        h.view().backups().forEach(b -> all.put(b.entry().label(), b.entry()));
        List<String> deleted = plan.backupDeletions().stream().map(d -> d.label().toString()).toList();
        Set<String> kept = new HashSet<>(all.keySet());
        kept.removeAll(deleted);

        // Every kept backup's chain is kept.
        for (String k : kept) {
            BackupEntry e = all.get(k);
            for (String need : needs(e)) {
                assertFalse(deleted.contains(need), k + " is kept but " + need + " it needs is deleted");
            }
        }
        // The newest valid full (with a complete chain, i.e. valid) is kept.
        List<WindowBackup> valid = new ArrayList<>();
        h.view().backups().forEach(b -> WindowBackup.of(b.entry()).ifPresent(valid::add));
        List<WindowBackup> restorable = WindowCalculator.withCompleteChains(valid);
        restorable.stream().filter(b -> b.label().isFull()).map(b -> b.label().toString()).max(String::compareTo)
                .ifPresent(f -> assertTrue(kept.contains(f), "newest valid full " + f + " deleted"));
        // In progress, locked, leased: never deleted.
        for (RetentionView.Backup b : h.view().backups()) {
            if (b.entry().isWaiting() || (b.lockedUntil() != null && b.lockedUntil().isAfter(h.now()))
                    || b.entry().label().equals(h.view().leaseLabel())) {
                assertTrue(kept.contains(b.entry().label()), b.entry().label() + " deleted though in progress or locked");
            }
        }
        // Dependents first, newest first.
        for (int i = 0; i < deleted.size(); i++) {
            for (int j = i + 1; j < deleted.size(); j++) {
                assertTrue(deleted.get(i).compareTo(deleted.get(j)) > 0, "not newest first: " + deleted);
                assertFalse(needs(all.get(deleted.get(j))).contains(deleted.get(i)),
                        deleted.get(j) + " needs " + deleted.get(i) + " but is deleted after it");
            }
        }
        // WAL: nothing a kept backup needs is removed (its start segment on its timeline onwards).
        Map<TimelineId, Long> through = new HashMap<>();
        for (WalDeletion w : plan.walDeletions()) {
            through.put(w.timeline(), w.through());
        }
        for (String k : kept) {
            BackupEntry e = all.get(k);
            if (BackupEntry.INVALID.equals(e.status())) {
                continue;
            }
            long start = SIZE.segmentNumberOf(Lsn.parse(e.startLsn()));
            Long t = through.get(TimelineId.of(e.timeline()));
            assertTrue(t == null || t < start, "WAL through " + t + " removed but kept " + k + " starts at " + start);
        }
        // Every point the window after offers is restorable from kept backups and kept WAL: the window
        // from the kept backups over all WAL equals the one over the WAL left, and lies in the window before.
        List<WindowBackup> keptRestorable = restorable.stream().filter(b -> kept.contains(b.label().toString())).toList();
        RecoveryWindow allWal = new WindowCalculator(SIZE, h.view().timelines(), WindowCalculator.SegmentFacts.NONE)
                .compute(keptRestorable);
        RecoveryWindow leftWal = new WindowCalculator(SIZE, ExpiredWal.clipAll(h.view().timelines(), through),
                WindowCalculator.SegmentFacts.NONE).compute(keptRestorable);
        assertEquals(allWal, leftWal, "removing WAL took points out of the window");
        assertEquals(leftWal, plan.windowAfter());
        for (RecoveryWindow.TimelineWindow tw : plan.windowAfter().timelines()) {
            RecoveryWindow.TimelineWindow before = plan.windowBefore().timeline(tw.timeline()).orElseThrow();
            for (WindowInterval i : tw.intervals()) {
                assertTrue(before.intervals().stream().anyMatch(b -> !b.start().lsn().isAfter(i.start().lsn())
                        && !b.end().lsn().isBefore(i.end().lsn())), "window after offers " + i + " not offered before");
            }
        }
        // The newest valid full's reach survives: the window keeps its latest point.
        assertEquals(plan.windowBefore().latest(), plan.windowAfter().latest());

        // Carrying the plan out, then planning again: nothing more goes.
        List<RetentionView.Backup> left = h.view().backups().stream().filter(b -> kept.contains(b.entry().label())).toList();
        Map<TimelineId, Long> expired = new HashMap<>(h.view().expiredThrough());
        expired.putAll(through);
        RetentionView after = new RetentionView(SIZE, left, List.of(), h.view().leaseLabel(), h.view().timelines(),
                null, expired, Map.of());
        RetentionPlan again = new RetentionPlanner().plan(after, h.policy(), h.now());
        assertTrue(again.isEmpty(), "a second run would delete " + again.deletions());
    }

    /**
     * Seed 790 (found by a full run): one full at segment 10, a WAL gap at segment 16, then valid
     * differentials and an incremental of that full; time 1 day, diff 0. The full reaches timeline
     * 1 only up to the gap, so the latest point (end of segment 46) is reachable from the backups
     * past the gap alone. Retention used to keep only the full (it "reached" the timeline) and drop
     * every differential, shrinking the window's latest point to the gap.
     */
    @Example
    void aWalGapAfterTheOnlyFullKeepsTheNewestBackupPastIt() {
        History h = history(790L);
        assertEquals(List.of(new SegmentRanges.Range(0, 15), new SegmentRanges.Range(17, 46)),
                h.view().timelines().getFirst().ranges().ranges(), "the history this example is about changed");
        RetentionPlan plan = new RetentionPlanner().plan(h.view(), h.policy(), h.now());
        Set<String> kept = new HashSet<>();
        plan.kept().forEach(k -> kept.add(k.label()));
        // The incremental starting at segment 33 is the newest backup reaching the latest point; it
        // needs the diff of segment 28, which needs the full.
        assertTrue(kept.containsAll(List.of("20260301-100000F", "20260301-100000F_20260302-040000D",
                "20260301-100000F_20260302-090000I")), "kept: " + kept);
        assertEquals(Lsn.of(47 * SIZE.bytes()), plan.windowAfter().latest().orElseThrow().lsn());
        assertEquals(plan.windowBefore().latest(), plan.windowAfter().latest());
        // The other differentials (past the gap or not) are still beyond the policy.
        assertTrue(plan.backupDeletions().stream().map(d -> d.label().toString()).toList().containsAll(List.of(
                "20260301-100000F_20260301-140000D", "20260301-100000F_20260301-190000D",
                "20260301-100000F_20260301-220000D")), "deleted: " + plan.backupDeletions());
        noSafetyRuleIsBroken(790L);
    }

    static List<String> needs(BackupEntry e) {
        List<String> n = new ArrayList<>(e.references());
        if (e.prior() != null) {
            n.add(e.prior());
        }
        return n;
    }
}
