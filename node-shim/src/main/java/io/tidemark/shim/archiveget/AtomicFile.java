package io.tidemark.shim.archiveget;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Writes a file so that it either appears complete or not at all: a temp file in the same
 * directory, written and fsynced, renamed over the target, then the directory fsynced so the
 * rename survives a crash. PostgreSQL may read the target the moment it exists.
 */
public final class AtomicFile {
    private AtomicFile() {
    }

    public static void write(Path target, byte[] data) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Path tmp = dir.resolve("." + target.getFileName() + ".tidemark." + ProcessHandle.current().pid() + ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer b = ByteBuffer.wrap(data);
                while (b.hasRemaining()) {
                    ch.write(b);
                }
                ch.force(true);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
            fsyncDirectory(dir);
        } finally {
            if (tmp != null) {
                Files.deleteIfExists(tmp);
            }
        }
    }

    private static final java.util.regex.Pattern TEMP = java.util.regex.Pattern.compile("\\..+\\.tidemark\\.([0-9]{1,10})\\.tmp");

    /** Whether {@code name} is a temp file {@link #write} left in a process that no longer runs. */
    public static boolean deadTemp(String name) {
        java.util.regex.Matcher m = TEMP.matcher(name);
        return m.matches() && ProcessHandle.of(Long.parseLong(m.group(1))).map(p -> !p.isAlive()).orElse(true);
    }

    static void fsyncDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // Some file systems refuse to open or sync a directory; the data itself is synced.
            if (!(e.getMessage() != null && e.getMessage().contains("Is a directory"))) {
                throw e;
            }
        }
    }
}
