package io.tidemark.shim.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

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
            for (ObjectStore store : new ObjectStore[] {
                    new HttpObjectStore(cloud.s3Endpoint(), cloud.bucket(), true, cloud.region(), creds, Optional.of(ca)),
                    new SdkObjectStore(Optional.of(cloud.s3Endpoint()), cloud.bucket(), true, cloud.region(),
                            creds, 0, Optional.of(ca))}) {
                String key = "main/tls/" + store.getClass().getSimpleName();
                assertEquals(ObjectStore.PutOutcome.CREATED, store.putIfAbsent(key, body, Map.of("sha256", "x")));
                assertArrayEquals(body, store.get(key).orElseThrow().data());
            }
            ObjectStore untrusting = new HttpObjectStore(cloud.s3Endpoint(), cloud.bucket(), true, cloud.region(), creds,
                    Optional.empty());
            assertThrows(StorageException.class, () -> untrusting.head("main/tls/HttpObjectStore"));
        }
    }
}
