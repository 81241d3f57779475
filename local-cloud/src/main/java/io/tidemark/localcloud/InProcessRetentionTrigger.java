package io.tidemark.localcloud;

import io.tidemark.events.layout.StanzaName;
import io.tidemark.functions.retain.RetentionHandler;
import io.tidemark.functions.retain.RetentionTrigger;
import io.tidemark.functions.runtime.FunctionConfig;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Local-cloud's stand-in for the asynchronous Lambda invoke of the retention function: the real
 * {@link RetentionHandler} with the event JSON, on one background thread (runs never overlap, as
 * with a reserved concurrency of 1), not awaited by the validator.
 */
final class InProcessRetentionTrigger implements RetentionTrigger, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(InProcessRetentionTrigger.class);

    private final RetentionHandler handler;
    private final String region;
    private final ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "retention");
        t.setDaemon(true);
        return t;
    });

    InProcessRetentionTrigger(FunctionConfig config) {
        this.handler = new RetentionHandler(config);
        this.region = config.region();
    }

    @Override
    public void backupValid(StanzaName stanza, String label) {
        executor.submit(() -> {
            try {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                handler.handleRequest(new ByteArrayInputStream(RetentionTrigger.event(stanza)), out,
                        new LocalLambdaContext("retention", region, java.time.Duration.ofMinutes(15)));
                LOG.info("retention after backup {}: {}", label, out);
            } catch (Exception e) {
                LOG.warn("retention of stanza {} after backup {} failed", stanza, label, e);
            }
        });
    }

    @Override
    public void close() {
        executor.shutdownNow();
        handler.close();
    }
}
