package io.tidemark.functions.retain;

import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.functions.catalog.BackupEntry;
import io.tidemark.functions.catalog.ExpiredWal;
import io.tidemark.functions.catalog.SegmentRanges;
import io.tidemark.functions.catalog.TimelineAggregate;
import io.tidemark.functions.retain.RetentionPlan.BackupDeletion;
import io.tidemark.functions.retain.RetentionPlan.Deletion;
import io.tidemark.functions.retain.RetentionPlan.Kept;
import io.tidemark.functions.retain.RetentionPlan.OrphanDeletion;
import io.tidemark.functions.retain.RetentionPlan.WalDeletion;
import io.tidemark.functions.retain.RetentionPolicy.FullRetention;
import io.tidemark.functions.window.RecoveryWindow;
import io.tidemark.functions.window.TimelinePath;
import io.tidemark.functions.window.WindowBackup;
import io.tidemark.functions.window.WindowCalculator;
import io.tidemark.functions.window.WindowPoint;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Decides what retention removes: a pure function of a {@link RetentionView}, a policy and the
 * time. The real run and the dry run use the same plan.
 *
 * <p>The rules, in order (the first that keeps a backup names the reason):
 * <ol>
 *   <li>the newest valid full (with its chain: a full has none) is always kept, and so is a backup
 *       that reaches the latest point (the newest full that does, else the newest differential or
 *       incremental past a WAL gap, with its chain);</li>
 *   <li>the policy: the newest N valid fulls (count), or the newest valid full whose consistent
 *       point is at or before now - N days and every full after it (time); the newest D
 *       differentials of kept fulls; an incremental whose every earlier backup is kept;</li>
 *   <li>never removed: a backup in progress (status {@code validating}/{@code waiting-wal}, the
 *       label of a held lease, a prefix with a manifest not validated yet, a prefix younger than
 *       the safe age) and a backup whose manifest is under Object Lock retention;</li>
 *   <li>anything a kept backup needs (prior, references), transitively;</li>
 *   <li>a backup that is not restorable (invalid, or valid on a broken chain) is removed once it is
 *       older than the oldest kept full, and kept (for inspection) until then.</li>
 * </ol>
 * WAL of a timeline is removed below the lowest segment any kept (or in-progress) backup needs on
 * it: its own timeline from its start segment, and every later part of each timeline path it lies
 * on from that part's first segment. WAL under Object Lock is kept, and nothing is removed when an
 * in-progress backup's start is unknown. History files are never removed.
 */
public final class RetentionPlanner {

    /** How old a backup prefix without a catalog item must be before it counts as abandoned. */
    public static final Duration DEFAULT_ORPHAN_AGE = Duration.ofHours(6);

    /**
     * What no policy and no node can take below: a full younger than {@code minFullAge} (by the
     * time the cloud accepted it) is never expired, and one run expires at most
     * {@code maxFullsPerRun} fulls (with their differentials and incrementals) unless an operator
     * confirmed it. See {@code docs/retention.md#floors}.
     */
    public record Floors(Duration minFullAge, int maxFullsPerRun) {
        /** 24 hours and 2 fulls per run: see docs/retention.md for why. */
        public static final Floors DEFAULT = new Floors(Duration.ofHours(24), 2);
        /** No floors: what the policy says goes at once (tests of the policy rules alone). */
        public static final Floors NONE = new Floors(Duration.ZERO, Integer.MAX_VALUE);

        public Floors {
            if (minFullAge == null || minFullAge.isNegative()) {
                throw new IllegalArgumentException("the minimum age of a full must not be negative: " + minFullAge);
            }
            if (maxFullsPerRun < 1) {
                throw new IllegalArgumentException("the fulls one run may expire must be at least 1, got "
                        + maxFullsPerRun);
            }
        }
    }

    private final Duration orphanAge;
    private final Floors floors;

    /** Default orphan age, no floors (the policy's rules alone). */
    public RetentionPlanner() {
        this(DEFAULT_ORPHAN_AGE, Floors.NONE);
    }

    public RetentionPlanner(Duration orphanAge, Floors floors) {
        if (orphanAge.isNegative()) {
            throw new IllegalArgumentException("orphan age must not be negative: " + orphanAge);
        }
        this.orphanAge = orphanAge;
        this.floors = floors;
    }

