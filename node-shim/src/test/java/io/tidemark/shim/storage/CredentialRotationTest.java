package io.tidemark.shim.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.events.layout.StanzaName;
import io.tidemark.shim.api.ApiException;
import io.tidemark.shim.api.CatalogApi;
import io.tidemark.shim.config.ShimConfig;
import io.tidemark.testkit.aws.RotatingCredentials;
import io.tidemark.testkit.aws.SigningStandIn;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The shim's signers against a service that refuses expired keys as AWS does, with session keys
 * from a container-credentials endpoint ({@code credentials.uri}) that rotates every second and
 * lets each key live three: every store and the catalog API keep working through at least five
 * rotations with no refused request and no retry (retries=0), and a signer that kept its first
 * keys is refused once they expire.
 */
@Tag("unit")
class CredentialRotationTest {
    static final int ROTATIONS = 5;

    RotatingCredentials rotating;
    SigningStandIn aws;

    @BeforeEach
    void start() {
        rotating = new RotatingCredentials(Duration.ofSeconds(1), Duration.ofSeconds(3));
        aws = new SigningStandIn(rotating);
    }

    @AfterEach
    void stop() {
        aws.close();
        rotating.close();
    }

    ShimConfig config() {
        Properties p = new Properties();
        p.setProperty("s3.endpoint", aws.endpoint().toString());
        p.setProperty("s3.region", "us-east-1");
        p.setProperty("s3.bucket", "tidemark");
        p.setProperty("s3.pathStyle", "true");
        p.setProperty("credentials.uri", rotating.uri().toString());
        p.setProperty("api.url", aws.endpoint().toString());
        p.setProperty("retries", "0");
        return ShimConfig.of(Path.of("rotation.conf"), p, "main", Map.of());
    }

    /**
     * Runs {@code step} until the endpoint has handed out {@link #ROTATIONS} more keys than it had:
     * the client went through five key changes (keys are issued when asked for).
     */
    int throughRotations(Runnable step) {
        int first = rotating.issuedCount();
        int n = 0;
        while (rotating.issuedCount() - first < ROTATIONS + 1) {
            step.run();
            n++;
        }
        return n;
    }

    @Test
    void theStoreAsksItsSourceForEveryRequest() {
        try (ObjectStore store = Stores.open(config(), CredentialSource.of(config(), Map.of()))) {
            int[] i = {0};
            int steps = throughRotations(() -> {
                String key = "main/wal/" + i[0]++;
                byte[] body = ("segment " + key).getBytes(StandardCharsets.UTF_8);
                assertEquals(ObjectStore.PutOutcome.CREATED, store.putIfAbsent(key, body, Map.of("sha256", "x")));
                assertEquals(body.length, store.head(key).orElseThrow().size());
                assertArrayEquals(body, store.get(key).orElseThrow().data());
            });
            assertTrue(steps > ROTATIONS, steps + " steps");
        }
        assertEquals(java.util.List.of(), aws.refused());
        assertTrue(aws.keysSeen().size() >= ROTATIONS, "requests signed by " + aws.keysSeen().size() + " keys");
    }

    @Test
    void theCatalogApiSignsEveryCallWithTheKeysOfTheMoment() {
        ShimConfig c = config();
        CatalogApi api = new CatalogApi(c.requireApiUrl(), c.apiRegion(), CredentialSource.of(c, Map.of()), Retry.of(0));
        throughRotations(() -> assertEquals(200, api.getStanza(StanzaName.of("main")).status()));
        assertEquals(java.util.List.of(), aws.refused());
        assertTrue(aws.keysSeen().size() >= ROTATIONS, aws.keysSeen().toString());
        assertTrue(aws.accepted().stream().allMatch(a -> a.service().equals("execute-api")));
    }

