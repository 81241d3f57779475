package io.tidemark.functions.plan;

import io.tidemark.events.layout.Compression;
import io.tidemark.events.plan.RecoveryRequest;
import io.tidemark.events.plan.RestoreTarget;
import io.tidemark.events.plan.TimelineTarget;
import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.events.wal.WalSegmentSize;
import io.tidemark.events.wal.scan.TransactionEnd;
import io.tidemark.events.wal.scan.WalScanner;
import io.tidemark.events.wal.scan.WalSegmentSummary;
import io.tidemark.functions.catalog.CatalogStore;
import io.tidemark.functions.catalog.Item;
import io.tidemark.functions.catalog.Keys;
import io.tidemark.functions.catalog.ObjectStore;
import io.tidemark.functions.catalog.StanzaMeta;
import io.tidemark.functions.index.LoadedObject;
import io.tidemark.functions.window.TimelinePath;
import io.tidemark.functions.window.WindowCalculator;
import io.tidemark.functions.window.WindowPoint;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeSet;

/** Per-request lookups (restore points, the xid record) done once and reused across backups. */
final class TargetSearch {
    private final CatalogStore store;
    private final ObjectStore objects;
    private final RestorePlanner.Settings settings;
    private final StanzaMeta meta;
    private final WindowCalculator calc;
    private List<RestorePointHit> restorePoints;
    private final Map<Long, Optional<XidHit>> xids = new HashMap<>();
    private String why;
    /** For {@code latest} refused because archived WAL continues past a gap: the end before the gap. */
    private WindowPoint nearest;
    private final LatestGap latestGap;

    TargetSearch(CatalogStore store, ObjectStore objects, RestorePlanner.Settings settings, StanzaMeta meta,
                 WindowCalculator calc) {
        this.store = store;
        this.objects = objects;
        this.settings = settings;
        this.meta = meta;
        this.calc = calc;
        this.latestGap = new LatestGap(store, Keys.pk(meta.stanza()), calc);
    }

    Optional<WindowPoint> nearestBeforeGap() {
        return Optional.ofNullable(nearest);
    }

    Optional<String> why(RecoveryRequest r) {
        return Optional.ofNullable(why);
    }

    /** The LSN the target stands for, when it has one (for the nearest points). */
    Lsn targetLsn(RecoveryRequest r) {
        return switch (r.target()) {
            case RestoreTarget.AtLsn l -> l.lsn();
            case RestoreTarget.AtName n -> restorePoints == null || restorePoints.isEmpty() ? null
                    : restorePoints.getFirst().lsn();
            case RestoreTarget.AtXid x -> xids.values().stream().flatMap(Optional::stream).map(XidHit::lsn)
                    .findFirst().orElse(null);
            default -> null;
        };
    }