    public RetentionPlan plan(RetentionView view, RetentionPolicy policy, Instant now) {
        return plan(view, policy, now, false);
    }

    /**
     * @param confirmed an operator confirmed this run: the cap on fulls per run does not apply
     *                  (the minimum age still does)
     */
    public RetentionPlan plan(RetentionView view, RetentionPolicy policy, Instant now, boolean confirmed) {
        return plan(view, policy, now, confirmed, Set.of());
    }

    /**
     * @param heldBefore fulls an earlier run's cap held back: they stay held (a re-run, or the run
     *                   after the next backup, does not take the next bite) until a confirmed run
     */
    public RetentionPlan plan(RetentionView view, RetentionPolicy policy, Instant now, boolean confirmed,
                              Set<String> heldBefore) {
        Map<String, RetentionView.Backup> byLabel = new TreeMap<>();
        view.backups().forEach(b -> byLabel.put(b.entry().label(), b));
        // Age and order come from the cloud's clock (acceptedAt), never from the node's label or times.
        Comparator<String> accepted = Comparator.comparing((String l) -> acceptedAt(byLabel, l))
                .thenComparing(Comparator.naturalOrder());
        List<WindowBackup> valid = new ArrayList<>();
        view.backups().forEach(b -> WindowBackup.of(b.entry()).ifPresent(valid::add));
        List<WindowBackup> restorable = WindowCalculator.withCompleteChains(valid);
        Map<String, WindowBackup> restorableByLabel = new TreeMap<>();
        restorable.forEach(b -> restorableByLabel.put(b.label().toString(), b));

        Map<String, String> keep = new LinkedHashMap<>();
        List<String> notes = new ArrayList<>();
        keepByPolicy(restorable, policy, now, keep, accepted, l -> acceptedAt(byLabel, l));
        keepYoungFulls(byLabel, now, keep);
        WindowCalculator before = new WindowCalculator(view.segmentSize(),
                ExpiredWal.clipAll(view.timelines(), view.expiredThrough()), view.facts());
        RecoveryWindow windowBefore = before.compute(restorable);
        keepReachOfLatest(before, windowBefore, restorable, keep);
        keepInProgressAndLocked(view, byLabel, now, keep);
        closeOverNeeds(byLabel, keep);

        String oldestKeptFull = keep.keySet().stream().map(BackupLabelName::parse).filter(BackupLabelName::isFull)
                .map(BackupLabelName::toString).min(accepted).orElse(null);
        // Unrestorable backups newer than the oldest kept full stay for inspection, unless something
        // they need goes (then they go first). Oldest first, so that what they need is decided.
        for (String label : byLabel.keySet()) {
            if (keep.containsKey(label) || restorableByLabel.containsKey(label)
                    || oldestKeptFull == null || accepted.compare(label, oldestKeptFull) < 0) {
                continue;
            }
            BackupEntry e = byLabel.get(label).entry();
            List<String> needs = new ArrayList<>(e.references());
            if (e.prior() != null) {
                needs.add(e.prior());
            }
            if (needs.stream().allMatch(n -> keep.containsKey(n) || !byLabel.containsKey(n))) {
                keep.put(label, "not restorable (" + e.status() + "), newer than the oldest kept full: kept for inspection");
            }
        }
        List<String> heldBack = confirmed ? List.of() : holdBeyondCap(byLabel, keep, accepted, heldBefore, notes);
        List<Deletion> deletions = new ArrayList<>();
        // Newest first: a dependent's label sorts after everything it needs (same full, later start).
        List<String> newestFirst = new ArrayList<>(byLabel.keySet());
        newestFirst.sort(Comparator.comparing(BackupLabelName::parse).reversed());
        for (String label : newestFirst) {
            if (keep.containsKey(label)) {
                continue;
            }
            BackupEntry e = byLabel.get(label).entry();
            String reason = restorableByLabel.containsKey(label) ? "beyond the policy (" + policy + ")"
                    : "not restorable (" + e.status() + ") and older than the oldest kept full, or needs what goes";
            deletions.add(new BackupDeletion(BackupLabelName.parse(label), e.status(),
                    e.storedSize() == null ? 0 : e.storedSize(), reason));
        }
        for (RetentionView.OrphanPrefix o : view.orphans()) {
            Duration age = Duration.between(o.newest(), now);
            if (o.hasManifest() || o.label().toString().equals(view.leaseLabel()) || age.compareTo(orphanAge) < 0
                    || locked(o.lockedUntil(), now) || byLabel.containsKey(o.label().toString())) {
                continue;
            }
            deletions.add(new OrphanDeletion(o.label(), o.objects(), o.size(),
                    "objects without a manifest, last written " + o.newest() + " (older than " + orphanAge + ")"));
        }

        List<WindowBackup> keptRestorable = restorable.stream().filter(b -> keep.containsKey(b.label().toString())).toList();
        Map<TimelineId, Long> through = walThrough(view, byLabel, keep, before, notes);
        through.forEach((tli, t) -> walDeletion(view, tli, t, notes).ifPresent(deletions::add));

        Map<TimelineId, Long> after = new HashMap<>(view.expiredThrough());
        for (Deletion d : deletions) {
            if (d instanceof WalDeletion w) {
                after.put(w.timeline(), w.through());
            }
        }
        WindowCalculator afterCalc = new WindowCalculator(view.segmentSize(),
                ExpiredWal.clipAll(view.timelines(), after), view.facts());
        List<Kept> kept = keep.entrySet().stream().filter(en -> byLabel.containsKey(en.getKey()))
                .sorted(Map.Entry.comparingByKey()).map(en -> new Kept(en.getKey(), en.getValue())).toList();
        return new RetentionPlan(policy, now, deletions, kept, notes, windowBefore,
                afterCalc.compute(keptRestorable), heldBack);
    }

