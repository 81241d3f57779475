package io.tidemark.functions.validate;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import io.tidemark.functions.aws.DynamoDbCatalogStore;
import io.tidemark.functions.aws.S3ObjectStore;
import io.tidemark.functions.runtime.AwsClients;
import io.tidemark.functions.runtime.FunctionConfig;
import io.tidemark.functions.runtime.S3EventNotification;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * S3 ObjectCreated on {@code <stanza>/backup/<label>/manifest.json} -> {@link BackupValidator}.
 * Other keys are ignored (logged). If any record fails (storage errors, unknown stanza), the
 * invocation fails after the others were tried; the retry is harmless (validation is idempotent).
 *
 * <p>Setting {@value #PARALLELISM}: how many objects are downloaded and hashed at once (default
 * {@value #DEFAULT_PARALLELISM}).
 */
public final class ManifestValidateHandler implements RequestStreamHandler, AutoCloseable {

    private static final System.Logger LOG = System.getLogger(ManifestValidateHandler.class.getName());

    public static final String PARALLELISM = "TIDEMARK_VALIDATE_PARALLELISM";
    public static final int DEFAULT_PARALLELISM = 8;

    private final AwsClients aws;
    private final String bucket;
    private final BackupValidator validator;

    /** Lambda: configuration from the environment. */
    public ManifestValidateHandler() {
        this(FunctionConfig.fromEnvironment());
    }

    public ManifestValidateHandler(FunctionConfig config) {
        this.aws = AwsClients.create(config);
        this.bucket = config.bucket();
        int parallelism = config.setting(PARALLELISM).map(Integer::parseInt).orElse(DEFAULT_PARALLELISM);
        this.validator = new BackupValidator(new S3ObjectStore(aws.s3(), bucket),
                new DynamoDbCatalogStore(aws.dynamoDb(), config.table()), parallelism);
    }

    @Override
    public void handleRequest(InputStream input, OutputStream output, Context context) throws IOException {
        S3EventNotification event = S3EventNotification.parse(input);
        Map<BackupValidator.Outcome, Integer> outcomes = new EnumMap<>(BackupValidator.Outcome.class);
        List<RuntimeException> failures = new ArrayList<>();
        for (S3EventNotification.Record r : event.records()) {
            if (!r.isObjectCreated()) {
                continue;
            }
            if (!bucket.equals(r.bucket())) {
                failures.add(new IllegalStateException("event for bucket " + r.bucket() + ", this function validates "
                        + bucket));
                continue;
            }
            try {
                BackupValidator.Outcome o = validator.validate(r.key(), r.eventTime());
                outcomes.merge(o, 1, Integer::sum);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "validating " + r.key() + " failed", e);
                failures.add(e);
            }
        }
        if (!failures.isEmpty()) {
            RuntimeException first = failures.get(0);
            for (int i = 1; i < failures.size(); i++) {
                first.addSuppressed(failures.get(i));
            }
            throw first;
        }
        StringBuilder json = new StringBuilder("{");
        outcomes.forEach((k, v) -> json.append(json.length() > 1 ? "," : "").append('"').append(k.name()).append("\":")
                .append(v));
        output.write(json.append('}').toString().getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public void close() {
        aws.close();
    }
}
