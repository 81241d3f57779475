package io.tidemark.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Lines copied from pg_waldump 15.18 output on a test cluster (TZ=UTC). */
@Tag("unit")
class WalDumpParserTest {

    private static final List<String> LINES = List.of(
            "rmgr: XLOG        len (rec/tot):    114/   114, tx:          0, lsn: 0/01000028, prev 0/00000000, desc: CHECKPOINT_SHUTDOWN redo 0/1000028; tli 1; prev tli 1; fpw true; xid 0:3; oid 10000; multi 1; offset 0; oldest xid 3 in DB 1; oldest multi 1 in DB 1; oldest/newest commit timestamp xid: 0/0; oldest running xid 0; shutdown",
            "rmgr: XLOG        len (rec/tot):     49/  8241, tx:          1, lsn: 0/010000A0, prev 0/01000028, desc: FPI_FOR_HINT , blkref #0: rel 1663/1/1255 fork fsm blk 2 FPW",
            "rmgr: Transaction len (rec/tot):     34/    34, tx:        725, lsn: 0/0176CEB8, prev 0/0176CE78, desc: ABORT 2026-11-21 05:59:40.473401 UTC",
            "rmgr: Transaction len (rec/tot):    242/   242, tx:        726, lsn: 0/0176CF60, prev 0/0176CF20, desc: PREPARE gid p1: 2026-11-21 05:59:40.483997 UTC",
            "rmgr: Transaction len (rec/tot):     42/    42, tx:          0, lsn: 0/0176D058, prev 0/0176CF60, desc: COMMIT_PREPARED 726: 2026-11-21 05:59:40.484480 UTC",
            "rmgr: Transaction len (rec/tot):    242/   242, tx:        727, lsn: 0/0176D108, prev 0/0176D0C8, desc: PREPARE gid p2: 2026-11-21 05:59:40.495404 UTC",
            "rmgr: Transaction len (rec/tot):     42/    42, tx:          0, lsn: 0/0176D200, prev 0/0176D108, desc: ABORT_PREPARED 727: 2026-11-21 05:59:40.495911 UTC",
            "rmgr: XLOG        len (rec/tot):     98/    98, tx:          0, lsn: 0/0176D230, prev 0/0176D200, desc: RESTORE_POINT before-drop",
            "rmgr: XLOG        len (rec/tot):    114/   114, tx:          0, lsn: 0/0176D2D0, prev 0/0176D298, desc: CHECKPOINT_ONLINE redo 0/176D298; tli 1; prev tli 1; fpw true; xid 0:728; oid 24576; multi 1; offset 0; oldest xid 716 in DB 1; oldest multi 1 in DB 1; oldest/newest commit timestamp xid: 0/0; oldest running xid 728; online",
            "rmgr: Heap        len (rec/tot):     69/    69, tx:        728, lsn: 0/0176FE48, prev 0/0176FE00, desc: HOT_UPDATE off 102 xmax 728 flags 0x20 ; new off 204 xmax 0, blkref #0: rel 1663/5/16384 blk 0",
            "rmgr: Transaction len (rec/tot):     98/    98, tx:        728, lsn: 0/0176FE90, prev 0/0176FE48, desc: COMMIT 2026-11-21 05:59:40.521878 UTC; relcache init file inval dbid 1 tsid 1663; inval msgs: catcache 55 catcache 54 relcache 1260",
            "rmgr: XLOG        len (rec/tot):     24/    24, tx:          0, lsn: 0/0176FEF8, prev 0/0176FE90, desc: SWITCH ");

    private static WalDumpStats parse(List<String> lines, String stderr) {
        WalDumpParser p = new WalDumpParser("test");
        lines.forEach(p::acceptLine);
        return p.finish(stderr);
    }