    private static Instant acceptedAt(Map<String, RetentionView.Backup> byLabel, String label) {
        RetentionView.Backup b = byLabel.get(label);
        Instant t = b == null ? null : b.entry().acceptedAt();
        return t == null ? Instant.EPOCH : t;
    }

    /** Floor 1: a full the cloud accepted less than the minimum age ago stays, whatever its status. */
    private void keepYoungFulls(Map<String, RetentionView.Backup> byLabel, Instant now, Map<String, String> keep) {
        if (floors.minFullAge().isZero()) {
            return;
        }
        Instant limit = now.minus(floors.minFullAge());
        for (RetentionView.Backup b : byLabel.values()) {
            Instant at = b.entry().acceptedAt();
            if (b.label().isFull() && at != null && at.isAfter(limit)) {
                keep.putIfAbsent(b.entry().label(), "younger than the minimum age of a full (" + floors.minFullAge()
                        + "): accepted at " + at);
            }
        }
    }

    /**
     * Floor 2: at most {@code maxFullsPerRun} fulls go in one run, the oldest accepted first; the
     * rest (with the differentials and incrementals of their chains) are held back until an
     * operator confirms a run. Returns the held fulls' labels.
     */
    private List<String> holdBeyondCap(Map<String, RetentionView.Backup> byLabel, Map<String, String> keep,
                                       Comparator<String> accepted, Set<String> heldBefore, List<String> notes) {
        List<String> due = byLabel.keySet().stream().filter(l -> !keep.containsKey(l))
                .filter(l -> BackupLabelName.parse(l).isFull()).sorted(accepted).toList();
        List<String> stillHeld = due.stream().filter(heldBefore::contains).toList();
        List<String> rest = due.stream().filter(l -> !heldBefore.contains(l)).toList();
        if (rest.size() <= floors.maxFullsPerRun() && stillHeld.isEmpty()) {
            return List.of();
        }
        List<String> held = new ArrayList<>(stillHeld);
        if (rest.size() > floors.maxFullsPerRun()) {
            held.addAll(rest.subList(floors.maxFullsPerRun(), rest.size()));
        }
        String why = "held back: a run expires at most " + floors.maxFullsPerRun() + " fulls without an operator's "
                + "confirmation, " + due.size() + " were due";
        held.forEach(l -> keep.put(l, heldBefore.contains(l)
                ? "held back by an earlier run's cap until an operator confirms a run" : why));
        Set<String> heldSet = Set.copyOf(held);
        for (String l : byLabel.keySet()) {
            String full = BackupLabelName.parse(l).full().toString();
            if (!keep.containsKey(l) && heldSet.contains(full)) {
                keep.put(l, "held back with its full " + full);
            }
        }
        notes.add("cap reached: " + due.size() + " fulls were due, " + (due.size() - held.size()) + " expire now, "
                + held.size() + " held back (" + String.join(", ", held) + ") until an operator confirms a run "
                + "({\"stanza\": ..., \"confirm\": true} to the retention function)");
        return List.copyOf(held);
    }

