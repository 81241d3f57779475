package io.tidemark.localcloud;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tidemark.events.json.Json;
import io.tidemark.functions.metrics.EmfMetrics;
import io.tidemark.functions.metrics.MetricsPublisher;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What CloudWatch would make of the functions' metrics: each function publishes embedded metric
 * format lines (the same renderer as in Lambda, {@link EmfMetrics}) into this collector instead
 * of its log stream, and the collector extracts the data points as CloudWatch Logs does: for
 * every directive of {@code _aws.CloudWatchMetrics}, every dimension set and every metric named,
 * one data point with the namespace, the dimension values taken from the line's members, the
 * metric's value and the line's {@code _aws.Timestamp}. A line that is not valid EMF is kept
 * apart ({@link #rejected}) and logged, as CloudWatch would extract nothing from it.
 *
 * <p>Read by tests ({@link LocalCloud#metrics()}) and over HTTP ({@code GET /local/metrics},
 * {@link LocalMetricsHandler}). Kept in memory, newest last, at most {@value #MAX_POINTS} points.
 */
public final class LocalMetrics {

    static final int MAX_POINTS = 100_000;
    private static final Logger LOG = LoggerFactory.getLogger(LocalMetrics.class);
    private static final ObjectMapper MAPPER = Json.mapper();

    /** One extracted data point. */
    public record DataPoint(String function, String namespace, String name, String unit,
                            Map<String, String> dimensions, double value, Instant timestamp) {
        public DataPoint {
            dimensions = Map.copyOf(dimensions);
        }
    }

    /** A line from which nothing could be extracted, and why. */
    public record Rejected(String function, String line, String why) {
    }

    private final java.util.ArrayDeque<DataPoint> points = new java.util.ArrayDeque<>();
    private final List<Rejected> rejected = new ArrayList<>();

    /** The publisher function {@code function} gets: EMF lines into this collector. */
    public MetricsPublisher publisher(String function) {
        Objects.requireNonNull(function, "function");
        return new EmfMetrics(line -> accept(function, line));
    }

    /** Takes one EMF line written by {@code function}. */
    public void accept(String function, String line) {
        List<DataPoint> extracted;
        try {
            extracted = extract(function, line);
        } catch (IllegalArgumentException e) {
            LOG.warn("{}: not an embedded-metric-format line ({}): {}", function, e.getMessage(), line);
            synchronized (this) {
                rejected.add(new Rejected(function, line, e.getMessage()));
            }
            return;
        }
        LOG.debug("{}: {}", function, line);
        synchronized (this) {
            points.addAll(extracted);
            while (points.size() > MAX_POINTS) {
                points.pollFirst();
            }
        }
    }

    /** Every data point so far, oldest first. */
    public synchronized List<DataPoint> all() {
        return List.copyOf(points);
    }

    /** The data points of metric {@code name} in {@code namespace} with exactly {@code dimensions}. */
    public synchronized List<DataPoint> of(String namespace, String name, Map<String, String> dimensions) {
        return points.stream().filter(p -> p.namespace().equals(namespace) && p.name().equals(name)
                && p.dimensions().equals(dimensions)).toList();
    }

    public synchronized List<Rejected> rejected() {
        return List.copyOf(rejected);
    }

    /** The points as JSON ({@code {"points": [...], "rejected": n}}), filtered when the arguments are not null. */
    public synchronized String toJson(String name, String stanzaDimension, String stanza) {
        ObjectNode root = MAPPER.createObjectNode();
        ArrayNode out = root.putArray("points");
        for (DataPoint p : points) {
            if ((name == null || name.equals(p.name()))
                    && (stanza == null || stanza.equals(p.dimensions().get(stanzaDimension)))) {
                ObjectNode n = out.addObject();
                n.put("function", p.function()).put("namespace", p.namespace()).put("name", p.name());
                if (p.unit() != null) {
                    n.put("unit", p.unit());
                }
                ObjectNode d = n.putObject("dimensions");
                new TreeMap<>(p.dimensions()).forEach(d::put);
                n.put("value", p.value()).put("timestamp", p.timestamp().toString());
            }
        }
        root.put("rejected", rejected.size());
        return root.toString();
    }

    /** The data points of one line, per the EMF specification; IllegalArgumentException saying what is wrong. */
    static List<DataPoint> extract(String function, String line) {
        JsonNode root;
        try {
            root = MAPPER.readTree(line);
        } catch (IOException e) {
            throw new IllegalArgumentException("not JSON");
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("not a JSON object");
        }
        JsonNode aws = root.get("_aws");
        if (aws == null || !aws.isObject()) {
            throw new IllegalArgumentException("no _aws object");
        }
        JsonNode ts = aws.get("Timestamp");
        if (ts == null || !ts.canConvertToLong()) {
            throw new IllegalArgumentException("_aws.Timestamp is not a number of milliseconds");
        }
        Instant at = Instant.ofEpochMilli(ts.asLong());
        JsonNode directives = aws.get("CloudWatchMetrics");
        if (directives == null || !directives.isArray()) {
            throw new IllegalArgumentException("_aws.CloudWatchMetrics is not an array");
        }
        List<DataPoint> out = new ArrayList<>();
        for (JsonNode d : directives) {
            String namespace = text(d, "Namespace");
            JsonNode sets = d.get("Dimensions");
            JsonNode metrics = d.get("Metrics");
            if (sets == null || !sets.isArray() || metrics == null || !metrics.isArray()) {
                throw new IllegalArgumentException("a directive needs Dimensions and Metrics arrays");
            }
            for (JsonNode set : sets) {
                Map<String, String> dims = new LinkedHashMap<>();
                for (Iterator<JsonNode> it = set.elements(); it.hasNext(); ) {
                    String dim = it.next().asText();
                    JsonNode v = root.get(dim);
                    if (v == null || !v.isTextual()) {
                        throw new IllegalArgumentException("dimension " + dim + " has no string member");
                    }
                    dims.put(dim, v.asText());
                }
                for (JsonNode m : metrics) {
                    String name = text(m, "Name");
                    JsonNode v = root.get(name);
                    if (v == null || !(v.isNumber() || v.isArray())) {
                        throw new IllegalArgumentException("metric " + name + " has no numeric member");
                    }
                    String unit = m.hasNonNull("Unit") ? m.get("Unit").asText() : null;
                    for (JsonNode value : v.isArray() ? v : List.of(v)) {
                        if (!value.isNumber()) {
                            throw new IllegalArgumentException("metric " + name + " has a value that is not a number");
                        }
                        out.add(new DataPoint(function, namespace, name, unit, dims, value.asDouble(), at));
                    }
                }
            }
        }
        return out;
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null || !v.isTextual() || v.asText().isBlank()) {
            throw new IllegalArgumentException(field + " is missing");
        }
        return v.asText();
    }
}
