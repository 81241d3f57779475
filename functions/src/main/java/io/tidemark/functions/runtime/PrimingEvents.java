package io.tidemark.functions.runtime;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Representative events for SnapStart priming, shaped like what S3 and API Gateway deliver, so
 * that the handlers' parse and answer code runs (and is loaded) before the snapshot. Nothing in
 * them is unique or secret; they never reach a service.
 */
public final class PrimingEvents {

    private PrimingEvents() {
    }

    /** An S3 event notification with one {@code ObjectCreated:Put} record for {@code key}. */
    public static byte[] objectCreated(String region, String bucket, String key) {
        ObjectNode record = RuntimeJson.MAPPER.createObjectNode()
                .put("eventVersion", "2.1")
                .put("eventSource", "aws:s3")
                .put("awsRegion", region)
                .put("eventTime", "2026-01-01T00:00:00.000Z")
                .put("eventName", "ObjectCreated:Put");
        record.putObject("userIdentity").put("principalId", "AWS:PRIMING");
        record.putObject("requestParameters").put("sourceIPAddress", "127.0.0.1");
        ObjectNode s3 = record.putObject("s3").put("s3SchemaVersion", "1.0").put("configurationId", "priming");
        s3.putObject("bucket").put("name", bucket).put("arn", "arn:aws:s3:::" + bucket)
                .putObject("ownerIdentity").put("principalId", "PRIMING");
        s3.putObject("object").put("key", key).put("size", 1024).put("eTag", "00000000000000000000000000000000")
                .put("sequencer", "0000000000000000");
        ObjectNode event = RuntimeJson.MAPPER.createObjectNode();
        event.putArray("Records").add(record);
        return bytes(event);
    }

    /**
     * An API Gateway REST proxy request with IAM caller identity.
     *
     * @param body the request body (JSON text), or null
     */
    public static byte[] apiRequest(String method, String resource, String path, Map<String, String> pathParameters,
                                    String body) {
        ObjectNode request = RuntimeJson.MAPPER.createObjectNode()
                .put("resource", resource)
                .put("path", path)
                .put("httpMethod", method);
        request.putObject("headers").put("Content-Type", "application/json").put("Accept", "application/json");
        request.putNull("queryStringParameters");
        ObjectNode params = request.putObject("pathParameters");
        pathParameters.forEach(params::put);
        ObjectNode context = request.putObject("requestContext")
                .put("accountId", "123456789012")
                .put("stage", "v1")
                .put("resourcePath", resource)
                .put("httpMethod", method)
                .put("path", "/v1" + path)
                .put("protocol", "HTTP/1.1")
                .put("requestId", "priming");
        context.putObject("identity").put("userArn", "arn:aws:sts::123456789012:assumed-role/priming/priming")
                .put("sourceIp", "127.0.0.1");
        request.put("body", body);
        request.put("isBase64Encoded", false);
        return bytes(request);
    }

    private static byte[] bytes(ObjectNode node) {
        try {
            return RuntimeJson.MAPPER.writeValueAsString(node).getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
