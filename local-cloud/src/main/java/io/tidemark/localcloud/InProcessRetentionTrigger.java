package io.tidemark.localcloud;

import io.tidemark.events.layout.StanzaName;
import io.tidemark.functions.retain.RetentionHandler;
import io.tidemark.functions.retain.RetentionTrigger;
import io.tidemark.functions.runtime.FunctionConfig;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Local-cloud's stand-in for the asynchronous Lambda invoke of the retention function: the real
 * {@link RetentionHandler} with the event JSON, on one background thread, not awaited by the
 * function that started it. One per local cloud, shared by the validator and the indexer (as in
 * AWS both invoke the same function). Runs are serialized on one thread here; in AWS they may
 * overlap, which is safe because every step of a run is idempotent.
 */
final class InProcessRetentionTrigger implements RetentionTrigger, BackgroundWork {

    private static final Logger LOG = LoggerFactory.getLogger(InProcessRetentionTrigger.class);

    private final Object lock = new Object();
    private RetentionHandler handler;
    private String region;
    private ExecutorService executor;
    private int pending;

    @Override
    public void start(FunctionConfig config) {
        synchronized (lock) {
            if (handler != null) {
                throw new IllegalStateException("the retention trigger is already started");
            }
            handler = new RetentionHandler(config);
            region = config.region();
            executor = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "retention");
                t.setDaemon(true);
                return t;
            });
        }
    }

    @Override
    public void backupValid(StanzaName stanza, String label) {
        synchronized (lock) {
            if (executor == null) {
                throw new IllegalStateException("the retention trigger is not started (or already closed)");
            }
            pending++;
            executor.submit(() -> run(stanza, label));
        }
    }

    private void run(StanzaName stanza, String label) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            handler.handleRequest(new ByteArrayInputStream(RetentionTrigger.event(stanza)), out,
                    new LocalLambdaContext("retention", region, Duration.ofMinutes(15)));
            LOG.info("retention after backup {}: {}", label, out.toString(StandardCharsets.UTF_8));
        } catch (Exception e) {
            LOG.warn("retention of stanza {} after backup {} failed", stanza, label, e);
        } finally {
            synchronized (lock) {
                pending--;
                lock.notifyAll();
            }
        }
    }

    @Override
    public boolean awaitIdle(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lock) {
            while (pending > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(lock, left);
            }
            return true;
        }
    }

    @Override
    public void close() {
        ExecutorService e;
        RetentionHandler h;
        synchronized (lock) {
            e = executor;
            h = handler;
            executor = null;
        }
        if (e == null) {
            return;
        }
        // A run in progress finishes (its deletes are idempotent anyway); queued ones are dropped.
        e.shutdown();
        try {
            if (!e.awaitTermination(30, TimeUnit.SECONDS)) {
                e.shutdownNow();
            }
        } catch (InterruptedException ex) {
            e.shutdownNow();
            Thread.currentThread().interrupt();
        }
        h.close();
    }
}
