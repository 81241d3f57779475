package io.tidemark.localcloud;

import io.tidemark.functions.runtime.FunctionConfig;
import io.tidemark.functions.verify.VerifyDispatch;
import io.tidemark.functions.verify.VerifyEvent;
import io.tidemark.functions.verify.VerifyHandler;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
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

    private final InProcessInvocations invocations = new InProcessInvocations("the verify dispatch");
    private final io.tidemark.functions.metrics.MetricsPublisher metrics;
    private final InProcessCallGate gate;
    private VerifyHandler handler;
    private String region;

    /**
     * @param metrics where the verify function's metrics go (the local cloud's collector)
     * @param gate    judges the batches a run fans out into, sent as the Verify function
     */
    InProcessVerifyDispatch(io.tidemark.functions.metrics.MetricsPublisher metrics, InProcessCallGate gate) {
        this.metrics = metrics;
        this.gate = gate;
    }

    @Override
    public String functionName() {
        return LocalCloudFunctions.VERIFY;
    }

    @Override
    public void start(FunctionConfig config) {
        invocations.start("verify", THREADS);
        handler = new VerifyHandler(config, gate.verify(this, "Verify"), metrics);
        region = config.region();
    }

    @Override
    public void dispatch(VerifyEvent event) {
        invocations.submit(() -> run(event));
    }

    private void run(VerifyEvent event) {
        byte[] json = event.json();
        for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
            try {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                handler.handleRequest(new ByteArrayInputStream(json), out,
                        new LocalLambdaContext("verify", region, Duration.ofMinutes(15)));
                LOG.debug("verify {}: {}", new String(json, StandardCharsets.UTF_8), out.toString(StandardCharsets.UTF_8));
                return;
            } catch (Exception e) {
                LOG.warn("verify invocation {} failed (attempt {} of {})", new String(json, StandardCharsets.UTF_8),
                        attempt, ATTEMPTS, e);
            }
        }
    }

    @Override
    public boolean awaitIdle(Duration timeout) throws InterruptedException {
        return invocations.awaitIdle(timeout);
    }

    @Override
    public void close() {
        if (invocations.close()) {
            handler.close();
        }
    }
}
