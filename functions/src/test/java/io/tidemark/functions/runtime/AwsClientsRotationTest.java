package io.tidemark.functions.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.functions.aws.SigV4UrlSigner;
import io.tidemark.functions.plan.UrlSigner;
import io.tidemark.testkit.aws.RotatingCredentials;
import io.tidemark.testkit.aws.SigningStandIn;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/**
 * A function's clients with {@code TIDEMARK_CREDENTIALS_URI}: S3, DynamoDB and the planner's URL
 * signer against a stand-in that checks signatures and refuses expired keys, with session keys
 * that rotate every second and live three. Five key changes, no refused request.
 */
@Tag("unit")
class AwsClientsRotationTest {
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

    FunctionConfig config() {
        return FunctionConfig.of(Map.of(
                FunctionConfig.BUCKET, "tidemark", FunctionConfig.TABLE, "tidemark", FunctionConfig.REGION, "us-east-1",
                FunctionConfig.S3_ENDPOINT, aws.endpoint().toString(),
                FunctionConfig.DYNAMODB_ENDPOINT, aws.endpoint().toString(),
                FunctionConfig.S3_PATH_STYLE, "true",
                FunctionConfig.CREDENTIALS_URI, rotating.uri().toString()));
    }

    @Test
    void everyClientKeepsWorkingThroughFiveRotations() throws Exception {
        try (AwsClients clients = AwsClients.create(config())) {
            assertTrue(clients.credentialsProvider() instanceof RenewableCredentials r
                    && r.delegate() instanceof EndpointCredentials, clients.credentialsProvider().toString());
            SigV4UrlSigner signer = new SigV4UrlSigner(clients.credentialsProvider(), "us-east-1", "tidemark",
                    aws.endpoint(), true, Clock.systemUTC());
            int first = rotating.issuedCount();
            int i = 0;
            while (rotating.issuedCount() - first < 6) {
                String key = "main/stanza-" + i++ + ".json";
                byte[] body = ("{\"n\":" + i + "}").getBytes(StandardCharsets.UTF_8);
                clients.s3().putObject(p -> p.bucket("tidemark").key(key), RequestBody.fromBytes(body));
                assertArrayEquals(body, clients.s3().getObjectAsBytes(g -> g.bucket("tidemark").key(key)).asByteArray());
                assertFalse(clients.dynamoDb().getItem(g -> g.tableName("tidemark")
                        .key(Map.of("pk", AttributeValue.fromS("STANZA#main"), "sk", AttributeValue.fromS("META")))).hasItem());
                UrlSigner.Signed signed = signer.sign(List.of(key), Duration.ofHours(1));
                String url = signed.urls().get(key);
                assertTrue(url.contains("X-Amz-Security-Token="), url);
                // the planner says when the URLs die: with the keys, long before the hour
                assertTrue(signed.keysExpireAt().orElseThrow().isBefore(Instant.now().plusSeconds(4)), signed.toString());
                HttpURLConnection c = (HttpURLConnection) URI.create(url).toURL().openConnection();
                assertEquals(200, c.getResponseCode(), url);
                try (var in = c.getInputStream()) {
                    assertArrayEquals(body, in.readAllBytes());
                }
            }
        }
        assertEquals(List.of(), aws.refused());
        assertTrue(aws.keysSeen().size() >= 5, "requests signed by " + aws.keysSeen().size() + " keys");
        assertTrue(aws.accepted().stream().map(SigningStandIn.Accepted::service).toList().containsAll(List.of("s3", "dynamodb")));
    }

    @Test
    void anEndpointThatIsDownFailsTheCallNamingItAndTheNextCallRecovers() {
        rotating.down();
        try (AwsClients clients = AwsClients.create(config())) {
            SdkClientException e = assertThrows(SdkClientException.class,
                    () -> clients.s3().headObject(h -> h.bucket("tidemark").key("main/x")));
            assertTrue(e.getMessage().contains("cannot read credentials from " + rotating.uri()), e.getMessage());
            rotating.up();
            aws.putObject("tidemark/main/x", new byte[] {7});
            assertEquals(1L, clients.s3().headObject(h -> h.bucket("tidemark").key("main/x")).contentLength());
        }
    }

    @Test
    void afterASnapshotRestoreTheEndpointIsReadAfresh() {
        try (AwsClients clients = AwsClients.create(config())) {
            RenewableCredentials r = (RenewableCredentials) clients.credentialsProvider();
            clients.credentialsProvider().resolveCredentials();
            EndpointCredentials before = (EndpointCredentials) r.delegate();
            assertTrue(clients.renewCredentials());
            EndpointCredentials after = (EndpointCredentials) r.delegate();
            assertTrue(before != after && after.endpoint().fetches() == 0, "nothing resolved before the snapshot carries over");
            assertEquals(rotating.uri(), after.endpoint().uri());
        }
    }
}
