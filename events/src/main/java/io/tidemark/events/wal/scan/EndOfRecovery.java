package io.tidemark.events.wal.scan;

import io.tidemark.events.wal.Lsn;
import java.time.Instant;

/** Written when archive recovery ends and a new timeline starts (promotion, PITR end). */
public record EndOfRecovery(Lsn lsn, Instant time, long timeline, long previousTimeline) {
}
