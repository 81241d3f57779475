package io.tidemark.functions.validate;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import io.tidemark.events.layout.StorageLayout;
import io.tidemark.events.wal.WalSegmentSize;
import io.tidemark.functions.aws.DynamoDbCatalogStore;
import io.tidemark.functions.aws.LambdaRetentionTrigger;
import io.tidemark.functions.aws.S3ObjectStore;
import io.tidemark.functions.retain.RetentionTrigger;
import io.tidemark.functions.runtime.AwsClients;
import io.tidemark.functions.metrics.EmfMetrics;
import io.tidemark.functions.metrics.MetricsPublisher;
import io.tidemark.functions.runtime.FunctionConfig;
import io.tidemark.functions.runtime.FunctionLog;
import io.tidemark.functions.runtime.ObjectCreatedEvents;
import io.tidemark.functions.runtime.PrimingEvents;
import io.tidemark.functions.runtime.S3EventNotification;
import io.tidemark.functions.runtime.SnapStartHooks;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * S3 ObjectCreated on {@code <stanza>/backup/<label>/manifest.json} -> {@link BackupValidator}.
 * Other keys are ignored (logged). If any record fails (storage errors, unknown stanza), the
 * invocation fails after the others were tried; the retry is harmless (validation is idempotent).
 *
 * <p>Setting {@value #PARALLELISM}: how many objects are downloaded and hashed at once (default
 * {@value #DEFAULT_PARALLELISM}).
 */
public final class ManifestValidateHandler implements RequestStreamHandler, AutoCloseable {

    /** The manifest key of the priming event: a stanza of its own, never read. */
    static final String PRIMING_KEY = "priming/backup/20260101-000000F/manifest.json";

    public static final String PARALLELISM = "TIDEMARK_VALIDATE_PARALLELISM";
    public static final int DEFAULT_PARALLELISM = 8;

    private final AwsClients aws;
    private final String bucket;
    private final BackupValidator validator;
    private final SnapStartHooks snapStart;

    /** Lambda: configuration from the environment. */
    public ManifestValidateHandler() {
        this(FunctionConfig.fromEnvironment());
    }

    public ManifestValidateHandler(FunctionConfig config) {
        this(config, null);
    }

    /**
     * @param retention started after each backup concluded valid; null: from the configuration
     *                  ({@link LambdaRetentionTrigger#FUNCTION}, none when unset)
     */
    public ManifestValidateHandler(FunctionConfig config, RetentionTrigger retention) {
        this(config, retention, EmfMetrics.standardOut());
    }

    /** @param metrics where the backup age goes (local-cloud: its collector) */
    public ManifestValidateHandler(FunctionConfig config, RetentionTrigger retention, MetricsPublisher metrics) {
        this.aws = AwsClients.create(config);
        this.bucket = config.bucket();
        int parallelism = config.setting(PARALLELISM).map(Integer::parseInt).orElse(DEFAULT_PARALLELISM);
        this.validator = new BackupValidator(new S3ObjectStore(aws.s3(), bucket),
                new DynamoDbCatalogStore(aws.dynamoDb(), config.table()), parallelism,
                retention != null ? retention : LambdaRetentionTrigger.fromConfig(config, aws), metrics,
                io.tidemark.functions.catalog.CloudClock.skew(
                        config.setting(io.tidemark.functions.catalog.CloudClock.SKEW_SETTING)));
        this.snapStart = SnapStartHooks.register(aws, this::prime);
    }

    /**
     * SnapStart priming: a representative manifest event through parsing and the per-record
     * loop (the key is classified, not validated: no S3 or DynamoDB call).
     */
    void prime() throws IOException {
        S3EventNotification event = S3EventNotification.parse(new ByteArrayInputStream(
                PrimingEvents.objectCreated(config().region(), bucket, PRIMING_KEY)));
        ObjectCreatedEvents.process(event, bucket, "primes", BackupValidator.Outcome.class, (key, time, sequencer, version, size) -> {
            StorageLayout.parse(key, WalSegmentSize.DEFAULT);
            return BackupValidator.Outcome.IGNORED;
        }, null);
    }

    private io.tidemark.functions.runtime.FunctionConfig config() {
        return aws.config();
    }

    SnapStartHooks snapStart() {
        return snapStart;
    }

    @Override
    public void handleRequest(InputStream input, OutputStream output, Context context) throws IOException {
        try (FunctionLog.Invocation log = FunctionLog.begin(context)) {
            S3EventNotification event = S3EventNotification.parse(input);
            output.write(ObjectCreatedEvents.process(event, bucket, "validates", BackupValidator.Outcome.class,
                    (key, time, sequencer, version, size) -> validator.validate(key, time, version, size), null));
        }
    }

    @Override
    public void close() {
        aws.close();
    }
}
