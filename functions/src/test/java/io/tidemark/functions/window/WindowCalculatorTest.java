package io.tidemark.functions.window;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.TimelineHistory;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.events.wal.WalSegmentSize;
import io.tidemark.functions.catalog.TimelineAggregate;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Tag;

/** The window over synthetic aggregates: segment s ends at s*size + 0x800 and commits at T0 + s seconds. */
@Tag("unit")
class WindowCalculatorTest {

    static final WalSegmentSize SIZE = WalSegmentSize.ofMegabytes(1);
    static final Instant T0 = Instant.parse("2026-06-01T00:00:00Z");
    static final TimelineId T1 = TimelineId.of(1);
    static final TimelineId T2 = TimelineId.of(2);
    static final TimelineId T3 = TimelineId.of(3);

    final Map<TimelineId, TimelineAggregate> aggs = new HashMap<>();

    void segments(TimelineId tli, long first, long last) {
        TimelineAggregate a = aggs.getOrDefault(tli, TimelineAggregate.empty(tli));
        for (long s = first; s <= last; s++) {
            a = a.withSegment(WalSegmentName.of(tli, s, SIZE), end(s), T0.plusSeconds(s), T0);
        }
        aggs.put(tli, a);
    }

    void history(TimelineId tli, TimelineHistory h) {
        aggs.put(tli, aggs.getOrDefault(tli, TimelineAggregate.empty(tli)).withHistory(h, "k"));
    }

    static Lsn end(long seg) {
        return Lsn.of(seg * SIZE.bytes() + 0x800);
    }

    static Lsn at(long seg, int offset) {
        return Lsn.of(seg * SIZE.bytes() + offset);
    }

    static WindowBackup backup(int day, TimelineId tli, long startSeg, long stopSeg, String prior, List<String> refs) {
        BackupLabelName label = prior == null ? BackupLabelName.full(LocalDateTime.of(2026, 6, day, 0, 0))
                : BackupLabelName.childOf(BackupLabelName.parse(prior), BackupLabelName.Type.INCR,
                LocalDateTime.of(2026, 6, day, 0, 0));
        return new WindowBackup(label, tli, at(startSeg, 0x28), at(stopSeg, 0x100), T0.plusSeconds(stopSeg).plusMillis(500),
                prior, refs, "zst");
    }

    /** WAL items as the synthetic segments would have them (read only where the aggregates cannot answer). */
    final List<String> factReads = new ArrayList<>();

    WindowCalculator calc() {
        return new WindowCalculator(SIZE, new ArrayList<>(aggs.values()), new WindowCalculator.SegmentFacts() {
            @Override
            public java.util.Optional<Lsn> endLsn(TimelineId timeline, long segment) {
                factReads.add("end " + timeline + "/" + segment);
                return java.util.Optional.of(end(segment));
            }

            @Override
            public java.util.Optional<TimelineAggregate.CommitMark> lastCommit(TimelineId timeline, long from, long to) {
                factReads.add("commit " + timeline + "/" + from + ".." + to);
                return from > to ? java.util.Optional.empty()
                        : java.util.Optional.of(new TimelineAggregate.CommitMark(to, T0.plusSeconds(to)));
            }
        });
    }

    @Test
    void oneBackupReachesFromItsStopToTheEndOfContiguousWal() {
        segments(T1, 5, 20);
        WindowBackup b = backup(1, T1, 5, 7, null, List.of());
        RecoveryWindow w = calc().compute(List.of(b));
        assertEquals(List.of(), factReads); // the aggregates answer everything: no WAL item is read
        WindowInterval i = w.timeline(T1).orElseThrow().intervals().getFirst();
        assertEquals(new WindowPoint(b.stopLsn(), b.stopTime(), T1), i.start());
        assertEquals(new WindowPoint(end(20), T0.plusSeconds(20), T1), i.end());
        assertEquals(w.earliest().orElseThrow(), i.start());
        assertEquals(w.latest().orElseThrow(), i.end());
        assertEquals(List.of(), w.gaps());
    }

