package io.tidemark.functions.runtime;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.AwsRequestOverrideConfiguration;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttribute;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.kms.model.MessageType;
import software.amazon.awssdk.services.kms.model.SigningAlgorithmSpec;

/**
 * Primes the SDK clients before a SnapStart snapshot without a single network call.
 *
 * <p>Each priming request goes through the client's whole pipeline (validation, endpoint
 * rules, marshalling, checksums, interceptors, SigV4 signing), so the classes it needs are
 * loaded and initialised in the snapshot, and is then stopped by {@link ShortCircuit} just
 * before the HTTP client would send it. Two things are kept out of the snapshot on purpose:
 * <ul>
 *   <li>credentials: the requests are signed with fixed dummy keys given per request, so the
 *       function's provider (the default chain: the role's credentials from the container
 *       endpoint) resolves nothing and caches nothing;</li>
 *   <li>connections: nothing is sent, so no pooled keep-alive connection (dead after a restore)
 *       is captured, and publishing a version does not depend on S3 or DynamoDB answering.</li>
 * </ul>
 * Response unmarshalling is not primed: there is no response.
 */
final class SdkPriming {

    /** Marks a request as priming; {@link ShortCircuit} stops only such requests. */
    static final ExecutionAttribute<Boolean> PRIMING = new ExecutionAttribute<>("TidemarkSnapStartPriming");

    // Dummy keys that sign but grant nothing; never sent anywhere.
    private static final StaticCredentialsProvider PRIMING_CREDENTIALS = StaticCredentialsProvider.create(
            AwsBasicCredentials.create("AKIDPRIMINGONLY00000", "priming-only-never-sent"));

    private SdkPriming() {
    }

    /** Thrown by {@link ShortCircuit} in place of sending: the expected end of a priming request. */
    static final class NotSent extends RuntimeException {
        NotSent() {
            super("SnapStart priming request: stopped before sending", null, false, false);
        }
    }

    /**
     * Added to every client: stops priming requests after signing, counts them. Requests
     * without the {@link #PRIMING} attribute pass untouched.
     */
    static final class ShortCircuit implements ExecutionInterceptor {
        private final AtomicInteger stopped = new AtomicInteger();

        @Override
        public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attributes) {
            if (Boolean.TRUE.equals(attributes.getAttribute(PRIMING))) {
                stopped.incrementAndGet();
                throw new NotSent();
            }
        }

        /** Priming requests that reached the point of sending (all of their pipeline ran). */
        int stopped() {
            return stopped.get();
        }
    }

    /** What one priming pass did: each operation's name and whether it ran its whole pipeline. */
    record Result(List<String> primed, List<String> failed) {
        Result {
            primed = List.copyOf(primed);
            failed = List.copyOf(failed);
        }
    }

    /** Runs the priming requests of the operations the functions use. */
    static Result prime(AwsClients aws) {
        String bucket = aws.config().bucket();
        String table = aws.config().table();
        List<String> primed = new ArrayList<>();
        List<String> failed = new ArrayList<>();
        Consumer<AwsRequestOverrideConfiguration.Builder> priming = o -> o
                .credentialsProvider(PRIMING_CREDENTIALS)
                .putExecutionAttribute(PRIMING, Boolean.TRUE);
        Key key = new Key("priming/snapstart");

        run("s3:GetObject", primed, failed, () -> aws.s3().getObjectAsBytes(b -> b.bucket(bucket).key(key.s3())
                .overrideConfiguration(priming)));
        run("s3:HeadObject", primed, failed, () -> aws.s3().headObject(b -> b.bucket(bucket).key(key.s3())
                .overrideConfiguration(priming)));
        run("s3:PutObject", primed, failed, () -> aws.s3().putObject(b -> b.bucket(bucket).key(key.s3())
                .contentType("application/json").overrideConfiguration(priming), RequestBody.fromString("{}")));
        // retention's deletes and listings
        run("s3:DeleteObject", primed, failed, () -> aws.s3().deleteObject(b -> b.bucket(bucket).key(key.s3())
                .overrideConfiguration(priming)));
        run("s3:ListObjectsV2", primed, failed, () -> aws.s3().listObjectsV2(b -> b.bucket(bucket).prefix(key.s3())
                .delimiter("/").overrideConfiguration(priming)));
        run("dynamodb:DeleteItem", primed, failed, () -> aws.dynamoDb().deleteItem(b -> b.tableName(table)
                .key(key.item()).overrideConfiguration(priming)));
        run("dynamodb:GetItem", primed, failed, () -> aws.dynamoDb().getItem(b -> b.tableName(table)
                .consistentRead(true).key(key.item()).overrideConfiguration(priming)));
        run("dynamodb:PutItem", primed, failed, () -> aws.dynamoDb().putItem(b -> b.tableName(table)
                .item(key.item()).conditionExpression("attribute_not_exists(PK)").overrideConfiguration(priming)));
        run("dynamodb:Query", primed, failed, () -> aws.dynamoDb().query(b -> b.tableName(table)
                .keyConditionExpression("PK = :pk AND begins_with(SK, :sk)")
                .expressionAttributeValues(java.util.Map.of(":pk", AttributeValue.fromS(key.pk()),
                        ":sk", AttributeValue.fromS("WAL#")))
                .overrideConfiguration(priming)));
        aws.kmsIfBuilt().ifPresent(kms -> run("kms:Sign", primed, failed, () -> kms.sign(b -> b
                .keyId(aws.config().setting("TIDEMARK_PLAN_KEY_ID").orElse("alias/tidemark-priming"))
                .message(SdkBytes.fromByteArray(new byte[32]))
                .messageType(MessageType.DIGEST)
                .signingAlgorithm(SigningAlgorithmSpec.ECDSA_SHA_256)
                .overrideConfiguration(priming))));
        return new Result(primed, failed);
    }

    private record Key(String s3) {
        String pk() {
            return "PRIMING#snapstart";
        }

        java.util.Map<String, AttributeValue> item() {
            return java.util.Map.of("PK", AttributeValue.fromS(pk()), "SK", AttributeValue.fromS("PRIMING"));
        }
    }

    private static void run(String operation, List<String> primed, List<String> failed, Runnable call) {
        try {
            call.run();
            // The short circuit did not fire: something sent the request. Say so, loudly.
            failed.add(operation + " (was not stopped before sending)");
        } catch (RuntimeException e) {
            if (causedByNotSent(e)) {
                primed.add(operation);
            } else {
                failed.add(operation + " (" + e + ")");
            }
        }
    }

    private static boolean causedByNotSent(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof NotSent) {
                return true;
            }
        }
        return false;
    }
}
