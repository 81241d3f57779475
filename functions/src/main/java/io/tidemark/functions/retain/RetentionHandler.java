package io.tidemark.functions.retain;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import io.tidemark.functions.aws.DynamoDbCatalogStore;
import io.tidemark.functions.aws.S3ObjectStore;
import io.tidemark.functions.runtime.AwsClients;
import io.tidemark.functions.runtime.FunctionConfig;
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

    private final AwsClients aws;
    private final RetentionService service;

    /** Lambda: configuration from the environment. */
    public RetentionHandler() {
        this(FunctionConfig.fromEnvironment());
    }

    public RetentionHandler(FunctionConfig config) {
        this.aws = AwsClients.create(config);
        this.service = service(config, aws);
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
        RetentionRequest request = RetentionRequest.parse(input.readAllBytes(), null);
        RetentionService.Result result = service.run(request.stanza(), request.policy(), request.dryRun());
        output.write(RetentionJson.result(result).toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    @Override
    public void close() {
        aws.close();
    }
}
