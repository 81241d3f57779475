package io.tidemark.events.wal;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Tag("unit")
@net.jqwik.api.Tag("unit")
class TimelineHistoryTest {

    /** What PostgreSQL 16 wrote for timeline 3 after two promotions (the second copied the first's file). */
    static final String TLI3 = "1\t0/3000000\tno recovery target specified\n"
            + "\n"
            + "2\t0/5000158\tat restore point \"before_upgrade\"\n";

    private static final TimelineId T1 = TimelineId.of(1);
    private static final TimelineId T2 = TimelineId.of(2);
    private static final TimelineId T3 = TimelineId.of(3);

    @Test
    void parsesAThreeTimelineHistory() {
        TimelineHistory h = TimelineHistory.parse(T3, TLI3);
        assertEquals(T3, h.timeline());
        assertEquals(List.of(T1, T2), h.ancestors());
        assertEquals(List.of(Lsn.parse("0/3000000"), Lsn.parse("0/5000158")), h.switchPoints());
        assertEquals("no recovery target specified", h.entries().get(0).reason());
        assertEquals("at restore point \"before_upgrade\"", h.entries().get(1).reason());
        assertEquals("00000003.history", h.fileName().fileName());
    }

    @Test
    void lsnToTimelineOnThreeTimelines() {
        TimelineHistory h = TimelineHistory.parse(T3, TLI3);
        assertEquals(T1, h.timelineAt(Lsn.INVALID));
        assertEquals(T1, h.timelineAt(Lsn.parse("0/2FFFFFF")));
        assertEquals(T2, h.timelineAt(Lsn.parse("0/3000000")));
        assertEquals(T2, h.timelineAt(Lsn.parse("0/5000157")));
        assertEquals(T3, h.timelineAt(Lsn.parse("0/5000158")));
        assertEquals(T3, h.timelineAt(Lsn.MAX));
    }

