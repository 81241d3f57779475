package io.tidemark.events.wal.scan;

import io.tidemark.events.wal.Lsn;
import java.time.Instant;

/** A checkpoint record: where redo would start from it, and the wall-clock time it was taken. */
public record Checkpoint(Lsn lsn, Lsn redo, Instant time, long timeline, boolean shutdown) {
}