    /**
     * Keys the service already holds for expired (clock skew, or expiry in flight) are refused
     * with ExpiredToken: the request is retried, the reader drops them, and the retry signs with
     * the endpoint's next keys.
     */
    @Test
    void keysRefusedAsExpiredAreDroppedAndTheRetrySignsWithNewOnes() {
        // a minute's lifetime: without dropping them, the reader would keep the refused keys ~30 s
        try (RotatingCredentials minute = new RotatingCredentials(Duration.ofSeconds(1), Duration.ofSeconds(60))) {
            RotatingCredentials.Issued poisoned = minute.newest();
            try (SigningStandIn skewed = new SigningStandIn(id -> id.equals(poisoned.accessKeyId())
                    ? java.util.Optional.of(new SigningStandIn.Key(poisoned.secret(), poisoned.token(), Instant.EPOCH))
                    : minute.lookup(id));
                 ObjectStore store = sdkStore(skewed.endpoint(), CredentialSource.endpoint(minute.uri()), 3)) {
                store.putIfAbsent("main/after-refusal", new byte[] {1, 2, 3}, Map.of());
                assertTrue(!skewed.refused().isEmpty(), "the first attempt was signed with the refused keys");
                assertTrue(skewed.refused().stream().allMatch(r -> r.startsWith("ExpiredToken: key " + poisoned.accessKeyId())),
                        skewed.refused().toString());
                assertEquals(1, skewed.accepted().size());
                assertTrue(!skewed.accepted().get(0).accessKeyId().equals(poisoned.accessKeyId()));
            }
        }
    }

    /** The control: keys resolved once, as the shim did before, die with their session. */
    @Test
    void keysResolvedOnceAreRefusedWhenTheyExpire() throws Exception {
        RotatingCredentials.Issued k = rotating.newest();
        CredentialSource once = CredentialSource.fixed(new AwsCredentials(k.accessKeyId(), k.secret(), k.token()));
        ShimConfig c = config();
        CredentialSource wrongSecret = CredentialSource.fixed(new AwsCredentials(k.accessKeyId(), "not" + k.secret(), k.token()));
        try (ObjectStore store = sdkStore(aws.endpoint(), wrongSecret, 0)) {
            StorageException e = assertThrows(StorageException.class, () -> store.head("main/a"));
            assertEquals("S3 HEAD main/a failed: HTTP 403", e.getMessage(), "the stand-in checks signatures");
        }
        try (ObjectStore store = sdkStore(aws.endpoint(), once, 0)) {
            store.putIfAbsent("main/a", new byte[] {1}, Map.of());
            Thread.sleep(Math.max(0, Duration.between(Instant.now(), k.expiration()).toMillis() + 50));
            StorageException e = assertThrows(StorageException.class, () -> store.putIfAbsent("main/b", new byte[] {2}, Map.of()));
            assertEquals("S3 PUT main/b failed: HTTP 400 ExpiredToken: The provided token has expired. (keys "
                    + k.accessKeyId() + " from fixed keys)", e.getMessage());
            assertTrue(!e.retryable(), "fixed keys do not get better by retrying");
        }
        CatalogApi api = new CatalogApi(c.requireApiUrl(), c.apiRegion(), once, Retry.of(0));
        ApiException e = assertThrows(ApiException.class, () -> api.getStanza(StanzaName.of("main")));
        assertTrue(e.getMessage().contains("HTTP 403: The security token included in the request is expired"), e.getMessage());
    }

    @Test
    void anEndpointThatIsDownFailsTheRequestRetryablyAndTheNextRequestRecovers() {
        rotating.down();
        CredentialSource source = CredentialSource.endpoint(rotating.uri());
        try (ObjectStore store = sdkStore(aws.endpoint(), source, 2)) {
            StorageException e = assertThrows(StorageException.class, () -> store.head("main/x"));
            assertTrue(e.retryable());
            assertTrue(e.getMessage().startsWith("no AWS credentials: cannot read credentials from " + rotating.uri()
                    + ": ConnectException"), e.getMessage());
            assertEquals(0, aws.accepted().size() + aws.refused().size(), "nothing unsigned was sent");
            rotating.up();
            assertTrue(store.head("main/x").isEmpty());
            assertEquals(1, aws.accepted().size());
        }
    }

    private static ObjectStore sdkStore(java.net.URI endpoint, CredentialSource source, int retries) {
        return new SdkObjectStore(java.util.Optional.of(endpoint), "tidemark", true, "us-east-1", source, retries);
    }
}
