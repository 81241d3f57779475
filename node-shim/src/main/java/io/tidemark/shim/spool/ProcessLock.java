package io.tidemark.shim.spool;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * "One process at a time" on a lock file (the prefetcher of a stanza, the archive worker of a
 * stanza): an exclusive {@code flock}-style lock that the kernel releases when the holder exits,
 * however it exits, so a crashed holder never blocks the next one.
 */
public final class ProcessLock {
    private ProcessLock() {
    }

    /** The lock, held until the channel closes; empty when another process (or this JVM) holds it. */
    public static Optional<FileChannel> tryLock(Path file) {
        try {
            FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            try {
                FileLock l = ch.tryLock();
                if (l != null) {
                    return Optional.of(ch);
                }
            } catch (OverlappingFileLockException e) {
                // held in this JVM
            }
            ch.close();
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Whether someone holds the lock right now (taken and let go at once to find out). */
    public static boolean held(Path file) {
        Optional<FileChannel> ch = tryLock(file);
        if (ch.isEmpty()) {
            return true;
        }
        try {
            ch.get().close();
        } catch (IOException e) {
            // released anyway
        }
        return false;
    }
}
