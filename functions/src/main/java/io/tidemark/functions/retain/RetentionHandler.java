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
        this.aws = AwsClients.create(config);
        this.service = service(config, aws);
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

    static RetentionService service(FunctionConfig config, AwsClients aws) {
        Duration orphanAge = config.setting(ORPHAN_AGE_HOURS).map(h -> Duration.ofHours(Long.parseLong(h)))
                .orElse(RetentionPlanner.DEFAULT_ORPHAN_AGE);
        return new RetentionService(new S3ObjectStore(aws.s3(), config.bucket()),
                new DynamoDbCatalogStore(aws.dynamoDb(), config.table()), new RetentionPlanner(orphanAge),
                Clock.systemUTC(), StanzaPolicies.parse(config.setting(StanzaPolicies.SETTING).orElse(null)));
    }

    @Override
    public void handleRequest(InputStream input, OutputStream output, Context context) throws IOException {
        try (io.tidemark.functions.runtime.FunctionLog.Invocation log =
                     io.tidemark.functions.runtime.FunctionLog.begin(context)) {
            RetentionRequest request = RetentionRequest.parse(input.readAllBytes(), null);
            io.tidemark.functions.runtime.FunctionLog.stanza(String.valueOf(request.stanza()));
            RetentionService.Result result = service.run(request.stanza(), request.policy(), request.dryRun());
            output.write(RetentionJson.result(result).toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
    }

    @Override
    public void close() {
        aws.close();
    }
}
