package io.tidemark.events.wal.scan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.events.wal.Lsn;
import io.tidemark.testkit.wal.SyntheticWal;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class WalScannerTest {
    private static final long T0 = 1_790_000_000_000_000L; // Unix micros, late 2026

    private static Instant at(long unixMicros) {
        return Instant.ofEpochSecond(unixMicros / 1_000_000, (unixMicros % 1_000_000) * 1000);
    }

    @Test
    void readsCommitsAbortsPreparedAndRestorePoints() {
        SyntheticWal w = SyntheticWal.pg15OneMb();
        w.commit(700, T0);
        w.abort(701, T0 + 10);
        long cp = w.commitPrepared(702, T0 + 20, 3, 2);
        w.abortPrepared(703, T0 + 30, 0, 1);
        long rp = w.restorePoint("before-drop", T0 + 40);
        w.commit(704, T0 + 50);
        WalSegmentSummary s = WalScanner.scan(w.segment(0), w.segment(0).length, w.segmentName(0), null);

        assertEquals(StopReason.END_OF_WAL, s.stopReason(), s.stopDetail());
        assertEquals(6, s.records());
        assertEquals(3, s.commits());
        assertEquals(2, s.aborts());
        assertEquals(List.of(
                new TransactionEnd(TransactionEnd.Kind.COMMIT, 700, at(T0), Lsn.of(w.recordLsns().get(0))),
                new TransactionEnd(TransactionEnd.Kind.ABORT, 701, at(T0 + 10), Lsn.of(w.recordLsns().get(1))),
                new TransactionEnd(TransactionEnd.Kind.COMMIT_PREPARED, 702, at(T0 + 20), Lsn.of(cp)),
                new TransactionEnd(TransactionEnd.Kind.ABORT_PREPARED, 703, at(T0 + 30), Lsn.of(w.recordLsns().get(3))),
                new TransactionEnd(TransactionEnd.Kind.COMMIT, 704, at(T0 + 50), Lsn.of(w.recordLsns().get(5)))),
                s.transactions());
        assertEquals(at(T0), s.firstCommitTime());
        assertEquals(at(T0 + 50), s.lastCommitTime());
        assertEquals(List.of(new RestorePoint("before-drop", at(T0 + 40), Lsn.of(rp))), s.restorePoints());
        assertEquals(Lsn.of(w.recordLsns().get(0)), s.firstRecordLsn());
        assertEquals(Lsn.of(w.recordLsns().get(5)), s.lastRecordLsn());
        assertEquals(7_300_000_000_000_000_001L, s.systemIdentifier());
        assertEquals(PgWalVersion.PG15, s.version());
        assertEquals(w.segmentName(0), s.segment().toString());
    }

    @Test
    void recordsAcrossPagesAreReassembledAndVerified() {
        SyntheticWal w = SyntheticWal.pg15OneMb();
        w.message(100);
        w.message(20_000); // spans three pages
        w.message(8_170);  // almost exactly a page
        w.withPageImage(8000, 40, 30);
        w.checkpoint(w.position() - 100, 1_790_000_000L);
        w.commit(5, T0);
        WalSegmentSummary s = WalScanner.scan(w.segment(0));
        assertEquals(6, s.records(), s.stopDetail());
        assertEquals(1, s.fullPageImages());
        assertEquals(1, s.commits());
        assertEquals(1, s.checkpoints().size());
        assertEquals(Instant.ofEpochSecond(1_790_000_000L), s.checkpoints().get(0).time());
        assertEquals(StopReason.END_OF_WAL, s.stopReason());
    }

    @Test
    void aRecordIntoTheNextSegmentIsCountedOnlyWhenTheNextSegmentIsGiven() {
        SyntheticWal w = SyntheticWal.pg15OneMb();
        int filled = w.fillSegmentUntil(3000, 500);
        long crossing = w.message(12_000); // starts in segment 0, ends in segment 1
        w.commit(900, T0);
        byte[] s0 = w.segment(0);
        byte[] s1 = w.segment(1);

        WalSegmentSummary alone = WalScanner.scan(s0, s0.length, w.segmentName(0), null);
        assertEquals(StopReason.END_OF_SEGMENT, alone.stopReason());
        assertEquals(filled, alone.records());
        assertEquals(Lsn.of(crossing), alone.continuesAt());

        WalSegmentSummary joined = WalScanner.scan(s0, s0.length, w.segmentName(0), s1);
        assertEquals(StopReason.END_OF_SEGMENT, joined.stopReason(), joined.stopDetail());
        assertEquals(filled + 1, joined.records());
        assertNull(joined.continuesAt());
        assertEquals(Lsn.of(crossing), joined.lastRecordLsn());

        WalSegmentSummary second = WalScanner.scan(s1, s1.length, w.segmentName(1), null);
        assertTrue(second.skippedLeadingBytes() > 0);
        assertEquals(1, second.records(), second.stopDetail());
        assertEquals(1, second.commits());
    }

    @Test
    void aSegmentThatStartsInsideALongRecordSkipsItsTail() {
        SyntheticWal w = SyntheticWal.pg15OneMb().continuationOfPreviousSegment(20_000);
        w.commit(1, T0);
        WalSegmentSummary s = WalScanner.scan(w.segment(0));
        assertEquals(20_000, s.skippedLeadingBytes());
        assertEquals(1, s.commits(), s.stopDetail());
    }

    @Test
    void switchStopsTheWalkAndChecksTheZeroedTail() {
        SyntheticWal w = SyntheticWal.pg15OneMb();
        w.commit(1, T0);
        long sw = w.switchSegment();
        byte[] seg = w.segment(0);
        WalSegmentSummary s = WalScanner.scan(seg);
        assertEquals(StopReason.SWITCH, s.stopReason());
        assertNull(s.stopDetail());
        assertEquals(Lsn.of(sw), s.lastRecordLsn());
        assertTrue(s.isComplete());

        seg[seg.length - 5] = 1;
        WalSegmentSummary dirty = WalScanner.scan(seg);
        assertEquals(StopReason.SWITCH, dirty.stopReason());
        assertTrue(dirty.stopDetail().contains("non-zero byte"), dirty.stopDetail());
    }

    @Test
    void aFullSegmentEndsAtItsEnd() {
        SyntheticWal w = SyntheticWal.pg15OneMb();
        w.fillSegmentUntil(0, 300);
        while (w.position() < w.lsn(1 << 20)) {
            w.message(40);
        }
        WalSegmentSummary s = WalScanner.scan(w.segment(0), 1 << 20, w.segmentName(0), w.segment(1));
        assertEquals(StopReason.END_OF_SEGMENT, s.stopReason(), s.stopDetail());
        assertTrue(s.isComplete());
    }

    @Test
    void recycledTailStopsAtTheStalePage() {
        SyntheticWal w = SyntheticWal.pg15OneMb();
        // 40-byte long header + a record of 24 + 5 + 8123 = 8152 bytes: the first page is exactly full,
        // so the next thing read is the stale second page.
        w.message(8123);
        assertEquals(w.lsn(8192), w.position());
        w.recycledTail(1);
        WalSegmentSummary s = WalScanner.scan(w.segment(0));
        assertEquals(StopReason.INVALID_PAGE_ADDRESS, s.stopReason(), s.stopDetail());
        assertEquals(1, s.records());
        assertFalse(s.isComplete());
    }

    @Test
    void flippedBitInARecordIsABadCrc() {
        SyntheticWal w = SyntheticWal.pg15OneMb();
        w.commit(1, T0);
        long second = w.commit(2, T0 + 1);
        w.commit(3, T0 + 2);
        byte[] seg = w.segment(0);
        int off = (int) (second - w.lsn(0)) + 26; // inside the body of the second commit
        seg[off] ^= 0x10;
        WalSegmentSummary s = WalScanner.scan(seg);
        assertEquals(StopReason.BAD_CRC, s.stopReason());
        assertEquals(Lsn.of(second), s.stopLsn());
        assertEquals(1, s.commits());
    }

    @Test
    void damagedPageHeaderIsReported() {
        SyntheticWal w = SyntheticWal.pg15OneMb();
        w.message(20_000);
        w.commit(2, T0);
        byte[] seg = w.segment(0).clone();
        seg[8192] ^= 0x01; // magic of the second page
        assertEquals(StopReason.BAD_PAGE_HEADER, WalScanner.scan(seg).stopReason());
        byte[] seg2 = w.segment(0).clone();
        seg2[8192 + 9] ^= 0x40; // page address of the second page
        assertEquals(StopReason.INVALID_PAGE_ADDRESS, WalScanner.scan(seg2).stopReason());
    }

    @Test
    void truncatedDataIsTruncated() {
        SyntheticWal w = SyntheticWal.pg15OneMb();
        for (int i = 0; i < 300; i++) {
            w.message(200);
        }
        byte[] seg = w.segment(0);
        for (int len : new int[] {100, 8191, 8192, 8200, 30_001, 60_000}) {
            WalSegmentSummary s = WalScanner.scan(seg, len, null, null);
            assertEquals(StopReason.TRUNCATED, s.stopReason(), "length " + len + ": " + s.stopDetail());
        }
        assertEquals(StopReason.NOT_WAL, WalScanner.scan(seg, 39, null, null).stopReason());
    }

    @Test
    void overwrittenContinuationIsAbandonedAndTheOverwriteRecordRead() {
        SyntheticWal w = SyntheticWal.pg15OneMb();
        w.commit(1, T0);
        long ow = w.abandonedThenOverwritten(30_000, T0 + 5);
        w.commit(2, T0 + 10);
        WalSegmentSummary s = WalScanner.scan(w.segment(0));
        assertEquals(3, s.records(), s.stopDetail());
        assertEquals(2, s.commits());
        assertEquals(1, s.overwrittenContrecords().size());
        assertEquals(Lsn.of(ow), s.overwrittenContrecords().get(0).lsn());
    }

    @Test
    void notWalAndWrongNamesAreRefused() {
        byte[] junk = new byte[1 << 20];
        Arrays.fill(junk, (byte) 'x');
        WalSegmentSummary s = WalScanner.scan(junk);
        assertEquals(StopReason.NOT_WAL, s.stopReason());
        assertTrue(s.stopDetail().contains("unknown page magic"), s.stopDetail());

        SyntheticWal w = SyntheticWal.pg15OneMb();
        w.commit(1, T0);
        WalSegmentSummary wrong = WalScanner.scan(w.segment(0), 1 << 20, "000000010000000000000009", null);
        assertEquals(StopReason.NOT_WAL, wrong.stopReason());
        assertTrue(wrong.stopDetail().contains("named"), wrong.stopDetail());
    }

    /** archive-push's identity check: the long header only, the same verdicts on it as a full scan. */
    @Test
    void headerOnlyScanGivesIdentityAndTheSameRefusals() {
        SyntheticWal w = SyntheticWal.pg15OneMb();
        w.commit(1, T0);
        w.commit(2, T0 + 1);
        WalSegmentSummary h = WalScanner.scanHeader(w.segment(0), w.segmentName(0));
        assertEquals(StopReason.TRUNCATED, h.stopReason(), h.stopDetail());
        assertEquals("only the first page header was read", h.stopDetail());
        assertEquals(0, h.records());
        assertEquals(7_300_000_000_000_000_001L, h.systemIdentifier());
        assertEquals(w.segmentName(0), h.segment().toString());
        assertEquals(1 << 20, h.segment().segmentSize().bytes());
        assertEquals(PgWalVersion.PG15, h.version());

        byte[] junk = new byte[1 << 20];
        Arrays.fill(junk, (byte) 'x');
        WalSegmentSummary notWal = WalScanner.scanHeader(junk, null);
        assertEquals(StopReason.NOT_WAL, notWal.stopReason());
        assertEquals(WalScanner.scan(junk).stopDetail(), notWal.stopDetail());
        WalSegmentSummary wrongName = WalScanner.scanHeader(w.segment(0), "000000010000000000000009");
        assertEquals(StopReason.NOT_WAL, wrongName.stopReason());
        assertTrue(wrongName.stopDetail().contains("named"), wrongName.stopDetail());
        assertEquals(StopReason.NOT_WAL, WalScanner.scanHeader(Arrays.copyOf(w.segment(0), 39), null).stopReason());
    }

    @Test
    void readsEverySupportedVersionMagic() {
        for (int magic : new int[] {SyntheticWal.PG13, SyntheticWal.PG15, SyntheticWal.PG17}) {
            SyntheticWal w = new SyntheticWal(magic, 2 << 20, 8192, 3, 10, 42);
            w.commit(1, T0);
            w.message(10_000);
            WalSegmentSummary s = WalScanner.scan(w.segment(0));
            assertEquals(2, s.records());
            assertEquals(3, s.timeline().value());
            assertEquals(PgWalVersion.ofMagic(magic), s.version());
        }
    }
}
