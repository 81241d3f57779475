package io.tidemark.functions.verify;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tidemark.events.layout.StanzaName;
import java.time.Instant;

/**
 * The verify metrics as CloudWatch embedded metric format: one JSON line in the function's log,
 * which CloudWatch Logs turns into metrics (namespace {@value #NAMESPACE}, dimension
 * {@value #DIMENSION}) without a PutMetricData call. Nothing else in the functions publishes
 * metrics yet; this is the first, and the simplest that needs no client and no network call.
 */
public final class VerifyMetrics {

    public static final String NAMESPACE = "Tidemark";
    public static final String DIMENSION = "Stanza";
    /** Problems the newest full run of a stanza found (0: clean). */
    public static final String PROBLEMS = "VerifyProblems";
    /** Seconds since the last clean full run (since the stanza was created when there was none). */
    public static final String CLEAN_AGE = "LastCleanVerifyAgeSeconds";

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private VerifyMetrics() {
    }

    static String line(StanzaName stanza, long problems, long cleanAgeSeconds, Instant at) {
        ObjectNode root = MAPPER.createObjectNode();
        ObjectNode aws = root.putObject("_aws");
        aws.put("Timestamp", at.toEpochMilli());
        ObjectNode directive = aws.putArray("CloudWatchMetrics").addObject();
        directive.put("Namespace", NAMESPACE);
        directive.putArray("Dimensions").addArray().add(DIMENSION);
        ArrayNode metrics = directive.putArray("Metrics");
        metrics.addObject().put("Name", PROBLEMS).put("Unit", "Count");
        metrics.addObject().put("Name", CLEAN_AGE).put("Unit", "Seconds");
        root.put(DIMENSION, stanza.value());
        root.put(PROBLEMS, problems);
        root.put(CLEAN_AGE, cleanAgeSeconds);
        return root.toString();
    }
}
