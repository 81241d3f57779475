package io.tidemark.shim.backup;

import io.tidemark.events.paths.SafeRelativePath;
import java.nio.file.Path;
import java.time.Instant;

/**
 * A file found in the data directory (or a tablespace) by {@link DataDirWalker}.
 *
 * @param path     where it goes in the backup (relative to PGDATA; tablespaces under {@code pg_tblspc/<oid>/})
 * @param absolute where it is read from
 * @param size     size when the walk saw it (the copy records what it actually read)
 * @param mtime    modification time when the walk saw it, before it was read: a change after that
 *                 moves the time, so a later incremental copies the file again
 */
public record SourceFile(SafeRelativePath path, Path absolute, long size, Instant mtime) {
}
