package io.tidemark.functions.index;

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
import io.tidemark.functions.validate.BackupValidator;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * S3 ObjectCreated on WAL keys -> {@link WalIndexer}; after each archived segment, backups
 * waiting for it are resumed ({@link BackupValidator#walArchived}). ObjectRemoved and
 * LifecycleExpiration events of a stanza's WAL, history and backup objects -> {@link WalIndexer#removed}
 * (the catalog marks the object {@linkplain LostObjects missing}). In AWS the notification filters on
 * {@code <stanza>/wal/} per stanza; local-cloud sends every key, and keys that are not WAL,
 * history or backup history objects are ignored (logged, not failed).
 *
 * <p>Records of one event are indexed one by one; if any failed, the invocation fails after
 * the others were tried (the retry is harmless: indexing is idempotent).
 */
public final class WalIndexHandler implements RequestStreamHandler, AutoCloseable {

    /** The WAL key of the priming event: a stanza of its own, never written. */
    static final String PRIMING_KEY = "priming/wal/0000000100000000/000000010000000000000001.zst";

    private final AwsClients aws;
    private final String bucket;
    private final WalIndexer indexer;
    private final SnapStartHooks snapStart;

    /** Lambda: configuration from the environment. */
    public WalIndexHandler() {
        this(FunctionConfig.fromEnvironment());
    }

    public WalIndexHandler(FunctionConfig config) {
        this(config, null);
    }

    /**
     * @param retention started when a resumed backup becomes valid; null: from the configuration
     *                  ({@link LambdaRetentionTrigger#FUNCTION}, none when unset)
     */
    public WalIndexHandler(FunctionConfig config, RetentionTrigger retention) {
        this(config, retention, EmfMetrics.standardOut());
    }

    /** @param metrics where archive lag and backup age go (local-cloud: its collector) */
    public WalIndexHandler(FunctionConfig config, RetentionTrigger retention, MetricsPublisher metrics) {
        this(AwsClients.create(config), retention, metrics);
    }

    private WalIndexHandler(AwsClients aws, RetentionTrigger retention, MetricsPublisher metrics) {
        this.aws = aws;
        this.bucket = aws.config().bucket();
        S3ObjectStore objects = new S3ObjectStore(aws.s3(), bucket);
        DynamoDbCatalogStore catalog = new DynamoDbCatalogStore(aws.dynamoDb(), aws.config().table());
        // Resuming a backup that waited for WAL re-checks WAL and its chain only (catalog reads,
        // a HEAD of an earlier manifest at most): no object is downloaded here.
        BackupValidator validator = new BackupValidator(objects, catalog, 1,
                retention != null ? retention : LambdaRetentionTrigger.fromConfig(aws.config(), aws), metrics,
                io.tidemark.functions.catalog.CloudClock.skew(aws.config().setting(
                        io.tidemark.functions.catalog.CloudClock.SKEW_SETTING)));
        this.indexer = new WalIndexer(objects, catalog, validator::walArchived, metrics,
                io.tidemark.functions.catalog.CloudClock.skew(aws.config().setting(
                        io.tidemark.functions.catalog.CloudClock.SKEW_SETTING)));
        this.snapStart = SnapStartHooks.register(aws, this::prime);
    }

    /**
     * SnapStart priming: a representative event through parsing and the per-record loop (the
     * key is classified, not indexed: no S3 or DynamoDB call), and both decompressors.
     */
    void prime() throws IOException {
        S3EventNotification event = S3EventNotification.parse(new ByteArrayInputStream(
                PrimingEvents.objectCreated(aws.config().region(), bucket, PRIMING_KEY)));
        ObjectCreatedEvents.process(event, bucket, "primes", WalIndexer.Outcome.class, (key, time, sequencer, version, size) -> {
            StorageLayout.parse(key, WalSegmentSize.DEFAULT);
            return WalIndexer.Outcome.IGNORED;
        }, null);
        io.tidemark.events.layout.Decompression.primeCodecs();
    }

    SnapStartHooks snapStart() {
        return snapStart;
    }

    @Override
    public void handleRequest(InputStream input, OutputStream output, Context context) throws IOException {
        try (FunctionLog.Invocation log = FunctionLog.begin(context)) {
            S3EventNotification event = S3EventNotification.parse(input);
            output.write(ObjectCreatedEvents.process(event, bucket, "indexes", WalIndexer.Outcome.class,
                    indexer::index, indexer::removed));
        }
    }

    @Override
    public void close() {
        aws.close();
    }
}
