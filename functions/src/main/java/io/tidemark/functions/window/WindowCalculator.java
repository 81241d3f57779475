package io.tidemark.functions.window;

import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.TimelineHistory;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalSegmentSize;
import io.tidemark.functions.catalog.SegmentRanges;
import io.tidemark.functions.catalog.TimelineAggregate;
import io.tidemark.functions.catalog.TimelineAggregate.CommitMark;
import java.util.ArrayList;
import java.util.Collection;
import java.time.Instant;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Computes the recovery window from the timeline aggregates (archived segment ranges, history,
 * per-range end LSN and last commit) and the valid backups. Pure: it reads WAL items only through
 * {@link SegmentFacts}, and only where an aggregate cannot answer (a range cut by a timeline
 * switch, or aggregates written before they carried per-range facts).
 *
 * <h2>Rules</h2>
 * <ul>
 *   <li>A target timeline has a window only if one can recover onto it: timeline 1, or a timeline
 *       whose {@code .history} is archived. Its path is {@link TimelinePath}.</li>
 *   <li>A backup reaches into the path when its timeline is on it and its start and stop LSNs lie
 *       in that timeline's part. From the segment of its start LSN, the WAL is followed along the
 *       path while segments are archived: the contiguous end.</li>
 *   <li>Its interval runs from its consistent point (stop LSN, stop time) to the end of the last
 *       record of the contiguous end segment, whose time is that of the last commit in the
 *       contiguous WAL before it, or none when that commit precedes the consistent point.</li>
 *   <li>Intervals of several backups that overlap merge; a WAL gap leaves a gap between intervals;
 *       a backup after a gap starts a new interval.</li>
 *   <li>A backup counts only if every earlier backup it needs (prior, references) is valid too.</li>
 * </ul>
 */
public final class WindowCalculator {

    /** What the aggregates cannot say, read from WAL items. */
    public interface SegmentFacts {
        /** Where the last record of an archived segment ends. */
        Optional<Lsn> endLsn(TimelineId timeline, long segment);

        /** The last segment in {@code [from, to]} of {@code timeline} with a commit, and that commit's time. */
        Optional<CommitMark> lastCommit(TimelineId timeline, long from, long to);

        SegmentFacts NONE = new SegmentFacts() {
            @Override
            public Optional<Lsn> endLsn(TimelineId timeline, long segment) {
                return Optional.empty();
            }

            @Override
            public Optional<CommitMark> lastCommit(TimelineId timeline, long from, long to) {
                return Optional.empty();
            }
        };
    }

    /**
     * How far one backup reaches along one path. {@code archivedEnd} is the last archived segment;
     * segments after it up to {@code endSegment} are known only from streamed chunks (issue 17).
     */
    public record Reach(WindowBackup backup, TimelinePath path, long startSegment, long endSegment,
                        WindowPoint start, WindowPoint end, long archivedEnd) {
        public Reach(WindowBackup backup, TimelinePath path, long startSegment, long endSegment, WindowPoint start,
                     WindowPoint end) {
            this(backup, path, startSegment, endSegment, start, end, endSegment);
        }

        /** Whether segment {@code segno} of the reach is known only from streamed chunks. */
        public boolean streamed(long segno) {
            return segno > archivedEnd && segno <= endSegment;
        }
    }

    private final WalSegmentSize size;
    private final Map<TimelineId, TimelineAggregate> timelines = new HashMap<>();
    private final SegmentFacts facts;
    private final Map<String, WindowPoint> endPoints = new HashMap<>();

    /** Streamed segments (issue 17) by timeline and segment number: they extend the archived WAL. */
    private final Map<TimelineId, java.util.NavigableMap<Long, StreamTail>> streams = new HashMap<>();

    public WindowCalculator(WalSegmentSize size, Collection<TimelineAggregate> aggregates, SegmentFacts facts) {
        this(size, aggregates, facts, List.of());
    }

