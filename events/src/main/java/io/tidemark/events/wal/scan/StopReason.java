package io.tidemark.events.wal.scan;

/** Why the scanner stopped walking a segment. Only the first two mean "the segment is complete". */
public enum StopReason {
    /** Every record up to the end of the segment was read and verified. */
    END_OF_SEGMENT,
    /** An XLOG_SWITCH record ended the segment early; the rest of the segment is zero-filled. */
    SWITCH,
    /** Zeroed space where the next record would start: the end of WAL written so far. */
    END_OF_WAL,
    /** A page carries the address of an older segment: a recycled file's stale tail. */
    INVALID_PAGE_ADDRESS,
    /** A page header that is not a valid WAL page header for this segment. */
    BAD_PAGE_HEADER,
    /** A record whose CRC-32C does not match its contents. */
    BAD_CRC,
    /** A record header or body that cannot be valid (length, back link, block headers). */
    INVALID_RECORD,
    /** The data ends before the segment does. */
    TRUNCATED,
    /** The data is not a PostgreSQL 13-17 WAL segment at all (or not the one its name says). */
    NOT_WAL;

    /** True when the segment was read to its real end, as an archived segment must be. */
    public boolean isComplete() {
        return this == END_OF_SEGMENT || this == SWITCH;
    }

    public String jsonName() {
        return name().toLowerCase().replace('_', '-');
    }
}
