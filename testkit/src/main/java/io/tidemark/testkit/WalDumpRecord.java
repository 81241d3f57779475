package io.tidemark.testkit;

import java.time.Instant;
import java.util.Optional;

/**
 * One record as {@code pg_waldump} printed it, e.g.
 * {@code rmgr: Transaction len (rec/tot): 34/34, tx: 728, lsn: 0/0176FE90, prev 0/0176FE48, desc: COMMIT 2026-... UTC}.
 *
 * @param rmgr          resource manager ({@code XLOG}, {@code Transaction}, {@code Heap}, ...)
 * @param type          first word of desc ({@code COMMIT}, {@code INSERT+INIT}, {@code FPI_FOR_HINT}, ...)
 * @param lsn           start of the record
 * @param prevLsn       start of the previous record ({@code xl_prev})
 * @param xid           the record header's transaction id ({@code tx:}); 0 for none
 * @param recordLength  main data + headers without block images ({@code rec})
 * @param totalLength   {@code xl_tot_len}: all bytes of the record, not counting page headers it spans
 * @param fullPageImage at least one block reference carries a full-page image
 * @param decidedXid    for COMMIT/ABORT the header xid; for COMMIT_PREPARED/ABORT_PREPARED the
 *                      prepared xid from desc (their header xid is 0); else 0
 * @param xactTime      the timestamp of a transaction record (COMMIT, ABORT, PREPARE, *_PREPARED)
 * @param desc          desc text, cut to {@value #DESC_KEEP_CHARS} chars (messages print payloads in hex)
 */
public record WalDumpRecord(String rmgr, String type, long lsn, long prevLsn, long xid,
                            int recordLength, int totalLength, boolean fullPageImage,
                            long decidedXid, Optional<Instant> xactTime, String desc) {

    public static final int DESC_KEEP_CHARS = 240;

    /** {@code SizeOfXLogShortPHD}: the header of every WAL page but the first of a segment. */
    public static final int SHORT_PAGE_HEADER = 24;
    /** {@code SizeOfXLogLongPHD}: the header of the first page of a segment. */
    public static final int LONG_PAGE_HEADER = 40;

    /** {@code Transaction/COMMIT}: the key {@code pg_waldump --stats=record} uses too. */
    public String key() {
        return rmgr + "/" + type;
    }

    /**
     * The LSN just past the record's last byte: {@link #totalLength()} bytes laid out from
     * {@link #lsn()}, skipping the page header at the start of every page it continues onto. The
     * next record starts at this position rounded up to 8 (or after the next page header).
     */
    public long endLsn(int walBlockSize, long walSegmentSize) {
        long pos = lsn;
        long remaining = totalLength;
        while (true) {
            long pageEnd = (Long.divideUnsigned(pos, walBlockSize) + 1) * walBlockSize;
            long room = pageEnd - pos;
            if (remaining <= room) {
                return pos + remaining;
            }
            remaining -= room;
            pos = pageEnd + (Long.remainderUnsigned(pageEnd, walSegmentSize) == 0 ? LONG_PAGE_HEADER : SHORT_PAGE_HEADER);
        }
    }

    /** The record continues on a later page than the one it starts on. */
    public boolean crossesPage(int walBlockSize, long walSegmentSize) {
        return Long.divideUnsigned(lsn, walBlockSize)
                != Long.divideUnsigned(endLsn(walBlockSize, walSegmentSize) - 1, walBlockSize);
    }

    /** The record starts in one segment and ends in a later one. */
    public boolean crossesSegment(int walBlockSize, long walSegmentSize) {
        return Long.divideUnsigned(lsn, walSegmentSize)
                != Long.divideUnsigned(endLsn(walBlockSize, walSegmentSize) - 1, walSegmentSize);
    }

    @Override
    public String toString() {
        return key() + " @" + PgLsn.format(lsn) + " len " + totalLength + (xid != 0 ? " xid " + xid : "");
    }
}