    @Test
    void ancestryQueries() {
        TimelineHistory h = TimelineHistory.parse(T3, TLI3);
        assertTrue(h.isAncestor(T1));
        assertTrue(h.isAncestor(T2));
        assertFalse(h.isAncestor(T3));
        assertFalse(h.isAncestor(TimelineId.of(4)));
        assertTrue(h.includes(T3));
        assertEquals(Lsn.parse("0/3000000"), h.branchPoint(T1));
        assertEquals(Lsn.parse("0/5000158"), h.branchPoint(T2));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> h.branchPoint(T3));
        assertTrue(e.getMessage().contains("not an ancestor of timeline 3"), e.getMessage());
        assertEquals(Lsn.INVALID, h.startOf(T1));
        assertEquals(Lsn.parse("0/3000000"), h.startOf(T2));
        assertEquals(Lsn.parse("0/5000158"), h.startOf(T3));
        assertThrows(IllegalArgumentException.class, () -> h.startOf(TimelineId.of(7)));
    }

    @Test
    void childAppendsLikePostgres() {
        TimelineHistory h2 = TimelineHistory.initial().child(T2, Lsn.parse("0/3000000"), "no recovery target specified");
        TimelineHistory h3 = h2.child(T3, Lsn.parse("0/5000158"), "at restore point \"before_upgrade\"");
        assertEquals(TimelineHistory.parse(T3, TLI3), h3);
        assertEquals("1\t0/3000000\tno recovery target specified\n", h2.format());
        assertEquals(T1, TimelineHistory.initial().timelineAt(Lsn.MAX));
    }

    @Test
    void toleratesWhitespaceVariantsCommentsAndCrlf() {
        String messy = "# written by hand\r\n"
                + "   \t\r\n"
                + "  1 0/3000000   no recovery target specified  \r\n"
                + "\t# indented comment\n"
                + "2\t\t0/5000158\tat restore point \"before_upgrade\"\r\n"
                + "\n";
        assertEquals(TimelineHistory.parse(T3, TLI3), TimelineHistory.parse(T3, messy));
        TimelineHistory noReason = TimelineHistory.parse(T2, "1\t0/3000000");
        assertEquals("", noReason.entries().get(0).reason());
        assertEquals(TimelineHistory.parse(T2, "1 0/ 3000000 x"), TimelineHistory.parse(T2, "1\t0/3000000\tx"));
        assertEquals(Lsn.parse("A/BC"), TimelineHistory.parse(T2, "1\ta/bc\tx").branchPoint(T1));
    }

    @Test
    void refusesBrokenFilesWithAReason() {
        assertRefused(T3, "2\t0/3000000\tx\n1\t0/5000000\ty\n", "strictly increasing");
        assertRefused(T3, "1\t0/3000000\tx\n1\t0/5000000\ty\n", "strictly increasing");
        assertRefused(T2, "2\t0/3000000\tx\n", "not below the child timeline");
        assertRefused(T2, "5\t0/3000000\tx\n", "not below the child timeline");
        assertRefused(T2, "", "no entries");
        assertRefused(T2, "# only a comment\n\n", "no entries");
        assertRefused(T2, "x\t0/3000000\tx\n", "line 1");
        assertRefused(T2, "\n1\n", "line 2");
        assertRefused(T2, "1\t03000000\tx\n", "switch point");
        assertRefused(T2, "1\t0/3000000x\n", "right after the switch point");
        assertRefused(T2, "1x\t0/3000000\n", "white space after the parent");
        assertRefused(T2, "+1\t0/3000000\n", "numeric parent timeline");
        assertRefused(T2, "0\t0/3000000\n", "between 1 and 4294967295");
        assertRefused(T2, "1\t123456789/0\n", "more than 8 hex digits");
        assertRefused(T2, "1\t0/0\tx\n", "0/0");
        assertThrows(IllegalArgumentException.class, () -> TimelineHistory.parse(T1, "1\t0/3000000\n"));
    }

    private static void assertRefused(TimelineId tli, String content, String expected) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TimelineHistory.parse(tli, content));
        assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
    }

    @Test
    void equalSwitchPointsAreAllowed() {
        TimelineHistory h = TimelineHistory.parse(T3, "1\t0/3000000\tx\n2\t0/3000000\ty\n");
        assertEquals(T3, h.timelineAt(Lsn.parse("0/3000000")));
        assertEquals(T1, h.timelineAt(Lsn.parse("0/2FFFFFF")));
    }

    /**
     * The file PostgreSQL writes when a point-in-time recovery follows timeline 2 (branched from 1
     * at 0/5000000) to a restore point at 0/3000000, before that branch point: the recovery ends in
     * timeline 1's WAL but PostgreSQL names its recovery target timeline 2 as the parent. Its
     * reader accepts it (only timeline IDs must increase); timeline 2 owns no LSN on it.
     */
    @Test
    void switchPointsGoingBackAreAcceptedAndTheEmptyRangeOwnsNothing() {
        String file = "1\t0/5000000\tno recovery target specified\n\n2\t0/3000000\tat restore point \"before\"\n";
        TimelineHistory h = TimelineHistory.parse(T3, file);
        assertEquals(file.replace("\n\n", "\n"), h.format());
        assertEquals(List.of(new TimelineHistory.Owned(T1, Lsn.INVALID, Lsn.parse("0/3000000")),
                new TimelineHistory.Owned(T3, Lsn.parse("0/3000000"), null)), h.owned());
        assertEquals(T1, h.timelineAt(Lsn.parse("0/2FFFFFF")));
        assertEquals(T3, h.timelineAt(Lsn.parse("0/3000000")));
        assertEquals(T3, h.timelineAt(Lsn.parse("0/4FFFFFF")), "the newest timeline wins, as tliOfPointInHistory");
        assertEquals(T3, h.timelineAt(Lsn.parse("0/5000000")));
        assertFalse(h.owns(T2));
        assertTrue(h.owns(T1));
        assertTrue(h.isAncestor(T2), "still an ancestor in the file");
        assertEquals(Lsn.parse("0/5000000"), h.startOf(T2));
        assertEquals(Lsn.parse("0/3000000"), h.branchPoint(T2));
        // a child of it: 4 follows 3 from 0/6000000; timeline 2 still owns nothing, 1 stops at 0/3000000
        TimelineHistory child = h.child(TimelineId.of(4), Lsn.parse("0/6000000"), "x");
        assertEquals(List.of(new TimelineHistory.Owned(T1, Lsn.INVALID, Lsn.parse("0/3000000")),
                new TimelineHistory.Owned(T3, Lsn.parse("0/3000000"), Lsn.parse("0/6000000")),
                new TimelineHistory.Owned(TimelineId.of(4), Lsn.parse("0/6000000"), null)), child.owned());
    }

    /**
     * The file PostgreSQL 15 wrote in e2e TimelineRecoveryTest (PITR following timeline 2, branched
     * at 0/70000A0, to restore point rp-100 at 0/3003330 on timeline 1), kept byte for byte: note
     * the blank line PostgreSQL puts between the copied parent history and the new entry.
     */
    @Test
    void theHistoryPostgres15WroteForARestoreBeforeTheBranch() throws Exception {
        byte[] real;
        try (var in = TimelineHistoryTest.class.getResourceAsStream("pg15-pitr-before-branch-00000003.history")) {
            real = in.readAllBytes();
        }
        TimelineHistory h = TimelineHistory.parse(T3, real);
        assertEquals(List.of(T1, T2), h.ancestors());
        assertEquals(List.of(Lsn.parse("0/70000A0"), Lsn.parse("0/3003330")), h.switchPoints());
        assertEquals("at restore point \"rp-100\"", h.entries().get(1).reason());
        assertEquals(List.of(new TimelineHistory.Owned(T1, Lsn.INVALID, Lsn.parse("0/3003330")),
                new TimelineHistory.Owned(T3, Lsn.parse("0/3003330"), null)), h.owned());
        assertEquals(T3, h.timelineAt(Lsn.parse("0/5000000")));
        assertEquals(h, TimelineHistory.parse(T3, h.format()));
    }

    @Test
    void aLaterLowerSwitchPointCutsEveryEarlierRange() {
        // 1 -> 2 at 5, 2 -> 3 at 7, 3 -> 4 at 4: 2 and 3 own nothing, 1 owns [0, 4), 4 the rest
        TimelineHistory h = TimelineHistory.parse(TimelineId.of(4), "1\t0/5000000\ta\n2\t0/7000000\tb\n3\t0/4000000\tc\n");
        assertEquals(List.of(new TimelineHistory.Owned(T1, Lsn.INVALID, Lsn.parse("0/4000000")),
                new TimelineHistory.Owned(TimelineId.of(4), Lsn.parse("0/4000000"), null)), h.owned());
        // 1 -> 2 at 5, 2 -> 3 at 3, 3 -> 4 at 6: 2 owns nothing, 3 owns [3, 6)
        TimelineHistory g = TimelineHistory.parse(TimelineId.of(4), "1\t0/5000000\ta\n2\t0/3000000\tb\n3\t0/6000000\tc\n");
        assertEquals(List.of(new TimelineHistory.Owned(T1, Lsn.INVALID, Lsn.parse("0/3000000")),
                new TimelineHistory.Owned(T3, Lsn.parse("0/3000000"), Lsn.parse("0/6000000")),
                new TimelineHistory.Owned(TimelineId.of(4), Lsn.parse("0/6000000"), null)), g.owned());
        assertEquals(T3, g.timelineAt(Lsn.parse("0/5800000")));
    }

    @Provide
    Arbitrary<TimelineHistory> anyOrderHistories() {
        return Arbitraries.integers().between(1, 6).flatMap(n -> Combinators.combine(
                Arbitraries.longs().between(1, 3).list().ofSize(n),
                Arbitraries.longs().between(1, 40).list().ofSize(n)).as((tliSteps, lsns) -> {
                    List<TimelineHistory.Entry> entries = new ArrayList<>();
                    long tli = 0;
                    for (int i = 0; i < n; i++) {
                        tli += tliSteps.get(i);
                        entries.add(new TimelineHistory.Entry(TimelineId.of(tli), Lsn.of(lsns.get(i)), ""));
                    }
                    return new TimelineHistory(TimelineId.of(tli + 1), entries);
                }));
    }

    /** PostgreSQL's tliOfPointInHistory, written as it is: entries newest first, first range that holds the LSN. */
    private static TimelineId postgresTliOf(TimelineHistory h, Lsn lsn) {
        List<TimelineHistory.Entry> es = h.entries();
        if (!lsn.isBefore(es.getLast().switchPoint())) {
            return h.timeline();
        }
        for (int i = es.size() - 1; i >= 0; i--) {
            Lsn begin = i == 0 ? Lsn.INVALID : es.get(i - 1).switchPoint();
            if (!lsn.isBefore(begin) && lsn.isBefore(es.get(i).switchPoint())) {
                return es.get(i).parent();
            }
        }
        throw new AssertionError("timeline history was not contiguous");
    }

    @Property
    void ownedRangesAgreeWithPostgresForAnySwitchPointOrder(@ForAll("anyOrderHistories") TimelineHistory h,
            @ForAll @net.jqwik.api.constraints.LongRange(min = 0, max = 45) long raw) {
        TimelineHistory parsed = TimelineHistory.parse(h.timeline(), h.format());
        assertEquals(h, parsed);
        Lsn lsn = Lsn.of(raw);
        assertEquals(postgresTliOf(h, lsn), h.timelineAt(lsn));
        List<TimelineHistory.Owned> owned = h.owned();
        assertEquals(Lsn.INVALID, owned.getFirst().from());
        for (int i = 1; i < owned.size(); i++) {
            assertEquals(owned.get(i - 1).to(), owned.get(i).from(), "contiguous: " + owned);
            assertTrue(owned.get(i - 1).from().isBefore(owned.get(i - 1).to()), "non-empty: " + owned);
        }
        assertEquals(1, owned.stream().filter(o -> o.holds(lsn)).count());
    }

    @Provide
    Arbitrary<TimelineHistory> histories() {
        Arbitrary<String> reasons = Arbitraries.oneOf(
                Arbitraries.of("no recovery target specified", "", "before 2024-01-02 03:04:05.123456+00",
                        "at restore point \"r\u00e9sum\u00e9\""),
                Arbitraries.strings().withCharRange(' ', '~').ofMaxLength(40));
        return Arbitraries.integers().between(1, 6).flatMap(n -> Combinators.combine(
                Arbitraries.longs().between(1, 1000).list().ofSize(n),
                Arbitraries.longs().between(0, 1L << 40).list().ofSize(n),
                reasons.list().ofSize(n),
                Arbitraries.longs().between(1, 5)).as((tliSteps, lsnSteps, rs, last) -> {
                    List<TimelineHistory.Entry> entries = new ArrayList<>();
                    long tli = 0;
                    long lsn = 0;
                    for (int i = 0; i < n; i++) {
                        tli += tliSteps.get(i);
                        lsn += lsnSteps.get(i) + (i == 0 ? 1 : 0);
                        entries.add(new TimelineHistory.Entry(TimelineId.of(tli), Lsn.of(lsn), rs.get(i)));
                    }
                    return new TimelineHistory(TimelineId.of(tli + last), entries);
                }));
    }

    @Property
    void formatThenParseIsIdentity(@ForAll("histories") TimelineHistory h) {
        assertEquals(h, TimelineHistory.parse(h.timeline(), h.format()));
        assertEquals(h, TimelineHistory.parse(h.timeline(), h.toBytes()));
    }

    @Property
    void everyLsnMapsToTheTimelineWhoseRangeHoldsIt(@ForAll("histories") TimelineHistory h, @ForAll long raw) {
        Lsn lsn = Lsn.of(Math.floorMod(raw, (1L << 41)));
        TimelineId at = h.timelineAt(lsn);
        assertTrue(h.includes(at));
        assertFalse(lsn.isBefore(h.startOf(at)));
        if (!at.equals(h.timeline())) {
            assertTrue(lsn.isBefore(h.branchPoint(at)));
        }
    }
}
