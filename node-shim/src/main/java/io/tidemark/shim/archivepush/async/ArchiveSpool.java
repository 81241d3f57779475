package io.tidemark.shim.archivepush.async;

import io.tidemark.events.layout.StanzaName;
import io.tidemark.shim.archiveget.AtomicFile;
import io.tidemark.shim.spool.ProcessLock;
import io.tidemark.shim.spool.SpoolDirs;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The asynchronous archive-push spool of one stanza: {@code <spool.dir>/<stanza>/archive/}.
 * For each WAL file the worker handled it holds {@code <file>.ok} (archived: S3 confirmed it, or
 * queue-max dropped it) or {@code <file>.error} (the last attempt's message), each written
 * atomically (temp file, fsync, rename), so whatever is visible is complete: {@code bin/tidemark}
 * answers PostgreSQL from {@code .ok} without a JVM, and both answer only when the size and
 * SHA-256 the record holds are those of the file PostgreSQL asks about ({@link #answer}). {@code <file>.dropped} records a file that
 * was let go without being archived (kept: {@code info} reports it). Also {@code .lock} (held by
 * the one running worker) and {@code worker.log}. The worker removes {@code .ok} and
 * {@code .error} once PostgreSQL no longer has the file's {@code .ready}: PostgreSQL owns
 * {@code archive_status}, this spool never touches it. The two directories are mode 700 and
 * used only when they are real directories owned by this user.
 */
public final class ArchiveSpool {
    static final String LOCK = ".lock";
    /** The running worker's process id: the launcher waits for a file only while that process lives. */
    static final String PID = "worker.pid";
    public static final String LOG = "worker.log";
    static final String OK = ".ok";
    static final String ERROR = ".error";
    static final String DROPPED = ".dropped";
    private static final String DROPPED_MARK = "dropped";

    /** WAL file names PostgreSQL archives: segments, partials, timeline histories, backup histories. */
    static final Pattern WAL_FILE = Pattern.compile(
            "[0-9A-F]{24}(\\.partial)?|[0-9A-F]{8}\\.history|[0-9A-F]{24}\\.[0-9A-F]{8}\\.backup");

    /** One file dropped by queue-max: when, how many bytes, and the reason written then. */
    public record Dropped(String file, Instant at, long bytes, String reason) {
    }

    private final Path dir;

    private ArchiveSpool(Path dir) {
        this.dir = dir;
    }

    /** The spool, created if needed; empty when it cannot be used safely. */
    public static Optional<ArchiveSpool> open(Path spoolDir, StanzaName stanza) {
        try {
            Path s = spoolDir.resolve(stanza.value());
            Path a = s.resolve("archive");
            if (!Files.isDirectory(spoolDir)) {
                SpoolDirs.createPrivate(spoolDir);
            }
            return SpoolDirs.ensurePrivate(List.of(s, a)) ? Optional.of(new ArchiveSpool(a)) : Optional.empty();
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return Optional.empty();
        }
    }

    /** The spool of an existing directory, read only ({@code info} on this node); empty when absent. */
    public static Optional<ArchiveSpool> existing(Path spoolDir, StanzaName stanza) {
        Path a = spoolDir.resolve(stanza.value()).resolve("archive");
        return Files.isDirectory(a, LinkOption.NOFOLLOW_LINKS) ? Optional.of(new ArchiveSpool(a)) : Optional.empty();
    }

    public Path dir() {
        return dir;
    }

    static boolean isWalFile(String name) {
        return WAL_FILE.matcher(name).matches();
    }

    private Path path(String walFile, String suffix) {
        if (!isWalFile(walFile)) {
            throw new IllegalArgumentException("not a WAL file name: '" + walFile + "'");
        }
        return dir.resolve(walFile + suffix);
    }

    public SpoolStatus status(String walFile) {
        Path ok = path(walFile, OK);
        try {
            String s = Files.readString(ok, StandardCharsets.UTF_8);
            return new SpoolStatus.Done(s.startsWith(DROPPED_MARK));
        } catch (NoSuchFileException e) {
            // not done
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Path err = path(walFile, ERROR);
        try {
            String s = Files.readString(err, StandardCharsets.UTF_8).strip();
            Instant at = Files.getLastModifiedTime(err).toInstant();
            return new SpoolStatus.Failed(s, at);
        } catch (NoSuchFileException e) {
            return new SpoolStatus.Pending();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * What PostgreSQL's call for {@code file} (its {@code %p}) may be answered with: as
     * {@link #status}, but a {@code .ok} counts only when it was written for this very content:
     * the size and SHA-256 it records (of what was pushed) match the file now in pg_wal (for a
     * dropped file, which was never read whole, the size). A record for other content under the
     * same name (a leftover of another cluster or timeline that reused the spool, or a planted
     * one) is removed, and the file is pending: the worker pushes what is there now.
     */
    public SpoolStatus answer(Path file) {
        String name = file.getFileName().toString();
        Path ok = path(name, OK);
        String record;
        try {
            record = Files.isRegularFile(ok, LinkOption.NOFOLLOW_LINKS) ? Files.readString(ok, StandardCharsets.UTF_8) : null;
        } catch (NoSuchFileException e) {
            record = null;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (record != null && !recordMatches(record, file)) {
            try {
                Files.deleteIfExists(ok);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return status(name);
    }

    /** Whether a {@code .ok} record ({@code archived <time> <bytes> <sha256>} or {@code dropped <time> <bytes>}) is for {@code file}. */
    static boolean recordMatches(String record, Path file) {
        String[] w = record.strip().split(" ");
        try {
            if (w.length == 4 && w[0].equals("archived") && w[3].matches("[0-9a-f]{64}")) {
                long size = Long.parseLong(w[2]);
                return Files.size(file) == size && size <= Integer.MAX_VALUE
                        && io.tidemark.shim.storage.CreateOnly.sha256(Files.readAllBytes(file))
                        .equals(w[3]);
            }
            if (w.length == 3 && w[0].equals(DROPPED_MARK)) {
                return Files.size(file) == Long.parseLong(w[2]);
            }
        } catch (IOException | NumberFormatException e) {
            return false;
        }
        return false;
    }

    /** Records {@code walFile} as archived (S3 confirmed it holds these {@code bytes} with this SHA-256); clears an earlier error. */
    public void markOk(String walFile, long bytes, String sha256) throws IOException {
        AtomicFile.write(path(walFile, OK), ("archived " + Instant.now() + " " + bytes + " " + sha256 + "\n")
                .getBytes(StandardCharsets.UTF_8));
        Files.deleteIfExists(path(walFile, ERROR));
    }

    /** Records the failure of the last attempt (one line, replaced by the next attempt's). */
    public void markError(String walFile, String message) throws IOException {
        String line = message.replace('\n', ' ').strip() + "\n";
        AtomicFile.write(path(walFile, ERROR), line.getBytes(StandardCharsets.UTF_8));
    }

    /** Forgets an error already reported to PostgreSQL, so that its next call waits for a new attempt. */
    public void clearError(String walFile) {
        try {
            Files.deleteIfExists(path(walFile, ERROR));
        } catch (IOException e) {
            // reported again next time
        }
    }

    /**
     * Lets {@code walFile} go without archiving it: the {@code .dropped} record first (so that
     * no file is ever answered "done" without a trace of why), then {@code .ok}.
     */
    public void markDropped(String walFile, long bytes, String reason) throws IOException {
        String record = Instant.now() + " " + bytes + " " + reason.replace('\n', ' ') + "\n";
        AtomicFile.write(path(walFile, DROPPED), record.getBytes(StandardCharsets.UTF_8));
        AtomicFile.write(path(walFile, OK), (DROPPED_MARK + " " + Instant.now() + " " + bytes + "\n")
                .getBytes(StandardCharsets.UTF_8));
        Files.deleteIfExists(path(walFile, ERROR));
    }

    /** Every {@code .dropped} record, oldest file name first. */
    public List<Dropped> dropped() {
        List<Dropped> out = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, "*" + DROPPED)) {
            for (Path f : s) {
                String name = f.getFileName().toString();
                String file = name.substring(0, name.length() - DROPPED.length());
                if (!isWalFile(file)) {
                    continue;
                }
                String[] parts = Files.readString(f, StandardCharsets.UTF_8).strip().split(" ", 3);
                try {
                    out.add(new Dropped(file, Instant.parse(parts[0]), Long.parseLong(parts[1]),
                            parts.length > 2 ? parts[2] : ""));
                } catch (RuntimeException e) {
                    out.add(new Dropped(file, Files.getLastModifiedTime(f).toInstant(), 0, "unreadable record"));
                }
            }
        } catch (IOException e) {
            // nothing to report
        }
        out.sort(java.util.Comparator.comparing(Dropped::file));
        return out;
    }

    /**
     * Removes {@code .ok} and {@code .error} of files PostgreSQL no longer has as {@code .ready}
     * (archived and renamed to {@code .done}, or removed) and that no push has under way.
     * Returns how many files it removed.
     */
    public int cleanup(Set<String> stillReady) {
        int removed = 0;
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            for (Path f : s) {
                String name = f.getFileName().toString();
                String base = name.endsWith(OK) ? name.substring(0, name.length() - OK.length())
                        : name.endsWith(ERROR) ? name.substring(0, name.length() - ERROR.length()) : null;
                if (base == null || !isWalFile(base) || stillReady.contains(base)) {
                    continue;
                }
                try {
                    if (Files.deleteIfExists(f)) {
                        removed++;
                    }
                } catch (IOException e) {
                    // next pass
                }
            }
        } catch (IOException e) {
            // next pass
        }
        return removed;
    }

    /** Names with a {@code .ok} (tests and the e2e checks). */
    public List<String> done() {
        List<String> out = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, "*" + OK)) {
            for (Path f : s) {
                String n = f.getFileName().toString();
                String base = n.substring(0, n.length() - OK.length());
                if (isWalFile(base)) {
                    out.add(base);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        out.sort(null);
        return out;
    }

    /** What {@link #clearLeftovers} removed. */
    record Leftovers(int errors, int temps) {
    }

    /**
     * Call with the lock held, before the first push: removes what an earlier worker left when it
     * was killed ({@code kill -9}, a crash, a reboot). Its {@code .error} records: every file still
     * {@code .ready} is tried again now, so an old error would only fail PostgreSQL's next call for
     * nothing. Temp files of {@link AtomicFile} whose process is gone (their name carries its pid).
     * {@code .ok} records stay: each says S3 confirmed that file; {@code worker.pid} is replaced.
     */
    Leftovers clearLeftovers() {
        int errors = 0;
        int temps = 0;
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            for (Path f : s) {
                String name = f.getFileName().toString();
                try {
                    if (name.endsWith(ERROR) && isWalFile(name.substring(0, name.length() - ERROR.length()))) {
                        errors += Files.deleteIfExists(f) ? 1 : 0;
                    } else if (AtomicFile.deadTemp(name)) {
                        temps += Files.deleteIfExists(f) ? 1 : 0;
                    }
                } catch (IOException e) {
                    // left for the next start
                }
            }
        } catch (IOException e) {
            // nothing to clear
        }
        return new Leftovers(errors, temps);
    }

    /**
     * Announces the worker (this process) to the launcher, and the data directory whose
     * archive_status it follows (second line): an archive-push from another cluster of the same
     * stanza (a restored copy beside the original, with the same configuration) must not wait for
     * a worker that never looks at its files. Call with the lock held.
     */
    void writePid(Path pgdata) {
        Path followed;
        try {
            // the real path: the launcher compares it with the physical working directory PostgreSQL
            // runs archive_command in, whatever symbolic link the agent's --pgdata went through
            followed = pgdata.toRealPath();
        } catch (IOException e) {
            followed = pgdata.toAbsolutePath().normalize();
        }
        try {
            AtomicFile.write(dir.resolve(PID), (ProcessHandle.current().pid() + "\n" + followed + "\n")
                    .getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            // the launcher then leaves every wait to the JVM
        }
    }

    void removePid() {
        try {
            Files.deleteIfExists(dir.resolve(PID));
        } catch (IOException e) {
            // a stale pid file only makes the launcher wait for a process that is gone: it checks
        }
    }

    /** The worker lock, or empty when another process (or this one) holds it. Released when the channel closes. */
    public Optional<FileChannel> tryLock() {
        return ProcessLock.tryLock(dir.resolve(LOCK));
    }

    /**
     * What {@code worker.pid} says: the process of the worker that announced itself last, and the
     * data directory it follows (empty for a pid file of a version before 2026-12-07, which wrote
     * the pid alone). The process may be gone: a worker killed with -9 leaves its file behind.
     */
    public record WorkerPid(long pid, Optional<Path> pgdata) {
    }

    /** The pid file read ({@link WorkerPid}); empty when there is none or it is not one. */
    public Optional<WorkerPid> workerPid() {
        try {
            List<String> lines = Files.readAllLines(dir.resolve(PID), StandardCharsets.UTF_8);
            if (lines.isEmpty() || !lines.get(0).matches("[0-9]{1,18}")) {
                return Optional.empty();
            }
            Optional<Path> pgdata = lines.size() >= 2 && !lines.get(1).isBlank()
                    ? Optional.of(Path.of(lines.get(1))) : Optional.empty();
            return Optional.of(new WorkerPid(Long.parseLong(lines.get(0)), pgdata));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Whether a worker holds the lock right now. */
    public boolean locked() {
        return ProcessLock.held(dir.resolve(LOCK));
    }
}
