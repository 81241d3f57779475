package io.tidemark.functions.catalog;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * A set of segment numbers kept as sorted, disjoint, non-adjacent inclusive ranges: the
 * contiguous runs of archived WAL on one timeline. Values are immutable. {@link #add},
 * {@link #union}, {@link #remove} and {@link #minus} are set operations: the ranges depend only on
 * which segments are in the set, never on how it was built (a removal in the middle of a range
 * splits it in two; adding the segment back joins them again).
 */
public final class SegmentRanges {

    /** An inclusive run of segment numbers. */
    public record Range(long start, long end) {
        public Range {
            if (start < 0 || end < start) {
                throw new IllegalArgumentException("invalid segment range " + start + ".." + end);
            }
        }

        public long count() {
            return end - start + 1;
        }
    }

    public static final SegmentRanges EMPTY = new SegmentRanges(List.of());

    private final List<Range> ranges;

    private SegmentRanges(List<Range> ranges) {
        this.ranges = Collections.unmodifiableList(ranges);
    }

    /** Normalises any list of ranges (overlapping, adjacent, unsorted) into the canonical form. */
    public static SegmentRanges of(List<Range> ranges) {
        List<Range> sorted = new ArrayList<>(ranges);
        sorted.sort((a, b) -> Long.compare(a.start(), b.start()));
        List<Range> out = new ArrayList<>();
        for (Range r : sorted) {
            if (!out.isEmpty()) {
                Range last = out.get(out.size() - 1);
                if (r.start() <= last.end() + 1) {
                    if (r.end() > last.end()) {
                        out.set(out.size() - 1, new Range(last.start(), r.end()));
                    }
                    continue;
                }
            }
            out.add(r);
        }
        return new SegmentRanges(out);
    }

    public SegmentRanges add(long segmentNumber) {
        return union(new SegmentRanges(List.of(new Range(segmentNumber, segmentNumber))));
    }

    public SegmentRanges union(SegmentRanges other) {
        List<Range> all = new ArrayList<>(ranges);
        all.addAll(other.ranges);
        return of(all);
    }

    /** The set without {@code segmentNumber}: a range holding it is cut in two (or shortened). */
    public SegmentRanges remove(long segmentNumber) {
        return minus(new SegmentRanges(List.of(new Range(segmentNumber, segmentNumber))));
    }

    /** The set difference: every segment of this set that {@code other} does not hold. */
    public SegmentRanges minus(SegmentRanges other) {
        List<Range> out = new ArrayList<>();
        for (Range r : ranges) {
            long from = r.start();
            for (Range cut : other.ranges) {
                if (cut.end() < from || cut.start() > r.end()) {
                    continue;
                }
                if (cut.start() > from) {
                    out.add(new Range(from, cut.start() - 1));
                }
                from = cut.end() + 1;
                if (from > r.end() || from < 0) {
                    break;
                }
            }
            if (from <= r.end() && from >= 0) {
                out.add(new Range(from, r.end()));
            }
        }
        return new SegmentRanges(out);
    }

    public List<Range> ranges() {
        return ranges;
    }

    /** The missing segments between consecutive ranges. */
    public List<Range> gaps() {
        List<Range> gaps = new ArrayList<>();
        for (int i = 1; i < ranges.size(); i++) {
            gaps.add(new Range(ranges.get(i - 1).end() + 1, ranges.get(i).start() - 1));
        }
        return gaps;
    }

    public long count() {
        long n = 0;
        for (Range r : ranges) {
            n += r.count();
        }
        return n;
    }

    public boolean contains(long segmentNumber) {
        for (Range r : ranges) {
            if (segmentNumber >= r.start() && segmentNumber <= r.end()) {
                return true;
            }
        }
        return false;
    }

    public boolean isEmpty() {
        return ranges.isEmpty();
    }

    /** The highest segment number, or -1 when empty. */
    public long last() {
        return ranges.isEmpty() ? -1 : ranges.get(ranges.size() - 1).end();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SegmentRanges other && ranges.equals(other.ranges);
    }

    @Override
    public int hashCode() {
        return Objects.hash(ranges);
    }

    @Override
    public String toString() {
        return ranges.toString();
    }
}
