package io.tidemark.shim.archiveget;

import io.tidemark.events.wal.WalFileName;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalSegmentSize;
import io.tidemark.shim.config.ShimConfig;
import io.tidemark.shim.storage.ObjectStore;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Keeps the next K segments after the one PostgreSQL last asked for ({@code .requested}) in the
 * prefetch spool, downloading them in parallel, so that recovery does not wait on one download
 * at a time. One per stanza ({@code .lock}); started detached by archive-get; leaves when
 * recovery stops asking for {@link #idle} (target reached, paused, or done), removing what it
 * fetched and was not used.
 *
 * <p>Next names: the segment number plus one on the requested timeline or, with a plan, on the
 * newest of the plan's timelines that needs it (a switch inside the plan is followed); without a
 * plan, on the newest timeline whose history file is archived, from its switch point
 * ({@link ArchivedTimelines}). A missing segment is the end of
 * the archived WAL, not an error: nothing past it is asked for, and it is asked for again after
 * {@link #MISSING_RECHECK} (a standby replaying from the archive waits for new WAL). The window
 * is bounded by {@code archive-get.prefetch} and by {@code archive-get.spool-max-mb} worth of
 * segments, counting files waiting in the spool and downloads under way.
 *
 * <p>Files that are not archived are asked for too: the segment after the last one (the end of
 * a recovery to latest) and, at promotion, the next timeline's history file. Each such ask would
 * start a JVM only to answer "no". So while it runs, the prefetcher keeps a short-lived
 * {@code .missing.<file>} marker (see {@link PrefetchSpool#noteMissing}) for the missing segment
 * at the end of its window and for the history file of the timeline after the requested one,
 * re-probing both about every {@link #MISSING_RECHECK}; {@code bin/tidemark} answers "not
 * archived" from a fresh marker. A failed fetch (network, damaged object) never writes a marker.
 *
 * <p>With a restore plan ({@link WalPlan}) every segment is verified against it before it enters
 * the spool (a listed one by the plan's size and SHA-256), and a file the plan needs never gets a
 * marker: only archive-get may decide that it is missing, and then it aborts recovery. Without a
 * plan (a standby's restore_command) no marker is written at all: a standby waits for WAL that
 * appears at any moment. There {@code bin/tidemark} leaves an ask for a file not in the spool
 * ({@link PrefetchSpool#asks}) and the prefetcher answers it from a look at the archive begun
 * after the ask ({@link #answer}): "not archived" without a JVM, never from an older probe.
 */
public final class Prefetcher {
    static final Duration MISSING_RECHECK = Duration.ofSeconds(1);
    static final Duration FAILED_RECHECK = Duration.ofSeconds(5);
    /** How long a missing marker may be answered from: a little over the re-probe interval. */
    static final Duration MISSING_ANSWER = Duration.ofSeconds(2);
    private static final long TICK_MS = 20;

    private final ShimConfig config;
    private final ObjectStore store;
    private final PrefetchSpool spool;
    private final WalSegmentSize size;
    private final Duration idle;
    /** The generation {@link #serve} began in: a download that ends in another is not spooled. */
    private volatile String servingGeneration = "";
    /** The spool's binding {@link #serve} wrote ({@link PrefetchSpool#bind}): a download that ends under another is not spooled. */
    private volatile String servingBinding = "";
    private final PrintStream log;
    private final Optional<WalPlan> plan;
    /** Without a plan: the newer timelines found in the archive, followed across their switch points. */
    private final ArchivedTimelines timelines;
    final java.util.concurrent.atomic.AtomicInteger fetched = new java.util.concurrent.atomic.AtomicInteger();
    /** Spooled files the flush thread has fsynced ({@link #flush}). */
    final java.util.concurrent.atomic.AtomicInteger flushed = new java.util.concurrent.atomic.AtomicInteger();
    /**
     * Whether each spool file is fsynced: only when the spool cannot be bound to this boot of the
     * machine ({@link PrefetchSpool#noteBoot}). A spool file is a cache of a verified object, read
     * by this machine's processes only, so the page cache is all they need; a crash of the machine
     * is what could leave one torn, and then the boot id changes and nothing in the spool is served.
     */
    private volatile boolean durable = true;
    /** {@code TIDEMARK_PREFETCH_TIMING=1} (or {@code -Dtidemark.prefetch.timing=true}): one line per segment in the log, where its download's time went. */
    private final boolean timing = "1".equals(System.getenv("TIDEMARK_PREFETCH_TIMING"))
            || Boolean.getBoolean("tidemark.prefetch.timing");
    /**
     * Whether each spooled file not fsynced by its download is flushed to disk afterwards on a
     * thread of its own ({@code -Dtidemark.prefetch.flush=false}: not). PostgreSQL fsyncs every
     * segment restore_command gave it (durable_rename, in its startup process, while replay
     * waits); a file still all dirty in the page cache made that fsync replay's wait. Flushed off
     * the download threads, in the time the file waits in the spool, it is mostly on disk when
     * PostgreSQL asks. Nothing relies on it (the spool's boot binding does that): a file taken
     * meanwhile is flushed where it is, and a failed flush is only a slower fsync later.
     */
    private final boolean flush = !"false".equals(System.getProperty("tidemark.prefetch.flush"));
    private volatile ExecutorService flusher;
    /** Download threads: {@code tidemark.prefetch.threads}, else {@link #defaultThreads}. */
    private final int threads;

    public Prefetcher(ShimConfig config, ObjectStore store, PrefetchSpool spool, WalSegmentSize size, Duration idle,
                      PrintStream log, Optional<WalPlan> plan) {
        this.plan = plan;
        this.config = config;
        this.store = store;
        this.spool = spool;
        this.size = size;
        this.idle = idle;
        this.log = log;
        this.timelines = new ArchivedTimelines(config, store, spool, log);
        this.threads = Integer.getInteger("tidemark.prefetch.threads", defaultThreads());
    }

    /**
     * Downloads in flight at most (each is a stream through zstd and SHA-256 into a file: CPU, not
     * waiting, once the object is small or the endpoint near): one per core, at least two, so that
     * one download's request latency overlaps another's work. Measured on 2 cores at load 17-29
     * (docs/benchmarks.md, standby catch-up): the wall time of 2, 4 and 8 within the noise, each
     * download's time growing with the threads (8: four times 2's), so more only competes with
     * PostgreSQL's replay.
     */
    static int defaultThreads() {
        return Math.max(2, Runtime.getRuntime().availableProcessors());
    }

    /** Segments the window may hold: {@code archive-get.prefetch}, bounded by the spool size. */
    static int window(int prefetch, long spoolMaxMb, WalSegmentSize size) {
        long bySpace = (spoolMaxMb << 20) / size.bytes();
        return (int) Math.max(0, Math.min(prefetch, bySpace));
    }

    private enum Outcome { FOUND, MISSING, FAILED }

    /** Why {@link #serve} returned. */
    enum Ended { IDLE, NEW_GENERATION, STOPPED, INTERRUPTED, RECOVERY_ENDED }

    /**
     * With a plan: whether the recovery it was made for is over, so that nothing more will be
     * asked of this prefetcher. The plan lies in the data directory restore wrote; PostgreSQL
     * removes {@code recovery.signal} (and {@code standby.signal}) from it when it leaves archive
     * recovery (promotion). Over: no signal file there, while PostgreSQL runs ({@code
     * postmaster.pid}) or after a signal file was seen by this prefetcher (restore writes it after
     * the prefetcher started, once every file is in place; PostgreSQL may have stopped since).
     * Without this, a restore's prefetcher stayed {@code archive-get.prefetch-idle} after the
     * promotion, asking the archive every second for segments and history files no recovery
     * would read (300 to 600 GETs measured).
     */
    static final class RecoveryWatch {
        private final Path pgdata;
        private boolean sawSignal;

        RecoveryWatch(Path pgdata) {
            this.pgdata = pgdata;
        }

        boolean ended() {
            if (java.nio.file.Files.exists(pgdata.resolve("recovery.signal"))
                    || java.nio.file.Files.exists(pgdata.resolve("standby.signal"))) {
                sawSignal = true;
                return false;
            }
            return sawSignal || java.nio.file.Files.exists(pgdata.resolve("postmaster.pid"));
        }
    }

    /** Runs until idle; returns false at once when another prefetcher holds the lock. */
    public boolean run(WalSegmentName start) {
        return run(start, () -> false);
    }

    /** As {@link #run(WalSegmentName)}, leaving also once {@code stop} says so (asked every tick). */
    public boolean run(WalSegmentName start, java.util.function.BooleanSupplier stop) {
        Optional<FileChannel> lock = spool.tryLock();
        if (lock.isEmpty()) {
            return false;
        }
        try {
            serve(start, stop);
        } finally {
            spool.clear();
            try {
                lock.get().close();
            } catch (IOException e) {
                // released with the process anyway
            }
        }
        return true;
    }

    /**
     * The prefetch loop, with the spool's lock held by the caller (this process): keeps the window
     * after {@code .requested} filled until recovery stops asking for {@link #idle}, a restore
     * starts a new generation, or {@code stop} says so. Leaves the spool's files to the caller
     * ({@link PrefetchSpool#clear}).
     */
    Ended serve(WalSegmentName start, java.util.function.BooleanSupplier stop) {
        String generation = spool.generation();
        servingGeneration = generation;
        // what another prefetcher left (another restore's plan, or one killed -9) is not served
        spool.dropServable();
        // from here on, what this session spools was verified against this plan (or none)
        servingBinding = spool.bind(plan.map(WalPlan::id));
        // only then: no file of an earlier boot (maybe torn by a crash) is ever taken for this boot's
        // (-Dtidemark.prefetch.fsync=true fsyncs every file all the same: what it costs is measured with it)
        durable = !spool.noteBoot() || Boolean.getBoolean("tidemark.prefetch.fsync");
        spool.notePid();
        int k = window(config.prefetch(), config.prefetchSpoolMaxMb(size), size);
        // the window's downloads beyond the threads wait in the queue, nearest first
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(k, threads)), r -> {
            Thread t = new Thread(r, "tidemark-prefetch");
            t.setDaemon(true);
            return t;
        });
        flusher = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "tidemark-prefetch-flush");
            t.setDaemon(true);
            return t;
        });
        // the timeline probe on its own thread: never queued behind the window's downloads
        ExecutorService probing = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "tidemark-prefetch-probe");
            t.setDaemon(true);
            return t;
        });
        // asks are answered on their own thread: never queued behind the window's downloads
        ExecutorService answering = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "tidemark-prefetch-ask");
            t.setDaemon(true);
            return t;
        });
        Map<PrefetchSpool.Ask, Future<?>> asks = new HashMap<>();
        java.util.Set<PrefetchSpool.Ask> answered = new java.util.HashSet<>();
        java.util.Set<WalSegmentName> beingAnswered = java.util.concurrent.ConcurrentHashMap.newKeySet();
        Map<WalSegmentName, Future<Outcome>> inflight = new HashMap<>();
        WalSegmentName req = start;
        WalSegmentName missing = null;
        Instant missingAt = Instant.MIN;
        Duration recheck = MISSING_RECHECK;
        Instant lastActivity = Instant.now();
        java.nio.file.attribute.FileTime askedAt = spool.requestedAt();
        Future<?> historyProbe = null;
        Instant historyProbedAt = Instant.MIN;
        Ended ended = Ended.IDLE;
        boolean first = true;
        Instant pidCheckedAt = Instant.now();
        Optional<RecoveryWatch> watch = plan.map(p -> new RecoveryWatch(p.file().toAbsolutePath().getParent()));
        Instant watchedAt = Instant.MIN;
        WalSegmentName cleanedFor = null;
        Instant cleanedAt = Instant.MIN;
        try {
            while (true) {
                if (!spool.generation().equals(generation)) {
                    ended = Ended.NEW_GENERATION; // a new restore: its own prefetcher takes over
                    break;
                }
                if (stop.getAsBoolean()) {
                    ended = Ended.STOPPED;
                    break;
                }
                WalSegmentName r = spool.requested(size).orElse(req);
                java.nio.file.attribute.FileTime at = spool.requestedAt();
                // a new name, or the same one asked again (a standby at the end of the archive asks
                // for the next segment every few seconds): recovery is still asking
                if (!r.equals(req) || !java.util.Objects.equals(at, askedAt)) {
                    req = r;
                    askedAt = at;
                    lastActivity = Instant.now();
                }
                // the spool's clean-up lists the directory: at every tick (50 a second) it was most of
                // this loop's system calls while nothing changed. What it removes changes only when
                // recovery moves on (segments behind .requested) or with time (a dead writer's temp
                // file, a launcher's stale ask): when .requested moves, else once a MISSING_RECHECK.
                Instant tickAt = Instant.now();
                if (!req.equals(cleanedFor) || tickAt.isAfter(cleanedAt.plus(MISSING_RECHECK))) {
                    spool.cleanup(req);
                    cleanedFor = req;
                    cleanedAt = tickAt;
                }
                asks.values().removeIf(Future::isDone);
                for (PrefetchSpool.Ask a : spool.asks()) {
                    if (!asks.containsKey(a) && !answered.contains(a)) {
                        // a download of that segment under way began before the ask, maybe: let it
                        // end, then look again (and no second download of it meanwhile)
                        Optional<WalSegmentName> seg = segmentOf(a);
                        Future<Outcome> before = seg.map(inflight::get).orElse(null);
                        seg.ifPresent(beingAnswered::add);
                        asks.put(a, answering.submit(() -> {
                            try {
                                if (before != null) {
                                    try {
                                        before.get();
                                    } catch (java.util.concurrent.ExecutionException ignored) {
                                        // looked at again below
                                    }
                                }
                                answer(a);
                            } catch (InterruptedException x) {
                                Thread.currentThread().interrupt();
                            } finally {
                                seg.ifPresent(beingAnswered::remove);
                            }
                        }));
                        answered.add(a);
                        lastActivity = Instant.now();
                    }
                }
                answered.removeIf(a -> !asks.containsKey(a) && !spool.asked(a));
                Instant now = Instant.now();
                if (missing != null && (!missing.timeline().equals(req.timeline())
                        || now.isAfter(missingAt.plus(recheck)) || missing.segmentNumber() <= req.segmentNumber())) {
                    missing = null;
                }
                WalSegmentName n = req;
                for (int i = 0; i < k; i++) {
                    WalSegmentName before = n;
                    n = next(n);
                    if (plan.isPresent() && !plan.get().needs(n.toString()) && !plan.get().needs(before.toString())) {
                        // two past the plan's end: its recovery never reads that far (the first one
                        // past it is probed: a recovery to the end asks for it, and hears "not archived")
                        break;
                    }
                    // the end of the archive on that timeline; a switch found since names another file
                    if (missing != null && n.segmentNumber() >= missing.segmentNumber()
                            && n.timeline().equals(missing.timeline())) {
                        break;
                    }
                    if (inflight.containsKey(n) || spool.has(n) || beingAnswered.contains(n)) {
                        continue;
                    }
                    WalSegmentName name = n;
                    spool.noteFetching(name);
                    inflight.put(name, pool.submit(() -> {
                        try {
                            return fetch(name);
                        } finally {
                            spool.clearFetching(name);
                        }
                    }));
                }
                if (first) {
                    // markers archive-get wrote for this prefetcher while it started, or a dead one left
                    spool.clearFetchingExcept(inflight.keySet());
                    first = false;
                }
                if (watch.isPresent() && now.isAfter(watchedAt.plus(MISSING_RECHECK))) {
                    watchedAt = now;
                    if (watch.get().ended()) {
                        ended = Ended.RECOVERY_ENDED;
                        log.println(Instant.now() + " recovery of " + watch.get().pgdata + " has ended (promoted): leaving");
                        break;
                    }
                }
                if (now.isAfter(pidCheckedAt.plus(MISSING_RECHECK))) {
                    // a prefetcher started in the same moment (it leaves: the lock is ours) may have
                    // written its pid: the launcher waits for downloads only while .pid lives
                    pidCheckedAt = now;
                    if (!spool.pidIsThis()) {
                        spool.notePid();
                    }
                }
                if ((historyProbe == null || historyProbe.isDone()) && now.isAfter(historyProbedAt.plus(MISSING_RECHECK))) {
                    historyProbedAt = now;
                    if (plan.isPresent()) {
                        TimelineId nextTimeline = req.timeline().next();
                        historyProbe = probing.submit(() -> probeHistory(nextTimeline));
                    } else {
                        WalSegmentName at0 = req;
                        historyProbe = probing.submit(() -> timelines.probe(at0));
                    }
                }
                for (Iterator<Map.Entry<WalSegmentName, Future<Outcome>>> it = inflight.entrySet().iterator(); it.hasNext(); ) {
                    Map.Entry<WalSegmentName, Future<Outcome>> e = it.next();
                    if (!e.getValue().isDone()) {
                        continue;
                    }
                    it.remove();
                    Outcome o;
                    try {
                        o = e.getValue().get();
                    } catch (Exception x) {
                        Throwable c = x.getCause() != null ? x.getCause() : x;
                        log.println(Instant.now() + " prefetch of " + e.getKey() + " failed: " + c.getMessage());
                        o = Outcome.FAILED;
                    }
                    if (o == Outcome.MISSING && plan.isPresent()) {
                        spool.noteMissing(e.getKey().toString(), Instant.now().plus(MISSING_ANSWER), plan.get().id());
                    }
                    if (o != Outcome.FOUND && (missing == null || e.getKey().segmentNumber() < missing.segmentNumber())) {
                        missing = e.getKey();
                        missingAt = Instant.now();
                        // a failure is retried less often: it is logged each time
                        recheck = o == Outcome.FAILED ? FAILED_RECHECK : MISSING_RECHECK;
                    }
                }
                if (inflight.isEmpty() && asks.isEmpty() && Instant.now().isAfter(lastActivity.plus(idle))) {
                    break;
                }
                Thread.sleep(TICK_MS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            ended = Ended.INTERRUPTED;
        } finally {
            timelines.leaving = true;
            pool.shutdownNow();
            probing.shutdownNow();
            answering.shutdownNow();
            flusher.shutdownNow();
            try {
                pool.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS);
                probing.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS);
                answering.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return ended;
    }

    /** The segment recovery asks for after {@code n}: with a plan, across its timeline switches. */
    private WalSegmentName next(WalSegmentName n) {
        return plan.isPresent() ? plan.get().after(n) : timelines.after(n);
    }

    private Outcome fetch(WalSegmentName n) throws IOException {
        long t0 = System.nanoTime();
        SpoolDownload.Timing t = new SpoolDownload.Timing();
        Outcome o = switch (plan.map(p -> p.need(n.toString())).orElse(new WalPlan.Unplanned(n.toString()))) {
            case WalPlan.Listed l when l.wal().isAssembled() -> {
                // assembled from streamed chunks (issue 17): small objects, each checked, in memory
                byte[] raw = ArchiveGetCommand.assemble(store, plan.get(), l.wal());
                if (!stillServing()) {
                    yield Outcome.FAILED;
                }
                spool.put(n, raw, durable);
                yield Outcome.FOUND;
            }
            case WalPlan.Listed l -> listed(n, l.wal(), t);
            case WalPlan.Promised p -> {
                Outcome found = unplanned(n, t);
                if (found == Outcome.MISSING) {
                    throw new IOException(n + " is missing although the restore plan needs it: not prefetched");
                }
                yield found;
            }
            case WalPlan.Unplanned u -> unplanned(n, t);
        };
        if (timing && o == Outcome.FOUND) {
            log.println(Instant.now() + " timing " + n + " " + t.line(System.nanoTime() - t0));
        }
        if (o == Outcome.FOUND) {
            spool.clearMissing(n.toString());
            fetched.incrementAndGet();
            ExecutorService flushing = flusher;
            if (flush && !durable && flushing != null) {
                Path f = spool.file(n);
                try {
                    flushing.execute(() -> flushToDisk(f));
                } catch (java.util.concurrent.RejectedExecutionException leaving) {
                    // the prefetcher is leaving: PostgreSQL's own fsync does it
                }
            }
        }
        return o;
    }

    /** fsync of a spooled file (see {@link #flush}); gone already (taken, dropped): nothing to do. */
    private void flushToDisk(Path f) {
        try (FileChannel ch = FileChannel.open(f, java.nio.file.StandardOpenOption.READ)) {
            ch.force(false);
            flushed.incrementAndGet();
        } catch (IOException e) {
            // taken or removed meanwhile, or the flush failed: PostgreSQL's fsync does it
        }
    }

    /**
     * A download that ends in another generation (a restore began meanwhile), or after another
     * prefetcher bound the spool to its plan, is not spooled: their plan, not ours.
     */
    private boolean stillServing() {
        return spool.generation().equals(servingGeneration) && spool.binding().equals(servingBinding);
    }

    /** {@code n} without a plan (or promised by it): the first compression that has an object, checked against its metadata. */
    private Outcome unplanned(WalSegmentName n, SpoolDownload.Timing t) throws IOException {
        WalFileName name = new WalFileName.Segment(n);
        for (io.tidemark.events.layout.Compression c : ArchiveGetCommand.order(name, config.compression())) {
            String key = io.tidemark.events.layout.StorageLayout.walKey(config.stanza(), name, c);
            long o0 = System.nanoTime();
            Optional<ObjectStore.Opened> o = store.open(key, null);
            t.open += System.nanoTime() - o0;
            if (o.isPresent()) {
                try (ObjectStore.Opened object = o.get()) {
                    return SpoolDownload.into(spool.file(n), object, new SpoolDownload.Expect(c, 0, null, size.bytes(),
                            key + ": ", ": not prefetched"), durable, this::stillServing, t) ? Outcome.FOUND : Outcome.FAILED;
                }
            }
        }
        return Outcome.MISSING;
    }

    /** {@code n} as the plan lists it: the version it pins (the current object only by the same bytes), its stored size and SHA-256. */
    private Outcome listed(WalSegmentName n, io.tidemark.events.plan.PlanWal w, SpoolDownload.Timing t) throws IOException {
        String at = w.name() + " (" + w.key() + "): ";
        String needs = "; restore plan " + plan.get().plan().planId() + " lists it";
        long o0 = System.nanoTime();
        Optional<ObjectStore.Opened> o = store.open(w.key(), w.versionId());
        if (o.isEmpty() && w.versionId() != null) {
            o = store.open(w.key(), null);
        }
        t.open += System.nanoTime() - o0;
        if (o.isEmpty()) {
            throw new IOException(at + "missing from the archive" + (w.versionId() == null ? ""
                    : " (version " + w.versionId() + " and any other)") + needs);
        }
        try (ObjectStore.Opened object = o.get()) {
            return SpoolDownload.into(spool.file(n), object, new SpoolDownload.Expect(w.compression(), w.storedSize(),
                    w.sha256(), size.bytes(), at, needs), durable, this::stillServing, t) ? Outcome.FOUND : Outcome.FAILED;
        }
    }

    /**
     * Answers a standby's ask ({@link PrefetchSpool#asks}) from a look at the archive begun now,
     * after the ask was made: {@code found} once a verified copy is in the spool (a segment already
     * there is as good: archived files never change), {@code missing} when no object holds it,
     * {@code failed} on anything else (a damaged object, S3 unreachable, a name or size this
     * prefetcher cannot judge): the launcher then starts a JVM, which reports it.
     */
    void answer(PrefetchSpool.Ask a) {
        String outcome;
        try {
            outcome = switch (WalFileName.parse(a.file(), size)) {
                // "missing" only when no object holds it: a download this prefetcher did not keep
                // (the spool rebound by another session, or this one not serving) is "failed", so the
                // call goes to a JVM; it was once answered "missing" for an archived segment
                case WalFileName.Segment s -> spool.has(s.segment()) ? "found" : switch (fetch(s.segment())) {
                    case FOUND -> "found";
                    case MISSING -> "missing";
                    case FAILED -> "failed";
                };
                case WalFileName.History h when spool.hasHistory(h.fileName()) -> "found";
                case WalFileName.History h -> {
                    Optional<byte[]> raw = ArchiveGetCommand.fetch(store, config, h);
                    if (raw.isPresent()) {
                        spool.putHistory(h.fileName(), raw.get());
                    }
                    yield raw.isPresent() ? "found" : "missing";
                }
                default -> "failed";
            };
        } catch (IOException | RuntimeException e) {
            if (!timelines.leaving) { // cut short by the prefetcher leaving: the launcher sees it go
                log.println(Instant.now() + " answering the ask for " + a.file() + " failed: " + e.getMessage());
            }
            outcome = "failed";
        }
        spool.answer(a, outcome);
    }

    /** Answers every ask waiting in the spool not answered yet, one after the other (a hosted prefetcher between sessions). */
    void answerPending() {
        spool.asks().stream().filter(a -> !spool.answered(a)).forEach(this::answer);
    }

    private Optional<WalSegmentName> segmentOf(PrefetchSpool.Ask a) {
        try {
            return WalFileName.parse(a.file(), size) instanceof WalFileName.Segment s ? Optional.of(s.segment()) : Optional.empty();
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Keeps the missing marker of {@code timeline}'s history file current (PostgreSQL asks for it at promotion). */
    private void probeHistory(TimelineId timeline) {
        WalFileName.History h = new WalFileName.History(timeline);
        if (plan.get().needs(h.fileName())) {
            return; // listed: archive-get fetches it, and it is never answered "not archived"
        }
        try {
            if (ArchiveGetCommand.fetch(store, config, h).isEmpty()) {
                spool.noteMissing(h.fileName(), Instant.now().plus(MISSING_ANSWER), plan.get().id());
            } else {
                spool.clearMissing(h.fileName());
            }
        } catch (RuntimeException e) {
            spool.clearMissing(h.fileName());
            log.println(Instant.now() + " probe of " + h.fileName() + " failed: " + e.getMessage());
        }
    }
}
