package io.tidemark.functions.catalog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.functions.catalog.SegmentRanges.Range;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

@net.jqwik.api.Tag("unit")
class SegmentRangesTest {

    @Property(tries = 300)
    void anyInsertionOrderWithRepeatsGivesTheSameRanges(
            @ForAll @Size(max = 80) List<@IntRange(min = 0, max = 100) Integer> segments,
            @ForAll long seed) {
        SegmentRanges inOrder = addAll(segments);

        Random random = new Random(seed);
        List<Integer> shuffled = new ArrayList<>(segments);
        for (Integer s : segments) {
            if (random.nextInt(3) == 0) {
                shuffled.add(s); // duplicate delivery
            }
        }
        Collections.shuffle(shuffled, random);
        assertEquals(inOrder, addAll(shuffled));

        // Equal to the ranges of the sorted set, computed the obvious way.
        TreeSet<Integer> set = new TreeSet<>(segments);
        List<Range> expected = new ArrayList<>();
        for (int s : set) {
            if (!expected.isEmpty() && expected.getLast().end() == s - 1) {
                expected.set(expected.size() - 1, new Range(expected.getLast().start(), s));
            } else {
                expected.add(new Range(s, s));
            }
        }
        assertEquals(expected, inOrder.ranges());
        assertEquals(set.size(), inOrder.count());
        assertEquals(set.isEmpty() ? -1 : set.last(), inOrder.last());

        // Gaps: exactly the missing numbers between the first and the last segment.
        TreeSet<Long> inGaps = new TreeSet<>();
        for (Range g : inOrder.gaps()) {
            for (long s = g.start(); s <= g.end(); s++) {
                inGaps.add(s);
            }
        }
        TreeSet<Long> missing = new TreeSet<>();
        if (!set.isEmpty()) {
            for (long s = set.first(); s <= set.last(); s++) {
                if (!set.contains((int) s)) {
                    missing.add(s);
                }
            }
        }
        assertEquals(missing, inGaps);
        for (long s = 0; s <= 101; s++) {
            assertEquals(set.contains((int) s), inOrder.contains(s));
        }
    }

    @Property(tries = 200)
    void unionIsCommutativeAssociativeAndIdempotent(
            @ForAll @Size(max = 30) List<@IntRange(min = 0, max = 60) Integer> a,
            @ForAll @Size(max = 30) List<@IntRange(min = 0, max = 60) Integer> b,
            @ForAll @Size(max = 30) List<@IntRange(min = 0, max = 60) Integer> c) {
        SegmentRanges x = addAll(a);
        SegmentRanges y = addAll(b);
        SegmentRanges z = addAll(c);
        assertEquals(x.union(y), y.union(x));
        assertEquals(x.union(y).union(z), x.union(y.union(z)));
        assertEquals(x, x.union(x));
    }

    @Property(tries = 300)
    void removalIsTheSetDifferenceInAnyOrderAndAddingBackRestores(
            @ForAll @Size(max = 60) List<@IntRange(min = 0, max = 80) Integer> present,
            @ForAll @Size(max = 20) List<@IntRange(min = 0, max = 80) Integer> removed,
            @ForAll long seed) {
        TreeSet<Integer> expected = new TreeSet<>(present);
        expected.removeAll(removed);
        SegmentRanges all = addAll(present);
        SegmentRanges cut = all;
        List<Integer> order = new ArrayList<>(removed);
        Collections.shuffle(order, new Random(seed));
        for (int s : order) {
            cut = cut.remove(s);
            assertEquals(cut, cut.remove(s), "idempotent");
        }
        assertEquals(addAll(new ArrayList<>(expected)), cut, "ranges of exactly the segments left");
        assertEquals(cut, all.minus(addAll(removed)), "one minus gives the same as removals one by one");
        for (long s = 0; s <= 81; s++) {
            assertEquals(expected.contains((int) s), cut.contains(s));
        }
        // what was present and removed, added back in any order: the original set
        List<Integer> back = new ArrayList<>(removed);
        back.retainAll(present);
        Collections.shuffle(back, new Random(seed + 1));
        SegmentRanges restored = cut;
        for (int s : back) {
            restored = restored.add(s);
        }
        assertEquals(all, restored);
    }

    @Example
    void aRemovalInTheMiddleSplitsARangeAndAtTheEdgesShortensIt() {
        SegmentRanges r = SegmentRanges.of(List.of(new Range(5, 14)));
        assertEquals(List.of(new Range(5, 10), new Range(12, 14)), r.remove(11).ranges());
        assertEquals(List.of(new Range(11, 11)), r.remove(11).gaps());
        assertEquals(List.of(new Range(6, 14)), r.remove(5).ranges());
        assertEquals(List.of(new Range(5, 13)), r.remove(14).ranges());
        assertEquals(r, r.remove(4).remove(15));
        assertTrue(SegmentRanges.of(List.of(new Range(7, 7))).remove(7).isEmpty());
        assertEquals(List.of(new Range(0, 0), new Range(Long.MAX_VALUE - 1, Long.MAX_VALUE - 1)),
                SegmentRanges.of(List.of(new Range(0, Long.MAX_VALUE - 1))).minus(
                        SegmentRanges.of(List.of(new Range(1, Long.MAX_VALUE - 2)))).ranges());
        assertEquals(List.of(new Range(3, 4)), SegmentRanges.of(List.of(new Range(3, Long.MAX_VALUE))).minus(
                SegmentRanges.of(List.of(new Range(5, Long.MAX_VALUE)))).ranges());
    }

    @Example
    void adjacentRangesMergeAndHolesBecomeGaps() {
        SegmentRanges r = addAll(List.of(9, 5, 7, 6, 12, 13, 5));
        assertEquals(List.of(new Range(5, 7), new Range(9, 9), new Range(12, 13)), r.ranges());
        assertEquals(List.of(new Range(8, 8), new Range(10, 11)), r.gaps());
        assertEquals(6, r.count());
        assertEquals(List.of(new Range(5, 13)), r.add(8).add(10).add(11).ranges());
        assertTrue(r.add(8).add(10).add(11).gaps().isEmpty());
        assertFalse(SegmentRanges.EMPTY.contains(0));
        assertEquals(SegmentRanges.of(List.of(new Range(1, 4), new Range(3, 8), new Range(9, 9))),
                SegmentRanges.of(List.of(new Range(1, 9))));
    }

    private static SegmentRanges addAll(List<Integer> segments) {
        SegmentRanges r = SegmentRanges.EMPTY;
        for (int s : segments) {
            r = r.add(s);
        }
        return r;
    }
}
