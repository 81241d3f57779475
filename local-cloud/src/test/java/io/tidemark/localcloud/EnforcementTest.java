package io.tidemark.localcloud;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.functions.runtime.FunctionConfig;
import io.tidemark.testkit.aws.SignedApiCall;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.DynamoDbException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.presigner.S3Presigner;

/**
 * Local-cloud enforcing IAM with a small hand-made policy ({@link RulesPolicy}): session keys
 * from the credentials endpoint that rotate and expire, S3 (S3Proxy), DynamoDB (behind the gate)
 * and the API refusing what the policy does not allow with AWS's errors, and recording it.
 */
@Tag("localcloud")
class EnforcementTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final Duration ROTATION = Duration.ofSeconds(1);
    private static final Duration LIFETIME = Duration.ofSeconds(3);

    @TempDir
    static Path dir;

    static LocalCloud cloud;
    static RulesPolicy policy;
    static volatile FunctionConfig recorderConfig;
    static String table;

    @BeforeAll
    static void start() {
        policy = new RulesPolicy(LocalCloud.DEFAULT_BUCKET, LocalCloud.DEFAULT_TABLE);
        table = policy.tableArn();
        policy.allow("node/main", "s3:PutObject", "arn:aws:s3:::tidemark/main/*")
                .allow("node/main", "s3:GetObject", "arn:aws:s3:::tidemark/main/*")
                .allow("node/main", "s3:AbortMultipartUpload", "arn:aws:s3:::tidemark/main/*")
                .allowIf("node/main", "s3:ListBucket", "arn:aws:s3:::tidemark", "s3:prefix", "main/*")
                .allow("node/main", "execute-api:Invoke", "*:localapi/local/*/stanzas/main/*")
                .allow("node/main", "sqs:ReceiveMessage", "*:tidemark-jobs-main")
                .allow("function/CatalogApi", "dynamodb:*Item", table)
                .allow("function/CatalogApi", "dynamodb:Query", table + "/index/*")
                .deny("function/CatalogApi", "dynamodb:DeleteItem", "*")
                .allow("operator", "*", "*")
                .deny("operator", "s3:DeleteObject", "arn:aws:s3:::tidemark/locked/*");
        cloud = LocalCloud.builder()
                .dir(dir)
                .enforce(policy, policy)
                .credentialRotation(ROTATION, LIFETIME)
                .route("echo", "ANY", "/stanzas/{stanza}/echo", HandlerFactory.of(new EchoApiHandler()))
                .functionRole("echo", "CatalogApi")
                .route("queue", "POST", LocalJobQueueHandler.RECEIVE, HandlerFactory.of(new EchoApiHandler()))
                .functionRole("queue", LocalCloud.NO_ROLE)
                .onObjectCreated("recorder", "fn/", null, c -> {
                    recorderConfig = c;
                    return new RecordingHandler(c);
                })
                .functionRole("recorder", "WalIndex")
                .start();
    }

    @AfterAll
    static void stop() {
        if (cloud != null) {
            cloud.close();
        }
    }

    // ---- credentials endpoint and rotation ----

    @Test
    void credentialsEndpointServesSessionKeysThatRotate() throws Exception {
        JsonNode first = fetch(cloud.nodeCredentialsUri("main"));
        assertTrue(first.path("AccessKeyId").asText().startsWith("ASIA"), first.toString());
        assertFalse(first.path("SecretAccessKey").asText().isEmpty());
        assertFalse(first.path("Token").asText().isEmpty());
        Instant expiration = Instant.parse(first.path("Expiration").asText());
        assertTrue(expiration.isAfter(Instant.now()), "served expiration " + expiration + " is in the future");
        // same key within a rotation period, a new one after it
        assertEquals(first.path("AccessKeyId"), fetch(cloud.nodeCredentialsUri("main")).path("AccessKeyId"));
        Thread.sleep(ROTATION.toMillis() + 100);
        JsonNode second = fetch(cloud.nodeCredentialsUri("main"));
        assertNotEquals(first.path("AccessKeyId"), second.path("AccessKeyId"));
        // both keys still work: the old one lives on for its lifetime
        try (S3Client oldKey = s3(staticSession(first)); S3Client newKey = s3(staticSession(second))) {
            oldKey.putObject(b -> b.bucket("tidemark").key("main/rotated-old"), RequestBody.fromString("a"));
            newKey.putObject(b -> b.bucket("tidemark").key("main/rotated-new"), RequestBody.fromString("b"));
        }
        // other principals have other keys
        assertNotEquals(second.path("AccessKeyId"), fetch(cloud.nodeCredentialsUri("other")).path("AccessKeyId"));
        HttpURLConnection c = (HttpURLConnection) cloud.operatorCredentialsUri().resolve("/credentials/nothing/x")
                .toURL().openConnection();
        assertEquals(404, c.getResponseCode());
    }

    @Test
    void aRefreshingClientKeepsWorkingAcrossRotationsAndExpiry() throws Exception {
        try (S3Client s3 = s3(nodeProvider("main"))) {
            long end = System.nanoTime() + LIFETIME.plusSeconds(2).toNanos();
            int n = 0;
            while (System.nanoTime() < end) {
                s3.putObject(b -> b.bucket("tidemark").key("main/refresh/" + System.nanoTime()), RequestBody.fromString("x"));
                n++;
                Thread.sleep(250);
            }
            assertTrue(n > 10, "calls made: " + n);
        }
    }

    // ---- S3 ----

    @Test
    void s3AllowsWhatThePolicyAllowsAndRefusesTheRestWithAccessDenied() throws Exception {
        try (S3Client s3 = s3(nodeProvider("main"))) {
            s3.putObject(b -> b.bucket("tidemark").key("main/wal/000000010000000000000001"), RequestBody.fromString("wal"));
            assertEquals("wal", s3.getObjectAsBytes(b -> b.bucket("tidemark").key("main/wal/000000010000000000000001"))
                    .asUtf8String());
            s3.headObject(b -> b.bucket("tidemark").key("main/wal/000000010000000000000001"));
            assertEquals(1, s3.listObjectsV2(b -> b.bucket("tidemark").prefix("main/wal/")).contents().size());

            int before = cloud.denials().size();
            S3Exception put = assertThrows(S3Exception.class, () -> s3.putObject(
                    b -> b.bucket("tidemark").key("other/wal/000000010000000000000001"), RequestBody.fromString("x")));
            assertEquals(403, put.statusCode());
            assertEquals("AccessDenied", put.awsErrorDetails().errorCode());
            S3Exception delete = assertThrows(S3Exception.class,
                    () -> s3.deleteObject(b -> b.bucket("tidemark").key("main/wal/000000010000000000000001")));
            assertEquals("AccessDenied", delete.awsErrorDetails().errorCode());
            S3Exception list = assertThrows(S3Exception.class,
                    () -> s3.listObjectsV2(b -> b.bucket("tidemark").prefix("other/")));
            assertEquals("AccessDenied", list.awsErrorDetails().errorCode());
            S3Exception head = assertThrows(S3Exception.class,
                    () -> s3.headObject(b -> b.bucket("tidemark").key("other/x")));
            assertEquals(403, head.statusCode());

            // a missing key: 404 only to a caller that may list it, else 403 (as S3 answers)
            S3Exception listable = assertThrows(S3Exception.class,
                    () -> s3.getObjectAsBytes(b -> b.bucket("tidemark").key("main/wal/missing")));
            assertEquals(404, listable.statusCode());
            assertEquals("NoSuchKey", listable.awsErrorDetails().errorCode());

            List<Denial> denials = cloud.denials().subList(before, cloud.denials().size());
            assertTrue(denials.stream().anyMatch(d -> d.principal().startsWith("node/main")
                    && d.action().equals("s3:PutObject")
                    && d.resource().equals("arn:aws:s3:::tidemark/other/wal/000000010000000000000001")
                    && d.reason().startsWith("implicit deny")), denials.toString());
            assertTrue(denials.stream().anyMatch(d -> d.action().equals("s3:DeleteObject")), denials.toString());
            assertTrue(denials.stream().anyMatch(d -> d.action().equals("s3:ListBucket")
                    && d.reason().contains("other/")), denials.toString());
        }
        // the raw storage handle (bit rot, an attacker with root) is not bound by any of it
        cloud.rawStorage().write("other/rot", "rotten".getBytes(StandardCharsets.UTF_8));
        assertEquals("rotten", new String(cloud.rawStorage().read("other/rot"), StandardCharsets.UTF_8));
        cloud.rawStorage().delete("other/rot");
        assertNull(cloud.rawStorage().read("other/rot"));
    }

    @Test
    void multipartUploadsAreJudgedAsPutObjectAndAbortAsAbortMultipartUpload() throws Exception {
        try (S3Client s3 = s3(nodeProvider("main"))) {
            String id = s3.createMultipartUpload(b -> b.bucket("tidemark").key("main/backup/base.tar")).uploadId();
            String eTag = s3.uploadPart(b -> b.bucket("tidemark").key("main/backup/base.tar").uploadId(id).partNumber(1),
                    RequestBody.fromString("part one")).eTag();
            s3.completeMultipartUpload(b -> b.bucket("tidemark").key("main/backup/base.tar").uploadId(id)
                    .multipartUpload(m -> m.parts(p -> p.partNumber(1).eTag(eTag))));
            assertEquals("part one", s3.getObjectAsBytes(b -> b.bucket("tidemark").key("main/backup/base.tar"))
                    .asUtf8String());
            String second = s3.createMultipartUpload(b -> b.bucket("tidemark").key("main/backup/aborted")).uploadId();
            s3.abortMultipartUpload(b -> b.bucket("tidemark").key("main/backup/aborted").uploadId(second));

            S3Exception create = assertThrows(S3Exception.class,
                    () -> s3.createMultipartUpload(b -> b.bucket("tidemark").key("other/backup/base.tar")));
            assertEquals("AccessDenied", create.awsErrorDetails().errorCode());
        }
        // an upload the operator started under another stanza: the node may neither add to it nor abort it
        try (S3Client operator = s3(StaticCredentialsProvider.create(software.amazon.awssdk.auth.credentials
                .AwsBasicCredentials.create(cloud.credentials().accessKeyId(), cloud.credentials().secretAccessKey())));
             S3Client s3 = s3(nodeProvider("main"))) {
            String id = operator.createMultipartUpload(b -> b.bucket("tidemark").key("other/backup/op.tar")).uploadId();
            S3Exception part = assertThrows(S3Exception.class, () -> s3.uploadPart(
                    b -> b.bucket("tidemark").key("other/backup/op.tar").uploadId(id).partNumber(1),
                    RequestBody.fromString("x")));
            assertEquals("AccessDenied", part.awsErrorDetails().errorCode());
            S3Exception abort = assertThrows(S3Exception.class, () -> s3.abortMultipartUpload(
                    b -> b.bucket("tidemark").key("other/backup/op.tar").uploadId(id)));
            assertEquals("AccessDenied", abort.awsErrorDetails().errorCode());
            assertTrue(cloud.denials().stream().anyMatch(d -> d.action().equals("s3:AbortMultipartUpload")
                    && d.resource().endsWith("/other/backup/op.tar")), cloud.denials().toString());
            operator.abortMultipartUpload(b -> b.bucket("tidemark").key("other/backup/op.tar").uploadId(id));
        }
    }

    @Test
    void aMissingKeyIsAccessDeniedToACallerThatMayNotListIt() throws Exception {
        // CatalogApi may read main/stanza.json but may not list: S3 tells it nothing about absence
        policy.allow("function/CatalogApi", "s3:GetObject", "arn:aws:s3:::tidemark/main/stanza.json");
        try (S3Client s3 = s3(functionProvider("CatalogApi"))) {
            S3Exception get = assertThrows(S3Exception.class,
                    () -> s3.getObjectAsBytes(b -> b.bucket("tidemark").key("main/stanza.json")));
            assertEquals(403, get.statusCode());
            assertEquals("AccessDenied", get.awsErrorDetails().errorCode());
            S3Exception head = assertThrows(S3Exception.class,
                    () -> s3.headObject(b -> b.bucket("tidemark").key("main/stanza.json")));
            assertEquals(403, head.statusCode());
            assertTrue(cloud.denials().stream().anyMatch(d -> d.action().equals("s3:ListBucket")
                    && d.principal().startsWith("function/CatalogApi") && d.reason().contains("main/stanza.json")),
                    cloud.denials().toString());
        }
    }

    @Test
    void theOperatorsStaticKeyIsStillBoundByExplicitDenies() {
        try (S3Client s3 = s3(StaticCredentialsProvider.create(software.amazon.awssdk.auth.credentials.AwsBasicCredentials
                .create(cloud.credentials().accessKeyId(), cloud.credentials().secretAccessKey())))) {
            s3.putObject(b -> b.bucket("tidemark").key("locked/x"), RequestBody.fromString("x"));
            S3Exception e = assertThrows(S3Exception.class, () -> s3.deleteObject(b -> b.bucket("tidemark").key("locked/x")));
            assertEquals("AccessDenied", e.awsErrorDetails().errorCode());
            assertTrue(cloud.denials().stream().anyMatch(d -> d.principal().startsWith("operator")
                    && d.reason().startsWith("explicit deny")), cloud.denials().toString());
        }
    }

    @Test
    void anExpiredKeyIsRefusedWithExpiredTokenAndAPresignedUrlDiesWithItsSession() throws Exception {
        JsonNode creds = fetch(cloud.nodeCredentialsUri("main"));
        AwsCredentialsProvider session = staticSession(creds);
        URL allowed;
        URL denied;
        try (S3Client s3 = s3(session); S3Presigner presigner = presigner(session)) {
            s3.putObject(b -> b.bucket("tidemark").key("main/presigned"), RequestBody.fromString("signed"));
            allowed = presigner.presignGetObject(p -> p.signatureDuration(Duration.ofMinutes(10))
                    .getObjectRequest(g -> g.bucket("tidemark").key("main/presigned"))).url();
            denied = presigner.presignGetObject(p -> p.signatureDuration(Duration.ofMinutes(10))
                    .getObjectRequest(g -> g.bucket("tidemark").key("other/presigned"))).url();
        }
        assertEquals(200, get(allowed).status());
        assertEquals("signed", get(allowed).body());
        Answer refused = get(denied);
        assertEquals(403, refused.status(), refused.body());
        assertTrue(refused.body().contains("<Code>AccessDenied</Code>"), refused.body());

        waitUntilExpired(creds);
        try (S3Client s3 = s3(session)) {
            S3Exception e = assertThrows(S3Exception.class,
                    () -> s3.getObjectAsBytes(b -> b.bucket("tidemark").key("main/presigned")));
            assertEquals(400, e.statusCode());
            assertEquals("ExpiredToken", e.awsErrorDetails().errorCode());
            assertEquals("The provided token has expired.", e.awsErrorDetails().errorMessage());
        }
        Answer late = get(allowed);
        assertEquals(400, late.status());
        assertTrue(late.body().contains("<Code>ExpiredToken</Code>"), late.body());
        assertTrue(cloud.denials().stream().anyMatch(d -> d.reason().startsWith("expired token")
                && d.principal().contains(creds.path("AccessKeyId").asText())), cloud.denials().toString());
    }

    @Test
    void s3RefusesAWrongSecretAnUnknownKeyAndAForeignToken() throws Exception {
        JsonNode creds = fetch(cloud.nodeCredentialsUri("main"));
        JsonNode other = fetch(cloud.nodeCredentialsUri("other"));
        try (S3Client s3 = s3(StaticCredentialsProvider.create(AwsSessionCredentials.create(
                creds.path("AccessKeyId").asText(), "wrong" + creds.path("SecretAccessKey").asText(),
                creds.path("Token").asText())))) {
            S3Exception e = assertThrows(S3Exception.class, () -> s3.putObject(
                    b -> b.bucket("tidemark").key("main/wrong-secret"), RequestBody.fromString("x")));
            assertEquals(403, e.statusCode());
            assertEquals("SignatureDoesNotMatch", e.awsErrorDetails().errorCode());
        }
        try (S3Client s3 = s3(StaticCredentialsProvider.create(AwsSessionCredentials.create(
                "ASIANOSUCHKEY0000000", "secret", "token")))) {
            S3Exception e = assertThrows(S3Exception.class, () -> s3.getObjectAsBytes(
                    b -> b.bucket("tidemark").key("main/x")));
            assertEquals("InvalidAccessKeyId", e.awsErrorDetails().errorCode());
        }
        try (S3Client s3 = s3(StaticCredentialsProvider.create(AwsSessionCredentials.create(
                creds.path("AccessKeyId").asText(), creds.path("SecretAccessKey").asText(),
                other.path("Token").asText())))) {
            S3Exception e = assertThrows(S3Exception.class, () -> s3.getObjectAsBytes(
                    b -> b.bucket("tidemark").key("main/x")));
            assertEquals("InvalidToken", e.awsErrorDetails().errorCode());
        }
    }

    // ---- DynamoDB ----

    @Test
    void dynamoDbJudgesEachOperationOnTheTableAndItsIndexes() throws Exception {
        try (DynamoDbClient ddb = dynamo(functionProvider("CatalogApi"))) {
            ddb.putItem(b -> b.tableName("tidemark").item(Map.of("PK", s("stanza#main"), "SK", s("meta"))));
            assertEquals("meta", ddb.getItem(b -> b.tableName("tidemark")
                    .key(Map.of("PK", s("stanza#main"), "SK", s("meta")))).item().get("SK").s());
            DynamoDbException delete = assertThrows(DynamoDbException.class, () -> ddb.deleteItem(
                    b -> b.tableName("tidemark").key(Map.of("PK", s("stanza#main"), "SK", s("meta")))));
            assertEquals(400, delete.statusCode());
            assertEquals("AccessDeniedException", delete.awsErrorDetails().errorCode());
            assertTrue(delete.awsErrorDetails().errorMessage().startsWith("User: arn:aws:iam::000000000000:role/CatalogApiRole"
                    + " is not authorized to perform: dynamodb:DeleteItem on resource: " + table
                    + " with an explicit deny"), delete.awsErrorDetails().errorMessage());
            // an index query passes the gate (the policy allows table/index/*); the table has no such index
            DynamoDbException noIndex = assertThrows(DynamoDbException.class, () -> ddb.query(b -> b.tableName("tidemark")
                    .indexName("byTime").keyConditionExpression("PK = :p")
                    .expressionAttributeValues(Map.of(":p", s("x")))));
            assertNotEquals("AccessDeniedException", noIndex.awsErrorDetails().errorCode(), noIndex.getMessage());
        }
        try (DynamoDbClient ddb = dynamo(nodeProvider("main"))) {
            int before = cloud.denials().size();
            DynamoDbException get = assertThrows(DynamoDbException.class, () -> ddb.getItem(
                    b -> b.tableName("tidemark").key(Map.of("PK", s("stanza#main"), "SK", s("meta")))));
            assertEquals("AccessDeniedException", get.awsErrorDetails().errorCode());
            assertTrue(get.awsErrorDetails().errorMessage().endsWith(
                    "because no identity-based policy allows the dynamodb:GetItem action"), get.getMessage());
            DynamoDbException query = assertThrows(DynamoDbException.class, () -> ddb.query(b -> b.tableName("tidemark")
                    .indexName("byTime").keyConditionExpression("PK = :p")
                    .expressionAttributeValues(Map.of(":p", s("x")))));
            assertTrue(query.awsErrorDetails().errorMessage().contains(table + "/index/byTime"), query.getMessage());
            DynamoDbException batch = assertThrows(DynamoDbException.class, () -> ddb.batchWriteItem(b -> b.requestItems(
                    Map.of("elsewhere", List.of(software.amazon.awssdk.services.dynamodb.model.WriteRequest.builder()
                            .putRequest(p -> p.item(Map.of("PK", s("a"), "SK", s("b")))).build())))));
            assertTrue(batch.awsErrorDetails().errorMessage().contains(":table/elsewhere"), batch.getMessage());
            List<Denial> denials = cloud.denials().subList(before, cloud.denials().size());
            assertTrue(denials.stream().anyMatch(d -> d.action().equals("dynamodb:GetItem") && d.resource().equals(table)
                    && d.principal().startsWith("node/main")), denials.toString());
        }
    }

    @Test
    void dynamoDbRefusesExpiredUnknownAndBadlySignedRequests() throws Exception {
        JsonNode creds = fetch(cloud.functionCredentialsUri("CatalogApi"));
        try (DynamoDbClient ddb = dynamo(StaticCredentialsProvider.create(AwsSessionCredentials.create(
                creds.path("AccessKeyId").asText(), "x" + creds.path("SecretAccessKey").asText(),
                creds.path("Token").asText())))) {
            DynamoDbException e = assertThrows(DynamoDbException.class, () -> ddb.getItem(
                    b -> b.tableName("tidemark").key(Map.of("PK", s("a"), "SK", s("b")))));
            assertEquals("InvalidSignatureException", e.awsErrorDetails().errorCode());
        }
        try (DynamoDbClient ddb = dynamo(StaticCredentialsProvider.create(AwsSessionCredentials.create(
                "ASIANOSUCHKEY0000000", "secret", "token")))) {
            DynamoDbException e = assertThrows(DynamoDbException.class, () -> ddb.getItem(
                    b -> b.tableName("tidemark").key(Map.of("PK", s("a"), "SK", s("b")))));
            assertEquals("UnrecognizedClientException", e.awsErrorDetails().errorCode());
        }
        try (DynamoDbClient ddb = dynamo(staticSession(creds))) {
            ddb.getItem(b -> b.tableName("tidemark").key(Map.of("PK", s("a"), "SK", s("b"))));
            waitUntilExpired(creds);
            DynamoDbException e = assertThrows(DynamoDbException.class, () -> ddb.getItem(
                    b -> b.tableName("tidemark").key(Map.of("PK", s("a"), "SK", s("b")))));
            assertEquals(400, e.statusCode());
            assertEquals("ExpiredTokenException", e.awsErrorDetails().errorCode());
        }
    }

    // ---- API ----

    @Test
    void theApiVerifiesSignaturesJudgesInvokeAndNamesTheCaller() throws Exception {
        JsonNode creds = fetch(cloud.nodeCredentialsUri("main"));
        Answer ok = api("POST", "/stanzas/main/echo", "{\"a\":1}", creds, null);
        assertEquals(200, ok.status(), ok.body());
        JsonNode identity = MAPPER.readTree(ok.body()).path("raw").path("requestContext").path("identity");
        assertEquals("arn:aws:sts::000000000000:assumed-role/TidemarkNode-main/node-main", identity.path("userArn").asText());
        assertEquals(creds.path("AccessKeyId").asText(), identity.path("accessKey").asText());
        assertEquals("000000000000", identity.path("accountId").asText());
        assertTrue(identity.path("caller").asText().endsWith(":node-main"), identity.toString());

        Answer denied = api("GET", "/stanzas/other/echo", null, creds, null);
        assertEquals(403, denied.status());
        assertEquals("User: arn:aws:sts::000000000000:assumed-role/TidemarkNode-main/node-main"
                + " is not authorized to perform: execute-api:Invoke on resource: "
                + policy.executeApiArn("GET", "/stanzas/other/echo"),
                MAPPER.readTree(denied.body()).path("Message").asText(), denied.body());

        Answer unsigned = unsigned("GET", "/stanzas/main/echo");
        assertEquals(403, unsigned.status());
        assertEquals("Missing Authentication Token", MAPPER.readTree(unsigned.body()).path("message").asText());

        Answer wrong = api("GET", "/stanzas/main/echo", null, creds, "wrong-secret");
        assertEquals(403, wrong.status());
        assertTrue(MAPPER.readTree(wrong.body()).path("message").asText().startsWith("The request signature we calculated"),
                wrong.body());

        // a client that signs only the headers it sends (as the shim's API client does: no
        // x-amz-content-sha256) is accepted: its signature is valid SigV4
        Answer minimal = minimallySigned("POST", "/stanzas/main/echo", "{\"b\":2}", creds);
        assertEquals(200, minimal.status(), minimal.body());

        // the local stand-in for SQS is judged as sqs:ReceiveMessage on the stanza's job queue
        assertEquals(200, api("POST", "/stanzas/main/job-queue/receive", "{}", creds, null).status());
        assertEquals(403, api("POST", "/stanzas/other/job-queue/receive", "{}", creds, null).status());
        assertTrue(cloud.denials().stream().anyMatch(d -> d.action().equals("sqs:ReceiveMessage")
                && d.resource().equals(policy.jobQueueArn("other"))), cloud.denials().toString());

        waitUntilExpired(creds);
        Answer expired = api("GET", "/stanzas/main/echo", null, creds, null);
        assertEquals(403, expired.status());
        assertEquals("The security token included in the request is expired",
                MAPPER.readTree(expired.body()).path("message").asText());
    }

    @Test
    void aRestartedCloudHonoursTheKeysItIssuedBefore(@TempDir Path other) throws Exception {
        RulesPolicy p = new RulesPolicy(LocalCloud.DEFAULT_BUCKET, LocalCloud.DEFAULT_TABLE)
                .allow("node/main", "s3:PutObject", "arn:aws:s3:::tidemark/main/*");
        JsonNode creds;
        LocalCloud first = LocalCloud.builder().dir(other).enforce(p, p)
                .credentialRotation(Duration.ofMinutes(1), Duration.ofMinutes(2)).start();
        try {
            creds = fetch(first.nodeCredentialsUri("main"));
        } finally {
            first.close();
        }
        try (LocalCloud second = LocalCloud.builder().dir(other).enforce(p, p)
                .credentialRotation(Duration.ofMinutes(1), Duration.ofMinutes(2)).start();
             S3Client s3 = S3Client.builder().endpointOverride(second.s3Endpoint()).region(Region.US_EAST_1)
                     .forcePathStyle(true).credentialsProvider(staticSession(creds))
                     .httpClient(UrlConnectionHttpClient.create())
                     .overrideConfiguration(o -> o.addExecutionInterceptor(new NoExpectContinue())).build()) {
            s3.putObject(b -> b.bucket("tidemark").key("main/after-restart"), RequestBody.fromString("x"));
            // and within the rotation period it still hands out that key
            assertEquals(creds.path("AccessKeyId"), fetch(second.nodeCredentialsUri("main")).path("AccessKeyId"));
            assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                    Files.getPosixFilePermissions(other.resolve(LocalCloud.SESSION_KEYS_FILE))));
        }
    }

    // ---- wiring ----

    @Test
    void functionsGetTheirRolesCredentialsEndpointAndNoStaticKeys() throws Exception {
        assertEquals(cloud.functionCredentialsUri("WalIndex").toString(),
                recorderConfig.setting(io.tidemark.functions.runtime.FunctionConfig.CREDENTIALS_URI).orElseThrow());
        assertTrue(recorderConfig.setting(FunctionConfig.ACCESS_KEY_ID).isEmpty());
        Properties conf = new Properties();
        try (InputStream in = Files.newInputStream(cloud.configFile())) {
            conf.load(in);
        }
        assertNull(conf.getProperty("s3.accessKeyId"));
        assertNull(conf.getProperty("s3.secretAccessKey"));
        assertTrue(Files.readString(cloud.configFile()).contains(cloud.nodeCredentialsUri("S").toString()));
    }

    // ---- helpers ----

    record Answer(int status, String body) {
    }

    private static AttributeValue s(String v) {
        return AttributeValue.fromS(v);
    }

    private static JsonNode fetch(URI uri) throws IOException {
        HttpURLConnection c = (HttpURLConnection) uri.toURL().openConnection();
        assertEquals(200, c.getResponseCode(), uri.toString());
        try (InputStream in = c.getInputStream()) {
            return MAPPER.readTree(in);
        }
    }

    private static StaticCredentialsProvider staticSession(JsonNode creds) {
        return StaticCredentialsProvider.create(AwsSessionCredentials.create(creds.path("AccessKeyId").asText(),
                creds.path("SecretAccessKey").asText(), creds.path("Token").asText()));
    }

    private static AwsCredentialsProvider nodeProvider(String stanza) {
        return endpoint(cloud.nodeCredentialsUri(stanza));
    }

    private static AwsCredentialsProvider functionProvider(String name) {
        return endpoint(cloud.functionCredentialsUri(name));
    }

    /**
     * A client of the credentials endpoint that asks it before every request (the SDK's
     * ContainerCredentialsProvider takes its URI only from the process environment).
     */
    private static AwsCredentialsProvider endpoint(URI uri) {
        return () -> {
            try {
                return staticSession(fetch(uri)).resolveCredentials();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        };
    }

    /** Waits for the instant the key dies: its lifetime from issue, at most LIFETIME from now. */
    private static void waitUntilExpired(JsonNode creds) throws InterruptedException {
        long deadline = System.nanoTime() + LIFETIME.plusSeconds(1).toNanos();
        String id = creds.path("AccessKeyId").asText();
        while (System.nanoTime() < deadline) {
            SessionKeys.Check check = keysOf(cloud).check(id, creds.path("Token").asText());
            if (check instanceof SessionKeys.Check.Expired) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("key " + id + " did not expire within " + LIFETIME);
    }

    private static SessionKeys keysOf(LocalCloud c) {
        try {
            java.lang.reflect.Field f = LocalCloud.class.getDeclaredField("enforcement");
            f.setAccessible(true);
            return ((Enforcement) f.get(c)).keys();
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    private static S3Client s3(AwsCredentialsProvider credentials) {
        return S3Client.builder().endpointOverride(cloud.s3Endpoint()).region(Region.US_EAST_1).forcePathStyle(true)
                .credentialsProvider(credentials).httpClient(UrlConnectionHttpClient.create())
                .overrideConfiguration(o -> o.addExecutionInterceptor(new NoExpectContinue()))
                .build();
    }

    private static S3Presigner presigner(AwsCredentialsProvider credentials) {
        return S3Presigner.builder().endpointOverride(cloud.s3Endpoint()).region(Region.US_EAST_1)
                .credentialsProvider(credentials)
                .serviceConfiguration(software.amazon.awssdk.services.s3.S3Configuration.builder()
                        .pathStyleAccessEnabled(true).build())
                .build();
    }

    private static DynamoDbClient dynamo(AwsCredentialsProvider credentials) {
        return DynamoDbClient.builder().endpointOverride(cloud.dynamoDbEndpoint()).region(Region.US_EAST_1)
                .credentialsProvider(credentials).httpClient(UrlConnectionHttpClient.create()).build();
    }

    private static Answer get(URL url) throws IOException {
        HttpURLConnection c = (HttpURLConnection) url.openConnection();
        int status = c.getResponseCode();
        try (InputStream in = status >= 400 ? c.getErrorStream() : c.getInputStream()) {
            return new Answer(status, in == null ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    private static Answer unsigned(String method, String path) throws Exception {
        try (HttpClient http = HttpClient.newHttpClient()) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(cloud.apiUrl().resolve(path))
                    .method(method, HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            return new Answer(r.statusCode(), r.body());
        }
    }

    /** A request to the API signed with the SDK's SigV4 signer (service execute-api), as the shim signs. */
    private static Answer api(String method, String path, String body, JsonNode creds, String secretOverride)
            throws Exception {
        AwsCredentialsIdentity identity = software.amazon.awssdk.identity.spi.AwsSessionCredentialsIdentity.create(
                creds.path("AccessKeyId").asText(),
                secretOverride != null ? secretOverride : creds.path("SecretAccessKey").asText(),
                creds.path("Token").asText());
        HttpResponse<String> r = new SignedApiCall("us-east-1", identity, null, Map.of("Accept", "application/json"))
                .send(method, cloud.apiUrl().resolve(path), body);
        return new Answer(r.statusCode(), r.body());
    }

    /**
     * SigV4 by the specification's steps with the fewest headers (accept, content-type, host,
     * x-amz-date, x-amz-security-token), as a non-SDK client signs; test code, to show the
     * verifier accepts any valid signature, not only the SDK's choice of headers.
     */
    private static Answer minimallySigned(String method, String path, String body, JsonNode creds) throws Exception {
        URI uri = cloud.apiUrl().resolve(path);
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        String amzDate = java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")
                .withZone(java.time.ZoneOffset.UTC).format(Instant.now());
        String date = amzDate.substring(0, 8);
        java.util.TreeMap<String, String> headers = new java.util.TreeMap<>();
        headers.put("accept", "application/json");
        headers.put("content-type", "application/json");
        headers.put("host", uri.getHost() + ":" + uri.getPort());
        headers.put("x-amz-date", amzDate);
        headers.put("x-amz-security-token", creds.path("Token").asText());
        StringBuilder canonicalHeaders = new StringBuilder();
        headers.forEach((k, v) -> canonicalHeaders.append(k).append(':').append(v).append('\n'));
        String signedHeaders = String.join(";", headers.keySet());
        String canonical = method + "\n" + path + "\n\n" + canonicalHeaders + "\n" + signedHeaders + "\n" + hex(sha256(bytes));
        String scope = date + "/us-east-1/execute-api/aws4_request";
        String toSign = "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n"
                + hex(sha256(canonical.getBytes(StandardCharsets.UTF_8)));
        byte[] k = hmac(("AWS4" + creds.path("SecretAccessKey").asText()).getBytes(StandardCharsets.UTF_8), date);
        for (String part : new String[] {"us-east-1", "execute-api", "aws4_request"}) {
            k = hmac(k, part);
        }
        String authorization = "AWS4-HMAC-SHA256 Credential=" + creds.path("AccessKeyId").asText() + "/" + scope
                + ", SignedHeaders=" + signedHeaders + ", Signature=" + hex(hmac(k, toSign));
        HttpRequest.Builder http = HttpRequest.newBuilder(uri).method(method, HttpRequest.BodyPublishers.ofByteArray(bytes))
                .header("Authorization", authorization);
        headers.forEach((n, v) -> {
            if (!n.equals("host")) {
                http.header(n, v);
            }
        });
        try (HttpClient client = HttpClient.newHttpClient()) {
            HttpResponse<String> r = client.send(http.build(), HttpResponse.BodyHandlers.ofString());
            return new Answer(r.statusCode(), r.body());
        }
    }

    private static byte[] sha256(byte[] b) throws Exception {
        return java.security.MessageDigest.getInstance("SHA-256").digest(b);
    }

    private static byte[] hmac(byte[] key, String data) throws Exception {
        javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
        mac.init(new javax.crypto.spec.SecretKeySpec(key, "HmacSHA256"));
        return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
    }

    private static String hex(byte[] b) {
        return java.util.HexFormat.of().formatHex(b);
    }

    /** As AwsClients does: no Expect: 100-continue (aws-sdk-java-v2#6670 with the URL connection client). */
    static final class NoExpectContinue implements ExecutionInterceptor {
        @Override
        public SdkHttpRequest modifyHttpRequest(Context.ModifyHttpRequest context, ExecutionAttributes attributes) {
            return context.httpRequest().toBuilder().removeHeader("Expect").build();
        }
    }
}
