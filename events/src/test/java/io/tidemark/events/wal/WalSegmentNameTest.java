package io.tidemark.events.wal;

import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Tag("unit")
@net.jqwik.api.Tag("unit")
class WalSegmentNameTest {

    private static final WalSegmentSize MB16 = WalSegmentSize.DEFAULT;
    private static final WalSegmentSize MB1 = WalSegmentSize.ofMegabytes(1);
    private static final WalSegmentSize GB1 = WalSegmentSize.ofMegabytes(1024);

    @Provide
    Arbitrary<WalSegmentName> names() {
        return WalArbitraries.segmentNames();
    }

    @Provide
    Arbitrary<WalSegmentSize> sizes() {
        return WalArbitraries.segmentSizes();
    }

    @Provide
    Arbitrary<TimelineId> timelines() {
        return WalArbitraries.timelines();
    }

    @Provide
    Arbitrary<Lsn> lsns() {
        return WalArbitraries.lsns();
    }

    @Property
    void formatThenParseIsIdentity(@ForAll("names") WalSegmentName name) {
        String text = name.toString();
        assertEquals(24, text.length());
        assertEquals(name, WalSegmentName.parse(text, name.segmentSize()));
        assertEquals(name.timeline().hex() + name.logAndSeg(), text);
        assertEquals(text.substring(0, 16), name.timelineAndLog());
    }

    @Property
    void containingHoldsTheLsn(@ForAll("sizes") WalSegmentSize size, @ForAll("timelines") TimelineId tli,
                               @ForAll("lsns") Lsn lsn) {
        WalSegmentName seg = WalSegmentName.containing(tli, lsn, size);
        assertTrue(seg.contains(lsn));
        assertFalse(seg.startLsn().isAfter(lsn));
        assertEquals(size.offsetInSegment(lsn), lsn.minus(seg.startLsn()));
    }

    @Property
    void boundaryLsnBelongsToNextSegmentButEndsThePrevious(@ForAll("names") WalSegmentName name) {
        if (name.segmentNumber() == 0) {
            return;
        }
        Lsn boundary = name.startLsn();
        assertEquals(name, WalSegmentName.containing(name.timeline(), boundary, name.segmentSize()));
        assertEquals(name.previous(), WalSegmentName.endingAt(name.timeline(), boundary, name.segmentSize()));
        assertEquals(boundary, name.previous().endLsn());
        Lsn inside = boundary.plus(1);
        assertEquals(name, WalSegmentName.endingAt(name.timeline(), inside, name.segmentSize()));
    }

    @Property
    void orderingMatchesTextOrderingForOneSize(@ForAll("sizes") WalSegmentSize size,
                                               @ForAll("timelines") TimelineId t1, @ForAll("timelines") TimelineId t2,
                                               @ForAll long a, @ForAll long b) {
        long max = Long.divideUnsigned(-1L, size.bytes()) + 1;
        WalSegmentName x = WalSegmentName.of(t1, Math.floorMod(a, max), size);
        WalSegmentName y = WalSegmentName.of(t2, Math.floorMod(b, max), size);
        assertEquals(Integer.signum(x.toString().compareTo(y.toString())), Integer.signum(x.compareTo(y)));
    }

    @Test
    void knownNames() {
        TimelineId t1 = TimelineId.FIRST;
        assertEquals("000000010000000000000002", WalSegmentName.containing(t1, Lsn.parse("0/2000028"), MB16).toString());
        assertEquals("000000010000000100000000", WalSegmentName.containing(t1, Lsn.parse("1/0"), MB16).toString());
        assertEquals("0000000100000000000000FF", WalSegmentName.containing(t1, Lsn.parse("0/FFFFFFFF"), MB16).toString());
        assertEquals("000000010000000000000FFF", WalSegmentName.containing(t1, Lsn.parse("0/FFFFFFFF"), MB1).toString());
        assertEquals("000000010000000100000001", WalSegmentName.containing(t1, Lsn.parse("1/40000000"), GB1).toString());
        assertEquals("00000001FFFFFFFF000000FF", WalSegmentName.containing(t1, Lsn.MAX, MB16).toString());
        assertEquals("00000001FFFFFFFF00000003", WalSegmentName.containing(t1, Lsn.MAX, GB1).toString());
        assertEquals("00000001FFFFFFFF00000FFF", WalSegmentName.containing(t1, Lsn.MAX, MB1).toString());
        WalSegmentName seg = WalSegmentName.parse("0000000A000000030000004F", MB16);
        assertEquals(TimelineId.of(10), seg.timeline());
        assertEquals(3, seg.logId());
        assertEquals(0x4F, seg.segInLog());
        assertEquals(3 * 256 + 0x4F, seg.segmentNumber());
        assertEquals(Lsn.parse("3/4F000000"), seg.startLsn());
        assertEquals(Lsn.parse("3/50000000"), seg.endLsn());
        assertEquals("0000000B000000030000004F", seg.onTimeline(TimelineId.of(11)).toString());
        assertEquals("0000000A0000000300000050", seg.next().toString());
        assertEquals("000000010000000100000000", WalSegmentName.parse("0000000100000000000000FF", MB16).next().toString());
    }