    @Test
    void readsTransactionsRestorePointsCheckpointsAndSwitch() {
        WalDumpStats s = parse(LINES, "");
        assertEquals(12, s.recordCount());
        assertEquals(List.of(728L), s.committedXids());
        assertEquals(List.of(725L), s.abortedXids());
        assertEquals(List.of(726L), s.commitPreparedXids());
        assertEquals(List.of(727L), s.abortPreparedXids());
        assertEquals(List.of(new WalDumpStats.Prepared(726, "p1", 0x0176CF60L),
                new WalDumpStats.Prepared(727, "p2", 0x0176D108L)), s.prepared());
        assertEquals(List.of("before-drop"), s.restorePoints());
        assertEquals(List.of(new WalDumpStats.Checkpoint(0x01000028L, 0x1000028L, true),
                new WalDumpStats.Checkpoint(0x0176D2D0L, 0x176D298L, false)), s.checkpoints());
        assertEquals(List.of(0x0176FEF8L), s.switchLsns());
        assertEquals(Instant.parse("2026-11-21T05:59:40.521878Z"), s.lastCommitTime().orElseThrow());
        assertEquals(1, s.fullPageImageRecords());
        assertEquals(1, s.count("Transaction/COMMIT"));
        assertEquals(2, s.count("Transaction/PREPARE"));
        assertTrue(s.endError().isEmpty());

        WalDumpRecord commitPrepared = s.records().get(4);
        assertEquals(0, commitPrepared.xid());
        assertEquals(726, commitPrepared.decidedXid());
        assertEquals(Instant.parse("2026-11-21T05:59:40.484480Z"), commitPrepared.xactTime().orElseThrow());
        assertEquals("SWITCH", s.records().get(11).type());
    }

    @Test
    void keepsTheEndOfWalComplaint() {
        WalDumpStats s = parse(LINES.subList(0, 3), "pg_waldump: error: error in WAL record at 0/20008E8: "
                + "invalid magic number 0000 in log segment 000000010000000000000002, offset 196608\n");
        assertEquals(0x20008E8L, s.endErrorLsn().orElseThrow());
        assertTrue(s.endError().orElseThrow().contains("invalid magic number"));
    }

    @Test
    void refusesTimesThatAreNotUtc() {
        WalDumpParser p = new WalDumpParser("test");
        assertThrows(IllegalStateException.class, () -> p.acceptLine(
                "rmgr: Transaction len (rec/tot):     34/    34, tx:        728, lsn: 0/0176FE90, prev 0/0176FE48, desc: COMMIT 2026-11-21 00:59:40.521878 EST"));
    }

    @Test
    void pageHeadersAreSkippedWhenComputingRecordEnds() {
        // a 300062-byte message at 0/3FF1D90 (16 MB segments) ended where the next record began: 0/403B538
        WalDumpRecord crossing = new WalDumpRecord("LogicalMessage", "MESSAGE", 0x03FF1D90L, 0x03F4DFB8L, 0,
                300062, 300062, false, 0, Optional.empty(), "MESSAGE");
        long end = crossing.endLsn(8192, 16 << 20);
        assertEquals(0x0403B538L, (end + 7) & ~7L);
        assertTrue(crossing.crossesSegment(8192, 16 << 20));
        assertTrue(crossing.crossesPage(8192, 16 << 20));

        WalDumpRecord small = s(0x0176CEB8L, 34);
        assertFalse(small.crossesPage(8192, 16 << 20));
        assertEquals(0x0176CEB8L + 34, small.endLsn(8192, 16 << 20));
    }

    private static WalDumpRecord s(long lsn, int len) {
        return new WalDumpRecord("Transaction", "ABORT", lsn, 0, 1, len, len, false, 1, Optional.empty(), "ABORT");
    }

    @Test
    void lsnTextRoundTrips() {
        assertEquals(0x0176FEB8L, PgLsn.parse("0/0176FEB8"));
        assertEquals("0/176FEB8", PgLsn.format(PgLsn.parse("0/176FEB8")));
        assertEquals("1A/0", PgLsn.format(0x1A_0000_0000L));
    }
}