    Optional<Stop> stop(RecoveryRequest r, WindowCalculator.Reach reach) {
        WindowPoint start = reach.start();
        WindowPoint end = reach.end();
        long e = reach.endSegment();
        WalSegmentSize size = calc.segmentSize();
        if (r.timeline() instanceof TimelineTarget.Latest
                && !(r.target() instanceof RestoreTarget.Latest) && !(r.target() instanceof RestoreTarget.Immediate)) {
            // a newer timeline whose history file is lost: the target would be looked for on the
            // older timeline, which may hold another transaction under the same xid (seen in an e2e run)
            Optional<String> older = latestGap.targetOnOlderTimeline(reach.path().target());
            if (older.isPresent()) {
                why = older.get();
                return Optional.empty();
            }
        }
        return switch (r.target()) {
            case RestoreTarget.Latest l -> {
                // a streamed end: the last complete record the chunks hold (issue 17)
                Lsn pin = reach.streamed(e) ? calc.streamed(reach.path(), e)
                        .map(io.tidemark.functions.window.StreamTail::lastRecordLsn).orElse(null)
                        : lastCompleteRecord(reach.path(), e);
                Optional<String> gap = latestGap.check(reach, pin, r.timeline() instanceof TimelineTarget.Latest);
                if (gap.isPresent()) {
                    // the backup reaching furthest says it (the newest is asked first)
                    if (nearest == null || end.lsn().isAfter(nearest.lsn())) {
                        why = gap.get();
                        nearest = end;
                    }
                    yield Optional.empty();
                }
                yield Optional.of(new Stop(e, "latest: all WAL contiguous from the backup, to "
                        + end.lsn() + (end.time() == null ? "" : " (last commit " + end.time() + ")")
                        + (pin == null ? "; not pinned: the index has no record positions for its last segment"
                        : "; pinned to the record at " + pin), pin));
            }
            case RestoreTarget.Immediate i -> Optional.of(new Stop(
                    Math.max(reach.startSegment(), size.segmentNumberOf(Lsn.of(start.lsn().value() - 1))),
                    "immediate: the backup's consistent point " + start.lsn()));
            case RestoreTarget.AtLsn l -> {
                if (l.lsn().isBefore(start.lsn())) {
                    why = "LSN " + l.lsn() + " precedes the consistent point of every backup that could reach it";
                    yield Optional.empty();
                }
                if (!l.lsn().isBefore(end.lsn())) {
                    why = "LSN " + l.lsn() + " is at or after the end of the contiguous archived WAL" + pastGap(reach);
                    yield Optional.empty();
                }
                yield Optional.of(new Stop(Math.min(e, size.segmentNumberOf(l.lsn()) + 1),
                        "lsn " + l.lsn() + " lies between " + start.lsn() + " and " + end.lsn()));
            }
            case RestoreTarget.AtTime t -> {
                Instant at = t.time().truncatedTo(ChronoUnit.MICROS);
                if (at.isBefore(start.time())) {
                    why = "time " + at + " precedes the consistent point of every backup that could reach it";
                    yield Optional.empty();
                }
                OptionalLong seg = firstCommitAfter(reach, at, r.exclusive());
                if (seg.isEmpty()) {
                    why = "no commit " + (r.exclusive() ? "at or after " : "after ") + at
                            + " in the contiguous archived WAL (recovery would end before reaching the target)"
                            + pastGap(reach);
                    yield Optional.empty();
                }
                yield Optional.of(new Stop(Math.min(e, seg.getAsLong() + 1), "time " + at + ": a commit "
                        + (r.exclusive() ? "at or after" : "after") + " it is archived in segment "
                        + WalSegmentName.of(reach.path().partOfSegment(seg.getAsLong()).timeline(), seg.getAsLong(),
                        size)));
            }
            case RestoreTarget.AtXid x -> {
                Optional<XidHit> hit = xids.computeIfAbsent(reach.path().target().value(),
                        k -> findXid(reach.path(), x.xid() & 0xFFFFFFFFL));
                if (hit.isEmpty()) {
                    why = "no commit or abort record of xid " + x.xid() + " in the archived WAL of timeline "
                            + reach.path().target() + "'s history" + pastGap(reach);
                    yield Optional.empty();
                }
                XidHit h = hit.get();
                if (h.lsn().isBefore(start.lsn()) || h.segment() < reach.startSegment() || h.segment() > e) {
                    why = "the " + h.kind() + " of xid " + x.xid() + " at " + h.lsn()
                            + " is not between a backup's consistent point and the end of its contiguous WAL"
                            + (h.segment() > e ? pastGap(reach) : "");
                    yield Optional.empty();
                }
                yield Optional.of(new Stop(Math.min(e, h.segment() + 1), "xid " + x.xid() + ": its " + h.kind()
                        + " record is at " + h.lsn() + (h.time() == null ? "" : " (" + h.time() + ")")));
            }
            case RestoreTarget.AtName n -> {
                if (restorePoints == null) {
                    restorePoints = restorePoints(n.name());
                }
                TimelinePath path = reach.path();
                Optional<RestorePointHit> first = restorePoints.stream()
                        .filter(p -> path.timelineAt(p.lsn()).equals(p.timeline()))
                        .filter(p -> !p.lsn().isBefore(reach.backup().startLsn()))
                        .min(Comparator.comparing(RestorePointHit::lsn));
                if (first.isEmpty()) {
                    why = restorePoints.isEmpty() ? "no restore point named '" + n.name() + "' is archived"
                            : "no restore point named '" + n.name() + "' after a backup's start on timeline "
                            + path.target() + "'s history";
                    yield Optional.empty();
                }
                RestorePointHit p = first.get();
                if (p.lsn().isBefore(start.lsn())) {
                    why = "restore point '" + n.name() + "' at " + p.lsn() + " precedes the consistent point "
                            + start.lsn() + " of the backup that reads it first";
                    yield Optional.empty();
                }
                if (p.segment() > e) {
                    why = "restore point '" + n.name() + "' at " + p.lsn() + " is beyond the contiguous WAL"
                            + pastGap(reach);
                    yield Optional.empty();
                }
                yield Optional.of(new Stop(Math.min(e, p.segment() + 1), "name '" + n.name() + "': restore point at "
                        + p.lsn() + (p.time() == null ? "" : " (" + p.time() + ")")));
            }
        };
    }

