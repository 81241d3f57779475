package io.tidemark.localcloud;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.localcloud.iam.StackAccess;
import io.tidemark.testkit.aws.SignedApiCall;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.DynamoDbException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Each principal's refused calls, judged by the policies of the template infra-cdk synthesizes
 * (the real {@link StackAccess}, not a hand-made policy) in a local cloud with the product's
 * functions: a node cannot delete, cannot read or list another stanza, cannot call the API (the
 * planner included) for another stanza; a function cannot touch what its role does not name;
 * only the retention function deletes. Every refusal is AWS's error and is recorded with
 * principal, action and resource.
 */
@Tag("localcloud")
class StackEnforcementTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;

    static LocalCloud cloud;
    /** The bucket outside the stack that bench/ points pgBackRest at (--comparison-bucket). */
    static final String COMPARISON = "other-tool";

    @BeforeAll
    static void start() {
        StackAccess access = LocalCloud.defaultStackAccess();
        cloud = LocalCloudFunctions.register(LocalCloud.builder()).dir(dir).enforce(access, access)
                .comparisonBucket(COMPARISON).start();
    }

    @AfterAll
    static void stop() {
        if (cloud != null) {
            cloud.close();
        }
    }

    @Test
    void aNodeWritesAndReadsItsStanzaButNeverDeletesNorTouchesAnotherStanza() throws Exception {
        try (S3Client node = s3(session(cloud.nodeCredentialsUri("main")))) {
            node.putObject(b -> b.bucket(cloud.bucket()).key("main/wal/probe").ifNoneMatch("*"), RequestBody.fromString("x"));
            assertEquals("x", node.getObjectAsBytes(b -> b.bucket(cloud.bucket()).key("main/wal/probe")).asUtf8String());
            node.listObjectsV2(b -> b.bucket(cloud.bucket()).prefix("main/wal/"));

            assertDenied(() -> node.deleteObject(b -> b.bucket(cloud.bucket()).key("main/wal/probe")),
                    "node/main", "s3:DeleteObject", "arn:aws:s3:::tidemark/main/wal/probe");
            assertDenied(() -> node.getObject(b -> b.bucket(cloud.bucket()).key("other/wal/probe")),
                    "node/main", "s3:GetObject", "arn:aws:s3:::tidemark/other/wal/probe");
            assertDenied(() -> node.putObject(b -> b.bucket(cloud.bucket()).key("other/wal/probe").ifNoneMatch("*"),
                    RequestBody.fromString("x")),
                    "node/main", "s3:PutObject", "arn:aws:s3:::tidemark/other/wal/probe");
            assertDenied(() -> node.listObjectsV2(b -> b.bucket(cloud.bucket()).prefix("other/")),
                    "node/main", "s3:ListBucket", "arn:aws:s3:::tidemark");
        }
    }

    @Test
    void aNodeCreatesObjectsButCannotReplaceOne() throws Exception {
        String key = "main/wal/0000000100000000/000000010000000000000009.zst";
        try (S3Client node = s3(session(cloud.nodeCredentialsUri("main")))) {
            node.putObject(b -> b.bucket(cloud.bucket()).key(key).ifNoneMatch("*"), RequestBody.fromString("original"));
            // without If-None-Match: the bucket policy's explicit deny, whether or not the key exists
            assertDenied(() -> node.putObject(b -> b.bucket(cloud.bucket()).key(key), RequestBody.fromString("forged")),
                    "node/main", "s3:PutObject", "arn:aws:s3:::tidemark/" + key);
            assertDenied(() -> node.putObject(b -> b.bucket(cloud.bucket()).key("main/wal/new"), RequestBody.fromString("x")),
                    "node/main", "s3:PutObject", "arn:aws:s3:::tidemark/main/wal/new");
            // with it: allowed, and S3 refuses to replace what exists
            S3Exception e = assertThrows(S3Exception.class, () -> node.putObject(
                    b -> b.bucket(cloud.bucket()).key(key).ifNoneMatch("*"), RequestBody.fromString("forged")));
            assertEquals(412, e.statusCode(), e.toString());
            assertEquals("original", node.getObjectAsBytes(b -> b.bucket(cloud.bucket()).key(key)).asUtf8String());
            // a multipart upload: the parts need no header, the completion does
            String mpu = "main/backup/20261206-010000F/data/base/1/1.raw";
            String id = node.createMultipartUpload(b -> b.bucket(cloud.bucket()).key(mpu)).uploadId();
            String etag = node.uploadPart(b -> b.bucket(cloud.bucket()).key(mpu).uploadId(id).partNumber(1),
                    RequestBody.fromString("part")).eTag();
            // S3Proxy answers a completion 200 at once and reports the outcome in the body (S3 may do
            // the same): the refusal arrives as an error there, and is recorded as the policy's
            assertThrows(S3Exception.class, () -> node.completeMultipartUpload(b -> b.bucket(cloud.bucket()).key(mpu)
                    .uploadId(id).multipartUpload(u -> u.parts(p -> p.partNumber(1).eTag(etag)))));
            assertTrue(cloud.denials().stream().anyMatch(d -> d.principal().startsWith("node/main")
                    && d.action().equals("s3:PutObject") && d.resource().equals("arn:aws:s3:::tidemark/" + mpu)
                    && d.reason().contains("DenyOverwritesUnderStanzas")), cloud.denials().toString());
            node.completeMultipartUpload(b -> b.bucket(cloud.bucket()).key(mpu).uploadId(id).ifNoneMatch("*")
                    .multipartUpload(u -> u.parts(p -> p.partNumber(1).eTag(etag))));
            assertEquals("part", node.getObjectAsBytes(b -> b.bucket(cloud.bucket()).key(mpu)).asUtf8String());
        }
        // the catalog function still rewrites the stanza document (stanza-create again)
        try (S3Client catalog = s3(session(cloud.functionCredentialsUri("CatalogApi")))) {
            catalog.putObject(b -> b.bucket(cloud.bucket()).key("main/stanza.json"), RequestBody.fromString("{}"));
            catalog.putObject(b -> b.bucket(cloud.bucket()).key("main/stanza.json"), RequestBody.fromString("{\"a\":1}"));
        }
    }

    @Test
    void aNodeCallsTheApiOnlyForItsOwnStanza() throws Exception {
        AwsSessionCredentials node = session(cloud.nodeCredentialsUri("main")).resolveCredentials() instanceof
                AwsSessionCredentials s ? s : null;
        // allowed through to the function: the stanza does not exist yet, which the function answers
        HttpResponse<String> own = api("GET", "/stanzas/main", null, node);
        assertEquals(404, own.statusCode(), own.body());

        HttpResponse<String> other = api("GET", "/stanzas/other", null, node);
        assertEquals(403, other.statusCode(), other.body());
        assertTrue(JSON.readTree(other.body()).path("Message").asText().contains(
                "is not authorized to perform: execute-api:Invoke on resource: "), other.body());
        // the planner of another stanza
        HttpResponse<String> plan = api("POST", "/stanzas/other/restore-plans", "{\"target\":{\"type\":\"latest\"}}", node);
        assertEquals(403, plan.statusCode(), plan.body());
        assertTrue(cloud.denials().stream().anyMatch(d -> d.principal().startsWith("node/main")
                && d.action().equals("execute-api:Invoke") && d.resource().endsWith("/POST/stanzas/other/restore-plans")),
                cloud.denials().toString());
    }

    @Test
    void everyStackMethodNeedsAnIssuedApiKeyBeforeIamAndAnyStanzasKeyPasses() throws Exception {
        AwsSessionCredentials node = (AwsSessionCredentials) session(cloud.nodeCredentialsUri("main")).resolveCredentials();
        // the stack marks every method ApiKeyRequired: the committed template says so
        assertTrue(ApiKeyRules.ofStack().requiresKey("GET", "/stanzas/{stanza}"));
        assertTrue(ApiKeyRules.ofStack().requiresKey("GET", "/restore-plans/{id}/urls"));
        int denials = cloud.denials().size();
        for (String key : new String[] {null, "not-a-key-this-api-issued-0123456789"}) {
            HttpResponse<String> r = api("GET", "/stanzas/main", null, node, key);
            assertEquals(403, r.statusCode(), r.body());
            assertEquals("{\"message\":\"Forbidden\"}", r.body());
            assertEquals("ForbiddenException", r.headers().firstValue("x-amzn-ErrorType").orElse(null));
        }
        assertEquals(denials + 2, cloud.denials().size(), cloud.denials().toString());
        // a key only picks the usage plan: another stanza's key passes, IAM then judges the caller
        HttpResponse<String> otherKey = api("GET", "/stanzas/main", null, node, cloud.apiKey("keyed-other"));
        assertEquals(404, otherKey.statusCode(), otherKey.body());
        // the operator reads a stanza's key at the credentials endpoint: the same key, kept in DIR
        try (HttpClient http = HttpClient.newHttpClient()) {
            URI at = cloud.operatorCredentialsUri().resolve("/credentials/api-key/main");
            JsonNode served = JSON.readTree(http.send(HttpRequest.newBuilder(at).build(),
                    HttpResponse.BodyHandlers.ofString()).body());
            assertEquals(cloud.apiKey("main"), served.path("value").asText(), served.toString());
        }
        assertTrue(java.nio.file.Files.readString(dir.resolve("api-keys.properties"))
                .contains("main=" + cloud.apiKey("main")));
    }

    @Test
    void aKeyOverItsBurstGetsTooManyRequestsAndAnotherStanzasKeyDoesNot() throws Exception {
        ApiKeyRules rules = ApiKeyRules.ofStack();
        String flooder = cloud.apiKey("flooder");
        // unsigned calls with a valid key: counted by the key's bucket, then refused by the
        // signature check (cheap, and the bucket is what is tested). More than the burst plus
        // what the rate refills while they are sent gives at least one 429.
        int sent = rules.burstLimit() * 3;
        int throttled = 0;
        long t0 = System.nanoTime();
        try (HttpClient http = HttpClient.newHttpClient()) {
            for (int i = 0; i < sent; i++) {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(cloud.apiUrl().resolve("/stanzas/flooder"))
                        .header("x-api-key", flooder).build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 429) {
                    assertEquals("{\"message\":\"Too Many Requests\"}", r.body());
                    throttled++;
                } else {
                    assertEquals(403, r.statusCode(), r.body());
                    assertTrue(r.body().contains("Missing Authentication Token"), r.body());
                }
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        // never more let through than the burst plus the refill
        assertTrue(sent - throttled <= rules.burstLimit() + Math.ceil(seconds * rules.rateLimit()) + 1,
                sent - throttled + " passed in " + seconds + " s");
        if (seconds < (sent - rules.burstLimit()) / rules.rateLimit()) {
            assertTrue(throttled > 0, "no 429 for " + sent + " calls in " + seconds + " s");
        }
        // another stanza's key has its own bucket
        AwsSessionCredentials node = (AwsSessionCredentials) session(cloud.nodeCredentialsUri("main")).resolveCredentials();
        HttpResponse<String> own = api("GET", "/stanzas/main", null, node, cloud.apiKey("main"));
        assertEquals(404, own.statusCode(), own.body());
    }

    @Test
    void functionsTouchOnlyWhatTheirRolesName() throws Exception {
        String bucket = cloud.bucket();
        try (S3Client catalog = s3(session(cloud.functionCredentialsUri("CatalogApi")));
                S3Client indexer = s3(session(cloud.functionCredentialsUri("WalIndex")));
                S3Client retention = s3(session(cloud.functionCredentialsUri("Retention")))) {
            // stanza-create's only object: the catalog function may write it, and nothing else
            catalog.putObject(b -> b.bucket(bucket).key("fn/stanza.json"), RequestBody.fromString("{}"));
            assertDenied(() -> catalog.putObject(b -> b.bucket(bucket).key("fn/wal/000000010000000000000001"),
                    RequestBody.fromString("x")), "function/CatalogApi", "s3:PutObject",
                    "arn:aws:s3:::tidemark/fn/wal/000000010000000000000001");
            assertDenied(() -> catalog.getObject(b -> b.bucket(bucket).key("fn/stanza.json")),
                    "function/CatalogApi", "s3:GetObject", "arn:aws:s3:::tidemark/fn/stanza.json");

            // the indexer reads WAL, never writes or deletes it; the bucket policy's explicit deny
            // leaves deleting to the retention function alone
            assertDenied(() -> indexer.putObject(b -> b.bucket(bucket).key("fn/wal/x"), RequestBody.fromString("x")),
                    "function/WalIndex", "s3:PutObject", "arn:aws:s3:::tidemark/fn/wal/x");
            assertDenied(() -> indexer.deleteObject(b -> b.bucket(bucket).key("fn/stanza.json")),
                    "function/WalIndex", "s3:DeleteObject", "arn:aws:s3:::tidemark/fn/stanza.json");
            retention.deleteObject(b -> b.bucket(bucket).key("fn/stanza.json"));
        }
        // only retention deletes catalog items
        try (DynamoDbClient indexer = dynamo(session(cloud.functionCredentialsUri("WalIndex")))) {
            Map<String, AttributeValue> key = Map.of("PK", AttributeValue.fromS("STANZA#fn"), "SK", AttributeValue.fromS("X"));
            indexer.getItem(b -> b.tableName(cloud.table()).key(key));
            DynamoDbException e = assertThrows(DynamoDbException.class,
                    () -> indexer.deleteItem(b -> b.tableName(cloud.table()).key(key)));
            assertEquals("AccessDeniedException", e.awsErrorDetails().errorCode(), e.toString());
        }
    }

    @Test
    void theOperatorAdministersButTheBucketPolicyStillForbidsDeletes() {
        try (S3Client operator = s3(StaticCredentialsProvider.create(software.amazon.awssdk.auth.credentials.AwsBasicCredentials
                .create(cloud.credentials().accessKeyId(), cloud.credentials().secretAccessKey())))) {
            operator.putObject(b -> b.bucket(cloud.bucket()).key("ops/file").ifNoneMatch("*"), RequestBody.fromString("x"));
            // nor may it replace an object under a stanza's prefix (every prefix is one here)
            assertDenied(() -> operator.putObject(b -> b.bucket(cloud.bucket()).key("ops/file"), RequestBody.fromString("y")),
                    "operator", "s3:PutObject", "arn:aws:s3:::tidemark/ops/file");
            operator.listObjectsV2(b -> b.bucket(cloud.bucket()));
            assertDenied(() -> operator.deleteObject(b -> b.bucket(cloud.bucket()).key("ops/file")),
                    "operator", "s3:DeleteObject", "arn:aws:s3:::tidemark/ops/file");
        }
    }

    @Test
    void theComparisonBucketIsTheOperatorsAloneAndOutsideTheStacksRules() throws Exception {
        try (S3Client operator = s3(StaticCredentialsProvider.create(software.amazon.awssdk.auth.credentials.AwsBasicCredentials
                .create(cloud.credentials().accessKeyId(), cloud.credentials().secretAccessKey())));
                S3Client node = s3(session(cloud.nodeCredentialsUri("main")))) {
            // what pgBackRest does: plain PUTs, overwrites, deletes
            operator.putObject(b -> b.bucket(COMPARISON).key("main/archive.info"), RequestBody.fromString("1"));
            operator.putObject(b -> b.bucket(COMPARISON).key("main/archive.info"), RequestBody.fromString("2"));
            assertEquals("2", operator.getObjectAsBytes(b -> b.bucket(COMPARISON).key("main/archive.info")).asUtf8String());
            operator.deleteObject(b -> b.bucket(COMPARISON).key("main/archive.info"));
            assertEquals(0, operator.listObjectsV2(b -> b.bucket(COMPARISON)).keyCount());
            // the same overwrite in the stack's bucket stays refused
            operator.putObject(b -> b.bucket(cloud.bucket()).key("cmp/file").ifNoneMatch("*"), RequestBody.fromString("x"));
            assertDenied(() -> operator.putObject(b -> b.bucket(cloud.bucket()).key("cmp/file"), RequestBody.fromString("y")),
                    "operator", "s3:PutObject", "arn:aws:s3:::tidemark/cmp/file");
            // no other principal reaches it
            S3Exception e = assertThrows(S3Exception.class, () -> node.putObject(b -> b.bucket(COMPARISON).key("x")
                    .ifNoneMatch("*"), RequestBody.fromString("x")));
            assertEquals(403, e.statusCode(), e.toString());
        }
    }

    // ---------------------------------------------------------------- helpers

    private static void assertDenied(org.junit.jupiter.api.function.Executable call, String principal, String action,
            String resource) {
        S3Exception e = assertThrows(S3Exception.class, call);
        assertEquals(403, e.statusCode(), e.toString());
        assertEquals("AccessDenied", e.awsErrorDetails().errorCode(), e.toString());
        assertTrue(cloud.denials().stream().anyMatch(d -> (d.principal().equals(principal) || d.principal().startsWith(principal + " (")) && d.action().equals(action)
                && d.resource().equals(resource)), principal + " " + action + " " + resource + " recorded among "
                        + cloud.denials());
    }

    /** The principal's current session keys from its credentials endpoint. */
    private static AwsCredentialsProvider session(URI endpoint) throws IOException, InterruptedException {
        try (HttpClient http = HttpClient.newHttpClient()) {
            JsonNode c = JSON.readTree(http.send(HttpRequest.newBuilder(endpoint).build(),
                    HttpResponse.BodyHandlers.ofString()).body());
            return StaticCredentialsProvider.create(AwsSessionCredentials.create(c.path("AccessKeyId").asText(),
                    c.path("SecretAccessKey").asText(), c.path("Token").asText()));
        }
    }

    /**
     * Without {@code Expect: 100-continue}, as the product's clients (AwsClients): with it the URL
     * connection client fails writing the body of a PUT refused before it was read, instead of
     * reporting the 403.
     */
    private static S3Client s3(AwsCredentialsProvider credentials) {
        return S3Client.builder().endpointOverride(cloud.s3Endpoint()).region(Region.US_EAST_1).forcePathStyle(true)
                .credentialsProvider(credentials).httpClient(UrlConnectionHttpClient.create())
                .overrideConfiguration(o -> o.addExecutionInterceptor(new EnforcementTest.NoExpectContinue()))
                .build();
    }

    private static DynamoDbClient dynamo(AwsCredentialsProvider credentials) {
        return DynamoDbClient.builder().endpointOverride(cloud.dynamoDbEndpoint()).region(Region.US_EAST_1)
                .credentialsProvider(credentials).httpClient(UrlConnectionHttpClient.create()).build();
    }

    /** A call to the local API signed (SigV4, execute-api) with {@code keys}, carrying stanza main's API key. */
    private static HttpResponse<String> api(String method, String path, String body, AwsSessionCredentials keys)
            throws Exception {
        return api(method, path, body, keys, cloud.apiKey("main"));
    }

    /** As above with {@code apiKey} as {@code x-api-key} (none when null). */
    private static HttpResponse<String> api(String method, String path, String body, AwsSessionCredentials keys,
            String apiKey) throws Exception {
        return new SignedApiCall(cloud.region(), keys, apiKey).send(method, cloud.apiUrl().resolve(path), body);
    }
}