    /**
     * An idle cluster: its last commit is in WAL before the backup, none after it. The interval's
     * end has no commit time (no time target between the backup and the end is restorable: no
     * commit after it), rather than the earlier commit's time, which put the window's latest time
     * before its earliest; and it stays so when retention removes the WAL before the backup.
     */
    @Test
    void aCommitBeforeTheBackupIsNotTheIntervalsEndTime() {
        TimelineAggregate a = TimelineAggregate.empty(T1);
        a = a.withSegment(WalSegmentName.of(T1, 3, SIZE), end(3), T0.plusSeconds(3), T0);
        for (long s = 4; s <= 9; s++) {
            a = a.withSegment(WalSegmentName.of(T1, s, SIZE), end(s), null, T0);
        }
        aggs.put(T1, a);
        WindowBackup b = backup(1, T1, 5, 6, null, List.of());
        WindowInterval i = calc().compute(List.of(b)).timeline(T1).orElseThrow().intervals().getFirst();
        assertEquals(new WindowPoint(b.stopLsn(), b.stopTime(), T1), i.start());
        assertEquals(new WindowPoint(end(9), null, T1), i.end());

        // retention took segments 3 and 4: the same end, still without a time
        TimelineAggregate kept = TimelineAggregate.empty(T1);
        for (long s = 5; s <= 9; s++) {
            kept = kept.withSegment(WalSegmentName.of(T1, s, SIZE), end(s), null, T0);
        }
        aggs.put(T1, kept);
        WindowInterval after = calc().compute(List.of(b)).timeline(T1).orElseThrow().intervals().getFirst();
        assertEquals(i, after);

        // a commit after the backup is the end's time again
        aggs.put(T1, kept.withSegment(WalSegmentName.of(T1, 10, SIZE), end(10), T0.plusSeconds(10), T0));
        assertEquals(new WindowPoint(end(10), T0.plusSeconds(10), T1),
                calc().compute(List.of(b)).timeline(T1).orElseThrow().intervals().getFirst().end());
    }

    @Test
    void aGapSplitsAndABackupAfterItStartsANewInterval() {
        segments(T1, 5, 10);
        segments(T1, 12, 20);
        WindowBackup before = backup(1, T1, 5, 7, null, List.of());
        RecoveryWindow only = calc().compute(List.of(before));
        assertEquals(1, only.timeline(T1).orElseThrow().intervals().size());
        assertEquals(end(10), only.latest().orElseThrow().lsn());

        WindowBackup after = backup(2, T1, 13, 14, null, List.of());
        WindowBackup alsoBefore = backup(3, T1, 8, 9, null, List.of());
        RecoveryWindow w = calc().compute(List.of(before, after, alsoBefore));
        List<WindowInterval> is = w.timeline(T1).orElseThrow().intervals();
        assertEquals(2, is.size());
        assertEquals(before.stopLsn(), is.get(0).start().lsn()); // merged with the backup of segments 8..9
        assertEquals(end(10), is.get(0).end().lsn());
        assertEquals(after.stopLsn(), is.get(1).start().lsn());
        assertEquals(end(20), is.get(1).end().lsn());
        RecoveryWindow.Gap g = w.gaps().getFirst();
        assertEquals(end(10), g.from().lsn());
        assertEquals(T0.plusSeconds(10), g.from().time());
        assertEquals(after.stopLsn(), g.to().lsn());
    }

    @Test
    void aBackupOnTimeline1ReachesTimeline3ThroughTheHistories() {
        // tli1: 5..12 (the old primary archived past the switch); tli2 from 0/A00100 (segment 10); tli3 from 0/F00200.
        Lsn s1 = at(10, 0x100);
        Lsn s2 = at(15, 0x200);
        segments(T1, 5, 12);
        TimelineHistory h2 = TimelineHistory.initial().child(T2, s1, "promoted");
        TimelineHistory h3 = h2.child(T3, s2, "pitr");
        history(T2, h2);
        segments(T2, 10, 15);
        history(T3, h3);
        segments(T3, 15, 18);
        WindowBackup b = backup(1, T1, 5, 6, null, List.of());
        WindowCalculator c = calc();
        assertEquals(T3, c.newest(T1));
        TimelinePath p3 = c.path(T3).orElseThrow();
        assertEquals(List.of(T1, T2, T3), p3.parts().stream().map(TimelinePath.Part::timeline).toList());
        assertEquals(9, p3.parts().get(0).lastSegment());
        assertEquals(10, p3.parts().get(1).firstSegment());
        assertEquals(T2, p3.partOfSegment(10).timeline()); // the switch segment comes from the new timeline
        assertEquals(18, c.contiguousEnd(p3, 5));
        RecoveryWindow w = c.compute(List.of(b));
        assertEquals(new WindowPoint(end(18), T0.plusSeconds(18), T3), w.timeline(T3).orElseThrow().latest().orElseThrow());
        assertEquals(end(12), w.timeline(T1).orElseThrow().latest().orElseThrow().lsn());
        assertEquals(end(15), w.timeline(T2).orElseThrow().latest().orElseThrow().lsn());
        assertEquals(w.timeline(T3).orElseThrow().latest(), w.latest());

        // without timeline 2's segment 10 the path to 3 breaks at the switch: the window ends at 9 on timeline 1
        aggs.clear();
        segments(T1, 5, 12);
        history(T2, h2);
        segments(T2, 11, 15);
        history(T3, h3);
        segments(T3, 15, 18);
        RecoveryWindow broken = calc().compute(List.of(b));
        assertEquals(end(9), broken.timeline(T3).orElseThrow().latest().orElseThrow().lsn());
        assertEquals(T0.plusSeconds(9), broken.timeline(T3).orElseThrow().latest().orElseThrow().time());
        // only the range cut by the switch needed WAL items
        assertTrue(factReads.contains("end 1/9") && factReads.contains("commit 1/5..9"), factReads.toString());
        // a backup taken on timeline 2 after the switch is not on timeline 1's path
        WindowBackup on2 = backup(2, T2, 12, 13, null, List.of());
        assertTrue(calc().reach(calc().path(T1).orElseThrow(), on2).isEmpty());
        assertTrue(calc().reach(calc().path(T3).orElseThrow(), on2).isPresent());
    }