    /**
     * @param tails what streamed chunks make restorable past the archived segments: the window's
     *              right edge moves to the end of the last complete streamed record that continues
     *              the archived WAL without a gap
     */
    public WindowCalculator(WalSegmentSize size, Collection<TimelineAggregate> aggregates, SegmentFacts facts,
                            Collection<StreamTail> tails) {
        this.size = size;
        aggregates.forEach(a -> timelines.put(a.timeline(), a));
        this.facts = facts;
        tails.forEach(t -> streams.computeIfAbsent(t.segment().timeline(), k -> new java.util.TreeMap<>())
                .put(t.segment().segmentNumber(), t));
    }

    /** The streamed segment {@code segno} as the path reads it, if chunks hold a complete record of it. */
    public Optional<StreamTail> streamed(TimelinePath path, long segno) {
        TimelinePath.Part p = path.partOfSegment(segno);
        java.util.NavigableMap<Long, StreamTail> m = streams.get(p.timeline());
        return Optional.ofNullable(m == null ? null : m.get(segno));
    }

    /**
     * The streamed segments that continue the archived WAL of {@code path} after {@code archivedEnd}:
     * each but the last complete, all with a complete record; empty when none.
     */
    public List<StreamTail> streamedAfter(TimelinePath path, long archivedEnd) {
        List<StreamTail> out = new ArrayList<>();
        long seg = archivedEnd + 1;
        while (true) {
            Optional<StreamTail> t = streamed(path, seg);
            if (t.isEmpty()) {
                break;
            }
            out.add(t.get());
            if (!t.get().complete()) {
                break;
            }
            seg++;
        }
        return out;
    }

    public WalSegmentSize segmentSize() {
        return size;
    }

    public Optional<TimelineAggregate> aggregate(TimelineId tli) {
        return Optional.ofNullable(timelines.get(tli));
    }

    /** The path of {@code target}, or empty when its history file is not archived (nothing can recover onto it). */
    public Optional<TimelinePath> path(TimelineId target) {
        if (target.value() == 1) {
            return Optional.of(TimelinePath.of(TimelineHistory.initial(), size));
        }
        TimelineAggregate a = timelines.get(target);
        if (a == null || a.history() == null) {
            return Optional.empty();
        }
        return Optional.of(TimelinePath.of(a.history(), size));
    }

    /** PostgreSQL's {@code recovery_target_timeline = 'latest'}: from {@code start}, follow history files tli+1, tli+2, ... */
    public TimelineId newest(TimelineId start) {
        TimelineId t = start;
        while (t.value() < 0xFFFFFFFFL) {
            TimelineAggregate next = timelines.get(t.next());
            if (next == null || next.history() == null) {
                break;
            }
            t = t.next();
        }
        return t;
    }

    /** Every timeline one may recover onto, ascending. */
    public List<TimelineId> targets() {
        Set<TimelineId> out = new HashSet<>();
        out.add(TimelineId.FIRST);
        timelines.values().stream().filter(a -> a.history() != null).forEach(a -> out.add(a.timeline()));
        return out.stream().sorted().toList();
    }

    /** The last segment reachable without a break along {@code path} from {@code from}, or -1 if {@code from} is missing. */
    public long contiguousEnd(TimelinePath path, long from) {
        long seg = from;
        long end = -1;
        for (TimelinePath.Part p : path.parts()) {
            if (p.lastSegment() < seg) {
                continue;
            }
            if (p.firstSegment() > seg) {
                return end;
            }
            Optional<SegmentRanges.Range> r = range(p.timeline(), seg);
            if (r.isEmpty()) {
                return end;
            }
            long e = Math.min(r.get().end(), p.lastSegment());
            end = e;
            if (e < p.lastSegment()) {
                return end;
            }
            seg = e + 1;
        }
        return end;
    }

    /** Whether segment {@code segno} as the path reads it is archived. */
    public boolean archived(TimelinePath path, long segno) {
        return range(path.partOfSegment(segno).timeline(), segno).isPresent();
    }

    private Optional<SegmentRanges.Range> range(TimelineId tli, long seg) {
        TimelineAggregate a = timelines.get(tli);
        if (a == null) {
            return Optional.empty();
        }
        for (SegmentRanges.Range r : a.ranges().ranges()) {
            if (seg >= r.start() && seg <= r.end()) {
                return Optional.of(r);
            }
        }
        return Optional.empty();
    }

