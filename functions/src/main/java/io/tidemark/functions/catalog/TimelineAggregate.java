package io.tidemark.functions.catalog;

import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.TimelineHistory;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalSegmentName;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The {@code TIMELINE#<TTTTTTTT>} item: what one timeline holds, kept up to date as objects are
 * indexed so that reading a stanza never touches the WAL items.
 *
 * <p>Every field is a join over the indexed objects, so the aggregate depends only on the set of
 * objects, never on the order or repetition of events:
 * <ul>
 *   <li>{@code ranges}: union of archived segment numbers;</li>
 *   <li>{@code lastSegment}/{@code endLsn}: the maximum of (segment number, end LSN) — a segment
 *       re-indexed once its last record could be finished has a larger end LSN;</li>
 *   <li>{@code lastCommitTime}, {@code lastArchivedAt}: maxima;</li>
 *   <li>{@code partials}: union of names;</li>
 *   <li>{@code rangeEnds}, {@code rangeCommits}: per range, the end LSN of its last segment and the
 *       last commit (segment, time) inside it: maxima within each range of the union, what the
 *       recovery window needs at a range's end without reading WAL items;</li>
 *   <li>history: set once; two different histories for one timeline (never written by
 *       PostgreSQL) resolve to the larger text, so that the outcome is still order-free.</li>
 * </ul>
 *
 * <h2>Lost segments</h2>
 * A segment whose object was deleted or found damaged ({@code lost}) is taken out of
 * {@code ranges}: the range holding it splits in two, and the per-range marks are kept per
 * present range (the part before the cut gets its marks from the WAL items, {@link #withLost}).
 * Whether a segment is lost is decided by its {@code WAL#} item (its status, ordered by the S3
 * sequencer); every writer of this item reads that status inside its merge attempt when the
 * segment is or becomes lost, so the last write agrees with the WAL item whatever the order.
 * A segment archived again ({@link #withSegment}) leaves {@code lost} and joins its neighbours.
 */
public record TimelineAggregate(
        TimelineId timeline,
        SegmentRanges ranges,
        WalSegmentName lastSegment,
        Lsn endLsn,
        Instant lastCommitTime,
        Instant lastArchivedAt,
        SortedSet<String> partials,
        TimelineHistory history,
        String historyKey,
        List<EndMark> rangeEnds,
        List<CommitMark> rangeCommits,
        SegmentRanges lost) {

    /** The last segment of a range and where its last record ends. */
    public record EndMark(long segment, Lsn endLsn) implements Comparable<EndMark> {
        @Override
        public int compareTo(EndMark o) {
            int c = Long.compare(segment, o.segment);
            return c != 0 ? c : endLsn.compareTo(o.endLsn);
        }
    }

    /** The last segment of a range that holds a commit, and the time of its last commit. */
    public record CommitMark(long segment, Instant time) implements Comparable<CommitMark> {
        @Override
        public int compareTo(CommitMark o) {
            int c = Long.compare(segment, o.segment);
            return c != 0 ? c : time.compareTo(o.time);
        }
    }

    public TimelineAggregate {
        Objects.requireNonNull(timeline, "timeline");
        Objects.requireNonNull(ranges, "ranges");
        partials = new TreeSet<>(partials);
        rangeEnds = rangeEnds == null ? List.of() : List.copyOf(rangeEnds);
        rangeCommits = rangeCommits == null ? List.of() : List.copyOf(rangeCommits);
        lost = lost == null ? SegmentRanges.EMPTY : lost;
    }

    public TimelineAggregate(TimelineId timeline, SegmentRanges ranges, WalSegmentName lastSegment, Lsn endLsn,
            Instant lastCommitTime, Instant lastArchivedAt, SortedSet<String> partials, TimelineHistory history,
            String historyKey) {
        this(timeline, ranges, lastSegment, endLsn, lastCommitTime, lastArchivedAt, partials, history, historyKey,
                List.of(), List.of(), SegmentRanges.EMPTY);
    }

    public TimelineAggregate(TimelineId timeline, SegmentRanges ranges, WalSegmentName lastSegment, Lsn endLsn,
            Instant lastCommitTime, Instant lastArchivedAt, SortedSet<String> partials, TimelineHistory history,
            String historyKey, List<EndMark> rangeEnds, List<CommitMark> rangeCommits) {
        this(timeline, ranges, lastSegment, endLsn, lastCommitTime, lastArchivedAt, partials, history, historyKey,
                rangeEnds, rangeCommits, SegmentRanges.EMPTY);
    }

    public static TimelineAggregate empty(TimelineId timeline) {
        return new TimelineAggregate(timeline, SegmentRanges.EMPTY, null, null, null, null, new TreeSet<>(), null, null);
    }

    /** Where the last record of range {@code r}'s last segment ends, when known. */
    public java.util.Optional<Lsn> endOfRange(SegmentRanges.Range r) {
        return rangeEnds.stream().filter(m -> m.segment() == r.end()).map(EndMark::endLsn).findFirst();
    }

    /** The last commit in range {@code r} (its segment and time), when known. */
    public java.util.Optional<CommitMark> lastCommitOfRange(SegmentRanges.Range r) {
        return rangeCommits.stream().filter(m -> m.segment() >= r.start() && m.segment() <= r.end()).findFirst();
    }

    /**
     * Per range, the largest mark inside it: a join, because every range of the union is a union of
     * old ranges and the new segment, and each of those carried its own largest mark.
     */
    private static <M extends Comparable<M>> List<M> perRange(SegmentRanges ranges, List<M> marks,
            java.util.function.ToLongFunction<M> segmentOf) {
        List<M> out = new ArrayList<>();
        for (SegmentRanges.Range r : ranges.ranges()) {
            M best = null;
            for (M m : marks) {
                long s = segmentOf.applyAsLong(m);
                if (s >= r.start() && s <= r.end() && (best == null || m.compareTo(best) > 0)) {
                    best = m;
                }
            }
            if (best != null) {
                out.add(best);
            }
        }
        return out;
    }

    /** Adds an archived segment (one that was lost and is archived again leaves {@code lost}). */
    public TimelineAggregate withSegment(WalSegmentName segment, Lsn segmentEndLsn, Instant segmentLastCommitTime,
            Instant archivedAt) {
        requireTimeline(segment.timeline());
        WalSegmentName last = lastSegment;
        Lsn end = endLsn;
        int c = last == null ? 1 : Long.compare(segment.segmentNumber(), last.segmentNumber());
        if (c > 0) {
            last = segment;
            end = segmentEndLsn;
        } else if (c == 0) {
            end = max(end, segmentEndLsn);
        }
        SegmentRanges union = ranges.add(segment.segmentNumber());
        SegmentRanges stillLost = lost.remove(segment.segmentNumber());
        List<EndMark> ends = new ArrayList<>(rangeEnds);
        if (segmentEndLsn != null) {
            ends.add(new EndMark(segment.segmentNumber(), segmentEndLsn));
        }
        List<CommitMark> commits = new ArrayList<>(rangeCommits);
        if (segmentLastCommitTime != null) {
            commits.add(new CommitMark(segment.segmentNumber(), segmentLastCommitTime));
        }
        return new TimelineAggregate(timeline, union, last, end,
                max(lastCommitTime, segmentLastCommitTime), max(lastArchivedAt, archivedAt), partials, history,
                historyKey, perRange(union, ends, EndMark::segment), perRange(union, commits, CommitMark::segment),
                stillLost);
    }

    /**
     * Takes a lost segment out of the ranges: the range holding it is cut. The part before the cut
     * has lost its marks with the segments after it, so the caller passes them, read from the WAL
     * items: where the last record of the segment before the cut ends, and the last commit in that
     * part (either may be null when unknown or none).
     */
    public TimelineAggregate withLost(WalSegmentName segment, EndMark endBefore, CommitMark commitBefore) {
        requireTimeline(segment.timeline());
        long n = segment.segmentNumber();
        SegmentRanges cut = ranges.remove(n);
        List<EndMark> ends = new ArrayList<>(rangeEnds);
        if (endBefore != null && endBefore.segment() < n) {
            ends.add(endBefore);
        }
        List<CommitMark> commits = new ArrayList<>(rangeCommits);
        if (commitBefore != null && commitBefore.segment() < n) {
            commits.add(commitBefore);
        }
        return new TimelineAggregate(timeline, cut, lastSegment, endLsn, lastCommitTime, lastArchivedAt, partials,
                history, historyKey, perRange(cut, ends, EndMark::segment), perRange(cut, commits, CommitMark::segment),
                lost.add(n));
    }

    /** The timeline without its history: the history file is lost (until it is archived again). */
    public TimelineAggregate withoutHistory() {
        return new TimelineAggregate(timeline, ranges, lastSegment, endLsn, lastCommitTime, lastArchivedAt, partials,
                null, null, rangeEnds, rangeCommits, lost);
    }

    /** Without a {@code .partial} file that is lost. */
    public TimelineAggregate withoutPartial(String fileName) {
        SortedSet<String> p = new TreeSet<>(partials);
        p.remove(fileName);
        return new TimelineAggregate(timeline, ranges, lastSegment, endLsn, lastCommitTime, lastArchivedAt, p,
                history, historyKey, rangeEnds, rangeCommits, lost);
    }

    public TimelineAggregate withPartial(String fileName) {
        SortedSet<String> p = new TreeSet<>(partials);
        p.add(fileName);
        return new TimelineAggregate(timeline, ranges, lastSegment, endLsn, lastCommitTime, lastArchivedAt, p,
                history, historyKey, rangeEnds, rangeCommits, lost);
    }

    public TimelineAggregate withHistory(TimelineHistory h, String key) {
        requireTimeline(h.timeline());
        TimelineHistory chosen = h;
        String chosenKey = key;
        if (history != null && !history.equals(h) && history.format().compareTo(h.format()) > 0) {
            chosen = history;
            chosenKey = historyKey;
        }
        return new TimelineAggregate(timeline, ranges, lastSegment, endLsn, lastCommitTime, lastArchivedAt, partials,
                chosen, chosenKey, rangeEnds, rangeCommits, lost);
    }

    /** The parent timeline (from the history file), or null. */
    public TimelineId parent() {
        return history == null || history.entries().isEmpty() ? null : history.entries().getLast().parent();
    }

    /** Where this timeline branched off its parent, or null. */
    public Lsn switchPoint() {
        return history == null || history.entries().isEmpty() ? null : history.entries().getLast().switchPoint();
    }

    private void requireTimeline(TimelineId t) {
        if (!t.equals(timeline)) {
            throw new IllegalArgumentException("timeline " + t + " does not belong in the aggregate of timeline " + timeline);
        }
    }

    private static <T extends Comparable<T>> T max(T a, T b) {
        if (a == null) {
            return b;
        }
        if (b == null) {
            return a;
        }
        return a.compareTo(b) >= 0 ? a : b;
    }

    // ---- item mapping -------------------------------------------------------------------------

    public Item toItem(String pk) {
        Map<String, Object> a = new TreeMap<>();
        a.put("kind", "timeline");
        a.put("timeline", timeline.value());
        List<Object> r = new ArrayList<>();
        for (SegmentRanges.Range range : ranges.ranges()) {
            r.add(List.of(range.start(), range.end()));
        }
        a.put("ranges", r);
        a.put("segments", ranges.count());
        if (lastSegment != null) {
            a.put("lastSegment", lastSegment.toString());
            a.put("lastSegmentNumber", lastSegment.segmentNumber());
        }
        a.put("endLsn", endLsn == null ? null : endLsn.toString());
        a.put("lastCommitTime", lastCommitTime == null ? null : lastCommitTime.toString());
        a.put("lastArchivedAt", lastArchivedAt == null ? null : lastArchivedAt.toString());
        a.put("partials", List.copyOf(partials));
        List<Object> ends = new ArrayList<>();
        rangeEnds.forEach(m -> ends.add(List.of(m.segment(), m.endLsn().toString())));
        a.put("rangeEnds", ends);
        List<Object> commits = new ArrayList<>();
        rangeCommits.forEach(m -> commits.add(List.of(m.segment(), m.time().toString())));
        a.put("rangeCommits", commits);
        List<Object> l = new ArrayList<>();
        for (SegmentRanges.Range range : lost.ranges()) {
            l.add(List.of(range.start(), range.end()));
        }
        a.put("lost", l);
        if (history != null) {
            a.put("parent", parent().value());
            a.put("switchPoint", switchPoint().toString());
            List<Object> entries = new ArrayList<>();
            for (TimelineHistory.Entry e : history.entries()) {
                Map<String, Object> m = new TreeMap<>();
                m.put("parent", e.parent().value());
                m.put("switchPoint", e.switchPoint().toString());
                m.put("reason", e.reason());
                entries.add(m);
            }
            a.put("history", entries);
            a.put("historyKey", historyKey);
        }
        return Item.of(pk, Keys.timeline(timeline), a);
    }

    public static TimelineAggregate fromItem(Item item, io.tidemark.events.wal.WalSegmentSize segmentSize) {
        TimelineId tli = TimelineId.of(item.number("timeline").orElseThrow(
                () -> new IllegalStateException("timeline item without timeline: " + item.sk())));
        List<SegmentRanges.Range> rs = new ArrayList<>();
        for (Object o : item.list("ranges")) {
            List<?> pair = (List<?>) o;
            rs.add(new SegmentRanges.Range((Long) pair.get(0), (Long) pair.get(1)));
        }
        WalSegmentName last = item.number("lastSegmentNumber")
                .map(n -> WalSegmentName.of(tli, n, segmentSize)).orElse(null);
        Lsn end = item.string("endLsn").map(Lsn::parse).orElse(null);
        Instant lastCommit = item.string("lastCommitTime").map(Instant::parse).orElse(null);
        Instant lastArchived = item.string("lastArchivedAt").map(Instant::parse).orElse(null);
        SortedSet<String> partials = new TreeSet<>();
        for (Object o : item.list("partials")) {
            partials.add((String) o);
        }
        TimelineHistory history = null;
        List<Object> entries = item.list("history");
        if (!entries.isEmpty()) {
            List<TimelineHistory.Entry> es = new ArrayList<>();
            for (Object o : entries) {
                @SuppressWarnings("unchecked")
                Map<String, Object> m = (Map<String, Object>) o;
                es.add(new TimelineHistory.Entry(TimelineId.of((Long) m.get("parent")),
                        Lsn.parse((String) m.get("switchPoint")), (String) m.getOrDefault("reason", "")));
            }
            history = TimelineHistory.of(tli, es);
        }
        List<EndMark> ends = new ArrayList<>();
        for (Object o : item.list("rangeEnds")) {
            List<?> pair = (List<?>) o;
            ends.add(new EndMark((Long) pair.get(0), Lsn.parse((String) pair.get(1))));
        }
        List<CommitMark> commits = new ArrayList<>();
        for (Object o : item.list("rangeCommits")) {
            List<?> pair = (List<?>) o;
            commits.add(new CommitMark((Long) pair.get(0), Instant.parse((String) pair.get(1))));
        }
        List<SegmentRanges.Range> lost = new ArrayList<>();
        for (Object o : item.list("lost")) {
            List<?> pair = (List<?>) o;
            lost.add(new SegmentRanges.Range((Long) pair.get(0), (Long) pair.get(1)));
        }
        return new TimelineAggregate(tli, SegmentRanges.of(rs), last, end, lastCommit, lastArchived, partials, history,
                item.string("historyKey").orElse(null), ends, commits, SegmentRanges.of(lost));
    }
}
