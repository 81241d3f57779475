package io.tidemark.shim.archiveget;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Writes a file so that it either appears complete or not at all: a temp file in the same
 * directory, written and fsynced, renamed over the target, then the directory fsynced so the
 * rename survives a crash. PostgreSQL may read the target the moment it exists.
 *
 * <p>The temp file is {@code .NAME.tidemark.PID.tmp}. A writer killed before the rename (archive-get
 * ends by the signal when PostgreSQL sends SIGQUIT or SIGTERM, docs/node-shim.md) leaves it behind;
 * the next write of the same target removes every such file whose process is gone, so
 * {@code pg_wal/.RECOVERYXLOG.tidemark.*.tmp} lives at most until the next archive-get.
 */
public final class AtomicFile {
    private AtomicFile() {
    }

    public static void write(Path target, byte[] data) throws IOException {
        write(target, ch -> {
            ByteBuffer b = ByteBuffer.wrap(data);
            while (b.hasRemaining()) {
                ch.write(b);
            }
        }, true);
    }

    /** What {@link #write(Path, Content, boolean)} puts in the temp file; throwing leaves no file under the target's name. */
    @FunctionalInterface
    public interface Content {
        void writeTo(FileChannel ch) throws IOException;
    }

    /**
     * As {@link #write(Path, byte[])}, the content written by {@code content} (which may check what
     * it wrote and throw: then the temp file is removed and the target left as it was). With
     * {@code durable} false neither the file nor the directory is fsynced: the target still
     * appears complete or not at all to every reader on this machine (the rename is atomic and the
     * page cache is shared), but a crash of the machine may leave it short or empty under its
     * name; a caller that skips the fsync must never read such a file after a reboot (the
     * prefetch spool: {@link PrefetchSpool#noteBoot}).
     */
    public static void write(Path target, Content content, boolean durable) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        String prefix = "." + target.getFileName() + ".tidemark.";
        removeStale(dir, prefix);
        Path tmp = dir.resolve(prefix + ProcessHandle.current().pid() + ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                content.writeTo(ch);
                if (durable) {
                    ch.force(true);
                }
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
            if (durable) {
                fsyncDirectory(dir);
            }
        } finally {
            if (tmp != null) {
                Files.deleteIfExists(tmp);
            }
        }
    }

    private static final java.util.regex.Pattern TEMP = java.util.regex.Pattern.compile("\\..+\\.tidemark\\.([0-9]{1,10})\\.tmp");

    /** The pid in a temp file name {@link #write} uses, or -1 when {@code name} is not one. */
    private static long tempPid(String name) {
        java.util.regex.Matcher m = TEMP.matcher(name);
        return m.matches() ? Long.parseLong(m.group(1)) : -1;
    }

    /** Whether {@code name} is a temp file {@link #write} left in a process that no longer runs. */
    public static boolean deadTemp(String name) {
        long pid = tempPid(name);
        return pid >= 0 && ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true);
    }

    /**
     * Deletes {@code PREFIX<pid>.tmp} files in {@code dir} left by processes that are gone (or by an
     * earlier process with our own pid: the kernel reuses pids). A live process's file is its own
     * write in progress and stays.
     */
    static void removeStale(Path dir, String prefix) {
        long self = ProcessHandle.current().pid();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            for (Path f : s) {
                String name = f.getFileName().toString();
                if (name.startsWith(prefix) && (tempPid(name) == self || deadTemp(name))) {
                    try {
                        Files.deleteIfExists(f);
                    } catch (IOException e) {
                        // another writer removed it, or we may not: CREATE_NEW below then says why
                    }
                }
            }
        } catch (IOException e) {
            // an unreadable directory: the write below fails with the reason
        }
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
