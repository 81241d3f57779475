package io.tidemark.testkit;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * What {@code pg_waldump} saw in one file or range: every record (compact) and the facts WAL
 * tests check against. Built by {@link PgWalDump}.
 *
 * <p>Caveat verified on PostgreSQL 15: dumping a single segment file silently leaves out a record
 * that starts in that file and ends in the next (exit code 0, no error), and the next file's dump
 * starts after the continuation. Dump a range ({@link PgWalDump#range}) to see such records.
 *
 * @param source              what was dumped (file, or dir and segment range)
 * @param records             all records, in LSN order
 * @param countsByType        records per {@code rmgr/TYPE}, as {@code --stats=record} names them
 * @param committedXids       header xids of COMMIT records
 * @param abortedXids         header xids of ABORT records
 * @param prepared            PREPARE records: xid and gid
 * @param commitPreparedXids  prepared xids that COMMIT_PREPARED records finish
 * @param abortPreparedXids   prepared xids that ABORT_PREPARED records finish
 * @param restorePoints       RESTORE_POINT names, in order
 * @param checkpoints         CHECKPOINT_ONLINE and CHECKPOINT_SHUTDOWN records
 * @param switchLsns          start LSNs of XLOG SWITCH records
 * @param lastCommitTime      timestamp of the last COMMIT or COMMIT_PREPARED record
 * @param fullPageImageRecords records with at least one full-page image
 * @param endError            pg_waldump's closing complaint, e.g. {@code error in WAL record at
 *                            0/20008E8: invalid magic number 0000 in log segment ..., offset 196608};
 *                            empty when it ran to the end cleanly (as after a SWITCH)
 * @param endErrorLsn         the LSN that complaint names
 */
public record WalDumpStats(String source,
                           List<WalDumpRecord> records,
                           Map<String, Long> countsByType,
                           List<Long> committedXids,
                           List<Long> abortedXids,
                           List<Prepared> prepared,
                           List<Long> commitPreparedXids,
                           List<Long> abortPreparedXids,
                           List<String> restorePoints,
                           List<Checkpoint> checkpoints,
                           List<Long> switchLsns,
                           Optional<Instant> lastCommitTime,
                           long fullPageImageRecords,
                           Optional<String> endError,
                           OptionalLong endErrorLsn) {

    /** A PREPARE TRANSACTION record. */
    public record Prepared(long xid, String gid, long lsn) {
    }

    /** A checkpoint record and the redo pointer it carries. */
    public record Checkpoint(long lsn, long redoLsn, boolean shutdown) {
    }

    public int recordCount() {
        return records.size();
    }

    public int commitCount() {
        return committedXids.size();
    }

    public int abortCount() {
        return abortedXids.size();
    }

    public boolean hasSwitch() {
        return !switchLsns.isEmpty();
    }

    public long count(String rmgrSlashType) {
        return countsByType.getOrDefault(rmgrSlashType, 0L);
    }

    public Optional<WalDumpRecord> first() {
        return records.isEmpty() ? Optional.empty() : Optional.of(records.get(0));
    }

    public Optional<WalDumpRecord> last() {
        return records.isEmpty() ? Optional.empty() : Optional.of(records.get(records.size() - 1));
    }

    /** Records whose start LSN lies in {@code [from, to)}. */
    public List<WalDumpRecord> recordsStartingIn(long from, long to) {
        return records.stream()
                .filter(r -> Long.compareUnsigned(r.lsn(), from) >= 0 && Long.compareUnsigned(r.lsn(), to) < 0)
                .toList();
    }

    public List<WalDumpRecord> recordsCrossingSegments(int walBlockSize, long walSegmentSize) {
        return records.stream().filter(r -> r.crossesSegment(walBlockSize, walSegmentSize)).toList();
    }

    @Override
    public String toString() {
        return "WalDumpStats[" + source + ": " + records.size() + " records, " + committedXids.size() + " commits, "
                + abortedXids.size() + " aborts, restore points " + restorePoints + ", switches " + switchLsns.size()
                + endError.map(e -> ", ended with: " + e).orElse("") + "]";
    }
}
