package io.tidemark.functions.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.layout.StorageLayout;
import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalFileName;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.functions.aws.S3ObjectStore;
import io.tidemark.functions.index.TestWal;
import io.tidemark.functions.validate.TestBackup;
import io.tidemark.localcloud.LocalCloud;
import io.tidemark.localcloud.LocalCloudFunctions;
import io.tidemark.localcloud.iam.StackAccess;
import io.tidemark.testkit.aws.SignedApiCall;
import io.tidemark.testkit.wal.SyntheticWal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * A restore plan is bound to the principal that asked for it, in the local cloud that enforces
 * the stack's IAM (API Gateway's requestContext.identity filled from the SigV4 caller): node A's
 * plan renews for node A (any session of its role), and the planner refuses it to a node of
 * another stanza and to the operator, which the stack's IAM both lets through to the renewal
 * route ({@code GET /restore-plans/*}{@code /urls} cannot be scoped to a stanza by path).
 */
@Tag("localcloud")
class PlanBindingLocalCloudTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    static final StanzaName STANZA = StanzaName.of("bound");
    static final Instant T0 = Instant.parse("2026-03-02T00:00:00Z");

    @TempDir
    static Path dir;
    static LocalCloud cloud;
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        StackAccess access = LocalCloud.defaultStackAccess();
        cloud = LocalCloudFunctions.register(LocalCloud.builder()).dir(dir).enforce(access, access).start();
        AwsSessionCredentials node = keys(cloud.nodeCredentialsUri("bound"));
        HttpResponse<String> created = api("PUT", "/stanzas/bound",
                io.tidemark.functions.CloudFixture.stanzaBody(TestWal.SYSTEM_ID_TEXT, TestWal.SIZE.bytes()), node);
        assertEquals(200, created.statusCode(), created.body());

        // the node archives WAL 5..7 and a full backup of 5..6, with its own credentials
        try (S3Client s3 = S3Client.builder().endpointOverride(cloud.s3Endpoint()).region(Region.of(cloud.region()))
                .forcePathStyle(true).httpClient(UrlConnectionHttpClient.create())
                .credentialsProvider(() -> node)
                // a node may only create objects (the bucket policy refuses its unconditional PUTs)
                .overrideConfiguration(o -> o.addExecutionInterceptor(new software.amazon.awssdk.core.interceptor.ExecutionInterceptor() {
                    @Override
                    public software.amazon.awssdk.core.SdkRequest modifyRequest(
                            software.amazon.awssdk.core.interceptor.Context.ModifyRequest context,
                            software.amazon.awssdk.core.interceptor.ExecutionAttributes attributes) {
                        return context.request() instanceof software.amazon.awssdk.services.s3.model.PutObjectRequest p
                                ? p.toBuilder().ifNoneMatch("*").build() : context.request();
                    }
                }))
                .build()) {
            S3ObjectStore bucket = new S3ObjectStore(s3, cloud.bucket());
            SyntheticWal w = SyntheticWal.pg15OneMb();
            for (long s = 5; s <= 7; s++) {
                long micros = T0.plusSeconds(s).getEpochSecond() * 1_000_000L;
                w.commit(1000 + s, micros);
                w.switchSegment();
            }
            for (int i = 0; i < 3; i++) {
                byte[] raw = w.segment(i);
                String key = StorageLayout.walKey(STANZA, new WalFileName.Segment(
                        WalSegmentName.parse(w.segmentName(i), TestWal.SIZE)), Compression.ZSTD);
                bucket.put(key, TestWal.compress(Compression.ZSTD, raw), "application/octet-stream",
                        Map.of("sha256", TestWal.sha256(raw)));
            }
            quiesce();
            int size = TestWal.SIZE.bytes();
            BackupLabelName label = TestBackup.fullLabelAt(T0.plusMillis(6500).minusSeconds(30)); // labelled at its start
            TestBackup.build(STANZA, label, null, TestBackup.files("b"), Lsn.of(5L * size + 0x28),
                    Lsn.of(6L * size + 0x100), TimelineId.FIRST, T0.plusMillis(6500)).upload(bucket);
            quiesce();
        }
        JsonNode st = JSON.readTree(api("GET", "/stanzas/bound", null, node).body());
        assertEquals("valid", st.get("backups").get(0).get("status").asText(), st.toString());
    }

    @AfterAll
    static void stop() {
        if (cloud != null) {
            cloud.close();
        }
    }

    @Test
    void aPlanRenewsOnlyForThePrincipalThatAskedForIt() throws Exception {
        HttpResponse<String> plan = api("POST", "/stanzas/bound/restore-plans", "{\"target\":{\"type\":\"immediate\"}}",
                keys(cloud.nodeCredentialsUri("bound")));
        assertEquals(201, plan.statusCode(), plan.body());
        JsonNode document = JSON.readTree(plan.body()).path("plan").path("document");
        String planId = document.path("planId").asText();
        assertEquals(Duration.ofHours(1), Duration.between(Instant.parse(document.path("createdAt").asText()),
                Instant.parse(document.path("expiresAt").asText())), document.toString());
        String urls = "/restore-plans/" + planId + "/urls";

        // node A again, with fresh session keys of its role: renewed
        HttpResponse<String> own = api("GET", urls, null, keys(cloud.nodeCredentialsUri("bound")));
        assertEquals(200, own.statusCode(), own.body());
        assertEquals(planId, JSON.readTree(own.body()).path("planId").asText());

        // a node of another stanza: IAM lets it reach the route, the planner refuses the plan
        HttpResponse<String> other = api("GET", urls, null, keys(cloud.nodeCredentialsUri("other")), cloud.apiKey("other"));
        assertEquals(403, other.statusCode(), other.body());
        assertEquals("restore plan " + planId + " is bound to the principal that asked for it, and "
                + "000000000000:role/tidemark-node-other is not that principal: ask for a plan of your own",
                JSON.readTree(other.body()).path("message").asText(), other.body());

        // the operator (Allow * in IAM) is not the plan's principal either
        HttpResponse<String> operator = api("GET", urls, null, keys(cloud.operatorCredentialsUri()));
        assertEquals(403, operator.statusCode(), operator.body());
        assertTrue(JSON.readTree(operator.body()).path("message").asText().contains(
                "is bound to the principal that asked for it"), operator.body());
    }

    // ---------------------------------------------------------------- helpers

    static void quiesce() throws InterruptedException {
        if (!cloud.awaitQuiescent(Duration.ofSeconds(30))) {
            throw new AssertionError("S3 events still pending");
        }
    }

    /** The principal's current session keys from its credentials endpoint. */
    static AwsSessionCredentials keys(URI endpoint) throws Exception {
        try (HttpClient http = HttpClient.newHttpClient()) {
            JsonNode c = JSON.readTree(http.send(HttpRequest.newBuilder(endpoint).build(),
                    HttpResponse.BodyHandlers.ofString()).body());
            return AwsSessionCredentials.create(c.path("AccessKeyId").asText(), c.path("SecretAccessKey").asText(),
                    c.path("Token").asText());
        }
    }

    /** A call to the local API signed (SigV4, execute-api) with {@code keys}, as the shim signs it, with stanza bound's API key. */
    static HttpResponse<String> api(String method, String path, String body, AwsSessionCredentials keys)
            throws Exception {
        return api(method, path, body, keys, cloud.apiKey("bound"));
    }

    /** As above with {@code apiKey} as {@code x-api-key}. */
    static HttpResponse<String> api(String method, String path, String body, AwsSessionCredentials keys, String apiKey)
            throws Exception {
        return new SignedApiCall(cloud.region(), keys, apiKey).send(method, cloud.apiUrl().resolve(path), body);
    }
}
