package io.tidemark.events.wal.scan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.fixtures.RealWal;
import io.tidemark.events.wal.fixtures.RealWalFixture;
import io.tidemark.testkit.PgTest;
import io.tidemark.testkit.WalDumpRecord;
import io.tidemark.testkit.WalDumpStats;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The scanner against pg_waldump on WAL written by a real PostgreSQL cluster: commits, aborts,
 * two-phase commit, restore points, full-page images, records across pages and segments,
 * switch tails; then the same segments truncated and bit-flipped.
 */
@PgTest
class RealWalScannerTest {
    private static RealWalFixture wal;

    @BeforeAll
    static void fixture() {
        wal = RealWal.get();
    }

    private static byte[] bytes(Path p) throws IOException {
        return Files.readAllBytes(p);
    }

    private static WalSegmentSummary scanAlone(Path seg) throws IOException {
        byte[] b = bytes(seg);
        return WalScanner.scan(b, b.length, seg.getFileName().toString(), null);
    }

    @Test
    void eachSegmentAloneMatchesPgWaldumpOfThatFile() throws IOException {
        for (Path seg : wal.segments()) {
            WalSegmentSummary s = scanAlone(seg);
            WalDumpStats dump = wal.dumpOf(seg);
            String what = seg.getFileName() + " vs " + dump;
            assertTrue(s.isComplete(), what + ": " + s.stopReason() + " " + s.stopDetail());
            assertEquals(dump.recordCount(), s.records(), what);
            assertEquals(dump.commitCount() + dump.commitPreparedXids().size(), s.commits(), what);
            assertEquals(dump.abortCount() + dump.abortPreparedXids().size(), s.aborts(), what);
            assertEquals(dump.restorePoints(), s.restorePoints().stream().map(RestorePoint::name).toList(), what);
            assertEquals(dump.checkpoints().size(), s.checkpoints().size(), what);
            assertEquals(dump.lastCommitTime().orElse(null), s.lastCommitTime(), what);
            assertEquals(dump.hasSwitch() ? StopReason.SWITCH : StopReason.END_OF_SEGMENT, s.stopReason(), what);
            assertEquals(wal.systemIdentifier(), s.systemIdentifier());
            assertEquals(wal.postgresMajorVersion(), s.version().major());
            dump.first().ifPresent(r -> assertEquals(Lsn.of(r.lsn()), s.firstRecordLsn(), what));
            dump.last().ifPresent(r -> assertEquals(Lsn.of(r.lsn()), s.lastRecordLsn(), what));
            assertTrue(s.fullPageImages() >= dump.fullPageImageRecords(), what);
        }
    }

    @Test
    void transactionIdsAndTimesMatchPgWaldump() throws IOException {
        for (Path seg : wal.segments()) {
            WalSegmentSummary s = scanAlone(seg);
            WalDumpStats dump = wal.dumpOf(seg);
            assertEquals(dump.committedXids(), xids(s, TransactionEnd.Kind.COMMIT));
            assertEquals(dump.abortedXids(), xids(s, TransactionEnd.Kind.ABORT));
            assertEquals(dump.commitPreparedXids(), xids(s, TransactionEnd.Kind.COMMIT_PREPARED));
            assertEquals(dump.abortPreparedXids(), xids(s, TransactionEnd.Kind.ABORT_PREPARED));
            List<Optional<java.time.Instant>> dumpTimes = dump.records().stream()
                    .filter(r -> r.rmgr().equals("Transaction") && r.type().matches("COMMIT|ABORT|COMMIT_PREPARED|ABORT_PREPARED"))
                    .map(WalDumpRecord::xactTime).toList();
            assertEquals(dumpTimes, s.transactions().stream().map(t -> Optional.of(t.time())).toList());
        }
        List<TransactionEnd> all = allTransactions();
        assertTrue(xidsOf(all, TransactionEnd.Kind.COMMIT).containsAll(wal.committedXids()));
        assertTrue(xidsOf(all, TransactionEnd.Kind.ABORT).containsAll(wal.abortedXids()));
        assertEquals(List.of(wal.commitPreparedXid()), xidsOf(all, TransactionEnd.Kind.COMMIT_PREPARED));
        assertEquals(List.of(wal.abortPreparedXid()), xidsOf(all, TransactionEnd.Kind.ABORT_PREPARED));
    }

