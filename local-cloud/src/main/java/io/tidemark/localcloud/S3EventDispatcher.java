package io.tidemark.localcloud;

import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers S3 events to the subscribed functions the way S3 and Lambda do it: asynchronously,
 * after the object is durable, one event per matching notification configuration, and on an
 * error retried twice (three attempts in all, as Lambda does for asynchronous invocations) with
 * growing delays. An event whose attempts all fail is logged and kept in {@link #failures()}.
 *
 * <p>Up to {@code concurrency} events are handled at once, by as many instances of a function
 * (each built on first need, like a Lambda execution environment, and then reused; an instance
 * handles one event at a time). So, as with Lambda, events reach a function in no guaranteed
 * order, and events of one object's neighbours (two chunks of a segment, a chunk and its archived
 * segment) may be handled at the same moment: the functions must be right under that, and the
 * local cloud shows it rather than hiding it. One thread would not: under a stream of chunks and
 * 16 MB segments the chunks waited behind the segments' indexing (docs/benchmarks.md, "WAL
 * streaming"). {@link #awaitQuiescent(Duration)} waits until nothing is pending.
 */
final class S3EventDispatcher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(S3EventDispatcher.class);

    /**
     * A subscription and its function's instances: built on first need by {@code newInstance}
     * (a cold start), kept idle between events (warm), at most one per delivery thread.
     */
    static final class Target {
        private final ObjectCreatedSubscription subscription;
        private final Supplier<RequestStreamHandler> newInstance;
        private final ConcurrentLinkedDeque<RequestStreamHandler> idle = new ConcurrentLinkedDeque<>();

        Target(ObjectCreatedSubscription subscription, Supplier<RequestStreamHandler> newInstance) {
            this.subscription = subscription;
            this.newInstance = newInstance;
        }

        ObjectCreatedSubscription subscription() {
            return subscription;
        }

        /** An idle instance, or a new one; give it back with {@link #release}. */
        RequestStreamHandler acquire() {
            RequestStreamHandler h = idle.pollFirst();
            return h != null ? h : newInstance.get();
        }

        void release(RequestStreamHandler handler) {
            idle.addFirst(handler); // the warmest first, as Lambda reuses environments
        }
    }

    /** Events handled at once unless the builder says otherwise ({@link LocalCloud.Builder#s3EventConcurrency}). */
    static final int DEFAULT_CONCURRENCY = 4;
    /** The most events handled at once that the builder and {@code --event-concurrency} accept. */
    static final int MAX_CONCURRENCY = 64;

    static final int MAX_ATTEMPTS = 3;

    private final String region;
    private volatile List<Target> targets;
    private final List<S3EventJson.ObjectEvent> early = new ArrayList<>();
    private final List<Duration> retryDelays;
    private final Duration functionTimeout;
    private final ScheduledThreadPoolExecutor executor;
    private final Object lock = new Object();
    private final List<FailedEvent> failures = new CopyOnWriteArrayList<>();
    private final PendingWork pending = new PendingWork();
    private long lastSequence;
    private boolean closed;

    S3EventDispatcher(String region, List<Duration> retryDelays, Duration functionTimeout, int concurrency) {
        if (concurrency < 1) {
            throw new IllegalArgumentException("S3 event concurrency must be at least 1: " + concurrency);
        }
        this.region = region;
        this.retryDelays = List.copyOf(retryDelays);
        this.functionTimeout = functionTimeout;
        AtomicInteger threads = new AtomicInteger();
        this.executor = new ScheduledThreadPoolExecutor(concurrency, r -> {
            Thread t = new Thread(r, "tidemark-s3-events-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * A sequencer for an event completing now: upper-case hex, fixed width, strictly increasing
     * for the life of the directory (seeded from the clock in microseconds, so restarts do not
     * go back).
     */
    String nextSequencer() {
        synchronized (lock) {
            Instant now = Instant.now();
            long micros = now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
            lastSequence = Math.max(lastSequence + 1, micros);
            return String.format(Locale.ROOT, "%018X", lastSequence);
        }
    }

    /**
     * Sets the functions and delivers what arrived before: the functions are built once the
     * local endpoints are known, which is after the S3 endpoint started.
     */
    void activate(List<Target> functions) {
        List<S3EventJson.ObjectEvent> before;
        synchronized (lock) {
            targets = List.copyOf(functions);
            before = new ArrayList<>(early);
            early.clear();
        }
        before.forEach(this::objectEvent);
    }

    /** Called after an object was created and is durable, or removed; returns at once. */
    void objectEvent(S3EventJson.ObjectEvent event) {
        List<Target> current;
        synchronized (lock) {
            current = targets;
            if (current == null) {
                early.add(event);
                return;
            }
        }
        for (Target target : current) {
            ObjectCreatedSubscription s = target.subscription();
            if (!s.matches(event.key()) || (event.isRemoval() && !s.removals())) {
                continue;
            }
            byte[] json = S3EventJson.build(event, region, "tidemark-local-cloud", s.name());
            synchronized (lock) {
                if (closed) {
                    LOG.warn("local-cloud is stopping: {} event for {} not delivered to {}",
                            event.eventName(), event.key(), s.name());
                    return;
                }
                pending.begin();
            }
            schedule(target, event, json, 1, Duration.ZERO);
        }
    }

    private void schedule(Target target, S3EventJson.ObjectEvent event, byte[] json, int attempt, Duration delay) {
        try {
            long due = System.nanoTime() + delay.toNanos();
            executor.schedule(() -> deliver(target, event, json, attempt, due), delay.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            LOG.warn("local-cloud is stopping: {} event for {} not delivered to {}",
                    event.eventName(), event.key(), target.subscription().name());
            done();
        }
    }

    private void deliver(Target target, S3EventJson.ObjectEvent event, byte[] json, int attempt, long due) {
        String function = target.subscription().name();
        long start = System.nanoTime();
        try {
            LocalLambdaContext context = new LocalLambdaContext(function, region, functionTimeout);
            RequestStreamHandler instance = target.acquire();
            try {
                LocalLambdaContext.invoke(instance, json, context);
            } finally {
                target.release(instance);
            }
            if (LOG.isDebugEnabled()) {
                // bench/stream-lag-bench.sh reads these: where a chunk's indexing waited
                LOG.debug("delivered {} {} to {}: queued {} ms, ran {} ms (attempt {})", event.eventName(),
                        event.key(), function, (start - due) / 1_000_000, (System.nanoTime() - start) / 1_000_000,
                        attempt);
            }
            done();
        } catch (Throwable t) {
            if (attempt < MAX_ATTEMPTS && !executor.isShutdown()) {
                Duration delay = retryDelays.get(Math.min(attempt - 1, retryDelays.size() - 1));
                LOG.warn("function {} failed on {} event for {} (attempt {} of {}), retrying in {} ms: {}",
                        function, event.eventName(), event.key(), attempt, MAX_ATTEMPTS, delay.toMillis(),
                        String.valueOf(t));
                schedule(target, event, json, attempt + 1, delay);
            } else {
                LOG.error("function {} failed on {} event for {} after {} attempts; event dropped",
                        function, event.eventName(), event.key(), attempt, t);
                failures.add(new FailedEvent(function, event.key(), event.eventName(), attempt, t));
                done();
            }
        }
    }

    private void done() {
        pending.end();
    }

    /** Waits until every event delivered so far has been handled (or finally failed). */
    boolean awaitQuiescent(Duration timeout) throws InterruptedException {
        return pending.awaitNone(timeout);
    }

    int pending() {
        return pending.count();
    }

    List<FailedEvent> failures() {
        return new ArrayList<>(failures);
    }

    /** Stops taking events, lets the pending ones finish (up to {@code drain}), then stops. */
    void close(Duration drain) {
        synchronized (lock) {
            closed = true;
        }
        try {
            if (!awaitQuiescent(drain)) {
                LOG.warn("local-cloud stopping with {} S3 event deliveries still pending", pending());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        executor.shutdownNow();
        try {
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(15));
    }
}
