package io.tidemark.shim.archiveget;

/**
 * A WAL file the restore needs cannot be served (missing, unreadable, damaged, or the archive
 * unreachable for too long): archive-get prints the message as one line and exits
 * {@code ExitCodes.ABORT_RECOVERY}, so that PostgreSQL aborts recovery rather than end it early.
 */
public final class AbortRecovery extends RuntimeException {
    public AbortRecovery(String message) {
        super(message, null, false, false);
    }
}
