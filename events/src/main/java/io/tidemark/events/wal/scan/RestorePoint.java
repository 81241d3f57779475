package io.tidemark.events.wal.scan;

import io.tidemark.events.wal.Lsn;
import java.time.Instant;

/** A named restore point ({@code pg_create_restore_point}), a valid {@code recovery_target_name}. */
public record RestorePoint(String name, Instant time, Lsn lsn) {
}