    /**
     * A point-in-time recovery that followed timeline 2 (branched at segment 15) to a point in
     * segment 10, before that branch: PostgreSQL writes timeline 3's history as "1 at 15, 2 at 10".
     * Timeline 2 owns nothing on it; timeline 1 owns up to the lower switch point.
     */
    @Test
    void anEmptyRangeEntryOwnsNoSegmentAndNoBackup() {
        Lsn s1 = at(15, 0x100);
        Lsn s3 = at(10, 0x300);
        TimelineHistory h2 = TimelineHistory.initial().child(T2, s1, "promoted");
        TimelineHistory h3 = h2.child(T3, s3, "at restore point before the branch");
        segments(T1, 5, 20);
        history(T2, h2);
        segments(T2, 15, 22);
        history(T3, h3);
        segments(T3, 10, 13);
        WindowCalculator c = calc();
        TimelinePath p3 = c.path(T3).orElseThrow();
        assertEquals(List.of(T1, T3), p3.parts().stream().map(TimelinePath.Part::timeline).toList());
        assertEquals(9, p3.parts().get(0).lastSegment());
        assertEquals(s3, p3.parts().get(0).to());
        assertEquals(T3, p3.partOfSegment(10).timeline());
        assertEquals(T3, p3.partOfSegment(16).timeline(), "not timeline 2's: it owns nothing on this path");
        assertEquals(T3, p3.timelineAt(at(16, 0)));
        assertTrue(p3.part(T2).isEmpty());
        assertEquals(13, c.contiguousEnd(p3, 5));

        WindowBackup on1 = backup(1, T1, 5, 6, null, List.of());
        WindowBackup on2 = backup(2, T2, 16, 17, null, List.of());
        WindowBackup on1AfterCut = backup(3, T1, 12, 12, null, List.of());
        assertTrue(c.reach(p3, on2).isEmpty(), "PostgreSQL refuses: timeline 3 is not a child of its history there");
        assertTrue(c.reach(p3, on1AfterCut).isEmpty(), "timeline 1 past 0/A00300 is not on timeline 3's history");
        RecoveryWindow w = c.compute(List.of(on1, on2, on1AfterCut));
        assertEquals(new WindowPoint(end(13), T0.plusSeconds(13), T3), w.timeline(T3).orElseThrow().latest().orElseThrow());
        assertEquals(on1.stopLsn(), w.timeline(T3).orElseThrow().intervals().getFirst().start().lsn());
        assertEquals(end(22), w.timeline(T2).orElseThrow().latest().orElseThrow().lsn());
        assertEquals(T3, c.newest(T1));
    }

    @Test
    void anIncrementalCountsOnlyWithItsWholeChain() {
        segments(T1, 5, 20);
        WindowBackup full = backup(1, T1, 5, 6, null, List.of());
        WindowBackup incr = backup(2, T1, 9, 10, full.label().toString(), List.of(full.label().toString()));
        assertEquals(List.of(full, incr), WindowCalculator.withCompleteChains(List.of(incr, full)));
        assertEquals(List.of(), WindowCalculator.withCompleteChains(List.of(incr)));
        RecoveryWindow alone = calc().compute(List.of(incr));
        assertTrue(alone.timelines().isEmpty());
        RecoveryWindow both = calc().compute(List.of(full, incr));
        assertEquals(full.stopLsn(), both.earliest().orElseThrow().lsn());
    }

    @Test
    void aTimelineWithoutItsHistoryFileHasNoWindow() {
        segments(T1, 5, 10);
        segments(T2, 10, 12); // no 00000002.history archived
        WindowCalculator c = calc();
        assertEquals(T1, c.newest(T1));
        assertTrue(c.path(T2).isEmpty());
        assertEquals(List.of(T1), c.compute(List.of(backup(1, T1, 5, 6, null, List.of()))).timelines().stream()
                .map(RecoveryWindow.TimelineWindow::timeline).toList());
    }

