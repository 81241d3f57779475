package io.tidemark.events.wal;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Arbitrary;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Tag("unit")
@net.jqwik.api.Tag("unit")
class LsnTest {

    @Provide
    Arbitrary<Lsn> lsns() {
        return WalArbitraries.lsns();
    }

    @Property
    void formatThenParseIsIdentity(@ForAll("lsns") Lsn lsn) {
        assertEquals(lsn, Lsn.parse(lsn.toString()));
        assertEquals(lsn, Lsn.parse(lsn.toString().toLowerCase(Locale.ROOT)));
    }

    @Property
    void orderIsUnsigned(@ForAll long a, @ForAll long b) {
        assertEquals(Integer.signum(Long.compareUnsigned(a, b)), Integer.signum(Lsn.of(a).compareTo(Lsn.of(b))));
    }

    @Property
    void plusThenMinusRoundTrips(@ForAll("lsns") Lsn lsn, @ForAll long delta) {
        long bytes = delta & Long.MAX_VALUE;
        if (Long.compareUnsigned(lsn.value() + bytes, lsn.value()) < 0) {
            assertThrows(ArithmeticException.class, () -> lsn.plus(bytes));
        } else {
            assertEquals(bytes, lsn.plus(bytes).minus(lsn));
        }
    }

    @Test
    void formatsLikePostgres() {
        assertEquals("0/0", Lsn.INVALID.toString());
        assertEquals("0/2000028", Lsn.of(0x2000028L).toString());
        assertEquals("16/B374D848", Lsn.of(0x16_B374D848L).toString());
        assertEquals("FFFFFFFF/FFFFFFFF", Lsn.MAX.toString());
        assertEquals(0x1_0000_0000L, Lsn.parse("1/0").value());
        assertEquals(0xABCDEF01_23456789L, Lsn.parse("abcdef01/23456789").value());
        assertEquals(Lsn.of(5), Lsn.parse("00000000/00000005"));
    }

    @Test
    void refusesMalformedInput() {
        for (String bad : new String[] {"", "0", "/0", "0/", "1/2/3", "123456789/0", "0/123456789", "g/0", "+1/0",
                " 0/0", "0/0 ", "0x1/0", "-1/0", "\uFF11/0", "\u0663/0", "0/\u0661"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Lsn.parse(bad), bad);
            assertTrue(e.getMessage().contains("LSN"), e.getMessage());
        }
        assertEquals("LSN is missing", assertThrows(IllegalArgumentException.class, () -> Lsn.parse(null)).getMessage());
    }

    @Test
    void arithmeticAndComparisons() {
        assertFalse(Lsn.INVALID.isValid());
        assertTrue(Lsn.of(1).isValid());
        assertTrue(Lsn.MAX.isAfter(Lsn.of(Long.MAX_VALUE)));
        assertTrue(Lsn.of(Long.MAX_VALUE).isBefore(Lsn.of(Long.MIN_VALUE)));
        assertEquals(Lsn.MAX, Lsn.max(Lsn.MAX, Lsn.of(3)));
        assertEquals(Lsn.of(3), Lsn.min(Lsn.MAX, Lsn.of(3)));
        assertThrows(ArithmeticException.class, () -> Lsn.MAX.plus(1));
        assertThrows(IllegalArgumentException.class, () -> Lsn.of(1).plus(-1));
        assertThrows(IllegalArgumentException.class, () -> Lsn.of(1).minus(Lsn.of(2)));
        assertThrows(ArithmeticException.class, () -> Lsn.MAX.minus(Lsn.INVALID));
        assertEquals(16, Lsn.parse("0/20").minus(Lsn.parse("0/10")));
    }
}
