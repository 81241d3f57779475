package io.tidemark.shim.cli;

/** Exit statuses shared by every command, so scripts (and PostgreSQL) can tell failures apart. */
public final class ExitCodes {
    public static final int OK = 0;
    /** A general failure; also archive-get's "no such file", which PostgreSQL expects to be quiet. */
    public static final int FAILED = 1;
    public static final int USAGE = 2;
    /**
     * archive-get: anything but "no such file" (checksum mismatch, storage unreachable after
     * retries, bad configuration), so that it is never mistaken for the quiet "not archived".
     */
    public static final int GET_ERROR = 3;
    /**
     * archive-get: a WAL file the restore plan needs is missing, unreadable or damaged, or the
     * archive stayed unreachable past {@code archive-get.outage-wait}. PostgreSQL reads any
     * restore_command status from 1 to 125 as "not available" and ends recovery there (promoting
     * a cluster short of its target); a status above 125 makes it abort recovery instead.
     */
    public static final int ABORT_RECOVERY = 200;

    private ExitCodes() {
    }
}
