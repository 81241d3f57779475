package io.tidemark.functions.lease;

import io.tidemark.functions.catalog.BackupLease;

/** Another backup holds the stanza's lease ({@code 409}); {@link #lease()} says which. */
public final class LeaseConflictException extends RuntimeException {

    private final transient BackupLease lease;

    public LeaseConflictException(BackupLease lease) {
        super("backup " + lease.label() + " is running on " + lease.holder() + " since " + lease.acquiredAt()
                + "; its lease expires at " + lease.expiresAt());
        this.lease = lease;
    }

    /** A refused takeover: {@code why} says what did not match. */
    public LeaseConflictException(BackupLease lease, String why) {
        super(why);
        this.lease = lease;
    }

    public BackupLease lease() {
        return lease;
    }
}
