package io.tidemark.shim.archiveget;

import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.events.wal.WalSegmentSize;
import io.tidemark.shim.config.ShimConfig;
import io.tidemark.shim.storage.ObjectStore;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The plan-less prefetcher of a stanza run inside a long-lived process (the agent on a standby)
 * rather than in a JVM that archive-get starts. While PostgreSQL is in recovery it holds the
 * spool's {@code .lock}, so archive-get starts no prefetcher of its own (one per spool, whoever
 * runs it), and prefetches after each ask ({@code .requested}) exactly as the detached one does
 * ({@link Prefetcher}: verified segments, timeline switches followed). When recovery stops asking
 * it clears the spool and waits for the next ask, holding the lock: the first ask after a pause
 * is still fetched by archive-get's JVM, every later one is served from the spool.
 *
 * <p>It gives way: it takes the lock only while PostgreSQL says it is in recovery (checked every
 * {@link #RECOVERY_CHECK}), and never within {@link #GENERATION_QUIET} of a restore's new
 * {@code .generation} (that restore's own prefetcher, with its plan, takes the spool; a hosted one
 * holding it leaves at once). When another prefetcher holds the lock (a detached one a standby's
 * archive-get started before the agent), it takes over once that one leaves.
 */
public final class HostedPrefetcher {
    static final Duration RECOVERY_CHECK = Duration.ofSeconds(30);
    static final Duration GENERATION_QUIET = Duration.ofSeconds(30);
    static final Duration RETRY = Duration.ofSeconds(1);
    private static final long POLL_MS = 50;

    /** What PostgreSQL says: in recovery or not, and its WAL segment size. */
    public record Cluster(boolean inRecovery, WalSegmentSize segmentSize) {
        public Cluster {
            Objects.requireNonNull(segmentSize, "segment size");
        }
    }

    private final ShimConfig config;
    private final ObjectStore store;
    private final PrefetchSpool spool;
    private final Supplier<Optional<Cluster>> cluster;
    private final PrintStream out;
    private final Clock clock;
    private Cluster known;
    private Instant checkedAt = Instant.MIN;

    /**
     * @param cluster asks PostgreSQL; empty when it does not answer (then the last answer holds)
     */
    public HostedPrefetcher(ShimConfig config, ObjectStore store, PrefetchSpool spool, Supplier<Optional<Cluster>> cluster,
                            PrintStream out, Clock clock) {
        this.config = config;
        this.store = store;
        this.spool = spool;
        this.cluster = cluster;
        this.out = out;
        this.clock = clock;
    }

    /** Runs until {@code stopped}; holds the lock only while it may prefetch. */
    public void run(BooleanSupplier stopped) throws InterruptedException {
        boolean toldBusy = false;
        while (!stopped.getAsBoolean()) {
            Cluster c = standby(true);
            if (c == null || !c.inRecovery() || restoreStartedRecently()) {
                pause(stopped, RETRY);
                continue;
            }
            Optional<FileChannel> lock = spool.tryLock();
            if (lock.isEmpty()) {
                if (!toldBusy) {
                    out.println(Instant.now(clock) + " tidemark agent: another prefetcher holds " + spool.dir()
                            + "; taking over when it leaves");
                    toldBusy = true;
                }
                pause(stopped, RETRY);
                continue;
            }
            toldBusy = false;
            out.println(Instant.now(clock) + " tidemark agent: archive-get prefetcher running for " + spool.dir()
                    + " (PostgreSQL is in recovery)");
            try {
                hold(stopped, c.segmentSize());
            } finally {
                spool.clear();
                try {
                    lock.get().close();
                } catch (IOException e) {
                    // released with the process anyway
                }
            }
            out.println(Instant.now(clock) + " tidemark agent: archive-get prefetcher stopped");
        }
    }

    /** With the lock: a prefetch session after each new ask, until stopped, promoted, or a restore takes the spool. */
    private void hold(BooleanSupplier stopped, WalSegmentSize size) throws InterruptedException {
        spool.notePid();
        String generation = spool.generation();
        FileTime seen = spool.requestedAt();
        // an ask within the idle time before the agent started: recovery is under way
        boolean active = seen != null && seen.toInstant().isAfter(Instant.now(clock)
                .minusSeconds(config.prefetchIdleSeconds()));
        BooleanSupplier leave = () -> stopped.getAsBoolean() || !stillStandby();
        while (!leave.getAsBoolean()) {
            if (!spool.generation().equals(generation)) {
                return;
            }
            FileTime at = spool.requestedAt();
            Optional<WalSegmentName> asked = spool.requested(size);
            if (asked.isEmpty() && !spool.asks().isEmpty()) {
                // a history file asked for before any segment: answered here, freshly
                new Prefetcher(config, store, spool, size, Duration.ofSeconds(config.prefetchIdleSeconds()), out,
                        Optional.empty()).answerPending();
            }
            if ((active || !Objects.equals(at, seen) || !spool.asks().isEmpty()) && asked.isPresent()) {
                Prefetcher.Ended e = new Prefetcher(config, store, spool, size,
                        Duration.ofSeconds(config.prefetchIdleSeconds()), out, Optional.empty()).serve(asked.get(), leave);
                seen = spool.requestedAt();
                spool.clear();
                spool.notePid();
                if (e == Prefetcher.Ended.INTERRUPTED) {
                    throw new InterruptedException();
                }
                if (e != Prefetcher.Ended.IDLE) {
                    return;
                }
            }
            active = false;
            Thread.sleep(POLL_MS);
        }
    }

    private boolean stillStandby() {
        Cluster c = standby(false);
        return c == null || c.inRecovery();
    }

    /** PostgreSQL's answer, asked again once {@link #RECOVERY_CHECK} has passed (or now when {@code now}). */
    private Cluster standby(boolean now) {
        Instant t = Instant.now(clock);
        if (now || known == null || t.isAfter(checkedAt.plus(RECOVERY_CHECK))) {
            checkedAt = t;
            cluster.get().ifPresent(c -> known = c);
        }
        return known;
    }

    private boolean restoreStartedRecently() {
        return spool.generationAt().map(g -> g.toInstant().isAfter(Instant.now(clock).minus(GENERATION_QUIET))).orElse(false);
    }

    private static void pause(BooleanSupplier stopped, Duration d) throws InterruptedException {
        long end = System.nanoTime() + d.toNanos();
        while (!stopped.getAsBoolean() && System.nanoTime() < end) {
            Thread.sleep(POLL_MS);
        }
    }
}
