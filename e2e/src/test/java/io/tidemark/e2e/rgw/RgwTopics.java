package io.tidemark.e2e.rgw;

import io.tidemark.localcloud.LocalCredentials;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.SignedRequest;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;

/**
 * RGW's SNS-like topic API ({@code POST /} with {@code Action=CreateTopic}), which the SDK's S3
 * client does not speak: one form POST signed with SigV4 (the SNS SDK module is not a
 * dependency, and one call does not need it).
 */
final class RgwTopics {

    private static final Pattern ARN = Pattern.compile("<TopicArn>([^<]+)</TopicArn>");
    /** Headers java.net.http sets itself and refuses from the caller. */
    private static final Set<String> RESTRICTED = Set.of("host", "content-length", "connection", "expect");

    private RgwTopics() {
    }

    /**
     * Creates (or updates) a persistent topic pushing to {@code pushEndpoint} over HTTP and returns
     * its ARN. Persistent: RGW queues each event and retries the push until it is answered 200.
     */
    static String createPersistent(URI rgw, LocalCredentials credentials, String region, String name,
            URI pushEndpoint) {
        Map<String, String> form = new LinkedHashMap<>();
        form.put("Action", "CreateTopic");
        form.put("Name", name);
        form.put("Attributes.entry.1.key", "push-endpoint");
        form.put("Attributes.entry.1.value", pushEndpoint.toString());
        form.put("Attributes.entry.2.key", "persistent");
        form.put("Attributes.entry.2.value", "true");
        String body = form.entrySet().stream()
                .map(e -> enc(e.getKey()) + "=" + enc(e.getValue()))
                .collect(Collectors.joining("&"));
        SdkHttpRequest request = SdkHttpRequest.builder().method(SdkHttpMethod.POST).uri(rgw.resolve("/"))
                .putHeader("Content-Type", "application/x-www-form-urlencoded; charset=utf-8").build();
        SignedRequest signed = AwsV4HttpSigner.create().sign(r -> r
                .identity(AwsCredentialsIdentity.create(credentials.accessKeyId(), credentials.secretAccessKey()))
                .request(request)
                .payload(ContentStreamProvider.fromUtf8String(body))
                .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "sns")
                .putProperty(AwsV4HttpSigner.REGION_NAME, region));
        HttpRequest.Builder http = HttpRequest.newBuilder(rgw.resolve("/"))
                .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        signed.request().headers().forEach((k, values) -> {
            if (!RESTRICTED.contains(k.toLowerCase(java.util.Locale.ROOT))) {
                values.forEach(v -> http.header(k, v));
            }
        });
        HttpResponse<String> response;
        try (HttpClient client = HttpClient.newHttpClient()) {
            response = client.send(http.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new IllegalStateException("RGW CreateTopic " + name + " failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted creating RGW topic " + name, e);
        }
        Matcher m = ARN.matcher(response.body());
        if (response.statusCode() != 200 || !m.find()) {
            throw new IllegalStateException("RGW CreateTopic " + name + " answered " + response.statusCode() + ": "
                    + response.body());
        }
        return m.group(1);
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
