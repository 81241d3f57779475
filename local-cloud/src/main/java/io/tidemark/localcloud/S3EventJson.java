package io.tidemark.localcloud;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tidemark.events.json.Json;
import io.tidemark.functions.runtime.S3EventNotification;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;

/**
 * Builds the S3 event notification JSON (event structure 2.1) that S3 hands to Lambda for one
 * object, field for field as AWS documents it; the key is URL-encoded as S3 does it. A removal
 * ({@code ObjectRemoved:*}) carries no size and no eTag, as in S3.
 */
final class S3EventJson {

    static final ObjectMapper MAPPER = Json.mapper();
    private static final DateTimeFormatter EVENT_TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    /** What happened to which object; {@code key} is the real (decoded) key; size -1 and eTag null: none. */
    record ObjectEvent(
            String eventName,
            Instant eventTime,
            String bucket,
            String key,
            long size,
            String eTag,
            String sequencer,
            String requestId,
            String sourceIp,
            String versionId) {

        /** Without a version id: local-cloud's own S3 (S3Proxy's filesystem store) keeps no versions. */
        ObjectEvent(String eventName, Instant eventTime, String bucket, String key, long size, String eTag,
                    String sequencer, String requestId, String sourceIp) {
            this(eventName, eventTime, bucket, key, size, eTag, sequencer, requestId, sourceIp, null);
        }

        boolean isRemoval() {
            return eventName.startsWith("ObjectRemoved:") || eventName.startsWith("LifecycleExpiration:");
        }
    }

    private S3EventJson() {
    }

    static byte[] build(ObjectEvent e, String region, String principalId, String configurationId) {
        ObjectNode root = MAPPER.createObjectNode();
        ObjectNode r = root.putArray("Records").addObject();
        r.put("eventVersion", "2.1");
        r.put("eventSource", "aws:s3");
        r.put("awsRegion", region);
        r.put("eventTime", EVENT_TIME.format(e.eventTime().truncatedTo(ChronoUnit.MILLIS)));
        r.put("eventName", e.eventName());
        r.putObject("userIdentity").put("principalId", principalId);
        r.putObject("requestParameters").put("sourceIPAddress", e.sourceIp());
        ObjectNode response = r.putObject("responseElements");
        response.put("x-amz-request-id", e.requestId());
        response.put("x-amz-id-2", "tidemark-local-cloud/" + e.requestId());
        ObjectNode s3 = r.putObject("s3");
        s3.put("s3SchemaVersion", "1.0");
        s3.put("configurationId", configurationId);
        ObjectNode bucket = s3.putObject("bucket");
        bucket.put("name", e.bucket());
        bucket.putObject("ownerIdentity").put("principalId", principalId);
        bucket.put("arn", "arn:aws:s3:::" + e.bucket());
        ObjectNode object = s3.putObject("object");
        object.put("key", S3EventNotification.encodeKey(e.key()));
        if (e.size() >= 0) {
            object.put("size", e.size());
        }
        if (e.eTag() != null) {
            object.put("eTag", e.eTag());
        }
        if (e.versionId() != null && !e.versionId().isEmpty()) {
            object.put("versionId", e.versionId()); // external versioned storage: the version the event is about
        }
        object.put("sequencer", e.sequencer());
        try {
            return MAPPER.writeValueAsBytes(root);
        } catch (Exception ex) {
            throw new IllegalStateException("cannot write S3 event JSON", ex);
        }
    }
}
