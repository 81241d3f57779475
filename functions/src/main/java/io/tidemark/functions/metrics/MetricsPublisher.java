package io.tidemark.functions.metrics;

import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.metrics.TidemarkMetric;
import java.time.Instant;
import java.util.Map;

/**
 * Where the functions' per-stanza metric values go. In Lambda: {@link EmfMetrics} on standard
 * output, which CloudWatch Logs turns into metrics; local-cloud hands the same renderer a sink
 * that collects the lines. Domain code sees only this interface (no AWS type).
 */
@FunctionalInterface
public interface MetricsPublisher {

    /** Discards everything (tests that do not look at metrics). */
    MetricsPublisher NONE = (stanza, at, values) -> { };

    /**
     * Publishes {@code values} of {@code stanza}, observed at {@code at}, as one data point each.
     * Never throws for a metrics problem: losing a data point must not fail the work it describes.
     */
    void publish(StanzaName stanza, Instant at, Map<TidemarkMetric, Long> values);
}
