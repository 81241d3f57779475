package io.tidemark.functions.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.time.Instant;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class S3EventNotificationTest {

    @Test
    void parsesAPutEventAndDecodesTheKey() {
        S3EventNotification event = S3EventNotification.parse(
                new ByteArrayInputStream(TestResources.bytes("s3-event-put.json")));

        assertFalse(event.testEvent());
        assertEquals(1, event.records().size());
        S3EventNotification.Record r = event.records().get(0);
        assertEquals("2.1", r.eventVersion());
        assertEquals("aws:s3", r.eventSource());
        assertEquals("eu-west-1", r.awsRegion());
        assertEquals(Instant.parse("2025-03-14T09:26:53.589Z"), r.eventTime());
        assertEquals("ObjectCreated:Put", r.eventName());
        assertTrue(r.isObjectCreated());
        assertFalse(r.isObjectRemoved());
        assertEquals("AWS:AROAEXAMPLEROLEID:tidemark-node-pg1", r.principalId());
        assertEquals("10.0.1.17", r.sourceIpAddress());
        assertEquals("tidemark-wal-indexer", r.configurationId());
        assertEquals("tidemark-archive-eu", r.bucket());
        assertEquals("arn:aws:s3:::tidemark-archive-eu", r.bucketArn());
        assertEquals("main cluster/wal/0000000100000000/000000010000000000000001.zst", r.key());
        assertEquals("main+cluster/wal/0000000100000000/000000010000000000000001.zst", r.rawKey());
        assertEquals(3145728L, r.size());
        assertEquals("d41d8cd98f00b204e9800998ecf8427e", r.eTag());
        assertEquals("096fKKXTRTtl3on89fVO.nfljtsv6qko", r.versionId());
        assertEquals("0055AED6DCD90281E5", r.sequencer());
    }

    @Test
    void decodesPercentEncodedUnicodePlusAndSlash() {
        S3EventNotification event = S3EventNotification.parse(TestResources.bytes("s3-event-mixed.json"));

        assertEquals(2, event.records().size());
        S3EventNotification.Record created = event.records().get(0);
        assertEquals("ObjectCreated:CompleteMultipartUpload", created.eventName());
        assertEquals("caf\u00e9/na\u00efve/c++ 1=1.json", created.key());
        assertEquals(16777216L, created.size());
        assertEquals("9b2cf535f27731c974343645a3985328-2", created.eTag());
        assertNull(created.versionId());

        S3EventNotification.Record removed = event.records().get(1);
        assertTrue(removed.isObjectRemoved());
        assertEquals("old/backup.tar", removed.key());
        assertEquals(-1L, removed.size());
        assertNull(removed.eTag());
    }

    @Test
    void theS3TestEventHasNoRecords() {
        S3EventNotification event = S3EventNotification.parse(TestResources.bytes("s3-test-event.json"));
        assertTrue(event.testEvent());
        assertTrue(event.records().isEmpty());
    }

    @Test
    void encodeKeyMatchesS3AndRoundTrips() {
        assertEquals("red+flower.jpg", S3EventNotification.encodeKey("red flower.jpg"));
        assertEquals("a/b/c%2Bd+e%3D1", S3EventNotification.encodeKey("a/b/c+d e=1"));
        assertEquals("caf%C3%A9", S3EventNotification.encodeKey("caf\u00e9"));
        for (String key : new String[] {"main/wal/00000001.history", "x y+z/\u00e9\u00e8/\u65e5\u672c", "100%/~*"}) {
            assertEquals(key, S3EventNotification.decodeKey(S3EventNotification.encodeKey(key)));
        }
    }

    @Test
    void reportsWhatIsMissing() {
        IllegalArgumentException noRecords = assertThrows(IllegalArgumentException.class,
                () -> S3EventNotification.parse("{\"foo\":1}"));
        assertTrue(noRecords.getMessage().contains("Records"), noRecords.getMessage());

        IllegalArgumentException noKey = assertThrows(IllegalArgumentException.class,
                () -> S3EventNotification.parse("{\"Records\":[{\"eventName\":\"ObjectCreated:Put\","
                        + "\"s3\":{\"bucket\":{\"name\":\"b\"},\"object\":{\"size\":1}}}]}"));
        assertTrue(noKey.getMessage().contains("Records[0].s3.object.key"), noKey.getMessage());

        IllegalArgumentException badKey = assertThrows(IllegalArgumentException.class,
                () -> S3EventNotification.parse("{\"Records\":[{\"eventName\":\"ObjectCreated:Put\","
                        + "\"s3\":{\"bucket\":{\"name\":\"b\"},\"object\":{\"key\":\"a%zz\"}}}]}"));
        assertTrue(badKey.getMessage().contains("not URL-encoded"), badKey.getMessage());
    }
}
