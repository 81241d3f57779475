package io.tidemark.shim.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.localcloud.LocalCloud;
import io.tidemark.localcloud.iam.StackAccess;
import io.tidemark.shim.config.ShimConfig;
import io.tidemark.shim.support.TestCloud;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.MultipartUpload;

/**
 * Objects above the multipart threshold, against the local cloud with the stack's IAM and bucket
 * policy enforced, written with a node's role (session keys from its credentials endpoint): a
 * threshold of 5 MB sends a 12 MB spooled file in three parts and a 7 MB array in two, create-only
 * (an identical re-upload is success, a different one is refused and the object stays); a part
 * that fails mid-upload aborts the upload, and no part is left in the bucket.
 */
@Tag("localcloud")
class MultipartUploadCloudTest {
    static final String STANZA = "main";

    @TempDir
    static Path dir;
    static LocalCloud cloud;
    static S3Client operator;

    @BeforeAll
    static void start() {
        StackAccess access = LocalCloud.defaultStackAccess();
        cloud = LocalCloud.builder().dir(dir.resolve("cloud")).enforce(access, access).start();
        operator = TestCloud.client(cloud);
    }

    @AfterAll
    static void stop() {
        if (operator != null) {
            operator.close();
        }
        if (cloud != null) {
            cloud.close();
        }
    }

    /** The node's configuration: the local cloud's endpoint, the node role's credentials, 5 MB parts above 5 MB. */
    static ShimConfig config() {
        Properties p = new Properties();
        Map<String, String> c = cloud.clientConfig();
        for (String k : List.of("s3.endpoint", "s3.region", "s3.bucket", "s3.pathStyle")) {
            p.setProperty(k, c.get(k));
        }
        p.setProperty("credentials.uri", cloud.nodeCredentialsUri(STANZA).toString());
        p.setProperty("retries", "1");
        p.setProperty("s3.multipart-threshold", "5MB");
        p.setProperty("s3.multipart-part-size", "5MB");
        p.setProperty("s3.multipart-process", "2");
        return ShimConfig.of(dir.resolve("node.conf"), p, STANZA, Map.of());
    }

    static SdkObjectStore open() {
        ShimConfig config = config();
        return (SdkObjectStore) Stores.open(config, CredentialSource.of(config, Map.of()));
    }

    static Path file(String name, long size, long seed) throws IOException {
        byte[] data = new byte[(int) size];
        new Random(seed).nextBytes(data);
        return Files.write(dir.resolve(name), data);
    }

    static List<MultipartUpload> uploadsUnder(String key) {
        return operator.listMultipartUploads(r -> r.bucket(cloud.bucket()).prefix(key)).uploads();
    }

    static CreateOnly.Result create(ObjectStore store, String key, Path body) throws IOException {
        String sha = CreateOnly.sha256(Files.readAllBytes(body));
        return CreateOnly.byMetadata(store, key, body, Map.of("sha256", sha), "sha256", sha);
    }

    @Test
    void aLargeFileGoesInPartsCreateOnlyAndAnIdenticalReUploadIsSuccessADifferentOneRefused() throws IOException {
        String key = STANZA + "/backup/20261207-010000F/pg_data/base/5/16384.zst";
        Path first = file("first", 12 * Multipart.MIB + 123, 1);
        try (SdkObjectStore store = open()) {
            assertInstanceOf(CreateOnly.Result.Created.class, create(store, key, first));
            // S3's ETag of a multipart object ends in -<parts>
            String etag = operator.headObject(r -> r.bucket(cloud.bucket()).key(key)).eTag();
            assertTrue(etag.endsWith("-3\""), "three parts of 5 MB: " + etag);
            assertArrayEquals(Files.readAllBytes(first), store.get(key).orElseThrow().data());
            assertEquals(CreateOnly.sha256(Files.readAllBytes(first)), store.head(key).orElseThrow().metadata().get("sha256"));

            assertInstanceOf(CreateOnly.Result.Identical.class, create(store, key, first), "the same bytes again");
            Path other = file("other", 12 * Multipart.MIB + 123, 2);
            CreateOnly.Result d = create(store, key, other);
            assertEquals(new CreateOnly.Result.Different(key, CreateOnly.sha256(Files.readAllBytes(first)),
                    CreateOnly.sha256(Files.readAllBytes(other))), d);
            assertArrayEquals(Files.readAllBytes(first), store.get(key).orElseThrow().data(), "the first object stays");
            assertEquals(List.of(), uploadsUnder(key), "the refused uploads were aborted");

            // an array above the threshold too (a large WAL segment held in memory)
            String walKey = STANZA + "/wal/0000000100000000/000000010000000000000007.zst";
            byte[] wal = Files.readAllBytes(file("wal", 7 * Multipart.MIB, 3));
            assertEquals(ObjectStore.PutOutcome.CREATED, store.putIfAbsent(walKey, wal, Map.of("sha256", CreateOnly.sha256(wal))));
            assertTrue(operator.headObject(r -> r.bucket(cloud.bucket()).key(walKey)).eTag().endsWith("-2\""));
            assertEquals(ObjectStore.PutOutcome.ALREADY_EXISTS,
                    store.putIfAbsent(walKey, wal, Map.of("sha256", CreateOnly.sha256(wal))));
            assertArrayEquals(wal, store.get(walKey).orElseThrow().data());
            assertEquals(List.of(), uploadsUnder(walKey));
        }
    }

    @Test
    void aPartThatFailsMidUploadAbortsTheUploadAndLeavesNoPart() throws IOException {
        String key = STANZA + "/backup/20261207-020000F/pg_data/base/5/16385.zst";
        Path body = file("failing", 22 * Multipart.MIB, 4);
        try (SdkObjectStore store = open()) {
            AtomicInteger sent = new AtomicInteger();
            store.beforePart(n -> {
                if (n == 3) {
                    throw new StorageException("S3 PUT part 3 of " + key + " failed: connection reset (injected)", null, true);
                }
                sent.incrementAndGet();
            });
            StorageException e = assertThrows(StorageException.class, () -> create(store, key, body));
            assertEquals("S3 PUT part 3 of " + key + " failed: connection reset (injected) (the multipart upload was"
                    + " aborted, no part is left)", e.getMessage());
            assertTrue(e.retryable(), "the write may be tried again");
            assertTrue(sent.get() >= 1, "parts were sent before the failure: " + sent.get());
            assertTrue(store.head(key).isEmpty(), "no object");
            assertEquals(List.of(), uploadsUnder(key), "no upload, so no part, left");
            try (var files = Files.walk(dir.resolve("cloud"))) {
                assertEquals(List.of(), files.filter(f -> f.getFileName().toString().contains("mpu")).toList(),
                        "S3Proxy keeps no part or stub of it either");
            }

            store.beforePart(n -> { });
            assertInstanceOf(CreateOnly.Result.Created.class, create(store, key, body), "nothing was lost: it goes again");
            assertArrayEquals(Files.readAllBytes(body), store.get(key).orElseThrow().data());
        }
    }
}
