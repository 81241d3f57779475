package io.tidemark.functions.aws;

import java.io.ByteArrayInputStream;
import java.io.IOException;
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
 * An asynchronous Lambda Invoke ({@code X-Amz-Invocation-Type: Event}) of one function (a name or
 * ARN with its alias): one SigV4-signed HTTPS request on the functions' shared HTTP client. The
 * Lambda service client is not among the project's dependencies, and one call does not need it.
 * Lambda answers 202 once the event is queued (it then retries a failed invocation twice).
 */
public final class LambdaAsyncInvoke {

    private final SdkHttpClient http;
    private final AwsCredentialsProvider credentials;
    private final String region;
    private final String function;
    private final URI endpoint;

    public LambdaAsyncInvoke(SdkHttpClient http, AwsCredentialsProvider credentials, String region, String function,
                             URI endpoint) {
        this.http = http;
        this.credentials = credentials;
        this.region = region;
        this.function = function;
        this.endpoint = endpoint == null ? URI.create("https://lambda." + region + ".amazonaws.com") : endpoint;
    }

    public String function() {
        return function;
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

    /** Queues {@code payload} as an event; returns Lambda's HTTP status (202: queued). */
    public int invoke(byte[] payload) throws IOException {
        HttpExecuteResponse r = http.prepareRequest(HttpExecuteRequest.builder().request(request(payload))
                .contentStreamProvider(() -> new ByteArrayInputStream(payload)).build()).call();
        if (r.responseBody().isPresent()) {
            r.responseBody().get().close();
        }
        return r.httpResponse().statusCode();
    }
}
