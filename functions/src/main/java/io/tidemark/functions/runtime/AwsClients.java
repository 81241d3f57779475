package io.tidemark.functions.runtime;

import java.time.Duration;
import java.util.Objects;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.DynamoDbClientBuilder;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;

/**
 * The AWS clients of one function instance, built once from a {@link FunctionConfig} (at cold
 * start, or before a SnapStart snapshot) and shared by every invocation.
 *
 * <p>All clients use the configured region, the endpoint overrides when set, one shared
 * {@link UrlConnectionHttpClient} (small and fast to start; no Apache or Netty client in the
 * deployment package), and one credentials provider: the static keys of the configuration, a
 * credentials endpoint ({@value FunctionConfig#CREDENTIALS_URI}: local-cloud's per-function role),
 * or the default AWS chain (the execution role in Lambda); the last two renew session keys.
 */
public final class AwsClients implements AutoCloseable {

    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    static final Duration SOCKET_TIMEOUT = Duration.ofSeconds(60);

    private final FunctionConfig config;
    private final SdkHttpClient httpClient;
    private final AwsCredentialsProvider credentials;
    private final SdkPriming.ShortCircuit priming = new SdkPriming.ShortCircuit();
    private final S3Client s3;
    private final DynamoDbClient dynamoDb;
    private software.amazon.awssdk.services.kms.KmsClient kms;
    private software.amazon.awssdk.services.sqs.SqsClient sqs;

    private AwsClients(FunctionConfig config) {
        this.config = config;
        UrlConnectionHttpClient.Builder http = UrlConnectionHttpClient.builder()
                .connectionTimeout(CONNECT_TIMEOUT)
                .socketTimeout(SOCKET_TIMEOUT);
        config.setting(FunctionConfig.S3_CA_FILE).map(java.nio.file.Path::of)
                .ifPresent(ca -> http.tlsTrustManagersProvider(() -> io.tidemark.events.tls.PemTrust.trustManagers(ca)));
        this.httpClient = http.build();
        this.credentials = credentialsProvider(config);
        Region region = Region.of(config.region());

        S3ClientBuilder s3Builder = S3Client.builder()
                .region(region)
                .credentialsProvider(credentials)
                .httpClient(httpClient)
                .overrideConfiguration(o -> o.addExecutionInterceptor(new WithoutExpectContinue())
                        .addExecutionInterceptor(priming))
                .forcePathStyle(config.s3PathStyle());
        config.s3Endpoint().ifPresent(s3Builder::endpointOverride);
        this.s3 = s3Builder.build();

        DynamoDbClientBuilder dynamoBuilder = DynamoDbClient.builder()
                .region(region)
                .credentialsProvider(credentials)
                .httpClient(httpClient)
                .overrideConfiguration(o -> o.addExecutionInterceptor(priming));
        config.dynamoDbEndpoint().ifPresent(dynamoBuilder::endpointOverride);
        this.dynamoDb = dynamoBuilder.build();
    }

    /**
     * Removes the {@code Expect: 100-continue} header the S3 client puts on every PutObject.
     * With the URL connection client (SDK 2.37 and later) that handshake intermittently fails
     * with "Unexpected end of file from server" on a reused connection (aws-sdk-java-v2#6670),
     * and the SDK's retry then PUTs the object twice (two S3 events). The functions only PUT
     * small objects, for which the handshake saves nothing. (SDK versions with
     * {@code S3Configuration.expectContinueEnabled} can say this without an interceptor.)
     */
    static final class WithoutExpectContinue implements ExecutionInterceptor {
        @Override
        public SdkHttpRequest modifyHttpRequest(Context.ModifyHttpRequest context, ExecutionAttributes attributes) {
            SdkHttpRequest request = context.httpRequest();
            return request.firstMatchingHeader("Expect").isPresent()
                    ? request.toBuilder().removeHeader("Expect").build()
                    : request;
        }
    }

    /** Builds the clients. No network call is made here. */
    public static AwsClients create(FunctionConfig config) {
        return new AwsClients(Objects.requireNonNull(config, "config"));
    }