    private static void keepByPolicy(List<WindowBackup> restorable, RetentionPolicy policy, Instant now,
                                     Map<String, String> keep, Comparator<String> accepted,
                                     java.util.function.Function<String, Instant> acceptedAt) {
        Comparator<WindowBackup> newestFirst = Comparator.comparing((WindowBackup b) -> b.label().toString(), accepted)
                .reversed();
        List<WindowBackup> fulls = restorable.stream().filter(b -> b.label().isFull())
                .sorted(newestFirst).toList();
        if (fulls.isEmpty()) {
            return;
        }
        keep.put(fulls.getFirst().label().toString(), "the newest valid full");
        switch (policy.full()) {
            case FullRetention.ByCount c -> {
                for (int i = 1; i < Math.min(c.count(), fulls.size()); i++) {
                    keep.putIfAbsent(fulls.get(i).label().toString(), "full " + (i + 1) + " of " + c.count() + " kept by count");
                }
            }
            case FullRetention.ByAge a -> {
                Instant horizon = now.minus(Duration.ofDays(a.days()));
                for (WindowBackup f : fulls) {
                    // Accepted (hence consistent) at or before the horizon: it restores to every point after.
                    boolean anchor = !acceptedAt.apply(f.label().toString()).isAfter(horizon);
                    keep.putIfAbsent(f.label().toString(), anchor
                            ? "the newest full accepted at or before " + horizon + " (start of the " + a.days() + "-day window)"
                            : "accepted within the last " + a.days() + " days");
                    if (anchor) {
                        break;
                    }
                }
            }
        }
        Set<String> keptFulls = Set.copyOf(keep.keySet());
        List<WindowBackup> diffs = restorable.stream()
                .filter(b -> b.label().type() == BackupLabelName.Type.DIFF && keptFulls.contains(b.label().full().toString()))
                .sorted(newestFirst).toList();
        for (int i = 0; i < Math.min(policy.diff(), diffs.size()); i++) {
            keep.putIfAbsent(diffs.get(i).label().toString(), "diff " + (i + 1) + " of " + policy.diff() + " kept by count");
        }
        // Oldest first, so that an incremental's earlier backups are decided before it.
        restorable.stream().filter(b -> b.label().type() == BackupLabelName.Type.INCR)
                .sorted(Comparator.comparing(WindowBackup::label)).forEach(b -> {
                    if (keep.keySet().containsAll(b.needs())) {
                        keep.putIfAbsent(b.label().toString(), "incremental whose earlier backups are kept");
                    }
                });
    }

    /**
     * The newest timeline with a window is where "latest" recovers to: keep a backup whose reach
     * along it ends at its latest point. The newest full that does, if one does; otherwise (a WAL
     * gap after the newest full on that path) the newest differential or incremental past the gap,
     * whose chain is then kept by {@link #closeOverNeeds}. A full that merely reaches the timeline
     * is not enough: its WAL may stop at a gap well before the latest point. After a promotion the
     * newest fulls may be on the old timeline past the branch point, and only older ones reach the
     * new timeline.
     */
    private static void keepReachOfLatest(WindowCalculator calc, RecoveryWindow window, List<WindowBackup> restorable,
                                          Map<String, String> keep) {
        if (window.timelines().isEmpty()) {
            return;
        }
        RecoveryWindow.TimelineWindow newest = window.timelines().getLast();
        WindowPoint latest = newest.latest().orElseThrow();
        TimelinePath path = calc.path(newest.timeline()).orElseThrow();
        List<WindowCalculator.Reach> reaching = restorable.stream().map(b -> calc.reach(path, b)).flatMap(Optional::stream)
                .filter(r -> !r.end().lsn().isBefore(latest.lsn())).toList();
        Comparator<WindowCalculator.Reach> newestFirst = Comparator
                .comparing((WindowCalculator.Reach r) -> r.backup().startLsn())
                .thenComparing(r -> r.backup().label());
        Optional<WindowCalculator.Reach> full = reaching.stream().filter(r -> r.backup().label().isFull()).max(newestFirst);
        Optional<WindowCalculator.Reach> pick = full.isPresent() ? full : reaching.stream().max(newestFirst);
        pick.ifPresent(r -> keep.putIfAbsent(r.backup().label().toString(), "the newest "
                + (full.isPresent() ? "full" : "backup (no full does, past a WAL gap)")
                + " that reaches the latest point (timeline " + newest.timeline().value() + ", " + latest.lsn() + ")"));
    }

