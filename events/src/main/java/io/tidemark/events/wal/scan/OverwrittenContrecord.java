package io.tidemark.events.wal.scan;

import io.tidemark.events.wal.Lsn;
import java.time.Instant;

/**
 * XLOG_OVERWRITE_CONTRECORD: recovery found a record cut off at the end of WAL and wrote
 * over its missing tail; the record that started at {@code overwrittenLsn} never happened.
 */
public record OverwrittenContrecord(Lsn lsn, Lsn overwrittenLsn, Instant time) {
}
