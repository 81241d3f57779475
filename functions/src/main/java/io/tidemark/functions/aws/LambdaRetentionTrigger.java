package io.tidemark.functions.aws;

import io.tidemark.events.layout.StanzaName;
import io.tidemark.functions.retain.RetentionTrigger;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.HttpExecuteRequest;
import software.amazon.awssdk.http.HttpExecuteResponse;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.SignedRequest;

/**
 * {@link RetentionTrigger} in AWS: an asynchronous Lambda Invoke ({@code X-Amz-Invocation-Type:
 * Event}) of the retention function's alias, named by {@value #FUNCTION} (a name or ARN with the
 * alias). One SigV4-signed HTTPS request on the functions' shared HTTP client: the Lambda service
 * client is not among the project's dependencies, and one call does not need it.
 * Lambda answers 202 once the event is queued; anything else is logged (the daily run catches up).
 */
public final class LambdaRetentionTrigger implements RetentionTrigger {

    /** The retention function (name or ARN, with its alias), set by the CDK stack. */
    public static final String FUNCTION = "TIDEMARK_RETENTION_FUNCTION";

    private static final Logger LOG = System.getLogger(LambdaRetentionTrigger.class.getName());

    private final SdkHttpClient http;
    private final AwsCredentialsProvider credentials;
    private final String region;
    private final String function;
    private final URI endpoint;

    public LambdaRetentionTrigger(SdkHttpClient http, AwsCredentialsProvider credentials, String region,
                                  String function, URI endpoint) {
        this.http = http;
        this.credentials = credentials;
        this.region = region;
        this.function = function;
        this.endpoint = endpoint == null ? URI.create("https://lambda." + region + ".amazonaws.com") : endpoint;
    }

    /** The trigger {@value #FUNCTION} names, or {@link RetentionTrigger#NONE} when it is not set. */
    public static RetentionTrigger fromConfig(io.tidemark.functions.runtime.FunctionConfig config,
                                              io.tidemark.functions.runtime.AwsClients aws) {
        return config.setting(FUNCTION).filter(f -> !f.isBlank())
                .<RetentionTrigger>map(f -> new LambdaRetentionTrigger(aws.httpClient(), aws.credentialsProvider(),
                        config.region(), f, null))
                .orElse(RetentionTrigger.NONE);
    }

    @Override
    public void backupValid(StanzaName stanza, String label) {
        try {
            int status = invoke(RetentionTrigger.event(stanza));
            if (status != 202) {
                LOG.log(Level.WARNING, "retention of stanza {0} after backup {1}: Lambda answered {2}",
                        stanza, label, status);
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.WARNING, "retention of stanza " + stanza + " after backup " + label
                    + " not started (the daily run will do it)", e);
        }
    }

    /** The signed request, for tests. */
    SdkHttpRequest request(byte[] payload) {
        String path = "/2015-03-31/functions/" + URLEncoder.encode(function, StandardCharsets.UTF_8) + "/invocations";
        SdkHttpRequest unsigned = SdkHttpRequest.builder().method(SdkHttpMethod.POST)
                .uri(endpoint.resolve(path)).putHeader("X-Amz-Invocation-Type", "Event")
                .putHeader("Content-Type", "application/json").build();
        SignedRequest signed = AwsV4HttpSigner.create().sign(r -> r.identity(credentials.resolveCredentials())
                .request(unsigned).payload(ContentStreamProvider.fromByteArray(payload))
                .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "lambda")
                .putProperty(AwsV4HttpSigner.REGION_NAME, region));
        return signed.request();
    }

    private int invoke(byte[] payload) throws IOException {
        HttpExecuteResponse r = http.prepareRequest(HttpExecuteRequest.builder().request(request(payload))
                .contentStreamProvider(() -> new ByteArrayInputStream(payload)).build()).call();
        if (r.responseBody().isPresent()) {
            r.responseBody().get().close();
        }
        return r.httpResponse().statusCode();
    }
}
