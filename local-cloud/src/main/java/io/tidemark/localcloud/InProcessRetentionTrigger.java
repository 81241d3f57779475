package io.tidemark.localcloud;

import io.tidemark.events.layout.StanzaName;
import io.tidemark.functions.retain.RetentionHandler;
import io.tidemark.functions.retain.RetentionTrigger;
import io.tidemark.functions.runtime.FunctionConfig;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
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

    private final InProcessInvocations invocations = new InProcessInvocations("the retention trigger");
    private RetentionHandler handler;
    private final io.tidemark.functions.metrics.MetricsPublisher metrics;

    /** @param metrics the cloud's collector, where the runs' BackupsExpired and BackupsHeldBack go */
    InProcessRetentionTrigger(io.tidemark.functions.metrics.MetricsPublisher metrics) {
        this.metrics = metrics;
    }
    private String region;

    @Override
    public String functionName() {
        return LocalCloudFunctions.RETENTION;
    }

    @Override
    public void start(FunctionConfig config) {
        // runs are serialized on one thread here; in AWS they may overlap (every step is idempotent)
        invocations.start("retention", 1);
        handler = new RetentionHandler(config, metrics);
        region = config.region();
    }

    @Override
    public void backupValid(StanzaName stanza, String label) {
        invocations.submit(() -> run(stanza, label));
    }

    private void run(StanzaName stanza, String label) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            handler.handleRequest(new ByteArrayInputStream(RetentionTrigger.event(stanza)), out,
                    new LocalLambdaContext("retention", region, Duration.ofMinutes(15)));
            LOG.info("retention after backup {}: {}", label, out.toString(StandardCharsets.UTF_8));
        } catch (Exception e) {
            LOG.warn("retention of stanza {} after backup {} failed", stanza, label, e);
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
