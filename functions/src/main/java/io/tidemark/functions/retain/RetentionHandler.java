package io.tidemark.functions.retain;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import io.tidemark.functions.aws.DynamoDbCatalogStore;
import io.tidemark.functions.aws.S3ObjectStore;
import io.tidemark.functions.runtime.AwsClients;
import io.tidemark.functions.runtime.FunctionConfig;
import io.tidemark.functions.runtime.SnapStartHooks;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Clock;
import java.time.Duration;

/**
 * The retention function: the daily schedule's event ({@code {"stanza": ..., "retention": {...}}})
 * or the validator's ({@code {"stanza": ...}}) -> {@link RetentionService} -> a JSON summary
 * ({@link RetentionJson}). Bad input fails the invocation with a message saying what is wrong
 * (nothing is deleted); so does an unknown stanza.
 *
 * <p>Settings: {@value #ORPHAN_AGE_HOURS}, how old a backup prefix without a manifest must be before
 * it counts as abandoned (default 6); {@value StanzaPolicies#SETTING}, each stanza's policy for
 * events that name none ({@link StanzaPolicies}).
 */
public final class RetentionHandler implements RequestStreamHandler, AutoCloseable {

    public static final String ORPHAN_AGE_HOURS = "TIDEMARK_RETENTION_ORPHAN_AGE_HOURS";
    /** Floor: a full younger than this many hours (since the cloud accepted it) is never expired; default 24. */
    public static final String MIN_FULL_AGE_HOURS = "TIDEMARK_RETENTION_MIN_FULL_AGE_HOURS";
    /** Floor: at most this many fulls expire in one run unless an operator confirms it; default 2. */
    public static final String MAX_FULLS_PER_RUN = "TIDEMARK_RETENTION_MAX_FULLS_PER_RUN";

    /** What priming parses: a schedule event of the shape EventBridge Scheduler delivers. */
    static final byte[] PRIMING_EVENT = ("{\"stanza\": \"priming\", \"retention\": {\"fullType\": \"count\", "
            + "\"full\": 2, \"diff\": 6}}").getBytes(java.nio.charset.StandardCharsets.UTF_8);

    private final AwsClients aws;
    private final RetentionService service;
    private final SnapStartHooks snapStart;

    /** Lambda: configuration from the environment. */
    public RetentionHandler() {
        this(FunctionConfig.fromEnvironment());
    }

    public RetentionHandler(FunctionConfig config) {
        this(config, io.tidemark.functions.metrics.EmfMetrics.standardOut());
    }

    /** @param metrics where BackupsExpired and BackupsHeldBack go (local-cloud: its collector) */
    public RetentionHandler(FunctionConfig config, io.tidemark.functions.metrics.MetricsPublisher metrics) {
        this.aws = AwsClients.create(config);
        this.service = service(config, aws, metrics);
        this.snapStart = SnapStartHooks.register(aws, this::prime);
    }

    /**
     * SnapStart priming: parse a schedule event (no S3 or DynamoDB call; the SDK clients are
     * primed by the hooks themselves).
     */
    void prime() {
        RetentionRequest.parse(PRIMING_EVENT, null);
    }

    SnapStartHooks snapStart() {
        return snapStart;
    }

    static RetentionService service(FunctionConfig config, AwsClients aws,
                                    io.tidemark.functions.metrics.MetricsPublisher metrics) {
        Duration orphanAge = config.setting(ORPHAN_AGE_HOURS).map(h -> Duration.ofHours(Long.parseLong(h)))
                .orElse(RetentionPlanner.DEFAULT_ORPHAN_AGE);
        return new RetentionService(new S3ObjectStore(aws.s3(), config.bucket()),
                new DynamoDbCatalogStore(aws.dynamoDb(), config.table()), new RetentionPlanner(orphanAge, floors(config)),
                Clock.systemUTC(), StanzaPolicies.parse(config.setting(StanzaPolicies.SETTING).orElse(null)), metrics);
    }

    /** The floors from {@value #MIN_FULL_AGE_HOURS} and {@value #MAX_FULLS_PER_RUN}; a bad value names the setting. */
    static RetentionPlanner.Floors floors(FunctionConfig config) {
        RetentionPlanner.Floors d = RetentionPlanner.Floors.DEFAULT;
        try {
            Duration age = config.setting(MIN_FULL_AGE_HOURS).map(h -> Duration.ofHours(Long.parseLong(h)))
                    .orElse(d.minFullAge());
            int cap = config.setting(MAX_FULLS_PER_RUN).map(Integer::parseInt).orElse(d.maxFullsPerRun());
            return new RetentionPlanner.Floors(age, cap);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(MIN_FULL_AGE_HOURS + "/" + MAX_FULLS_PER_RUN + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void handleRequest(InputStream input, OutputStream output, Context context) throws IOException {
        try (io.tidemark.functions.runtime.FunctionLog.Invocation log =
                     io.tidemark.functions.runtime.FunctionLog.begin(context)) {
            RetentionRequest request = RetentionRequest.parse(input.readAllBytes(), null);
            io.tidemark.functions.runtime.FunctionLog.stanza(String.valueOf(request.stanza()));
            RetentionService.Result result = service.run(request.stanza(), request.policy(), request.dryRun(),
                    request.confirm());
            output.write(RetentionJson.result(result).toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
    }

    @Override
    public void close() {
        aws.close();
    }
}
