package io.tidemark.testkit.aws;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpFullRequest;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.SignedRequest;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;

/**
 * One call to the catalog API (API Gateway, or the local cloud's) as the shim makes it: signed with
 * the SDK's SigV4 signer for {@code execute-api}, the stanza's API key as {@code x-api-key}. The
 * one copy the tests share (the IAM enforcement tests, the plan-binding test, e2e's operator calls).
 *
 * @param identity  the keys that sign; null: an unsigned call (an API that checks no signature)
 * @param apiKey    sent as {@code x-api-key}; null: none
 * @param headers   more headers, signed and sent (e.g. {@code Accept})
 */
public record SignedApiCall(String region, AwsCredentialsIdentity identity, String apiKey, Map<String, String> headers) {

    public SignedApiCall {
        headers = Map.copyOf(headers);
    }

    public SignedApiCall(String region, AwsCredentialsIdentity identity, String apiKey) {
        this(region, identity, apiKey, Map.of());
    }

    /** {@code body} (JSON, or null for none) to {@code uri} with {@code method}; the answer as text. */
    public HttpResponse<String> send(String method, URI uri, String body) throws IOException, InterruptedException {
        byte[] bytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
        Map<String, String> sent = new LinkedHashMap<>(headers);
        if (body != null) {
            sent.put("Content-Type", "application/json");
        }
        HttpRequest.Builder http = HttpRequest.newBuilder(uri).method(method, body == null
                ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(bytes));
        if (apiKey != null) {
            http.header("x-api-key", apiKey);
        }
        if (identity == null) {
            sent.forEach(http::header);
        } else {
            SdkHttpFullRequest.Builder request = SdkHttpFullRequest.builder().method(SdkHttpMethod.fromValue(method)).uri(uri);
            sent.forEach(request::putHeader);
            SignedRequest signed = AwsV4HttpSigner.create().sign(r -> r.identity(identity).request(request.build())
                    .payload(ContentStreamProvider.fromByteArray(bytes))
                    .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "execute-api")
                    .putProperty(AwsV4HttpSigner.REGION_NAME, region));
            // the HTTP client sets Host itself (a restricted header)
            signed.request().forEachHeader((name, values) -> {
                if (!name.equalsIgnoreCase("Host")) {
                    values.forEach(v -> http.header(name, v));
                }
            });
        }
        try (HttpClient client = HttpClient.newHttpClient()) {
            return client.send(http.build(), HttpResponse.BodyHandlers.ofString());
        }
    }
}