    @Test
    void boundaryExampleAt16Mb() {
        Lsn boundary = Lsn.parse("0/3000000");
        assertEquals("000000010000000000000003", WalSegmentName.containing(TimelineId.FIRST, boundary, MB16).toString());
        assertEquals("000000010000000000000002", WalSegmentName.endingAt(TimelineId.FIRST, boundary, MB16).toString());
        assertThrows(IllegalArgumentException.class, () -> WalSegmentName.endingAt(TimelineId.FIRST, Lsn.INVALID, MB16));
    }

    @Test
    void lastSegmentHasNoEndAndNoNext() {
        for (int mb = 1; mb <= 1024; mb *= 2) {
            WalSegmentSize size = WalSegmentSize.ofMegabytes(mb);
            WalSegmentName last = WalSegmentName.containing(TimelineId.FIRST, Lsn.MAX, size);
            assertEquals("FFFFFFFF", last.toString().substring(8, 16));
            assertThrows(ArithmeticException.class, last::endLsn);
            assertThrows(IllegalArgumentException.class, last::next);
            assertEquals(last, WalSegmentName.parse(last.toString(), size));
        }
        assertThrows(IllegalArgumentException.class,
                () -> WalSegmentName.of(TimelineId.FIRST, 0, MB16).previous());
    }

    @Test
    void segmentPartMustFitTheSize() {
        assertEquals(0x100, WalSegmentName.parse("000000010000000000000100", MB1).segmentNumber());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WalSegmentName.parse("000000010000000000000100", MB16));
        assertTrue(e.getMessage().contains("must be below 00000100"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> WalSegmentName.parse("000000010000000000000004", GB1));
    }

    @Test
    void refusesMalformedNames() {
        for (String bad : new String[] {"", "00000001000000000000000", "0000000100000000000000001",
                "00000001000000000000000a", "000000000000000000000001", "00000001000000000000000G",
                "000000010000000000000001.partial", "\uFF10\uFF10000001000000000000000001"}) {
            assertThrows(IllegalArgumentException.class, () -> WalSegmentName.parse(bad, MB16), bad);
        }
        assertThrows(IllegalArgumentException.class, () -> WalSegmentName.parse(null, MB16));
        assertThrows(IllegalArgumentException.class, () -> WalSegmentName.of(TimelineId.FIRST, -1, MB16));
        assertThrows(IllegalArgumentException.class, () -> new WalSegmentName(null, 1, MB16));
    }

    @Test
    void sortsByTimelineThenSegmentAndIsConsistentWithEquals() {
        List<WalSegmentName> names = new ArrayList<>(List.of(
                WalSegmentName.parse("000000020000000000000001", MB16),
                WalSegmentName.parse("000000010000000100000000", MB16),
                WalSegmentName.parse("0000000100000000000000FF", MB16),
                WalSegmentName.parse("000000010000000000000001", MB16)));
        Collections.sort(names);
        assertEquals(List.of("000000010000000000000001", "0000000100000000000000FF", "000000010000000100000000",
                "000000020000000000000001"), names.stream().map(Object::toString).toList());
        WalSegmentName a = WalSegmentName.of(TimelineId.FIRST, 1, MB16);
        WalSegmentName b = WalSegmentName.of(TimelineId.FIRST, 1, MB1);
        assertNotEquals(a, b);
        assertNotEquals(0, a.compareTo(b));
        assertEquals(-Integer.signum(a.compareTo(b)), Integer.signum(b.compareTo(a)));
    }
}
