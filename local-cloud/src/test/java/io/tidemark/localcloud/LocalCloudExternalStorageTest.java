package io.tidemark.localcloud;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.functions.runtime.AwsClients;
import io.tidemark.functions.runtime.PrimingEvents;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;

/**
 * External storage (the LocalStack mode): a second local cloud runs its API and functions on the
 * S3 and DynamoDB of a first one, as it would on LocalStack's, and its functions get the events
 * handed to {@code deliverS3Event}.
 */
class LocalCloudExternalStorageTest {

    @Test
    void functionsRunOnExternalStorageAndGetTheEventsHandedIn(@TempDir Path dir) throws Exception {
        try (LocalCloud storage = LocalCloud.builder().dir(dir.resolve("storage")).start()) {
            Path functionsDir = dir.resolve("functions");
            Files.createDirectories(functionsDir);
            // The same keys as the storage, as a LocalStack user would configure (LocalStack takes any).
            Files.copy(dir.resolve("storage").resolve(LocalCredentials.FILE_NAME), functionsDir.resolve(LocalCredentials.FILE_NAME));
            RecordingHandler wal = new RecordingHandler();
            RecordingHandler follows = new RecordingHandler();
            try (LocalCloud cloud = LocalCloud.builder().dir(functionsDir).bucket("external-archive")
                    .externalStorage(storage.s3Endpoint(), storage.dynamoDbEndpoint())
                    .onObjectCreated("wal", "main/wal/", null, config -> wal)
                    .onObjectCreatedAndRemoved("follows", "main/wal/", null, config -> follows)
                    .start()) {
                assertEquals(storage.s3Endpoint(), cloud.s3Endpoint());
                assertEquals(storage.dynamoDbEndpoint().toString(),
                        cloud.functionConfig().dynamoDbEndpoint().orElseThrow().toString());
                try (AwsClients aws = AwsClients.create(cloud.functionConfig())) {
                    // the bucket was created on the external S3
                    aws.s3().putObject(b -> b.bucket("external-archive").key("main/wal/x"), RequestBody.fromString("x"));
                    assertEquals("tidemark", aws.dynamoDb().describeTable(b -> b.tableName(cloud.table())).table().tableName());
                }
                int n = cloud.deliverS3Event(PrimingEvents.objectCreated(cloud.region(), "external-archive", "main/wal/x"));
                assertEquals(1, n);
                assertEquals(0, cloud.deliverS3Event(PrimingEvents.objectCreated(cloud.region(), "another-bucket",
                        "main/wal/y")), "a record of another bucket is not this cloud's");
                // a removal: only to the function that follows removals, without size and eTag as S3 sends it
                String removal = new String(PrimingEvents.objectCreated(cloud.region(), "external-archive", "main/wal/x"),
                        java.nio.charset.StandardCharsets.UTF_8).replace("ObjectCreated:Put", "ObjectRemoved:Delete")
                        .replaceAll(",?\\s*\"size\"\\s*:\\s*[0-9]+", "").replaceAll(",?\\s*\"eTag\"\\s*:\\s*\"[^\"]*\"", "");
                assertTrue(removal.contains("ObjectRemoved:Delete") && !removal.contains("eTag"), removal);
                assertEquals(1, cloud.deliverS3Event(removal.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
                assertTrue(cloud.awaitQuiescent(Duration.ofSeconds(30)));
                assertEquals(2, follows.events.size(), follows.events.toString());
                assertTrue(follows.events.get(1).contains("\"eventName\":\"ObjectRemoved:Delete\""), follows.events.get(1));
                assertTrue(!follows.events.get(1).contains("\"size\"") && !follows.events.get(1).contains("\"eTag\""),
                        follows.events.get(1));
                assertEquals(1, wal.events.size());
                assertTrue(wal.events.get(0).contains("\"key\":\"main/wal/x\""), wal.events.get(0));
                assertEquals(java.util.List.of(), cloud.failedEvents());
            }
            assertThrows(IllegalStateException.class,
                    () -> storage.deliverS3Event(PrimingEvents.objectCreated("us-east-1", "tidemark", "main/wal/x")),
                    "local-cloud's own S3 raises its own events");
        }
    }

    @Test
    void externalS3WithItsOwnKeysKeepsDynamoDbLocalHere(@TempDir Path dir) throws Exception {
        try (LocalCloud storage = LocalCloud.builder().dir(dir.resolve("storage")).start()) {
            // S3 that knows only its own users (Ceph RGW): this cloud must sign with that key pair
            LocalCredentials s3Keys = storage.credentials();
            try (LocalCloud cloud = LocalCloud.builder().dir(dir.resolve("functions")).bucket("rgw-archive")
                    .externalS3(storage.s3Endpoint(), s3Keys)
                    .start()) {
                assertEquals(storage.s3Endpoint(), cloud.s3Endpoint());
                assertEquals(s3Keys, cloud.credentials());
                assertTrue(!Files.exists(dir.resolve("functions").resolve(LocalCredentials.FILE_NAME)),
                        "no key pair of its own is generated");
                assertTrue(!cloud.dynamoDbEndpoint().equals(storage.dynamoDbEndpoint()), "DynamoDB Local runs here");
                assertEquals(s3Keys.accessKeyId(), cloud.clientConfig().get("s3.accessKeyId"));
                try (AwsClients aws = AwsClients.create(cloud.functionConfig())) {
                    aws.s3().putObject(b -> b.bucket("rgw-archive").key("main/wal/x"), RequestBody.fromString("x"));
                    assertEquals("tidemark", aws.dynamoDb().describeTable(b -> b.tableName(cloud.table())).table().tableName());
                }
                assertEquals(1, cloud.deliverS3Event(PrimingEvents.objectCreated(cloud.region(), "rgw-archive",
                        "main/wal/x")));
            }
        }
    }
}
