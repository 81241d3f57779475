package io.tidemark.e2e.rgw;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.functions.runtime.S3EventNotification;
import io.tidemark.testkit.rgw.RgwCluster;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The RGW storage itself, without local-cloud: a real RGW, its persistent topic pushing to the
 * receiver, and {@code awaitDelivered} waiting for exactly the events raised so far, including
 * those raised while nobody took them. Runs in the RGW pass; skips (one line) without radosgw.
 */
@Tag("rgw")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RgwStorageTest {
    private static final String BUCKET = "rgw-storage-test";
    private static final List<S3EventNotification.Record> RECEIVED = new CopyOnWriteArrayList<>();
    private static RgwStorage storage;
    private static S3Client s3;

    @BeforeAll
    static void start() {
        // the second e2e pass runs it; the first stays within its time budget
        org.junit.jupiter.api.Assumptions.assumeTrue("rgw".equals(System.getProperty(
                io.tidemark.e2e.ExternalStorage.PROPERTY)), "RgwStorageTest runs in the RGW pass only"
                + " (-Dtidemark.e2e.storage=rgw)");
        RgwCluster.assumeInstalled();
        storage = new RgwStorage();
        storage.start();
        s3 = S3Client.builder().endpointOverride(storage.s3Endpoint()).region(Region.US_EAST_1).forcePathStyle(true)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(
                        storage.s3Credentials().accessKeyId(), storage.s3Credentials().secretAccessKey())))
                .build();
        s3.createBucket(b -> b.bucket(BUCKET));
        storage.deliverEvents(BUCKET, RgwStorageTest::take);
    }

    private static Integer take(byte[] json) {
        List<S3EventNotification.Record> records = S3EventNotification.parse(json).records();
        RECEIVED.addAll(records);
        return records.size();
    }

    private static S3EventNotification.Record byName(String eventName) {
        return RECEIVED.stream().filter(r -> r.eventName().equals(eventName)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + eventName + " in " + RECEIVED));
    }

    @Test
    @Order(0)
    @Tag("unit")
    void rgwSequencersAreRewrittenToSortByTime() {
        // a PUT at second 0x6B155CC0 + 0x241FC876 ns, then a delete at + 0x2638694C ns
        String put = RgwStorage.sequencer("C05C156B76C81F24");
        String delete = RgwStorage.sequencer("C05C156B4C693826");
        assertEquals("6B155CC0241FC876", put);
        assertEquals("6B155CC02638694C", delete);
        assertTrue(put.compareTo(delete) < 0);
        assertEquals("0000000000000000", RgwStorage.sequencer("0000000000000000"));
        assertEquals("0A", RgwStorage.sequencer("0A"), "not RGW's form: left as it is");
    }

    @AfterAll
    static void stop() {
        if (s3 != null) {
            s3.close();
        }
        if (storage != null) {
            storage.close();
        }
    }

    @Test
    @Order(1)
    void aPutAndADeleteArriveAsAwsShapedEventsWithTheirVersions() throws Exception {
        String version = s3.putObject(b -> b.bucket(BUCKET).key("main/wal/a b+c"), RequestBody.fromString("x"))
                .versionId();
        String marker = s3.deleteObject(b -> b.bucket(BUCKET).key("main/wal/a b+c")).versionId();

        // the first events of a class can wait up to 30 s for radosgw to find the new persistent
        // queue (it looks every 30 s), then for the push: a 30 s wait was too short (seen in CI)
        assertTrue(storage.awaitDelivered(Duration.ofMinutes(2)), "RGW events not delivered");
        assertEquals(2, RECEIVED.size(), RECEIVED.toString());
        System.out.println("RGW events: " + RECEIVED);
        // RGW pushes a persistent topic's events concurrently: in any order, as S3 may
        S3EventNotification.Record created = byName("ObjectCreated:Put");
        assertEquals("ObjectCreated:Put", created.eventName());
        assertEquals("main/wal/a b+c", created.key());
        assertEquals(BUCKET, created.bucket());
        assertEquals(1, created.size());
        assertEquals(version, created.versionId());
        // what differs from AWS, and what the handlers do not read
        assertEquals("ceph:s3", created.eventSource());
        S3EventNotification.Record removed = byName("ObjectRemoved:DeleteMarkerCreated");
        assertEquals("ObjectRemoved:DeleteMarkerCreated", removed.eventName());
        // RGW 16 leaves the delete marker's version id out of its event (AWS sends it)
        assertTrue(marker != null && removed.versionId().isEmpty(), removed.toString());
        // the receiver made RGW's sequencers sort by time, as S3's do for one key
        assertTrue(created.sequencer().compareTo(removed.sequencer()) < 0, created.sequencer() + " " + removed.sequencer());
    }

    @Test
    @Order(2)
    void aMultipartUploadCountsAsDeliveredOnlyOnceItsEventArrived() throws Exception {
        RECEIVED.clear();
        String key = "main/backup/20261206-000000F/bundle/0.zst";
        String upload = s3.createMultipartUpload(b -> b.bucket(BUCKET).key(key)).uploadId();
        String etag = s3.uploadPart(b -> b.bucket(BUCKET).key(key).uploadId(upload).partNumber(1),
                RequestBody.fromString("part one")).eTag();
        s3.completeMultipartUpload(b -> b.bucket(BUCKET).key(key).uploadId(upload)
                .multipartUpload(m -> m.parts(p -> p.partNumber(1).eTag(etag))));

        assertTrue(storage.awaitDelivered(Duration.ofMinutes(2)), "RGW events not delivered");
        assertEquals(1, RECEIVED.size(), RECEIVED.toString());
        assertEquals("ObjectCreated:CompleteMultipartUpload", RECEIVED.get(0).eventName());
        assertEquals(key, RECEIVED.get(0).key());
    }

    @Test
    @Order(3)
    void aCreateOnlyPutOfAnExistingKeyMakesANewVersionAndItsEvent() throws Exception {
        RECEIVED.clear();
        String key = "main/wal/000000010000000000000001.zst";
        String first = s3.putObject(b -> b.bucket(BUCKET).key(key).ifNoneMatch("*"), RequestBody.fromString("one"))
                .versionId();
        // AWS answers 412; RGW 16 ignores If-None-Match on a versioned bucket
        String second = s3.putObject(b -> b.bucket(BUCKET).key(key).ifNoneMatch("*"), RequestBody.fromString("two"))
                .versionId();
        assertTrue(!first.equals(second), first);

        assertTrue(storage.awaitDelivered(Duration.ofMinutes(2)), "RGW events not delivered");
        assertEquals(java.util.Set.of(first, second), RECEIVED.stream().map(S3EventNotification.Record::versionId)
                .collect(java.util.stream.Collectors.toSet()));
        assertEquals(2, RECEIVED.size(), RECEIVED.toString());
        System.out.println("RGW events: " + RECEIVED);
    }

    /**
     * Object Lock on RGW, as the stack deploys it (governance default retention): the shim's own
     * PUT (its default client, CRC-32C in {@code x-amz-checksum-crc32c}) is accepted, the functions'
     * HEAD shows the retain-until date retention plans around, the locked version cannot be
     * deleted, and retention's delete (no version id) only hides it behind a marker.
     */
    @Test
    @Order(5)
    void aLockedObjectCannotBeDeletedAndShowsTheDateRetentionPlansAround() throws Exception {
        String bucket = "rgw-lock-test";
        s3.createBucket(b -> b.bucket(bucket).objectLockEnabledForBucket(true));
        s3.putObjectLockConfiguration(b -> b.bucket(bucket).objectLockConfiguration(c -> c
                .objectLockEnabled(software.amazon.awssdk.services.s3.model.ObjectLockEnabled.ENABLED)
                .rule(r -> r.defaultRetention(d -> d.mode(
                        software.amazon.awssdk.services.s3.model.ObjectLockRetentionMode.GOVERNANCE).days(1)))));
        String key = "main/backup/20261206-000000F/manifest.json";
        io.tidemark.shim.storage.SdkObjectStore shim = new io.tidemark.shim.storage.SdkObjectStore(
                java.util.Optional.of(storage.s3Endpoint()), bucket, true, "us-east-1",
                io.tidemark.shim.storage.CredentialSource.fixed(new io.tidemark.shim.storage.AwsCredentials(
                        storage.s3Credentials().accessKeyId(), storage.s3Credentials().secretAccessKey(), null)), 3);
        assertEquals(io.tidemark.shim.storage.ObjectStore.PutOutcome.CREATED, shim.putIfAbsent(key,
                "{\"manifest\": true}".getBytes(java.nio.charset.StandardCharsets.UTF_8), java.util.Map.of()));

        java.time.Instant until = new io.tidemark.functions.aws.S3ObjectStore(s3, bucket).head(key).orElseThrow()
                .retainUntil();
        assertTrue(until != null && until.isAfter(java.time.Instant.now().plus(Duration.ofHours(23))), String.valueOf(until));

        String version = s3.headObject(b -> b.bucket(bucket).key(key)).versionId();
        software.amazon.awssdk.services.s3.model.S3Exception refused = org.junit.jupiter.api.Assertions.assertThrows(
                software.amazon.awssdk.services.s3.model.S3Exception.class,
                () -> s3.deleteObject(b -> b.bucket(bucket).key(key).versionId(version)));
        assertEquals(403, refused.statusCode(), refused.toString());

        s3.deleteObject(b -> b.bucket(bucket).key(key));
        assertTrue(s3.listObjectVersions(b -> b.bucket(bucket).prefix(key)).versions().stream()
                .anyMatch(v -> v.versionId().equals(version)), "the locked version stays behind the delete marker");
    }

    @Test
    @Order(4)
    void eventsRaisedWhileDeliveryIsPausedAreKeptAndArriveLater() throws Exception {
        RECEIVED.clear();
        storage.holdDelivery();
        int refusedBefore = storage.refusedPushes();
        s3.putObject(b -> b.bucket(BUCKET).key("main/backup/x"), RequestBody.fromString("held"));

        assertFalse(storage.awaitDelivered(Duration.ofSeconds(2)), "no one took the event, yet it counts as delivered");
        // RGW pushed it and was refused (503): what arrives below is a push of it again
        assertTrue(storage.awaitRefused(refusedBefore, Duration.ofSeconds(60)), "RGW did not push the held event");
        assertTrue(RECEIVED.isEmpty(), RECEIVED.toString());

        storage.deliverEvents(BUCKET, RgwStorageTest::take);
        assertTrue(storage.awaitDelivered(Duration.ofSeconds(60)), "RGW did not push the held event again");
        assertEquals(List.of("main/backup/x"), RECEIVED.stream().map(S3EventNotification.Record::key).toList());
    }
}