    @Test
    void withTheNextSegmentEveryRecordStartingInASegmentIsCounted() throws IOException {
        List<Path> segs = wal.segments();
        long total = 0;
        for (int i = 0; i < segs.size(); i++) {
            byte[] b = bytes(segs.get(i));
            byte[] next = i + 1 < segs.size() ? bytes(segs.get(i + 1)) : null;
            WalSegmentSummary s = WalScanner.scan(b, b.length, segs.get(i).getFileName().toString(), next);
            assertEquals(wal.recordsStartingIn(segs.get(i)).size(), s.records(), segs.get(i).toString());
            assertNull(s.continuesAt());
            total += s.records();
        }
        assertEquals(wal.wholeDump().recordCount(), total);
    }

    @Test
    void theRecordAcrossTheSegmentBoundaryIsVerifiedWithTheNextSegment() throws IOException {
        Lsn start = wal.segmentCrossingRecord().start();
        Path first = wal.segmentContaining(start);
        Path second = wal.segments().get(wal.segments().indexOf(first) + 1);
        byte[] b = bytes(first);

        WalSegmentSummary alone = WalScanner.scan(b, b.length, first.getFileName().toString(), null);
        assertEquals(start, alone.continuesAt());

        WalSegmentSummary joined = WalScanner.scan(b, b.length, first.getFileName().toString(), bytes(second));
        assertEquals(start, joined.lastRecordLsn());
        assertEquals(wal.segmentCrossingRecord().end(), joined.endLsn());

        WalSegmentSummary after = scanAlone(second);
        assertTrue(after.skippedLeadingBytes() > 0);
        assertEquals(Lsn.of(wal.wholeDump().recordsStartingIn(wal.segmentName(second).startLsn().value(),
                wal.segmentName(second).endLsn().value()).get(0).lsn()), after.firstRecordLsn());
    }

    @Test
    void truncatedRealSegmentStopsAsTruncated() throws IOException {
        Path seg = wal.segmentContaining(wal.pageCrossingRecord().start());
        byte[] b = bytes(seg);
        long recordStart = wal.pageCrossingRecord().start().minus(wal.segmentName(seg).startLsn());
        int cut = (int) recordStart + 10_000; // inside the 20 kB record
        WalSegmentSummary s = WalScanner.scan(b, cut, seg.getFileName().toString(), null);
        assertEquals(StopReason.TRUNCATED, s.stopReason(), s.stopDetail());
        assertEquals(wal.dumpOf(seg).recordsStartingIn(0, wal.pageCrossingRecord().start().value()).size(), s.records());
    }

    @Test
    void bitFlipInARealCommitIsABadCrcAtThatRecord() throws IOException {
        long xid = wal.committedXids().get(1);
        WalDumpRecord commit = wal.wholeDump().records().stream()
                .filter(r -> r.type().equals("COMMIT") && r.xid() == xid).findFirst().orElseThrow();
        Path seg = wal.segmentContaining(Lsn.of(commit.lsn()));
        byte[] b = bytes(seg);
        int off = (int) (commit.lsn() - wal.segmentName(seg).startLsn().value());
        b[off + 26] ^= 0x01; // inside the commit timestamp
        WalSegmentSummary s = WalScanner.scan(b, b.length, seg.getFileName().toString(), null);
        assertEquals(StopReason.BAD_CRC, s.stopReason());
        assertEquals(Lsn.of(commit.lsn()), s.stopLsn());
        assertEquals(wal.dumpOf(seg).recordsStartingIn(0, commit.lsn()).size(), s.records());
    }

    private List<TransactionEnd> allTransactions() throws IOException {
        java.util.ArrayList<TransactionEnd> all = new java.util.ArrayList<>();
        for (Path seg : wal.segments()) {
            all.addAll(scanAlone(seg).transactions());
        }
        return all;
    }

    private static List<Long> xids(WalSegmentSummary s, TransactionEnd.Kind kind) {
        return xidsOf(s.transactions(), kind);
    }

    private static List<Long> xidsOf(List<TransactionEnd> list, TransactionEnd.Kind kind) {
        return list.stream().filter(t -> t.kind() == kind).map(TransactionEnd::xid).toList();
    }
}
