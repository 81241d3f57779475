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

    /**
     * One occurrence of an event metric (a conflict, a refused manifest, a flagged segment): a data
     * point of 1. A publisher that breaks its promise not to throw is logged, never propagated.
     */
    default void count(StanzaName stanza, Instant at, TidemarkMetric metric) {
        try {
            publish(stanza, at, Map.of(metric, 1L));
        } catch (RuntimeException e) {
            System.getLogger(MetricsPublisher.class.getName()).log(System.Logger.Level.WARNING,
                    "could not publish " + metric.metricName() + " of stanza " + stanza + ": " + e);
        }
    }
}