    private static void keepInProgressAndLocked(RetentionView view, Map<String, RetentionView.Backup> byLabel,
                                                Instant now, Map<String, String> keep) {
        for (RetentionView.Backup b : view.backups()) {
            BackupEntry e = b.entry();
            if (e.isWaiting()) {
                keep.putIfAbsent(e.label(), "in progress (" + e.status() + ")");
                keepUnknownPriors(byLabel, b.label(), e, keep);
            }
            if (locked(b.lockedUntil(), now)) {
                keep.putIfAbsent(e.label(), "under Object Lock retention until " + b.lockedUntil());
                keepUnknownPriors(byLabel, b.label(), e, keep);
            }
        }
        if (view.leaseLabel() != null) {
            BackupLabelName lease = BackupLabelName.parse(view.leaseLabel());
            keep.putIfAbsent(lease.toString(), "in progress (backup lease held)");
            keepUnknownPriors(byLabel, lease, byLabel.containsKey(lease.toString())
                    ? byLabel.get(lease.toString()).entry() : null, keep);
        }
        for (RetentionView.OrphanPrefix o : view.orphans()) {
            if (o.hasManifest() || locked(o.lockedUntil(), now)) {
                keepUnknownPriors(byLabel, o.label(), null, keep);
            }
        }
    }

    /**
     * A backup whose chain is not recorded (a manifest not read yet, a prefix still uploading):
     * keep every earlier backup of its full, since any of them may be its prior.
     */
    private static void keepUnknownPriors(Map<String, RetentionView.Backup> byLabel, BackupLabelName label,
                                          BackupEntry e, Map<String, String> keep) {
        if (label.isFull() || (e != null && e.prior() != null)) {
            return;
        }
        for (String other : byLabel.keySet()) {
            BackupLabelName o = BackupLabelName.parse(other);
            if (o.full().equals(label.full()) && o.compareTo(label) < 0) {
                keep.putIfAbsent(other, "may be needed by " + label + " (in progress, chain not known yet)");
            }
        }
    }

    private static void closeOverNeeds(Map<String, RetentionView.Backup> byLabel, Map<String, String> keep) {
        Deque<String> todo = new ArrayDeque<>(keep.keySet());
        while (!todo.isEmpty()) {
            String label = todo.pop();
            RetentionView.Backup b = byLabel.get(label);
            if (b == null) {
                continue;
            }
            List<String> needs = new ArrayList<>(b.entry().references());
            if (b.entry().prior() != null) {
                needs.add(b.entry().prior());
            }
            for (String n : needs) {
                if (!keep.containsKey(n)) {
                    keep.put(n, "needed by " + label);
                    todo.push(n);
                }
            }
        }
    }

