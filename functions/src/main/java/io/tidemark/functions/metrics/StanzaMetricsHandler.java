package io.tidemark.functions.metrics;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tidemark.events.json.Json;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.metrics.TidemarkMetric;
import io.tidemark.functions.aws.DynamoDbCatalogStore;
import io.tidemark.functions.runtime.AwsClients;
import io.tidemark.functions.runtime.FunctionConfig;
import io.tidemark.functions.runtime.FunctionLog;
import io.tidemark.functions.runtime.SnapStartHooks;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;

/**
 * The scheduled publisher of a stanza's health metrics: every few minutes (the stack's schedule,
 * or a local-cloud schedule) it publishes {@link TidemarkMetric#ARCHIVE_LAG} and
 * {@link TidemarkMetric#LAST_VALID_BACKUP_AGE} from the catalog, so both keep growing when no WAL
 * and no backup arrive (the indexer and the validator publish only when they have an event).
 *
 * <p>Input {@code {"stanza": "main"}}; output {@code {"stanza", "ArchiveLagSeconds",
 * "LastValidBackupAgeSeconds"}}, or {@code {"stanza", "published": false, "reason"}} for a stanza
 * that does not exist (nothing is published; the backup-age alarm treats that as breaching). A
 * bad input fails the invocation with a message naming the field.
 */
public final class StanzaMetricsHandler implements RequestStreamHandler, AutoCloseable {

    private static final ObjectMapper MAPPER = Json.mapper();
    private static final System.Logger LOG = System.getLogger(StanzaMetricsHandler.class.getName());

    private final AwsClients aws;
    private final StanzaHealth health;
    private final SnapStartHooks snapStart;

    public StanzaMetricsHandler() {
        this(FunctionConfig.fromEnvironment());
    }

    public StanzaMetricsHandler(FunctionConfig config) {
        this(config, EmfMetrics.standardOut());
    }

    /** @param metrics where the values go (local-cloud: its collector) */
    public StanzaMetricsHandler(FunctionConfig config, MetricsPublisher metrics) {
        this.aws = AwsClients.create(config);
        this.health = new StanzaHealth(new DynamoDbCatalogStore(aws.dynamoDb(), config.table()), metrics,
                Clock.systemUTC());
        this.snapStart = SnapStartHooks.register(aws, StanzaMetricsHandler::prime);
    }

    /** SnapStart priming: parse an input and render a line; no service call. */
    static void prime() {
        StanzaName s = stanza("{\"stanza\":\"priming\"}".getBytes(StandardCharsets.UTF_8));
        EmfMetrics.line(s, java.time.Instant.EPOCH, Map.of(TidemarkMetric.ARCHIVE_LAG, 0L));
    }

    SnapStartHooks snapStart() {
        return snapStart;
    }

    static StanzaName stanza(byte[] input) {
        JsonNode root;
        try {
            root = MAPPER.readTree(input);
        } catch (IOException e) {
            throw new IllegalArgumentException("stanza metrics input is not JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
        if (root == null || !root.isObject() || !root.path("stanza").isTextual()) {
            throw new IllegalArgumentException("stanza metrics input must be {\"stanza\": \"<name>\"}, not " + root);
        }
        return StanzaName.of(root.get("stanza").asText());
    }

    @Override
    public void handleRequest(InputStream input, OutputStream output, Context context) throws IOException {
        try (FunctionLog.Invocation log = FunctionLog.begin(context)) {
            StanzaName stanza = stanza(input.readAllBytes());
            FunctionLog.stanza(stanza.value());
            Optional<Map<TidemarkMetric, Long>> published = health.publishAll(stanza);
            ObjectNode out = MAPPER.createObjectNode().put("stanza", stanza.value());
            if (published.isEmpty()) {
                LOG.log(System.Logger.Level.WARNING, "no stanza ''{0}'': no metrics published", stanza);
                out.put("published", false).put("reason", "no stanza '" + stanza + "'");
            } else {
                published.get().forEach((m, v) -> out.put(m.metricName(), v));
            }
            output.write(out.toString().getBytes(StandardCharsets.UTF_8));
            output.flush();
        }
    }

    @Override
    public void close() {
        aws.close();
    }
}