    /** How far {@code b} reaches along {@code path}, or empty when it is not on it or its WAL does not reach its stop LSN. */
    public Optional<Reach> reach(TimelinePath path, WindowBackup b) {
        Optional<TimelinePath.Part> part = path.part(b.timeline());
        if (part.isEmpty() || !part.get().holdsLsns(b.startLsn(), b.stopLsn())) {
            return Optional.empty();
        }
        long startSeg = size.segmentNumberOf(b.startLsn());
        long end = contiguousEnd(path, startSeg);
        if (end < 0) {
            return Optional.empty();
        }
        WindowPoint endPoint = endPoint(path, end);
        long endSeg = end;
        List<StreamTail> tail = streamedAfter(path, end);
        if (!tail.isEmpty()) {
            StreamTail last = tail.getLast();
            if (last.endLsn().isAfter(endPoint.lsn())) {
                Instant commit = endPoint.time();
                for (StreamTail t : tail) {
                    if (t.lastCommitTime() != null && (commit == null || t.lastCommitTime().isAfter(commit))) {
                        commit = t.lastCommitTime();
                    }
                }
                endPoint = new WindowPoint(last.endLsn(), commit, path.partOfSegment(last.segment().segmentNumber())
                        .timeline());
                endSeg = last.segment().segmentNumber();
            }
        }
        if (endPoint.lsn().isBefore(b.stopLsn())) {
            return Optional.empty();
        }
        if (endPoint.time() != null && b.stopTime() != null && endPoint.time().isBefore(b.stopTime())) {
            // the last commit precedes the backup's consistent point: no commit lies in this reach
            // (an idle cluster), so no time target in it is restorable; a time before its start
            // shown as its end would invert the window
            endPoint = new WindowPoint(endPoint.lsn(), null, endPoint.timeline());
        }
        return Optional.of(new Reach(b, path, startSeg, endSeg, new WindowPoint(b.stopLsn(), b.stopTime(), b.timeline()),
                endPoint, end));
    }

    /**
     * The point at the end of segment {@code endSeg} of the path: the end of its last record, and
     * the time of the last commit in the contiguous WAL up to it.
     */
    public WindowPoint endPoint(TimelinePath path, long endSeg) {
        String key = path.target().value() + "#" + endSeg;
        WindowPoint cached = endPoints.get(key);
        if (cached != null) {
            return cached;
        }
        TimelinePath.Part p = path.partOfSegment(endSeg);
        TimelineAggregate agg = timelines.get(p.timeline());
        Optional<SegmentRanges.Range> r = range(p.timeline(), endSeg);
        Lsn lsn = null;
        if (r.isPresent() && r.get().end() == endSeg) {
            lsn = agg.endOfRange(r.get()).orElse(null);
        }
        if (lsn == null) {
            lsn = facts.endLsn(p.timeline(), endSeg).orElse(size.segmentStart(endSeg + 1));
        }
        WindowPoint point = new WindowPoint(lsn, lastCommitUpTo(path, endSeg).map(CommitMark::time).orElse(null),
                p.timeline());
        endPoints.put(key, point);
        return point;
    }

    /** The last commit in the contiguous WAL of the path that ends at {@code endSeg}. */
    public Optional<CommitMark> lastCommitUpTo(TimelinePath path, long endSeg) {
        List<TimelinePath.Part> parts = path.parts();
        int idx = parts.indexOf(path.partOfSegment(endSeg));
        long seg = endSeg;
        while (idx >= 0) {
            TimelinePath.Part part = parts.get(idx);
            TimelineAggregate agg = timelines.get(part.timeline());
            Optional<SegmentRanges.Range> r = range(part.timeline(), seg);
            if (agg == null || r.isEmpty()) {
                return Optional.empty();
            }
            long lo = Math.max(r.get().start(), part.firstSegment());
            boolean knowsCommits = !agg.rangeCommits().isEmpty() || agg.lastCommitTime() == null;
            Optional<CommitMark> mark = agg.lastCommitOfRange(r.get());
            if (!knowsCommits || (mark.isPresent() && mark.get().segment() > seg)) {
                Optional<CommitMark> found = facts.lastCommit(part.timeline(), lo, seg);
                if (found.isPresent()) {
                    return found;
                }
            } else if (mark.isPresent() && mark.get().segment() >= lo) {
                return mark;
            }
            if (lo > part.firstSegment()) {
                return Optional.empty(); // the contiguous WAL starts inside this part
            }
            idx--;
            if (idx >= 0) {
                seg = parts.get(idx).lastSegment();
            }
        }
        return Optional.empty();
    }

