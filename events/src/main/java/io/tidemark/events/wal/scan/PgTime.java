package io.tidemark.events.wal.scan;

import java.time.Instant;

/** PostgreSQL's TimestampTz: microseconds since 2000-01-01 00:00:00 UTC. */
final class PgTime {
    private static final long PG_EPOCH_UNIX_SECONDS = 946_684_800L;

    private PgTime() {
    }

    static Instant fromTimestampTz(long micros) {
        long seconds = Math.floorDiv(micros, 1_000_000L);
        long micro = Math.floorMod(micros, 1_000_000L);
        return Instant.ofEpochSecond(PG_EPOCH_UNIX_SECONDS + seconds, micro * 1_000L);
    }

    /** pg_time_t, as in checkpoint records: plain Unix seconds. */
    static Instant fromPgTime(long unixSeconds) {
        return Instant.ofEpochSecond(unixSeconds);
    }
}
