package io.tidemark.localcloud;

import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the local schedules: each one invokes its function with its input (real event JSON, as
 * EventBridge Scheduler would), one run at a time per local cloud. A failed run is logged and the
 * schedule goes on (in AWS: two retries, then the failure queue). Generic on purpose: backups
 * (the backup scheduler function) and the daily retention run are both just entries.
 */
final class LocalScheduler implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(LocalScheduler.class);
    private static final Duration FUNCTION_TIMEOUT = Duration.ofMinutes(15);

    /** A schedule bound to its function instance. */
    record Bound(LocalSchedule schedule, RequestStreamHandler handler) {
    }

    private final String region;
    private final Map<String, Bound> byName = new LinkedHashMap<>();
    private final ScheduledExecutorService executor;

    LocalScheduler(String region, List<Bound> schedules) {
        this.region = region;
        schedules.forEach(b -> byName.put(b.schedule().name(), b));
        this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tidemark-local-scheduler");
            t.setDaemon(true);
            return t;
        });
    }

    void start() {
        Instant now = Instant.now();
        for (Bound b : byName.values()) {
            plan(b, b.schedule().timing().first(now));
            LOG.info("schedule {}: {} with {}, first at {}", b.schedule().name(), b.schedule().function(),
                    b.schedule().input(), b.schedule().timing().first(now));
        }
    }

    private void plan(Bound b, Instant at) {
        long delay = Math.max(0, Duration.between(Instant.now(), at).toMillis());
        executor.schedule(() -> {
            try {
                invoke(b);
            } catch (Exception e) {
                LOG.error("schedule {}: function {} failed: {}", b.schedule().name(), b.schedule().function(),
                        e.toString());
            }
            plan(b, b.schedule().timing().next(at));
        }, delay, TimeUnit.MILLISECONDS);
    }

    /** Runs {@code name} now, on the scheduler's thread (so never alongside another run); its output. */
    String runNow(String name) throws Exception {
        Bound b = byName.get(name);
        if (b == null) {
            throw new IllegalArgumentException("no schedule " + name + " (have " + byName.keySet() + ")");
        }
        return executor.submit(() -> invoke(b)).get();
    }

    private String invoke(Bound b) throws Exception {
        LocalLambdaContext context = new LocalLambdaContext(b.schedule().function(), region, FUNCTION_TIMEOUT);
        byte[] out = LocalLambdaContext.invoke(b.handler(), b.schedule().input().getBytes(StandardCharsets.UTF_8),
                context);
        String text = new String(out, StandardCharsets.UTF_8);
        LOG.info("schedule {}: {}", b.schedule().name(), text);
        return text;
    }

    @Override
    public void close() {
        executor.shutdownNow();
        try {
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