    /** The backups whose every earlier backup (prior, references) is in the list too, oldest first. */
    public static List<WindowBackup> withCompleteChains(List<WindowBackup> backups) {
        List<WindowBackup> sorted = new ArrayList<>(backups);
        sorted.sort(Comparator.comparing(WindowBackup::label));
        Set<String> ok = new HashSet<>();
        List<WindowBackup> out = new ArrayList<>();
        for (WindowBackup b : sorted) {
            if (ok.containsAll(b.needs())) {
                ok.add(b.label().toString());
                out.add(b);
            }
        }
        return out;
    }

    /** The window of one target timeline. */
    public RecoveryWindow.TimelineWindow window(TimelinePath path, List<WindowBackup> backups) {
        List<Reach> reaches = new ArrayList<>();
        for (WindowBackup b : backups) {
            reach(path, b).ifPresent(reaches::add);
        }
        reaches.sort(Comparator.comparing((Reach r) -> r.start().lsn()));
        List<WindowInterval> intervals = new ArrayList<>();
        WindowPoint start = null;
        WindowPoint end = null;
        long endSeg = -1;
        for (Reach r : reaches) {
            if (start != null && !r.start().lsn().isAfter(end.lsn())) {
                if (r.end().lsn().isAfter(end.lsn())) {
                    end = r.end();
                    endSeg = r.endSegment();
                }
                continue;
            }
            if (start != null) {
                intervals.add(new WindowInterval(start, end, endSeg));
            }
            start = r.start();
            end = r.end();
            endSeg = r.endSegment();
        }
        if (start != null) {
            intervals.add(new WindowInterval(start, end, endSeg));
        }
        WindowPoint resumes = intervals.isEmpty() ? null : resumesAfter(path, endSeg).orElse(null);
        return new RecoveryWindow.TimelineWindow(path.target(), intervals, resumes);
    }

    /**
     * Where WAL of {@code path} continues after segment {@code endSeg} past a break: the start of
     * the first later segment that is archived or streamed from its start (with a complete record),
     * read from the timeline the path reads it from. Empty when no WAL lies beyond.
     */
    public Optional<WindowPoint> resumesAfter(TimelinePath path, long endSeg) {
        for (TimelinePath.Part p : path.parts()) {
            if (p.lastSegment() <= endSeg) {
                continue;
            }
            long lo = Math.max(endSeg + 1, p.firstSegment());
            long found = Long.MAX_VALUE;
            TimelineAggregate a = timelines.get(p.timeline());
            if (a != null) {
                for (SegmentRanges.Range r : a.ranges().ranges()) {
                    if (r.end() >= lo && r.start() <= p.lastSegment()) {
                        found = Math.min(found, Math.max(r.start(), lo));
                    }
                }
            }
            java.util.NavigableMap<Long, StreamTail> m = streams.get(p.timeline());
            Long streamed = m == null ? null : m.ceilingKey(lo);
            if (streamed != null && streamed <= p.lastSegment()) {
                found = Math.min(found, streamed);
            }
            if (found != Long.MAX_VALUE) {
                return Optional.of(new WindowPoint(size.segmentStart(found), null, p.timeline()));
            }
        }
        return Optional.empty();
    }

    /** The whole window: every target timeline, from the valid backups with complete chains. */
    public RecoveryWindow compute(List<WindowBackup> backups) {
        List<WindowBackup> usable = withCompleteChains(backups);
        List<RecoveryWindow.TimelineWindow> out = new ArrayList<>();
        for (TimelineId t : targets()) {
            path(t).ifPresent(p -> out.add(window(p, usable)));
        }
        return new RecoveryWindow(out);
    }
}
