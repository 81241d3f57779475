package io.tidemark.events.wal.scan;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.testkit.wal.SyntheticWal;
import java.time.Duration;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Tag;

/**
 * Damage anywhere: the scanner must return (never throw, never hang) and never report more
 * than the undamaged segment holds.
 */
@Tag("unit")
class WalScannerFuzzTest {
    private static final byte[] SEGMENT;
    private static final byte[] NEXT;
    private static final long RECORDS;

    static {
        SyntheticWal w = SyntheticWal.pg15OneMb();
        long t = 1_790_000_000_000_000L;
        int i = 0;
        while (w.position() < w.lsn((1 << 20) + 5000)) {
            switch (i++ % 5) {
                case 0 -> w.commit(i, t + i);
                case 1 -> w.message(i % 3 == 0 ? 9000 : 120);
                case 2 -> w.commitPrepared(i, t + i, i % 4, i % 3);
                case 3 -> w.withPageImage(4000 + i % 1000, 20, 16);
                default -> w.abort(i, t + i);
            }
        }
        SEGMENT = w.segment(0);
        NEXT = w.segment(1);
        RECORDS = WalScanner.scan(SEGMENT, SEGMENT.length, null, NEXT).records();
    }

    @Property(tries = 300)
    void bitFlipsNeverBreakTheScanner(@ForAll @IntRange(min = 0, max = (1 << 20) - 1) int offset,
                                      @ForAll @IntRange(min = 0, max = 7) int bit,
                                      @ForAll boolean withNext) {
        byte[] damaged = SEGMENT.clone();
        damaged[offset] ^= (byte) (1 << bit);
        WalSegmentSummary s = assertTimeoutPreemptively(Duration.ofSeconds(5),
                () -> WalScanner.scan(damaged, damaged.length, null, withNext ? NEXT : null));
        assertNotNull(s.stopReason());
        assertTrue(s.records() <= RECORDS, "damage cannot add records");
    }

    @Property(tries = 200)
    void truncationNeverBreaksTheScanner(@ForAll @IntRange(min = 0, max = 1 << 20) int length) {
        WalSegmentSummary s = WalScanner.scan(SEGMENT, length, null, null);
        assertNotNull(s.stopReason());
        assertTrue(s.records() <= RECORDS);
    }

    @Property(tries = 200)
    void garbageRunsNeverBreakTheScanner(@ForAll @IntRange(min = 0, max = (1 << 20) - 64) int offset,
                                         @ForAll @IntRange(min = 1, max = 64) int length,
                                         @ForAll byte value) {
        byte[] damaged = SEGMENT.clone();
        java.util.Arrays.fill(damaged, offset, offset + length, value);
        byte[] next = NEXT.clone();
        java.util.Arrays.fill(next, Math.min(offset, next.length - length), Math.min(offset, next.length - length) + length, value);
        WalSegmentSummary s = assertTimeoutPreemptively(Duration.ofSeconds(5),
                () -> WalScanner.scan(damaged, damaged.length, null, next));
        assertNotNull(s.stopReason());
    }
}
