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
class WalSegmentSizeTest {

    @Provide
    Arbitrary<WalSegmentSize> sizes() {
        return WalArbitraries.segmentSizes();
    }

    @Provide
    Arbitrary<Lsn> lsns() {
        return WalArbitraries.lsns();
    }

    @Test
    void acceptsEveryPowerOfTwoFrom1MbTo1Gb() {
        int count = 0;
        for (int mb = 1; mb <= 1024; mb *= 2) {
            WalSegmentSize s = WalSegmentSize.ofMegabytes(mb);
            assertEquals(mb, s.megabytes());
            assertEquals(mb + "MB", s.toString());
            assertEquals(4096L / mb, s.segmentsPerLogId());
            count++;
        }
        assertEquals(11, count);
        assertEquals(16 << 20, WalSegmentSize.DEFAULT.bytes());
        assertEquals(256, WalSegmentSize.DEFAULT.segmentsPerLogId());
    }

    @Test
    void refusesOtherSizes() {
        for (long bad : new long[] {0, -1, 512 * 1024, (1 << 20) + 1, 3 << 20, 2L << 30, 1L << 40}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> WalSegmentSize.ofBytes(bad));
            assertTrue(e.getMessage().contains("power of two between 1 MB and 1 GB"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> WalSegmentSize.ofMegabytes(-16));
    }

    @Property
    void segmentNumberAndOffsetRebuildTheLsn(@ForAll("sizes") WalSegmentSize size, @ForAll("lsns") Lsn lsn) {
        long seg = size.segmentNumberOf(lsn);
        long off = size.offsetInSegment(lsn);
        assertTrue(off >= 0 && off < size.bytes());
        assertEquals(lsn, size.segmentStart(seg).plus(off));
    }
}
