package io.tidemark.events.wal.scan;

import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalSegmentName;
import java.time.Instant;
import java.util.List;

/**
 * What one WAL segment holds, as far as the scanner could verify it. Records are attributed to
 * the segment in which they start; a record that starts here and ends in the next segment is
 * counted here when the next segment was supplied, and otherwise reported in
 * {@code continuesAt} without being counted.
 *
 * @param version         the server's major version, from the page magic; null when not WAL
 * @param systemIdentifier the cluster's system identifier from the long page header (unsigned)
 * @param segment         the segment (name from the file name when given, else from the header)
 * @param pageTimeline    the timeline in the first page header: older than the segment's own
 *                        timeline on the first segment of a new timeline, which starts as a copy
 * @param firstRecordLsn  the first record that starts in this segment, or null
 * @param lastRecordLsn   the last valid record that starts in this segment, or null
 * @param endLsn          the end of the last valid record: WAL is verified up to here
 * @param continuesAt     start of a record that runs into the next segment and was not verified
 * @param stopLsn         where the scan stopped
 */
public record WalSegmentSummary(
        PgWalVersion version,
        long systemIdentifier,
        WalSegmentName segment,
        long pageTimeline,
        int pageSize,
        Lsn firstRecordLsn,
        Lsn lastRecordLsn,
        Lsn endLsn,
        long records,
        long fullPageImages,
        long skippedLeadingBytes,
        List<TransactionEnd> transactions,
        long commits,
        long aborts,
        Instant firstCommitTime,
        Instant lastCommitTime,
        List<RestorePoint> restorePoints,
        List<Checkpoint> checkpoints,
        List<EndOfRecovery> endsOfRecovery,
        List<BackupEnd> backupEnds,
        List<OverwrittenContrecord> overwrittenContrecords,
        Lsn continuesAt,
        StopReason stopReason,
        Lsn stopLsn,
        String stopDetail) {

    public WalSegmentSummary {
        transactions = List.copyOf(transactions);
        restorePoints = List.copyOf(restorePoints);
        checkpoints = List.copyOf(checkpoints);
        endsOfRecovery = List.copyOf(endsOfRecovery);
        backupEnds = List.copyOf(backupEnds);
        overwrittenContrecords = List.copyOf(overwrittenContrecords);
    }

    public TimelineId timeline() {
        return segment == null ? null : segment.timeline();
    }

    public boolean isComplete() {
        return stopReason.isComplete();
    }

    public String systemIdentifierText() {
        return Long.toUnsignedString(systemIdentifier);
    }
}
