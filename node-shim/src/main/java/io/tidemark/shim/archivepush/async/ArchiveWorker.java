package io.tidemark.shim.archivepush.async;

import io.tidemark.shim.archivepush.WalPusher;
import io.tidemark.shim.config.ShimConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The asynchronous archive-push worker of one stanza: pushes every file PostgreSQL has marked
 * {@code .ready} ahead of PostgreSQL's own calls, {@code archive-push.process} at a time, oldest
 * first (histories first), through the same {@link WalPusher} as the synchronous path, and
 * records each outcome in the {@link ArchiveSpool}: {@code .ok} only once S3 confirmed, else
 * {@code .error} with the message (tried again after a pause that grows to
 * {@link #MAX_BACKOFF}). One per stanza and node (the spool lock). Runs in its own thread from
 * {@link #start()} to {@link #stop()}: hosted by {@code tidemark agent}, or by
 * {@code tidemark archive-push-worker} (detached by archive-push, or run by hand).
 *
 * <p>With {@code archive-push.queue-max} set (and only then), ready WAL beyond that many bytes is
 * dropped oldest first: marked done without being archived, a {@code .dropped} record kept, a
 * warning logged. The archive then has a gap, which {@code info} shows.
 */
public final class ArchiveWorker implements AutoCloseable {
    /** The pause between passes while something is pushed, waiting or retried. */
    static final Duration TICK = Duration.ofMillis(25);
    /**
     * With nothing to do the worker waits for PostgreSQL to mark a file ready (a file event in
     * {@code pg_wal/archive_status}) and looks again at least this often anyway: a missed event
     * (a file system without them) costs that much latency, not a lost file.
     */
    static final Duration IDLE_TICK = Duration.ofSeconds(1);
    static final Duration MAX_BACKOFF = Duration.ofSeconds(5);

    private final WalPusher pusher;
    private final ShimConfig.AsyncPush settings;
    private final Path pgdata;
    private final ArchiveSpool spool;
    private final PrintStream log;
    private final Duration idleExit;
    private final boolean exitWithServer;

    private final Map<String, Future<?>> inFlight = new HashMap<>();
    private final Map<String, Retry> retries = new HashMap<>();
    private final AtomicLong pushed = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private volatile String lastPushed;
    private volatile Instant lastPushedAt;
    private volatile boolean stopping;
    private Thread loop;
    private FileChannel lock;
    private ExecutorService pool;

    private record Retry(int failures, Instant notBefore) {
    }

    /**
     * @param idleExit       leave after this long with nothing to push; null: run until {@link #stop()}
     * @param exitWithServer leave when {@code postmaster.pid} is gone (the server stopped): for the
     *                       detached worker, which PostgreSQL does not stop itself
     */
    public ArchiveWorker(WalPusher pusher, Path pgdata, ArchiveSpool spool, PrintStream log, Duration idleExit,
                         boolean exitWithServer) {
        this.pusher = pusher;
        this.settings = pusher.config().asyncPush();
        this.pgdata = pgdata;
        this.spool = spool;
        this.log = log;
        this.idleExit = idleExit;
        this.exitWithServer = exitWithServer;
    }

    /** Takes the worker lock and starts; false (and nothing started) when another worker holds it. */
    public synchronized boolean start() {
        if (loop != null) {
            return true;
        }
        Optional<FileChannel> l = spool.tryLock();
        if (l.isEmpty()) {
            return false;
        }
        lock = l.get();
        pool = Executors.newFixedThreadPool(settings.process(), r -> {
            Thread t = new Thread(r, "tidemark-archive-push");
            t.setDaemon(true);
            return t;
        });
        log.println(Instant.now() + " archive-push worker started for stanza " + pusher.config().stanza() + ", "
                + pgdata.resolve("pg_wal") + ", " + settings.process() + " in parallel"
                + (settings.queueMax().isPresent() ? ", queue-max " + settings.queueMax().getAsLong() + " bytes" : ""));
        ArchiveSpool.Leftovers left = spool.clearLeftovers();
        if (left.errors() + left.temps() > 0) {
            log.println(Instant.now() + " cleared what an earlier worker left: " + left.errors() + " error record(s) (its"
                    + " files are tried again now), " + left.temps() + " temp file(s) of dead processes");
        }
        spool.writePid(pgdata);
        loop = new Thread(this::run, "tidemark-archive-worker");
        loop.start();
        return true;
    }

    /** Stops taking new files, lets pushes under way finish (bounded), releases the lock. */
    public void stop() {
        stopping = true;
        Thread t;
        synchronized (this) {
            t = loop;
        }
        if (t != null && t != Thread.currentThread()) {
            try {
                t.join(TimeUnit.MINUTES.toMillis(2));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Waits until the worker left by itself (idle, server stopped) or was stopped. */
    public void awaitExit() throws InterruptedException {
        Thread t;
        synchronized (this) {
            t = loop;
        }
        if (t != null) {
            t.join();
        }
    }

    public boolean running() {
        Thread t = loop;
        return t != null && t.isAlive();
    }

    /** Files pushed (or found already archived) since start. */
    public long pushed() {
        return pushed.get();
    }

    /** Files dropped by queue-max since start. */
    public long droppedCount() {
        return dropped.get();
    }

    /** The last file archived and when (for the agent's metrics); empty before the first. */
    public Optional<Map.Entry<String, Instant>> lastPushed() {
        String n = lastPushed;
        return n == null ? Optional.empty() : Optional.of(Map.entry(n, lastPushedAt));
    }

    @Override
    public void close() {
        stop();
    }

    private void run() {
        Path pgWal = pgdata.resolve("pg_wal");
        Instant busyAt = Instant.now();
        try (ReadyWatch watch = ReadyWatch.open(pgWal.resolve("archive_status"), log)) {
            while (!stopping) {
                if (exitWithServer && !Files.exists(pgdata.resolve("postmaster.pid"))) {
                    log.println(Instant.now() + " the server is not running (no postmaster.pid): worker leaving");
                    break;
                }
                watch.drain(); // what the pass below sees needs no wake-up of its own
                boolean busy = tick(pgWal);
                Instant now = Instant.now();
                if (busy) {
                    busyAt = now;
                    Thread.sleep(TICK.toMillis());
                } else if (idleExit != null && !now.isBefore(busyAt.plus(idleExit))) {
                    break;
                } else {
                    // idle: no pass every TICK (25 ms of polling cost an idle worker about 2.5 % of a core)
                    Duration wait = IDLE_TICK;
                    if (idleExit != null) {
                        Duration left = Duration.between(now, busyAt.plus(idleExit));
                        wait = left.compareTo(wait) < 0 ? left : wait;
                    }
                    watch.await(wait);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            log.println(Instant.now() + " archive-push worker failed: " + e);
        } finally {
            finish();
        }
    }

    /** One pass; true while there is anything left to push or under way. */
    boolean tick(Path pgWal) {
        collect();
        List<ReadyQueue.ReadyFile> ready = ReadyQueue.scan(pgWal);
        Set<String> readyNames = new HashSet<>();
        for (ReadyQueue.ReadyFile f : ready) {
            readyNames.add(f.name());
        }
        Set<String> keep = new HashSet<>(readyNames);
        keep.addAll(inFlight.keySet());
        spool.cleanup(keep);
        retries.keySet().retainAll(keep);

        List<ReadyQueue.ReadyFile> waiting = ready.stream()
                .filter(f -> !(spool.status(f.name()) instanceof SpoolStatus.Done)).toList();
        if (settings.queueMax().isPresent()) {
            List<ReadyQueue.ReadyFile> drop = QueueLimit.toDrop(waiting, inFlight.keySet(), settings.queueMax().getAsLong());
            if (!drop.isEmpty()) {
                drop(drop, waiting, settings.queueMax().getAsLong());
                Set<String> gone = new HashSet<>();
                drop.forEach(f -> gone.add(f.name()));
                waiting = waiting.stream().filter(f -> !gone.contains(f.name())).toList();
            }
        }
        Instant now = Instant.now();
        for (ReadyQueue.ReadyFile f : waiting) {
            if (inFlight.size() >= settings.process()) {
                break;
            }
            if (inFlight.containsKey(f.name())) {
                continue;
            }
            Retry r = retries.get(f.name());
            if (r != null && now.isBefore(r.notBefore())) {
                continue;
            }
            Path file = pgWal.resolve(f.name());
            inFlight.put(f.name(), pool.submit(() -> pushOne(f.name(), file)));
        }
        return !waiting.isEmpty() || !inFlight.isEmpty();
    }

    private void pushOne(String name, Path file) {
        try {
            WalPusher.Pushed p = pusher.push(file);
            spool.markOk(name, p.rawBytes(), p.sha256());
            pushed.incrementAndGet();
            lastPushed = name;
            lastPushedAt = Instant.now();
        } catch (RuntimeException | IOException e) {
            String message = e.getMessage() == null ? e.toString() : e.getMessage();
            try {
                spool.markError(name, message);
            } catch (IOException x) {
                log.println(Instant.now() + " cannot record the error of " + name + " in " + spool.dir() + ": " + x.getMessage());
            }
            throw new PushFailed(message);
        }
    }

    /** A failed push, already recorded in the spool. */
    private static final class PushFailed extends RuntimeException {
        PushFailed(String message) {
            super(message, null, false, false);
        }
    }

    /** Takes the results of finished pushes: resets or extends each file's retry pause. */
    private void collect() {
        for (Iterator<Map.Entry<String, Future<?>>> it = inFlight.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, Future<?>> e = it.next();
            if (!e.getValue().isDone()) {
                continue;
            }
            it.remove();
            try {
                e.getValue().get();
                retries.remove(e.getKey());
            } catch (Exception x) {
                Throwable c = x.getCause() != null ? x.getCause() : x;
                Retry prev = retries.get(e.getKey());
                int failures = prev == null ? 1 : prev.failures() + 1;
                long pause = io.tidemark.shim.storage.Retry.pauseMillis(failures, 250, MAX_BACKOFF.toMillis());
                retries.put(e.getKey(), new Retry(failures, Instant.now().plusMillis(pause)));
                log.println(Instant.now() + " archive-push of " + e.getKey() + " failed (attempt " + failures
                        + ", next in " + pause + " ms): " + c.getMessage());
            }
        }
    }

    private void drop(List<ReadyQueue.ReadyFile> drop, List<ReadyQueue.ReadyFile> waiting, long max) {
        long total = waiting.stream().mapToLong(ReadyQueue.ReadyFile::bytes).sum();
        String reason = "archive-push.queue-max=" + max + " exceeded (" + total + " bytes of WAL waiting)";
        for (ReadyQueue.ReadyFile f : drop) {
            try {
                spool.markDropped(f.name(), f.bytes(), reason);
                dropped.incrementAndGet();
                retries.remove(f.name());
            } catch (IOException e) {
                log.println(Instant.now() + " cannot record the drop of " + f.name() + ": " + e.getMessage());
                return;
            }
        }
        String first = drop.get(0).name();
        String last = drop.get(drop.size() - 1).name();
        String warning = Instant.now() + " WARNING: " + reason + ": DROPPED " + drop.size() + " WAL file(s) WITHOUT ARCHIVING"
                + " them (" + first + (drop.size() > 1 ? " .. " + last : "") + "). Point-in-time recovery across them is"
                + " no longer possible: the recovery window has a gap until the next backup.";
        log.println(warning);
        if (log != System.err) {
            System.err.println("tidemark archive-push: " + warning);
        }
    }

    private void finish() {
        if (pool != null) {
            pool.shutdown();
            try {
                if (!pool.awaitTermination(2, TimeUnit.MINUTES)) {
                    pool.shutdownNow();
                }
            } catch (InterruptedException e) {
                pool.shutdownNow();
                Thread.currentThread().interrupt();
            }
        }
        collect();
        spool.cleanup(new HashSet<>(ReadyQueue.scan(pgdata.resolve("pg_wal")).stream().map(ReadyQueue.ReadyFile::name).toList()));
        try {
            pusher.close();
        } catch (RuntimeException e) {
            // leaving anyway
        }
        log.println(Instant.now() + " archive-push worker stopped (" + pushed.get() + " pushed, " + dropped.get() + " dropped)");
        spool.removePid();
        try {
            lock.close();
        } catch (IOException e) {
            // released with the process
        }
    }
}
