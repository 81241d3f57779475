package io.tidemark.shim.api;

import io.tidemark.shim.storage.AwsCredentials;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.SignedRequest;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;
import software.amazon.awssdk.identity.spi.AwsSessionCredentialsIdentity;

/**
 * SigV4 for the catalog API (API Gateway with AWS_IAM, service {@code execute-api}) by the AWS
 * SDK's signer, the same one that signs the node's S3 requests: no signature code of our own.
 */
final class ApiSigner {
    private static final AwsV4HttpSigner SIGNER = AwsV4HttpSigner.create();

    private ApiSigner() {
    }

    /**
     * The headers the signature adds to {@code headers} ({@code X-Amz-Date}, {@code Authorization},
     * {@code X-Amz-Security-Token} with session keys); {@code Host} is left out: the HTTP client
     * sends the URI's own.
     */
    static Map<String, String> sign(String method, URI uri, Map<String, String> headers, byte[] body,
                                    AwsCredentials keys, String region) {
        SdkHttpRequest.Builder request = SdkHttpRequest.builder().method(SdkHttpMethod.fromValue(method)).uri(uri);
        headers.forEach(request::putHeader);
        AwsCredentialsIdentity identity = keys.sessionToken() == null
                ? AwsCredentialsIdentity.create(keys.accessKeyId(), keys.secretAccessKey())
                : AwsSessionCredentialsIdentity.create(keys.accessKeyId(), keys.secretAccessKey(), keys.sessionToken());
        SignedRequest signed = SIGNER.sign(r -> r.identity(identity)
                .request(request.build())
                .payload(body == null ? null : ContentStreamProvider.fromByteArray(body))
                .putProperty(AwsV4HttpSigner.REGION_NAME, region)
                .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "execute-api"));
        Map<String, String> added = new LinkedHashMap<>();
        for (Map.Entry<String, List<String>> e : signed.request().headers().entrySet()) {
            if (!e.getKey().equalsIgnoreCase("Host") && !headers.containsKey(e.getKey()) && !e.getValue().isEmpty()) {
                added.put(e.getKey(), e.getValue().get(0));
            }
        }
        return added;
    }
}