    @Test
    void theItemFormRoundTrips() {
        segments(T1, 5, 10);
        segments(T1, 12, 20);
        RecoveryWindow w = calc().compute(List.of(backup(1, T1, 5, 6, null, List.of()), backup(2, T1, 13, 14, null,
                List.of())));
        assertEquals(w, RecoveryWindow.fromList(
                io.tidemark.functions.catalog.Item.of("p", "s", Map.of("t", w.toList())).list("t")));
    }

    WindowCalculator calc(List<StreamTail> tails) {
        return new WindowCalculator(SIZE, new ArrayList<>(aggs.values()), new WindowCalculator.SegmentFacts() {
            @Override
            public java.util.Optional<Lsn> endLsn(TimelineId timeline, long segment) {
                return java.util.Optional.of(end(segment));
            }

            @Override
            public java.util.Optional<TimelineAggregate.CommitMark> lastCommit(TimelineId timeline, long from, long to) {
                return from > to ? java.util.Optional.empty()
                        : java.util.Optional.of(new TimelineAggregate.CommitMark(to, T0.plusSeconds(to)));
            }
        }, tails);
    }

    static StreamTail tail(TimelineId tli, long seg, int endOffset, boolean complete) {
        return new StreamTail(WalSegmentName.of(tli, seg, SIZE), complete ? SIZE.bytes() : endOffset,
                at(seg, endOffset), at(seg, endOffset - 0x40), T0.plusSeconds(seg), complete);
    }

    @Test
    void aStreamOfTheOldTimelineThatEndsBeforeTheSwitchIsABreakOnTheNewTimelinesPath() {
        // archived 5..9; timeline 1 streamed into segment 10 only; timeline 2 forks in segment 13
        // and its agent streams it from that segment's start
        segments(T1, 5, 9);
        history(T2, TimelineHistory.initial().child(T2, at(13, 0x500), "promoted"));
        WindowBackup b = backup(1, T1, 5, 7, null, List.of());
        RecoveryWindow w = calc(List.of(tail(T1, 10, 0x3000, false), tail(T2, 13, 0x9000, false)))
                .compute(List.of(b));
        assertEquals(new WindowPoint(at(10, 0x3000), T0.plusSeconds(10), T1), w.latest().orElseThrow(),
                "the window ends where timeline 1's stream ends: it does not claim the gap");
        assertEquals(List.of(new RecoveryWindow.Break(T2, new WindowPoint(at(10, 0x3000), T0.plusSeconds(10), T1),
                new WindowPoint(at(13, 0), null, T2))), w.breaks());
        assertEquals(List.of(), w.gaps());
        assertEquals(w, RecoveryWindow.fromList(
                io.tidemark.functions.catalog.Item.of("p", "s", Map.of("t", w.toList())).list("t")));
    }

    @Test
    void aStreamOfTheOldTimelineThatReachesTheSwitchSegmentLeavesNoBreak() {
        segments(T1, 5, 9);
        history(T2, TimelineHistory.initial().child(T2, at(13, 0x500), "promoted"));
        WindowBackup b = backup(1, T1, 5, 7, null, List.of());
        RecoveryWindow w = calc(List.of(tail(T1, 10, 0, true), tail(T1, 11, 0, true), tail(T1, 12, 0, true),
                tail(T1, 13, 0x400, false), tail(T2, 13, 0x9000, false))).compute(List.of(b));
        assertEquals(new WindowPoint(at(13, 0x9000), T0.plusSeconds(13), T2), w.latest().orElseThrow());
        assertEquals(List.of(), w.breaks());
    }

    @Test
    void aDroppedSlotsHoleInTheStreamIsABreakUntilTheArchiveFillsIt() {
        segments(T1, 5, 9);
        WindowBackup b = backup(1, T1, 5, 7, null, List.of());
        List<StreamTail> tails = List.of(tail(T1, 10, 0x3000, false), tail(T1, 12, 0x2000, false));
        RecoveryWindow w = calc(tails).compute(List.of(b));
        assertEquals(at(10, 0x3000), w.latest().orElseThrow().lsn());
        assertEquals(List.of(new RecoveryWindow.Break(T1, new WindowPoint(at(10, 0x3000), T0.plusSeconds(10), T1),
                new WindowPoint(at(12, 0), null, T1))), w.breaks());
        segments(T1, 10, 11); // archive_command delivers the segments the stream missed
        RecoveryWindow filled = calc(tails).compute(List.of(b));
        assertEquals(at(12, 0x2000), filled.latest().orElseThrow().lsn());
        assertEquals(List.of(), filled.breaks());
    }
}
