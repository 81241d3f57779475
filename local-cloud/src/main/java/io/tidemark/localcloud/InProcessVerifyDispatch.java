package io.tidemark.localcloud;

import io.tidemark.functions.runtime.FunctionConfig;
import io.tidemark.functions.verify.VerifyDispatch;
import io.tidemark.functions.verify.VerifyEvent;
import io.tidemark.functions.verify.VerifyHandler;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Local-cloud's stand-in for the asynchronous invokes a verify run fans out into: the real
 * {@link VerifyHandler} with the event JSON on a small pool ({@value #THREADS} threads, as many
 * batches at once), not awaited by the invocation that dispatched them. One per local cloud,
 * shared by the API route that starts runs, the schedule, and the batches themselves. A failed
 * invocation is tried again, {@value #ATTEMPTS} times in all, as SQS redelivers a message before
 * it parks it in the dead-letter queue; then it is logged and dropped, and its run stays
 * {@code running}, which {@code tidemark verify} reports when it stops waiting.
 */
final class InProcessVerifyDispatch implements VerifyDispatch, BackgroundWork {

    static final int THREADS = 4;
    static final int ATTEMPTS = 3;
    private static final Logger LOG = LoggerFactory.getLogger(InProcessVerifyDispatch.class);

    private final Object lock = new Object();
    private VerifyHandler handler;
    private String region;
    private ExecutorService executor;
    private int pending;

    @Override
    public void start(FunctionConfig config) {
        synchronized (lock) {
            if (handler != null) {
                throw new IllegalStateException("the verify dispatch is already started");
            }
            handler = new VerifyHandler(config, this);
            region = config.region();
            AtomicInteger n = new AtomicInteger();
            executor = Executors.newFixedThreadPool(THREADS, r -> {
                Thread t = new Thread(r, "verify-" + n.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
        }
    }

    @Override
    public void dispatch(VerifyEvent event) {
        synchronized (lock) {
            if (executor == null) {
                throw new IllegalStateException("the verify dispatch is not started (or already closed)");
            }
            pending++;
            executor.submit(() -> run(event));
        }
    }

    private void run(VerifyEvent event) {
        byte[] json = event.json();
        try {
            for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
                try {
                    ByteArrayOutputStream out = new ByteArrayOutputStream();
                    handler.handleRequest(new ByteArrayInputStream(json), out,
                            new LocalLambdaContext("verify", region, Duration.ofMinutes(15)));
                    LOG.debug("verify {}: {}", new String(json, StandardCharsets.UTF_8),
                            out.toString(StandardCharsets.UTF_8));
                    return;
                } catch (Exception e) {
                    LOG.warn("verify invocation {} failed (attempt {} of {})", new String(json, StandardCharsets.UTF_8),
                            attempt, ATTEMPTS, e);
                }
            }
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
        VerifyHandler h;
        synchronized (lock) {
            e = executor;
            h = handler;
            executor = null;
        }
        if (e == null) {
            return;
        }
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