    /**
     * For a target refused because it lies past the end of {@code reach}'s contiguous WAL: the WAL
     * gap there, when WAL continues after it (issue 17: the planner never replays across missing
     * WAL, and says so rather than only "not reachable"), else nothing.
     */
    private String pastGap(WindowCalculator.Reach reach) {
        return LatestGap.walGap(calc, reach).map(g -> "; the WAL breaks off before it at a " + g
                + ": targets past the gap cannot be reached until the missing segments are archived").orElse("");
    }

    /**
     * The start of the last record that lies wholly in segment {@code seg} of the path, or null
     * when the index does not know. {@code latest} pins it as an inclusive LSN target, so that
     * PostgreSQL stops right after applying it, and fails instead of promoting when the WAL it
     * can read ends before it. The indexer finishes a record running into the next segment
     * when that object is in the bucket; that segment may still not count as archived (damaged,
     * gone, not indexed yet), and recovery could not read that record: the segment is then
     * scanned alone for its last complete record.
     */
    private Lsn lastCompleteRecord(TimelinePath path, long seg) {
        String pk = Keys.pk(meta.stanza());
        WalSegmentSize size = calc.segmentSize();
        WalSegmentName name = WalSegmentName.of(path.partOfSegment(seg).timeline(), seg, size);
        Optional<Item> item = store.get(pk, Keys.wal(name));
        if (item.isEmpty()) {
            return null;
        }
        Optional<Lsn> last = item.get().string("lastRecordLsn").map(Lsn::parse);
        Optional<Lsn> end = item.get().string("endLsn").map(Lsn::parse);
        if (last.isPresent() && end.isPresent() && !end.get().isAfter(size.segmentStart(seg + 1))) {
            return last.get();
        }
        return load(item.get(), size)
                .map(raw -> WalScanner.scan(raw, raw.length, name.toString(), null).lastRecordLsn())
                .orElse(null);
    }

    /** The first segment (path order) in the reach holding a commit after {@code t}: a Query per timeline part. */
    private OptionalLong firstCommitAfter(WindowCalculator.Reach reach, Instant t, boolean exclusive) {
        String pk = Keys.pk(meta.stanza());
        long micros = Keys.epochMicros(t) + (exclusive ? 0 : 1);
        for (TimelinePath.Part p : reach.path().partsBetween(reach.startSegment(), reach.archivedEnd())) {
            long lo = Math.max(reach.startSegment(), p.firstSegment());
            long hi = Math.min(reach.archivedEnd(), p.lastSegment());
            String prefix = Keys.commitTimePrefix(p.timeline());
            String from = prefix + Keys.micros(micros) + "#";
            for (int page = 0; page < 8; page++) {
                // Commit times grow with segments: the first few items after T are the answer.
                int limit = page == 0 ? 16 : 256;
                List<Item> items = store.queryPage(pk, from, prefix + "~", false, limit);
                long best = Long.MAX_VALUE;
                for (Item i : items) {
                    long seg = i.number("segmentNumber").orElse(-1L);
                    if (seg >= lo && seg <= hi) {
                        best = Math.min(best, seg);
                    }
                }
                if (best != Long.MAX_VALUE) {
                    return OptionalLong.of(best);
                }
                if (items.size() < limit) {
                    break;
                }
                from = items.getLast().sk() + "!";
            }
        }
        // then the streamed segments after the archived WAL: their last commit times (issue 17)
        for (long seg = reach.archivedEnd() + 1; seg <= reach.endSegment(); seg++) {
            Instant last = calc.streamed(reach.path(), seg).map(io.tidemark.functions.window.StreamTail::lastCommitTime)
                    .orElse(null);
            if (last != null && Keys.epochMicros(last) >= micros) {
                return OptionalLong.of(seg);
            }
        }
        return OptionalLong.empty();
    }

