package io.tidemark.localcloud;

import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers S3 events to the subscribed functions the way S3 and Lambda do it: asynchronously,
 * after the object is durable, one event per matching notification configuration, and on an
 * error retried twice (three attempts in all, as Lambda does for asynchronous invocations) with
 * growing delays. An event whose attempts all fail is logged and kept in {@link #failures()}.
 *
 * <p>One thread delivers, so events reach a function in the order the objects were completed
 * (retries aside); {@link #awaitQuiescent(Duration)} waits until nothing is pending.
 */
final class S3EventDispatcher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(S3EventDispatcher.class);

    /** A subscription with its function instance, built once like a warm Lambda container. */
    record Target(ObjectCreatedSubscription subscription, RequestStreamHandler handler) {
    }

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

    S3EventDispatcher(String region, List<Duration> retryDelays, Duration functionTimeout) {
        this.region = region;
        this.retryDelays = List.copyOf(retryDelays);
        this.functionTimeout = functionTimeout;
        this.executor = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "tidemark-s3-events");
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
            executor.schedule(() -> deliver(target, event, json, attempt), delay.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            LOG.warn("local-cloud is stopping: {} event for {} not delivered to {}",
                    event.eventName(), event.key(), target.subscription().name());
            done();
        }
    }

    private void deliver(Target target, S3EventJson.ObjectEvent event, byte[] json, int attempt) {
        String function = target.subscription().name();
        try {
            LocalLambdaContext context = new LocalLambdaContext(function, region, functionTimeout);
            LocalLambdaContext.invoke(target.handler(), json, context);
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
