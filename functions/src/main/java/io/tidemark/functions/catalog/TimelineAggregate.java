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
 *   <li>history: set once; two different histories for one timeline (never written by
 *       PostgreSQL) resolve to the larger text, so that the outcome is still order-free.</li>
 * </ul>
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
        String historyKey) {

    public TimelineAggregate {
        Objects.requireNonNull(timeline, "timeline");
        Objects.requireNonNull(ranges, "ranges");
        partials = new TreeSet<>(partials);
    }

    public static TimelineAggregate empty(TimelineId timeline) {
        return new TimelineAggregate(timeline, SegmentRanges.EMPTY, null, null, null, null, new TreeSet<>(), null, null);
    }

    /** Adds an archived segment. */
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
        return new TimelineAggregate(timeline, ranges.add(segment.segmentNumber()), last, end,
                max(lastCommitTime, segmentLastCommitTime), max(lastArchivedAt, archivedAt), partials, history,
                historyKey);
    }

    public TimelineAggregate withPartial(String fileName) {
        SortedSet<String> p = new TreeSet<>(partials);
        p.add(fileName);
        return new TimelineAggregate(timeline, ranges, lastSegment, endLsn, lastCommitTime, lastArchivedAt, p,
                history, historyKey);
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
                chosen, chosenKey);
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
        return new TimelineAggregate(tli, SegmentRanges.of(rs), last, end, lastCommit, lastArchived, partials, history,
                item.string("historyKey").orElse(null));
    }
}