    private List<RestorePointHit> restorePoints(String name) {
        List<RestorePointHit> out = new ArrayList<>();
        for (Item i : store.query(Keys.pk(meta.stanza()), Keys.restorePointPrefix(name))) {
            if (!name.equals(i.string("name").orElse(null))) {
                continue;
            }
            out.add(new RestorePointHit(Lsn.parse(i.string("lsn").orElseThrow()),
                    TimelineId.of(i.number("timeline").orElseThrow()), i.number("segmentNumber").orElseThrow(),
                    i.string("time").map(Instant::parse).orElse(null)));
        }
        return out;
    }

    /**
     * Proves an xid: candidate segments (XIDMAX items with minXid <= xid <= maxXid, archived on the
     * path) in path order, downloaded and scanned until the commit or abort record is found.
     */
    private Optional<XidHit> findXid(TimelinePath path, long xid) {
        String pk = Keys.pk(meta.stanza());
        WalSegmentSize size = meta.walSegmentSize();
        TreeSet<Long> candidates = new TreeSet<>();
        for (TimelinePath.Part p : path.parts()) {
            String prefix = Keys.xidMaxPrefix(p.timeline());
            String from = prefix + Keys.xid(xid) + "#";
            for (int page = 0; page < 8; page++) {
                List<Item> items = store.queryPage(pk, from, prefix + "~", false, 1000);
                for (Item i : items) {
                    long seg = i.number("segmentNumber").orElse(-1L);
                    long min = i.number("minXid").orElse(Long.MAX_VALUE);
                    if (min <= xid && p.holdsSegment(seg) && calc.archived(path, seg)) {
                        candidates.add(seg);
                    }
                }
                if (items.size() < 1000) {
                    break;
                }
                from = items.getLast().sk() + "!";
            }
        }
        int scanned = 0;
        for (long seg : candidates) {
            if (scanned++ >= settings.maxXidScans()) {
                break;
            }
            TimelineId tli = path.partOfSegment(seg).timeline();
            WalSegmentName name = WalSegmentName.of(tli, seg, size);
            Optional<WalSegmentSummary> s = scan(pk, name, size);
            if (s.isEmpty()) {
                continue;
            }
            for (TransactionEnd t : s.get().transactions()) {
                if (t.xid() == xid) {
                    return Optional.of(new XidHit(t.lsn(), t.time(), t.isCommit() ? "commit" : "abort", seg));
                }
            }
        }
        return Optional.empty();
    }

    private Optional<WalSegmentSummary> scan(String pk, WalSegmentName name, WalSegmentSize size) {
        Optional<Item> item = store.get(pk, Keys.wal(name));
        if (item.isEmpty()) {
            return Optional.empty();
        }
        Optional<byte[]> raw = load(item.get(), size);
        if (raw.isEmpty()) {
            return Optional.empty();
        }
        WalSegmentSummary alone = WalScanner.scan(raw.get(), raw.get().length, name.toString(), null);
        if (alone.continuesAt() == null) {
            return Optional.of(alone);
        }
        Optional<byte[]> next = store.get(pk, Keys.wal(name.next())).flatMap(i -> load(i, size));
        return Optional.of(next.isEmpty() ? alone
                : WalScanner.scan(raw.get(), raw.get().length, name.toString(), next.get()));
    }

    private Optional<byte[]> load(Item i, WalSegmentSize size) {
        Optional<LoadedObject> o = LoadedObject.load(objects, i.string("key").orElseThrow(),
                Compression.fromExtension(i.string("compression").orElseThrow()), size.bytes(), size.bytes());
        return o.filter(LoadedObject::ok).map(LoadedObject::raw);
    }

    private record RestorePointHit(Lsn lsn, TimelineId timeline, long segment, Instant time) {
    }

    private record XidHit(Lsn lsn, Instant time, String kind, long segment) {
    }
}
