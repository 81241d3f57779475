package io.tidemark.events.wal.scan;

import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.WalSegmentName;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** The scanner's mutable accumulator; turned into an immutable summary once, at the end. */
final class SummaryBuilder {
    PgWalVersion version;
    long systemIdentifier;
    WalSegmentName segment;
    long pageTimeline;
    int pageSize;
    Lsn firstRecordLsn;
    Lsn lastRecordLsn;
    Lsn endLsn;
    long records;
    long fullPageImages;
    long skippedLeadingBytes;
    final List<TransactionEnd> transactions = new ArrayList<>();
    long commits;
    long aborts;
    Instant firstCommitTime;
    Instant lastCommitTime;
    final List<RestorePoint> restorePoints = new ArrayList<>();
    final List<Checkpoint> checkpoints = new ArrayList<>();
    final List<EndOfRecovery> endsOfRecovery = new ArrayList<>();
    final List<BackupEnd> backupEnds = new ArrayList<>();
    final List<OverwrittenContrecord> overwrittenContrecords = new ArrayList<>();
    Lsn continuesAt;

    void transactionEnd(TransactionEnd end) {
        transactions.add(end);
        if (end.isCommit()) {
            commits++;
            if (firstCommitTime == null) {
                firstCommitTime = end.time();
            }
            lastCommitTime = end.time();
        } else {
            aborts++;
        }
    }

    WalSegmentSummary stop(StopReason reason, Lsn at, String detail) {
        return new WalSegmentSummary(version, systemIdentifier, segment, pageTimeline, pageSize,
                firstRecordLsn, lastRecordLsn, endLsn, records, fullPageImages, skippedLeadingBytes,
                transactions, commits, aborts, firstCommitTime, lastCommitTime, restorePoints,
                checkpoints, endsOfRecovery, backupEnds, overwrittenContrecords, continuesAt,
                reason, at, detail);
    }
}
