package io.tidemark.events.wal.scan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.events.wal.WalSegmentSize;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Page headers of streamed pieces, and the zeros PostgreSQL streams after a switch record. */
@Tag("unit")
class WalPagesTest {
    private static final int PAGE = 8192;
    private static final long SYSTEM = 7_345_678_901_234_567_890L;
    private static final WalSegmentSize SIZE = WalSegmentSize.ofMegabytes(16);
    private static final WalSegmentName SEGMENT = WalSegmentName.of(TimelineId.FIRST, 9, SIZE);

    /** {@code pages} pages of segment 9: headers on the first {@code withHeaders}, zeros after them. */
    private static byte[] segment(int pages, int withHeaders) {
        ByteBuffer b = ByteBuffer.allocate(pages * PAGE).order(ByteOrder.LITTLE_ENDIAN);
        for (int p = 0; p < withHeaders; p++) {
            int at = p * PAGE;
            b.putShort(at, (short) 0xD110);
            b.putShort(at + 2, (short) (p == 0 ? 0x0002 : 0));
            b.putInt(at + 4, 1);
            b.putLong(at + 8, SEGMENT.startLsn().value() + at);
            if (p == 0) {
                b.putLong(at + 24, SYSTEM);
                b.putInt(at + 32, SIZE.bytes());
                b.putInt(at + 36, PAGE);
            }
        }
        return b.array();
    }

    private static String check(byte[] raw, int start) {
        return WalPages.check(raw, start, SEGMENT, SYSTEM, 15, PAGE);
    }

    @Test
    void theZerosAfterASwitchRecordAreWhatTheServerStreams() {
        byte[] seg = segment(4, 2);
        assertNull(check(seg, 0));
        assertNull(check(Arrays.copyOfRange(seg, 2 * PAGE, 4 * PAGE), 2 * PAGE), "a piece of zeros only");
        assertNull(check(Arrays.copyOfRange(seg, PAGE + 100, 3 * PAGE), PAGE + 100));
    }

    @Test
    void walAfterZerosIsRefused() {
        byte[] seg = segment(4, 4);
        Arrays.fill(seg, PAGE, 2 * PAGE, (byte) 0);
        assertEquals("page at 0/9002000 is zeros, but 0/9004000 after it is not: WAL never follows the zeros of a"
                + " switched segment", check(seg, 0));
        byte[] one = segment(3, 1);
        one[3 * PAGE - 1] = 1;
        assertEquals("page at 0/9002000 is zeros, but 0/9005FFF after it is not: WAL never follows the zeros of a"
                + " switched segment", check(one, 0));
    }

    @Test
    void aPageWithAnotherMagicIsStillRefused() {
        byte[] seg = segment(2, 2);
        seg[PAGE] = 0x01;
        assertEquals("page at 0/9002000 has magic 0xD101, not WAL of PostgreSQL 15", check(seg, 0));
    }
}
