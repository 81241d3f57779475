package io.tidemark.events.wal;

import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Tag("unit")
@net.jqwik.api.Tag("unit")
class TimelineIdTest {

    @Provide
    Arbitrary<TimelineId> timelines() {
        return WalArbitraries.timelines();
    }

    @Property
    void hexAndDecimalRoundTrip(@ForAll("timelines") TimelineId tli) {
        assertEquals(8, tli.hex().length());
        assertEquals(tli, TimelineId.parseHex(tli.hex()));
        assertEquals(tli, TimelineId.parseDecimal(tli.toString()));
        assertEquals(Long.parseLong(tli.hex(), 16), tli.value());
    }

    @Property
    void orderFollowsValue(@ForAll("timelines") TimelineId a, @ForAll("timelines") TimelineId b) {
        assertEquals(Integer.signum(Long.compare(a.value(), b.value())), Integer.signum(a.compareTo(b)));
    }

    @Test
    void knownValues() {
        assertEquals("00000001", TimelineId.FIRST.hex());
        assertEquals("0000000A", TimelineId.of(10).hex());
        assertEquals("FFFFFFFF", TimelineId.of(0xFFFFFFFFL).hex());
        assertEquals(TimelineId.of(2), TimelineId.FIRST.next());
        assertEquals(TimelineId.of(42), TimelineId.parseDecimal(" 42\n"));
    }

    @Test
    void refusesOutOfRangeAndMalformed() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> TimelineId.of(0)).getMessage()
                .contains("between 1 and 4294967295"));
        assertThrows(IllegalArgumentException.class, () -> TimelineId.of(0x1_0000_0000L));
        assertThrows(IllegalArgumentException.class, () -> TimelineId.of(0xFFFFFFFFL).next());
        for (String bad : new String[] {"00000000", "0000000a", "1", "000000001", "0000000G", ""}) {
            assertThrows(IllegalArgumentException.class, () -> TimelineId.parseHex(bad), bad);
        }
        assertThrows(IllegalArgumentException.class, () -> TimelineId.parseHex(null));
        for (String bad : new String[] {"0", "-1", "+5", "4294967296", "99999999999999999999", "abc", "", "\u0663", "1 2"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TimelineId.parseDecimal(bad), bad);
            assertTrue(e.getMessage().contains("timeline"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> TimelineId.parseDecimal(null));
    }
}