    /**
     * Static credentials when configured (local-cloud without rotation); else the endpoint of
     * {@value FunctionConfig#CREDENTIALS_URI}; else the default chain (in Lambda: the execution
     * role's session keys from the environment, or from the container credentials endpoint under
     * SnapStart). The last two are refreshing providers that every client asks per request, built
     * anew by {@link #renewCredentials()} after a snapshot restore.
     */
    static AwsCredentialsProvider credentialsProvider(FunctionConfig config) {
        if (config.credentials().isPresent()) {
            FunctionConfig.StaticCredentials c = config.credentials().get();
            return StaticCredentialsProvider.create(AwsBasicCredentials.create(c.accessKeyId(), c.secretAccessKey()));
        }
        return config.credentialsUri()
                .map(uri -> new RenewableCredentials(() -> new EndpointCredentials(uri)))
                .orElseGet(() -> new RenewableCredentials(() -> DefaultCredentialsProvider.builder().build()));
    }

    /**
     * Runs every client's priming requests (SnapStart, before the snapshot): their whole
     * pipeline, signed with dummy credentials, stopped before sending. No network call.
     */
    SdkPriming.Result prime() {
        return SdkPriming.prime(this);
    }

    /** Priming requests stopped just before sending, over this instance's life. */
    int primingRequestsStopped() {
        return priming.stopped();
    }

    /**
     * Drops whatever the default credentials chain resolved and cached, so that an execution
     * environment restored from a snapshot resolves its own. Static credentials stay.
     *
     * @return whether there was a chain to renew
     */
    boolean renewCredentials() {
        if (credentials instanceof RenewableCredentials renewable) {
            renewable.renew();
            return true;
        }
        return false;
    }

    /** The KMS client if {@link #kms()} built it (the planner with a KMS key). */
    synchronized java.util.Optional<software.amazon.awssdk.services.kms.KmsClient> kmsIfBuilt() {
        return java.util.Optional.ofNullable(kms);
    }

    public FunctionConfig config() {
        return config;
    }

    public S3Client s3() {
        return s3;
    }

    public DynamoDbClient dynamoDb() {
        return dynamoDb;
    }

    /**
     * The KMS client (plan signing), built on first use: only the planner needs it. Endpoint from
     * {@value FunctionConfig#KMS_ENDPOINT} when set.
     */
    public synchronized software.amazon.awssdk.services.kms.KmsClient kms() {
        if (kms == null) {
            var b = software.amazon.awssdk.services.kms.KmsClient.builder()
                    .region(Region.of(config.region()))
                    .credentialsProvider(credentials)
                    .httpClient(httpClient)
                    .overrideConfiguration(o -> o.addExecutionInterceptor(priming));
            config.setting(FunctionConfig.KMS_ENDPOINT).map(java.net.URI::create).ifPresent(b::endpointOverride);
            kms = b.build();
        }
        return kms;
    }

    /**
     * The SQS client (job delivery), built on first use: only the backup scheduler needs it.
     * Endpoint from {@value FunctionConfig#SQS_ENDPOINT} when set.
     */
    public synchronized software.amazon.awssdk.services.sqs.SqsClient sqs() {
        if (sqs == null) {
            var b = software.amazon.awssdk.services.sqs.SqsClient.builder()
                    .region(Region.of(config.region()))
                    .credentialsProvider(credentials)
                    .httpClient(httpClient);
            config.setting(FunctionConfig.SQS_ENDPOINT).map(java.net.URI::create).ifPresent(b::endpointOverride);
            sqs = b.build();
        }
        return sqs;
    }

    public AwsCredentialsProvider credentialsProvider() {
        return credentials;
    }

    /** The shared HTTP client (for the few calls made without a service client). */
    public SdkHttpClient httpClient() {
        return httpClient;
    }

    @Override
    public void close() {
        s3.close();
        dynamoDb.close();
        synchronized (this) {
            if (kms != null) {
                kms.close();
            }
            if (sqs != null) {
                sqs.close();
            }
        }
        httpClient.close();
        if (credentials instanceof AutoCloseable closeable) {
            try {
                closeable.close();
            } catch (Exception e) {
                // nothing useful to do at shutdown
            }
        }
    }
}
