package io.tidemark.functions.metrics;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tidemark.events.json.Json;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.metrics.TidemarkMetric;
import java.io.PrintStream;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Renders metric values as CloudWatch embedded metric format: one JSON object per line, which
 * CloudWatch Logs turns into metrics when it appears in the function's log stream, so publishing
 * costs no API request, no client and no network call at SnapStart restore.
 *
 * <p>Why not Powertools for AWS Lambda (Java) metrics: its {@code Metrics} instance is one
 * process-wide singleton flushed at the end of the handler (by an AspectJ-woven annotation or a
 * flush call) with a default {@code Service} dimension; local-cloud runs every function in one
 * JVM on many threads, where one shared instance would mix the functions' data points and could
 * only be collected by capturing the process's standard output. Our metrics are a handful of
 * values per stanza and event: one line rendered here with the Jackson the functions already
 * carry, written to a sink the caller chooses (standard output in Lambda, a collector in
 * local-cloud), is the whole of what is needed.
 *
 * <p>Each line holds the directive ({@code _aws.Timestamp}, {@code _aws.CloudWatchMetrics} with
 * namespace {@value TidemarkMetric#NAMESPACE}, the single dimension set [{@value TidemarkMetric#DIMENSION}]
 * and each metric's name and unit), the dimension's value and one member per metric value.
 * It carries {@code "level": "INFO"} too: with the JSON log format Lambda filters application
 * logs by that key, so an application log level above INFO would drop metric lines as well.
 */
public final class EmfMetrics implements MetricsPublisher {

    private static final ObjectMapper MAPPER = Json.mapper();
    private static final System.Logger LOG = System.getLogger(EmfMetrics.class.getName());

    private final Consumer<String> lines;

    /** @param lines receives each rendered line (without a line break) */
    public EmfMetrics(Consumer<String> lines) {
        this.lines = Objects.requireNonNull(lines, "lines");
    }

    /**
     * Lines on standard output, where Lambda's log capture picks them up (not the LambdaLogger:
     * with the JSON log format it would wrap the line in its own object, which is no longer EMF).
     */
    public static EmfMetrics standardOut() {
        PrintStream out = System.out;
        return new EmfMetrics(line -> {
            synchronized (out) {
                out.println(line);
                out.flush();
            }
        });
    }

    @Override
    public void publish(StanzaName stanza, Instant at, Map<TidemarkMetric, Long> values) {
        if (values.isEmpty()) {
            return;
        }
        String line = line(stanza, at, values);
        try {
            lines.accept(line);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "metric line not written: " + e);
        }
    }

    /** One EMF line: {@code values} of {@code stanza}, stamped {@code at}. */
    public static String line(StanzaName stanza, Instant at, Map<TidemarkMetric, Long> values) {
        ObjectNode root = MAPPER.createObjectNode();
        ObjectNode aws = root.putObject("_aws");
        aws.put("Timestamp", at.toEpochMilli());
        ObjectNode directive = aws.putArray("CloudWatchMetrics").addObject();
        directive.put("Namespace", TidemarkMetric.NAMESPACE);
        directive.putArray("Dimensions").addArray().add(TidemarkMetric.DIMENSION);
        ArrayNode metrics = directive.putArray("Metrics");
        values.keySet().stream().sorted().forEach(m ->
                metrics.addObject().put("Name", m.metricName()).put("Unit", m.unit().cloudWatchName()));
        root.put("level", "INFO");
        root.put(TidemarkMetric.DIMENSION, stanza.value());
        values.entrySet().stream().sorted(Map.Entry.comparingByKey())
                .forEach(e -> root.put(e.getKey().metricName(), e.getValue()));
        return root.toString();
    }
}
