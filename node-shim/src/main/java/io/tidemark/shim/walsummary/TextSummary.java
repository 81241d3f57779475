package io.tidemark.shim.walsummary;

import io.tidemark.events.wal.scan.Checkpoint;
import io.tidemark.events.wal.scan.RestorePoint;
import io.tidemark.events.wal.scan.TransactionEnd;
import io.tidemark.events.wal.scan.WalSegmentSummary;
import java.io.PrintStream;

/** The summary as aligned text for a person at a terminal. */
final class TextSummary {
    private TextSummary() {
    }

    static void print(WalSegmentSummary s, boolean transactions, PrintStream out) {
        out.printf("segment          %s (timeline %s, PostgreSQL %d, %s segments, %d-byte pages)%n",
                s.segment(), s.timeline(), s.version().major(), s.segment().segmentSize(), s.pageSize());
        out.printf("system id        %s%n", s.systemIdentifierText());
        out.printf("records          %d (%d full-page images)%n", s.records(), s.fullPageImages());
        out.printf("record range     %s .. %s, valid WAL ends at %s%n", orDash(s.firstRecordLsn()),
                orDash(s.lastRecordLsn()), orDash(s.endLsn()));
        out.printf("commits          %d%n", s.commits());
        out.printf("aborts           %d%n", s.aborts());
        out.printf("commit times     %s .. %s%n", orDash(s.firstCommitTime()), orDash(s.lastCommitTime()));
        out.printf("restore points   %d%n", s.restorePoints().size());
        for (RestorePoint rp : s.restorePoints()) {
            out.printf("  %-30s %s at %s%n", rp.name(), rp.time(), rp.lsn());
        }
        out.printf("checkpoints      %d%n", s.checkpoints().size());
        for (Checkpoint c : s.checkpoints()) {
            out.printf("  %s %s redo %s at %s%n", c.shutdown() ? "shutdown" : "online  ", c.lsn(), c.redo(), c.time());
        }
        s.endsOfRecovery().forEach(e -> out.printf("end of recovery  %s: timeline %d -> %d at %s%n",
                e.lsn(), e.previousTimeline(), e.timeline(), e.time()));
        s.backupEnds().forEach(b -> out.printf("backup end       %s (backup started at %s)%n", b.lsn(), b.backupStart()));
        if (s.continuesAt() != null) {
            out.printf("continues        the record at %s ends in the next segment%n", s.continuesAt());
        }
        out.printf("stopped          %s at %s%s%n", s.stopReason().jsonName(), orDash(s.stopLsn()),
                s.stopDetail() == null ? "" : ": " + s.stopDetail());
        if (transactions) {
            for (TransactionEnd t : s.transactions()) {
                out.printf("  %-15s xid %-10d %s at %s%n", t.kind().name().toLowerCase(), t.xid(), t.time(), t.lsn());
            }
        }
    }

    private static String orDash(Object o) {
        return o == null ? "-" : o.toString();
    }
}
