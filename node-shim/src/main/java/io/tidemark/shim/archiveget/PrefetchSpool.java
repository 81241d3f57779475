package io.tidemark.shim.archiveget;

import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.events.wal.WalSegmentSize;
import io.tidemark.shim.spool.ProcessLock;
import io.tidemark.shim.spool.SpoolDirs;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The prefetch spool of one stanza: {@code <spool.dir>/<stanza>/prefetch/}. It holds WAL segments
 * fetched ahead of recovery, each under its own name and only once its SHA-256 was verified
 * (written to a hidden temp file, then renamed), so that whatever is visible under a segment name
 * may be served as is, by the JVM or by {@code bin/tidemark} without one. Also there:
 * {@code .requested} (the last segment PostgreSQL asked for: where the prefetcher's window
 * starts), {@code .lock} (held by the one running prefetcher), {@code prefetch.log}, and
 * {@code .missing.<file>} markers: the prefetcher found no object for that segment or history
 * file a moment ago; the marker holds the epoch second until which "not archived" may be
 * answered from it (see {@link #noteMissing}), and {@code .generation} (written by each restore:
 * a prefetcher left over from an earlier restore, perhaps with another configuration, leaves when
 * it changes), and {@code .served} (the last {@link #SERVED_KEEP} segments archive-get served, each with
 * the identity of the file it wrote: see {@link #noteServed}), and {@code .ask.<file>.<id>} /
 * {@code .answer.<id>}: a standby's ask for a file that is not in the spool, left by
 * {@code bin/tidemark}, and the running prefetcher's answer to it from a fresh look at the archive
 * (see {@link #asks}).
 * Every directory below {@code spool.dir} is mode 700 and used only when it is a real directory
 * owned by this user; {@code spool.dir} itself may also be root's (see {@link SpoolDirs#privateProblem}).
 */
public final class PrefetchSpool {
    static final String REQUESTED = ".requested";
    static final String LOCK = ".lock";
    static final String LOG = "prefetch.log";
    static final String MISSING = ".missing.";
    static final String GENERATION = ".generation";
    static final String SERVED = ".served";
    static final String FETCHING = ".fetching.";
    static final String PID = ".pid";
    static final String ASK = ".ask.";
    static final String ANSWER = ".answer.";
    static final String PLAN = ".plan";
    /** What {@code .plan} names for a prefetcher without a plan (a standby's). */
    static final String NO_PLAN = "-";
    static final String BOOT = ".boot";
    private static final java.util.regex.Pattern ASK_NAME =
            java.util.regex.Pattern.compile("\\.ask\\.([0-9A-F]{24}|[0-9A-F]{8}\\.history)\\.([0-9]{1,10}-[0-9]{1,20})");
    private static final String HISTORY = "[0-9A-F]{8}\\.history";
    private static final java.util.regex.Pattern SEGMENT_NAME = java.util.regex.Pattern.compile("[0-9A-F]{24}");
    /** How many served segments {@code .served} remembers. */
    static final int SERVED_KEEP = 16;
    private static final Duration STALE_TEMP = Duration.ofMinutes(5);
    /** Longer than the launcher waits for an answer (docs/node-shim.md). */
    private static final Duration STALE_ASK = Duration.ofMinutes(1);

    private final Path dir;

    private PrefetchSpool(Path dir) {
        this.dir = dir;
    }

    /** The spool, created if needed; empty when it cannot be used safely (then nothing is prefetched). */
    public static Optional<PrefetchSpool> open(Path spoolDir, StanzaName stanza) {
        try {
            Path s = spoolDir.resolve(stanza.value());
            Path p = s.resolve("prefetch");
            // spool.dir itself may be root's (an install's shared /var/spool/tidemark, /tmp), as for
            // the archive spool; the stanza's directories below it must be this user's
            return SpoolDirs.privateProblem(spoolDir, List.of(s, p)).isEmpty() ? Optional.of(new PrefetchSpool(p)) : Optional.empty();
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return Optional.empty();
        }
    }

    public Path dir() {
        return dir;
    }

    Path file(WalSegmentName n) {
        return dir.resolve(n.toString());
    }

    boolean has(WalSegmentName n) {
        return Files.isRegularFile(file(n), LinkOption.NOFOLLOW_LINKS);
    }

    /** Stores verified bytes, fsynced; visible under the segment's name only once complete. */
    void put(WalSegmentName n, byte[] verified) throws IOException {
        put(n, verified, true);
    }

    /** Stores verified bytes; visible under the segment's name only once complete (fsynced only when {@code durable}). */
    void put(WalSegmentName n, byte[] verified, boolean durable) throws IOException {
        AtomicFile.write(file(n), ch -> {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(verified);
            while (b.hasRemaining()) {
                ch.write(b);
            }
        }, durable);
    }

    /** Where the kernel names this boot of the machine (a new random id at every boot). */
    static final Path BOOT_ID = Path.of("/proc/sys/kernel/random/boot_id");
    /** {@code .boot}'s content when every spool file is fsynced (no boot id to bind them to). */
    static final String DURABLE = "durable";

    /**
     * Binds the spool's segments to this boot of the machine, so that they need no fsync: writes
     * {@code .boot} (fsynced) with the kernel's boot id, and returns true; when the boot id cannot
     * be read, writes {@code durable} and returns false (then every segment must be fsynced).
     * Called by a prefetcher that holds the lock, after it removed every servable file.
     *
     * <p>Why a segment that was not fsynced is safe to serve: it is written to a hidden temp file,
     * verified (length, SHA-256) as it is written, and only then renamed to its name. Every process
     * on this machine reads it through the same page cache, so once renamed it is whole to all of
     * them, whatever becomes of the writer (killed with -9 before the rename: only the temp file is
     * left, never served, removed later). Only a crash of the machine can leave a renamed file
     * short, empty or holding zeros on disk; the machine then boots with another boot id, and
     * neither the launcher nor {@link #takeInto} serves a segment while {@code .boot} names another
     * boot (and the next prefetcher removes them all). A file served is PostgreSQL's from then on:
     * it fsyncs a restored segment itself when it keeps it. What this does not cover: a
     * write-back error the kernel reports to nobody (the disk failing under a cache file), which
     * PostgreSQL's own files would suffer alike.
     */
    boolean noteBoot() {
        Optional<String> boot = bootId();
        try {
            AtomicFile.write(dir.resolve(BOOT), (boot.orElse(DURABLE) + "\n").getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
            // no .boot: nothing is served from the spool until one is written (every ask is a JVM)
            return false;
        }
        return boot.isPresent();
    }

    /** This boot's id, if the kernel says it. */
    static Optional<String> bootId() {
        try {
            String id = Files.readString(BOOT_ID, StandardCharsets.US_ASCII).strip();
            return id.isEmpty() ? Optional.empty() : Optional.of(id);
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Whether the spool's segments may be served in this boot ({@link #noteBoot}): fsynced, or written since the machine booted. */
    boolean ofThisBoot() {
        try {
            String b = Files.readString(dir.resolve(BOOT), StandardCharsets.US_ASCII).strip();
            return b.equals(DURABLE) || bootId().map(b::equals).orElse(false);
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Moves the prefetched {@code n} to {@code target} for an archive-get given the restore plan
     * {@code planId} (empty: none, a standby's): with a plan, only while the spool is bound to that
     * very plan ({@link #bind}), before and after the move; a file taken while another prefetcher
     * bound the spool is removed from {@code target} again. False when it is not served (then
     * archive-get fetches and verifies it itself).
     */
    public boolean takeInto(WalSegmentName n, Path target, Optional<String> planId) throws IOException {
        String before = binding();
        if (planId.isPresent() && !planId.get().equals(boundPlan(before))) {
            return false;
        }
        if (!takeInto(n, target)) {
            return false;
        }
        if (planId.isPresent() && !binding().equals(before)) {
            Files.deleteIfExists(target);
            return false;
        }
        return true;
    }

    /**
     * Moves the prefetched {@code n} to {@code target}: a rename on the same file system, else a
     * copy written atomically. False when it is not there, or not of this boot ({@link #noteBoot}).
     */
    private boolean takeInto(WalSegmentName n, Path target) throws IOException {
        Path f = file(n);
        if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS) || !ofThisBoot()) {
            return false;
        }
        try {
            Files.move(f, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            AtomicFile.fsyncDirectory(target.toAbsolutePath().getParent());
            return true;
        } catch (NoSuchFileException e) {
            return false;
        } catch (AtomicMoveNotSupportedException e) {
            byte[] data;
            try {
                data = Files.readAllBytes(f);
            } catch (NoSuchFileException gone) {
                return false;
            }
            AtomicFile.write(target, data);
            Files.deleteIfExists(f);
            return true;
        }
    }

    /**
     * Records that no object holds {@code fileName} (a segment or history file name) as of now,
     * answerable until {@code until}. Recovery asks for files that do not exist (the next
     * timeline's history at promotion, the segment after the last archived one); without a
     * marker each of those asks starts a JVM. The prefetcher refreshes a marker while the file
     * stays missing and keeps it short-lived, so that an answer from it is never older than a
     * probe the prefetcher just made. Not fsynced: a marker lost in a crash only costs a probe.
     * The marker also names the restore plan it was made under ({@code EPOCH PLANID}, the plan's
     * id: {@link WalPlan#id}): a marker is an answer only to an archive-get given that very plan,
     * never to another restore's recovery of the same stanza (whose plan may need the file), even
     * one whose plan file has the same path.
     */
    void noteMissing(String fileName, Instant until, String planId) {
        Path tmp = dir.resolve(MISSING + fileName + "." + ProcessHandle.current().pid() + ".tmp");
        try {
            Files.writeString(tmp, until.getEpochSecond() + " " + planId + "\n", StandardCharsets.UTF_8);
            Files.move(tmp, dir.resolve(MISSING + fileName), StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // cleaned up as a stale temp file later
            }
        }
    }

    /** Withdraws a missing marker (the file was found). */
    void clearMissing(String fileName) {
        try {
            Files.deleteIfExists(dir.resolve(MISSING + fileName));
        } catch (IOException e) {
            // expires on its own
        }
    }

    /** Until when {@code fileName} may be answered "not archived" from a marker; empty when there is no usable marker. */
    Optional<Instant> missingUntil(String fileName) {
        try {
            String s = Files.readString(dir.resolve(MISSING + fileName), StandardCharsets.UTF_8).strip();
            return Optional.of(Instant.ofEpochSecond(Long.parseLong(s.split(" ", 2)[0])));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /**
     * Starts a new generation: a running prefetcher of the previous one leaves (see {@link #waitUnlocked}),
     * and what it spooled goes. It verified those files against another restore's plan (or none):
     * they are not served to this plan ({@link #bind}) and would only take the window's room.
     */
    public void newGeneration() {
        try {
            AtomicFile.write(dir.resolve(GENERATION), (java.util.UUID.randomUUID() + "\n").getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
            // then an earlier prefetcher keeps running and serving: same stanza, same verified segments
        }
        dropServable();
    }

    /**
     * Binds the spool to the restore plan {@code planId} (empty: none) for one prefetch session:
     * {@code .plan} is {@code PLANID SESSION} ({@link #NO_PLAN} without a plan; SESSION unique to
     * this call). Written by the prefetcher that holds the lock, after it dropped what the spool held
     * and before its first download: every segment it spools from then on was verified against that
     * plan, and it spools one only while {@code .plan} is still the line returned here. A segment is
     * served to {@code archive-get --plan P} (the launcher, {@link #takeInto(WalSegmentName, Path,
     * Optional)}) only while {@code .plan} names P: never one verified against another restore's plan.
     * Returns the line written; on failure the spool is left unbound (nothing served with a plan).
     */
    String bind(Optional<String> planId) {
        String line = planId.orElse(NO_PLAN) + " " + ProcessHandle.current().pid() + "-" + java.util.UUID.randomUUID();
        try {
            AtomicFile.write(dir.resolve(PLAN), (line + "\n").getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
            try {
                Files.deleteIfExists(dir.resolve(PLAN));
            } catch (IOException ignored) {
                // the session's line is not there either way: it spools nothing
            }
        }
        return line;
    }

    /** {@code .plan}'s line ({@link #bind}); empty when the spool is not bound. */
    String binding() {
        try {
            return Files.readString(dir.resolve(PLAN), StandardCharsets.US_ASCII).strip();
        } catch (IOException e) {
            return "";
        }
    }

    /** The plan a {@link #binding} line names: a plan id, {@link #NO_PLAN}, or "" when unbound. */
    private static String boundPlan(String binding) {
        int sp = binding.indexOf(' ');
        return sp < 0 ? binding : binding.substring(0, sp);
    }

    /**
     * archive-get with the plan {@code planId} found the spool bound to another plan (another
     * restore's recovery of this stanza, or a standby's prefetcher): starts a new generation, so
     * that prefetcher leaves and what it spooled goes ({@link #newGeneration}); then this
     * recovery's own prefetcher can take the spool. True when it did; false when the spool is
     * bound to {@code planId} or to nothing (no prefetcher, or one still starting).
     */
    public boolean leaveToPlan(String planId) {
        String bound = boundPlan(binding());
        if (bound.isEmpty() || bound.equals(planId)) {
            return false;
        }
        newGeneration();
        return true;
    }

    /**
     * Removes the segments and history files the launcher could serve, leaving the markers. Run
     * when a prefetcher begins (it holds the lock: what is there was left by another prefetcher,
     * maybe of another restore, or one killed) and when a restore begins a generation.
     */
    void dropServable() {
        // best effort: a file left is one the prefetcher verified for this stanza
        removeWhere(PrefetchSpool::servable);
    }

    private static boolean servable(String name) {
        return name.matches("[0-9A-F]{24}") || name.matches(HISTORY);
    }

    /** Removes the files of the spool whose names {@code which} accepts; best effort. */
    private void removeWhere(java.util.function.Predicate<String> which) {
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            for (Path f : s) {
                if (which.test(f.getFileName().toString())) {
                    Files.deleteIfExists(f);
                }
            }
        } catch (IOException e) {
            // what stays is removed by the next clean-up or clear
        }
    }

    /** The current generation, empty when none was written. */
    String generation() {
        try {
            return Files.readString(dir.resolve(GENERATION), StandardCharsets.US_ASCII).strip();
        } catch (IOException e) {
            return "";
        }
    }

    /** When the current generation was written (a restore starting), if ever. */
    Optional<FileTime> generationAt() {
        try {
            return Optional.of(Files.getLastModifiedTime(dir.resolve(GENERATION), LinkOption.NOFOLLOW_LINKS));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** Waits up to {@code max} for the prefetcher lock to be free; true when it is. */
    public boolean waitUnlocked(Duration max) {
        long deadline = System.nanoTime() + max.toNanos();
        while (locked()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    /**
     * Records that {@code n} was served from the archive into {@code target}, with that file's
     * device, inode, size and modification time ({@code NAME DEV INO SIZE SECONDS.NANOS}, as
     * {@code stat -c '%d %i %s %.9Y'} prints them). PostgreSQL renames what it restored into
     * pg_wal and may ask for the same segment again when recovery stops; {@code bin/tidemark}
     * hands back the kept copy then, but only when it is still this very file: a segment that
     * walreceiver streamed (partly) into pg_wal under that name is never served as archived.
     */
    public void noteServed(WalSegmentName n, Path target) {
        try {
            Map<String, Object> a = Files.readAttributes(target, "unix:dev,ino,size,lastModifiedTime", LinkOption.NOFOLLOW_LINKS);
            Instant m = ((FileTime) a.get("lastModifiedTime")).toInstant();
            String line = n + " " + a.get("dev") + " " + a.get("ino") + " " + a.get("size") + " " + m.getEpochSecond() + "."
                    + String.format(java.util.Locale.ROOT, "%09d", m.getNano()) + "\n";
            // the last SERVED_KEEP segments, one line each: PostgreSQL 15 reads ahead of replay
            // and, when recovery stops, asks again for the segment it stopped in, not only the last
            StringBuilder all = new StringBuilder();
            List<String> old = served();
            for (String l : old.subList(Math.max(0, old.size() - (SERVED_KEEP - 1)), old.size())) {
                if (!l.startsWith(n + " ")) {
                    all.append(l).append('\n');
                }
            }
            all.append(line);
            // not fsynced: a record lost in a crash only costs a fetch from the archive
            Path tmp = dir.resolve(SERVED + "." + ProcessHandle.current().pid() + ".tmp");
            Files.writeString(tmp, all, StandardCharsets.US_ASCII);
            Files.move(tmp, dir.resolve(SERVED), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            // then the next ask for it starts a JVM, which fetches it from the archive again
            try {
                Files.deleteIfExists(dir.resolve(SERVED));
            } catch (IOException ignored) {
                // an old record names another file or another inode: it matches nothing
            }
        }
    }

    /** The lines of {@code .served}, oldest first; empty when there is none. */
    List<String> served() {
        try {
            return Files.readAllLines(dir.resolve(SERVED), StandardCharsets.US_ASCII).stream().filter(l -> !l.isBlank()).toList();
        } catch (IOException | RuntimeException e) {
            return List.of();
        }
    }

    /** Records the segment PostgreSQL asked for; the prefetcher keeps its window after it. */
    public void noteRequested(WalSegmentName n) {
        try {
            AtomicFile.write(dir.resolve(REQUESTED), (n + "\n").getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
            // the prefetcher then only follows what it started from
        }
    }

    /** When {@code .requested} was last written (each ask writes it, the same name again too); null when absent. */
    FileTime requestedAt() {
        try {
            return Files.getLastModifiedTime(dir.resolve(REQUESTED), LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * Stores a verified timeline history file ({@code TTTTTTTT.history}) the prefetcher found in the
     * archive, for {@code bin/tidemark} to serve without a plan (a copy: PostgreSQL asks for the same
     * history several times when it switches). Archived history files never change: one already
     * there stays. One writer at a time (the timeline probe and an ask's answer may both find it;
     * {@link AtomicFile}'s temp file is per process).
     */
    synchronized void putHistory(String fileName, byte[] verified) throws IOException {
        if (!fileName.matches(HISTORY)) {
            throw new IllegalArgumentException(fileName + " is not a history file name");
        }
        if (hasHistory(fileName)) {
            return;
        }
        AtomicFile.write(dir.resolve(fileName), verified);
    }

    boolean hasHistory(String fileName) {
        return fileName.matches(HISTORY) && Files.isRegularFile(dir.resolve(fileName), LinkOption.NOFOLLOW_LINKS);
    }

    Optional<WalSegmentName> requested(WalSegmentSize size) {
        try {
            String s = Files.readString(dir.resolve(REQUESTED), StandardCharsets.US_ASCII).strip();
            return Optional.of(WalSegmentName.parse(s, size));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /**
     * Removes prefetched segments PostgreSQL will not ask for any more (segment number below the
     * requested one, on any timeline: recovery only moves forward) and temp files left by a
     * prefetcher that died. Returns how many segments it removed.
     */
    public int cleanup(WalSegmentName requested) {
        int removed = 0;
        Instant staleBefore = Instant.now().minus(STALE_TEMP);
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            for (Path f : s) {
                String name = f.getFileName().toString();
                try {
                    if (SEGMENT_NAME.matcher(name).matches()) {
                        WalSegmentName n = WalSegmentName.parse(name, requested.segmentSize());
                        if (n.segmentNumber() < requested.segmentNumber()) {
                            Files.deleteIfExists(f);
                            removed++;
                        }
                    } else if (name.startsWith(ASK) || name.startsWith(ANSWER)) {
                        // a launcher that died waiting (its own are removed as soon as it has an answer)
                        FileTime t = Files.getLastModifiedTime(f, LinkOption.NOFOLLOW_LINKS);
                        if (t.toInstant().isBefore(Instant.now().minus(STALE_ASK))) {
                            Files.deleteIfExists(f);
                        }
                    } else if (name.endsWith(".tmp")) {
                        FileTime t = Files.getLastModifiedTime(f, LinkOption.NOFOLLOW_LINKS);
                        // a dead writer's (kill -9) at once; others once old enough to be nobody's
                        if (AtomicFile.deadTemp(name) || t.toInstant().isBefore(staleBefore)) {
                            Files.deleteIfExists(f);
                        }
                    }
                } catch (IOException | RuntimeException e) {
                    // another process took or removed it
                }
            }
        } catch (IOException e) {
            // nothing to clean
        }
        return removed;
    }

    /**
     * Marks {@code n} as being downloaded by the running prefetcher (whose pid is in {@code .pid},
     * see {@link #notePid}): {@code bin/tidemark} waits for it rather than start a JVM that would
     * download it a second time. Removed once the download ends, after a found segment is in place.
     */
    void noteFetching(WalSegmentName n) {
        try {
            Files.newOutputStream(dir.resolve(FETCHING + n)).close();
        } catch (IOException e) {
            // then archive-get does not wait for it
        }
    }

    void clearFetching(WalSegmentName n) {
        try {
            Files.deleteIfExists(dir.resolve(FETCHING + n));
        } catch (IOException e) {
            // the launcher stops waiting when the prefetcher's process is gone
        }
    }

    /**
     * Records a prefetcher archive-get has just started (process {@code pid}, not yet running its
     * loop: a JVM takes a second or more to start) as if it were downloading {@code names} already:
     * the next asks then wait in the launcher for its downloads instead of each starting a JVM of
     * their own while it starts (measured: three such JVMs in a row, 30 s on a loaded machine).
     * The prefetcher takes the markers over, or removes those it does not fetch, once it runs; if
     * it dies first, its {@code .pid} names a dead process and the launcher stops waiting. Nothing
     * is written while {@code .pid} names another live process.
     */
    void noteStarting(long pid, List<WalSegmentName> names) {
        if (pidAlive()) {
            return;
        }
        try {
            AtomicFile.write(dir.resolve(PID), (pid + "\n").getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
            return;
        }
        names.forEach(this::noteFetching);
    }

    /**
     * Whether a prefetcher is starting: {@code .pid} names a live process and was written in the
     * last minute, while nobody holds {@code .lock} yet (the launcher's start for a standby's first
     * ask, bin/tidemark: its JVM takes a second or more before it locks). Older, it is not taken
     * for one: a prefetcher that runs holds the lock, and a pid reused by another process must not
     * keep prefetchers away for good.
     */
    boolean starting() {
        try {
            return !locked() && pidAlive() && Files.getLastModifiedTime(dir.resolve(PID)).toInstant()
                    .isAfter(java.time.Instant.now().minus(STARTING_AT_MOST));
        } catch (IOException e) {
            return false;
        }
    }

    private static final java.time.Duration STARTING_AT_MOST = java.time.Duration.ofMinutes(1);

    /** Whether {@code .pid} names a live process (other than none). */
    private boolean pidAlive() {
        try {
            long pid = Long.parseLong(Files.readString(dir.resolve(PID), StandardCharsets.US_ASCII).strip());
            return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** Whether {@code .pid} names this process. */
    boolean pidIsThis() {
        try {
            return Files.readString(dir.resolve(PID), StandardCharsets.US_ASCII).strip()
                    .equals(Long.toString(ProcessHandle.current().pid()));
        } catch (IOException e) {
            return false;
        }
    }

    /** Removes every download marker but those of {@code mine} (markers left by archive-get or a dead prefetcher). */
    void clearFetchingExcept(java.util.Set<WalSegmentName> mine) {
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, FETCHING + "*")) {
            for (Path f : s) {
                String name = f.getFileName().toString().substring(FETCHING.length());
                if (mine.stream().noneMatch(n -> n.toString().equals(name))) {
                    Files.deleteIfExists(f);
                }
            }
        } catch (IOException e) {
            // the launcher stops waiting after 60 s at most
        }
    }

    /** A standby's ask for {@code file} (a segment or history file name) that the launcher left, {@code id} naming it. */
    record Ask(String file, String id) {
    }

    /**
     * The asks {@code bin/tidemark} left for the running prefetcher: a file PostgreSQL asked for
     * without a plan that is not in the spool. Each file {@code .ask.<file>.<id>} is created (empty,
     * in one step) after PostgreSQL's ask; the prefetcher answers it with {@link #answer} once it
     * has looked at the archive after seeing it, so that "not archived" is never older than the ask.
     */
    List<Ask> asks() {
        List<Ask> asks = new java.util.ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, ASK + "*")) {
            for (Path f : s) {
                java.util.regex.Matcher m = ASK_NAME.matcher(f.getFileName().toString());
                if (m.matches()) {
                    asks.add(new Ask(m.group(1), m.group(2)));
                }
            }
        } catch (IOException e) {
            // none answered: the launcher falls back to a JVM after its bounded wait
        }
        return asks;
    }

    /** Whether {@code a}'s file is still there (the launcher removes it once answered or given up). */
    boolean asked(Ask a) {
        return Files.exists(dir.resolve(ASK + a.file() + "." + a.id()), LinkOption.NOFOLLOW_LINKS);
    }

    /** Whether {@code a} has its answer already. */
    boolean answered(Ask a) {
        return Files.exists(dir.resolve(ANSWER + a.id()), LinkOption.NOFOLLOW_LINKS);
    }

    /**
     * Answers {@code a} ({@code .answer.<id>}: {@code FILE OUTCOME}, written atomically): {@code found}
     * (a verified copy is in the spool now), {@code missing} (no object holds it, as of a look
     * begun after the ask) or {@code failed} (the launcher hands the ask to a JVM, which reports).
     */
    void answer(Ask a, String outcome) {
        Path tmp = dir.resolve(ANSWER + a.id() + "." + ProcessHandle.current().pid() + ".tmp");
        try {
            Files.writeString(tmp, a.file() + " " + outcome + "\n", StandardCharsets.US_ASCII);
            Files.move(tmp, dir.resolve(ANSWER + a.id()), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // a stale temp file, removed by cleanup
            }
        }
    }

    /** Records the running prefetcher's process id (the launcher waits only while it lives). */
    void notePid() {
        try {
            AtomicFile.write(dir.resolve(PID), (ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
            // then nobody waits for this prefetcher
        }
    }

    /** Removes every prefetched segment and marker, the pid record and the binding (the prefetcher leaving). */
    void clear() {
        removeWhere(name -> servable(name) || name.startsWith(MISSING) || name.startsWith(FETCHING) || name.equals(PID)
                || name.equals(PLAN));
    }

    /** The prefetcher lock, or empty when another process holds it. Released when the channel closes or the process ends. */
    Optional<FileChannel> tryLock() {
        return ProcessLock.tryLock(dir.resolve(LOCK));
    }

    /** Whether a prefetcher holds the lock right now. */
    public boolean locked() {
        return ProcessLock.held(dir.resolve(LOCK));
    }
}
