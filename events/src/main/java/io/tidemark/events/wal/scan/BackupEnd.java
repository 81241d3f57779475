package io.tidemark.events.wal.scan;

import io.tidemark.events.wal.Lsn;

/** XLOG_BACKUP_END: a base backup that started at {@code backupStart} is consistent from here. */
public record BackupEnd(Lsn lsn, Lsn backupStart) {
}
