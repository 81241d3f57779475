package io.tidemark.events.wal.scan;

import io.tidemark.events.wal.Lsn;
import java.time.Instant;

/**
 * The end of a transaction as WAL records it: a commit or abort, with the transaction id and
 * the time PostgreSQL stamped on it. For COMMIT/ABORT PREPARED the xid is the prepared
 * transaction's (carried in the record body), not the xid of the session that finished it.
 */
public record TransactionEnd(Kind kind, long xid, Instant time, Lsn lsn) {

    public enum Kind {
        COMMIT, ABORT, COMMIT_PREPARED, ABORT_PREPARED;

        public boolean isCommit() {
            return this == COMMIT || this == COMMIT_PREPARED;
        }
    }

    public boolean isCommit() {
        return kind.isCommit();
    }
}