    /**
     * Per timeline, the highest segment retention may remove, or nothing for a timeline whose WAL
     * must all stay. Null map values are not used: a timeline absent from the answer keeps its WAL.
     */
    private static Map<TimelineId, Long> walThrough(RetentionView view, Map<String, RetentionView.Backup> byLabel,
                                                    Map<String, String> keep, WindowCalculator calc,
                                                    List<String> notes) {
        Map<TimelineId, Long> out = new TreeMap<>();
        List<Anchor> anchors = new ArrayList<>();
        boolean unknown = false;
        for (String label : keep.keySet()) {
            RetentionView.Backup b = byLabel.get(label);
            Optional<Anchor> a = b == null ? Optional.empty() : Anchor.of(b.entry());
            if (a.isPresent()) {
                anchors.add(a.get());
            } else if (b == null || !BackupEntry.INVALID.equals(b.entry().status())) {
                unknown = true;
                notes.add("WAL kept: " + label + " is kept but where it starts is not known yet");
            }
        }
        for (RetentionView.OrphanPrefix o : view.orphans()) {
            if (!byLabel.containsKey(o.label().toString()) && !keep.containsKey(o.label().toString())
                    && (o.hasManifest() || o.label().toString().equals(view.leaseLabel()))) {
                unknown = true;
            }
        }
        if (unknown) {
            return out;
        }
        if (anchors.stream().noneMatch(Anchor::validFull)) {
            notes.add("WAL kept: no valid full backup yet");
            return out;
        }
        Map<TimelineId, Long> need = new TreeMap<>();
        for (TimelineId target : calc.targets()) {
            Optional<TimelinePath> path = calc.path(target);
            if (path.isEmpty()) {
                continue;
            }
            List<TimelinePath.Part> parts = path.get().parts();
            for (Anchor a : anchors) {
                for (int i = 0; i < parts.size(); i++) {
                    TimelinePath.Part p = parts.get(i);
                    if (!p.timeline().equals(a.timeline()) || !p.holdsLsns(a.start(), a.stop())) {
                        continue;
                    }
                    need.merge(p.timeline(), view.segmentSize().segmentNumberOf(a.start()), Math::min);
                    for (int j = i + 1; j < parts.size(); j++) {
                        need.merge(parts.get(j).timeline(), parts.get(j).firstSegment(), Math::min);
                    }
                }
            }
        }
        // A backup whose timeline has no archived history is on no path yet: its own WAL still counts.
        for (Anchor a : anchors) {
            need.merge(a.timeline(), view.segmentSize().segmentNumberOf(a.start()), Math::min);
        }
        Set<TimelineId> targets = Set.copyOf(calc.targets());
        for (TimelineAggregate agg : view.timelines()) {
            TimelineId tli = agg.timeline();
            if (!targets.contains(tli)) {
                notes.add("WAL of timeline " + tli.value() + " kept: its history file is not archived");
                continue;
            }
            long t = need.containsKey(tli) ? need.get(tli) - 1 : lastSegment(agg);
            Long lockedFrom = view.walLockedFrom().get(tli);
            if (lockedFrom != null && lockedFrom <= t) {
                notes.add("WAL of timeline " + tli.value() + " from segment " + lockedFrom
                        + " kept: under Object Lock retention");
                t = lockedFrom - 1;
            }
            out.put(tli, t);
        }
        return out;
    }

    private static long lastSegment(TimelineAggregate agg) {
        return agg.ranges().isEmpty() ? -1 : agg.ranges().last();
    }

    private static Optional<WalDeletion> walDeletion(RetentionView view, TimelineId tli, long through,
                                                     List<String> notes) {
        long previous = view.expiredThrough().getOrDefault(tli, -1L);
        if (through <= previous) {
            return Optional.empty();
        }
        TimelineAggregate agg = view.timelines().stream().filter(a -> a.timeline().equals(tli)).findFirst().orElseThrow();
        long count = 0;
        long first = -1;
        for (SegmentRanges.Range r : agg.ranges().ranges()) {
            long lo = Math.max(r.start(), previous + 1);
            long hi = Math.min(r.end(), through);
            if (lo <= hi) {
                count += hi - lo + 1;
                first = first < 0 ? lo : first;
            }
        }
        if (count == 0) {
            return Optional.empty();
        }
        return Optional.of(new WalDeletion(tli, first, through, count,
                "older than what the oldest kept backup needs on timeline " + tli.value()));
    }

    private static boolean locked(Instant lockedUntil, Instant now) {
        return lockedUntil != null && lockedUntil.isAfter(now);
    }

    /** Where a kept backup starts (and becomes consistent), when its item says. */
    private record Anchor(TimelineId timeline, Lsn start, Lsn stop, boolean validFull) {
        static Optional<Anchor> of(BackupEntry e) {
            if (e.timeline() == null || e.startLsn() == null) {
                return Optional.empty();
            }
            try {
                Lsn start = Lsn.parse(e.startLsn());
                Lsn stop = e.stopLsn() == null ? start : Lsn.parse(e.stopLsn());
                return Optional.of(new Anchor(TimelineId.of(e.timeline()), start, stop,
                        BackupEntry.VALID.equals(e.status()) && BackupLabelName.parse(e.label()).isFull()));
            } catch (RuntimeException ex) {
                return Optional.empty();
            }
        }
    }
}
