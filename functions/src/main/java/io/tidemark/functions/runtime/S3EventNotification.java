package io.tidemark.functions.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * An S3 event notification (event structure version 2.x) as S3 delivers it to Lambda, reduced
 * to what Tidemark uses. Domain code works with these records, never with AWS types.
 *
 * <p>Object keys arrive URL-encoded the way S3 writes them ({@code application/x-www-form-urlencoded}:
 * a space is {@code +}, a plus is {@code %2B}, non-ASCII is percent-encoded UTF-8); {@link Record#key()}
 * is the decoded key, ready for GetObject. {@link Record#rawKey()} keeps the text as delivered.
 *
 * <p>The {@code s3:TestEvent} that S3 sends when a notification is configured has no
 * {@code Records}: it parses to an empty list with {@link #testEvent()} true.
 */
public record S3EventNotification(List<Record> records, boolean testEvent) {

    public S3EventNotification {
        records = List.copyOf(records);
    }

    /** One record. {@code size} is -1 and {@code eTag} null when the event carries none (removals). */
    public record Record(
            String eventVersion,
            String eventSource,
            String awsRegion,
            Instant eventTime,
            String eventName,
            String principalId,
            String sourceIpAddress,
            String configurationId,
            String bucket,
            String bucketArn,
            String key,
            String rawKey,
            long size,
            String eTag,
            String versionId,
            String sequencer) {

        public Record {
            Objects.requireNonNull(eventName, "eventName");
            Objects.requireNonNull(bucket, "bucket");
            Objects.requireNonNull(key, "key");
        }

        /** {@code ObjectCreated:*}: Put, Post, Copy, CompleteMultipartUpload. */
        public boolean isObjectCreated() {
            return eventName.startsWith("ObjectCreated:");
        }

        /** {@code ObjectRemoved:*}: Delete, DeleteMarkerCreated. */
        public boolean isObjectRemoved() {
            return eventName.startsWith("ObjectRemoved:");
        }

        /** {@code LifecycleExpiration:*}: a lifecycle rule deleted the object or put a delete marker on it. */
        public boolean isLifecycleExpiration() {
            return eventName.startsWith("LifecycleExpiration:");
        }
    }

    /** Parses the event JSON that Lambda hands to a {@code RequestStreamHandler}. */
    public static S3EventNotification parse(InputStream in) {
        try {
            return fromTree(RuntimeJson.MAPPER.readTree(in));
        } catch (IOException e) {
            throw new UncheckedIOException("S3 event is not JSON: " + e.getMessage(), e);
        }
    }

    public static S3EventNotification parse(String json) {
        try {
            return fromTree(RuntimeJson.MAPPER.readTree(json));
        } catch (IOException e) {
            throw new UncheckedIOException("S3 event is not JSON: " + e.getMessage(), e);
        }
    }

    public static S3EventNotification parse(byte[] json) {
        try {
            return fromTree(RuntimeJson.MAPPER.readTree(json));
        } catch (IOException e) {
            throw new UncheckedIOException("S3 event is not JSON: " + e.getMessage(), e);
        }
    }

    private static S3EventNotification fromTree(JsonNode root) {
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("S3 event must be a JSON object");
        }
        JsonNode recordsNode = root.get("Records");
        if (recordsNode == null || recordsNode.isNull()) {
            boolean test = "s3:TestEvent".equals(text(root, "Event"));
            if (test) {
                return new S3EventNotification(List.of(), true);
            }
            throw new IllegalArgumentException("S3 event has no Records array");
        }
        if (!recordsNode.isArray()) {
            throw new IllegalArgumentException("S3 event Records is not an array");
        }
        List<Record> records = new ArrayList<>(recordsNode.size());
        int i = 0;
        for (JsonNode r : recordsNode) {
            records.add(record(r, i++));
        }
        return new S3EventNotification(records, false);
    }

    private static Record record(JsonNode r, int index) {
        String where = "Records[" + index + "]";
        JsonNode s3 = required(r, "s3", where);
        JsonNode bucket = required(s3, "bucket", where + ".s3");
        JsonNode object = required(s3, "object", where + ".s3");
        String eventName = requiredText(r, "eventName", where);
        String bucketName = requiredText(bucket, "name", where + ".s3.bucket");
        String rawKey = requiredText(object, "key", where + ".s3.object");

        Instant eventTime = null;
        String time = text(r, "eventTime");
        if (time != null) {
            try {
                eventTime = Instant.parse(time);
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException(where + ".eventTime is not an ISO-8601 instant: '" + time + "'");
            }
        }
        long size = -1;
        JsonNode sizeNode = object.get("size");
        if (sizeNode != null && !sizeNode.isNull()) {
            if (!sizeNode.canConvertToLong() || sizeNode.asLong() < 0) {
                throw new IllegalArgumentException(where + ".s3.object.size is not a non-negative integer");
            }
            size = sizeNode.asLong();
        }
        String key;
        try {
            key = decodeKey(rawKey);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + ".s3.object.key is not URL-encoded: '" + rawKey + "'", e);
        }
        return new Record(
                text(r, "eventVersion"),
                text(r, "eventSource"),
                text(r, "awsRegion"),
                eventTime,
                eventName,
                text(r.path("userIdentity"), "principalId"),
                text(r.path("requestParameters"), "sourceIPAddress"),
                text(s3, "configurationId"),
                bucketName,
                text(bucket, "arn"),
                key,
                rawKey,
                size,
                text(object, "eTag"),
                text(object, "versionId"),
                text(object, "sequencer"));
    }

    /** Decodes an event key: {@code +} is a space, {@code %XX} are UTF-8 bytes. */
    public static String decodeKey(String rawKey) {
        return URLDecoder.decode(rawKey, StandardCharsets.UTF_8);
    }

    /**
     * Encodes a key the way S3 writes it into events: form URL encoding (space as {@code +}),
     * with {@code /} left as it is.
     */
    public static String encodeKey(String key) {
        return URLEncoder.encode(key, StandardCharsets.UTF_8).replace("%2F", "/");
    }

    private static JsonNode required(JsonNode node, String field, String where) {
        JsonNode child = node.get(field);
        if (child == null || !child.isObject()) {
            throw new IllegalArgumentException(where + "." + field + " is missing");
        }
        return child;
    }

    private static String requiredText(JsonNode node, String field, String where) {
        String value = text(node, field);
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException(where + "." + field + " is missing");
        }
        return value;
    }

    private static String text(JsonNode node, String field) {
        JsonNode child = node.get(field);
        return child == null || child.isNull() || child.isContainerNode() ? null : child.asText();
    }
}
