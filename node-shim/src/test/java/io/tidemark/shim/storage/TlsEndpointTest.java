package io.tidemark.shim.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.localcloud.LocalCloud;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shim's S3 client against local-cloud's HTTPS endpoint: trusted only through s3.caFile. */
@Tag("localcloud")
class TlsEndpointTest {
    @TempDir
    Path dir;

    @Test
    void putAndGetOverTlsWithThePrivateCaAndRefusedWithoutIt() {
        try (LocalCloud cloud = LocalCloud.builder().dir(dir).tls(true).start()) {
            CredentialSource creds = CredentialSource.fixed(new AwsCredentials(cloud.credentials().accessKeyId(),
                    cloud.credentials().secretAccessKey(), null));
            Path ca = cloud.s3CaFile().orElseThrow();
            byte[] body = "over tls".getBytes(StandardCharsets.UTF_8);
            try (ObjectStore store = new SdkObjectStore(Optional.of(cloud.s3Endpoint()), cloud.bucket(), true,
                    cloud.region(), creds, 0, Optional.of(ca))) {
                String key = "main/tls/object";
                assertEquals(ObjectStore.PutOutcome.CREATED, store.putIfAbsent(key, body, Map.of("sha256", "x")));
                assertArrayEquals(body, store.get(key).orElseThrow().data());
            }
            try (ObjectStore untrusting = new SdkObjectStore(Optional.of(cloud.s3Endpoint()), cloud.bucket(), true,
                    cloud.region(), creds, 0, Optional.empty())) {
                StorageException e = assertThrows(StorageException.class, () -> untrusting.head("main/tls/object"));
                assertTrue(e.getMessage().startsWith("S3 HEAD main/tls/object failed: "), e.getMessage());
            }
        }
    }
}
