package io.tidemark.functions.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class FunctionConfigTest {

    @Test
    void lambdaStyleConfigUsesAwsRegionAndTheDefaultChain() {
        FunctionConfig c = FunctionConfig.of(Map.of(
                "TIDEMARK_BUCKET", "tidemark-archive-eu",
                "TIDEMARK_TABLE", "tidemark",
                "AWS_REGION", "eu-west-1",
                "PATH", "/usr/bin"));
        assertEquals("tidemark-archive-eu", c.bucket());
        assertEquals("tidemark", c.table());
        assertEquals("eu-west-1", c.region());
        assertEquals(Optional.empty(), c.s3Endpoint());
        assertEquals(Optional.empty(), c.dynamoDbEndpoint());
        assertFalse(c.s3PathStyle());
        assertTrue(c.credentials().isEmpty());
        assertFalse(c.toEnvironment().containsKey("PATH"));
    }

    @Test
    void localConfigRoundTripsThroughTheEnvironment() {
        FunctionConfig c = FunctionConfig.of(Map.of(
                "TIDEMARK_BUCKET", "tidemark",
                "TIDEMARK_TABLE", "tidemark",
                "TIDEMARK_REGION", " us-east-1 ",
                "AWS_REGION", "eu-west-1",
                "TIDEMARK_S3_ENDPOINT", "http://127.0.0.1:9850",
                "TIDEMARK_DYNAMODB_ENDPOINT", "http://127.0.0.1:9852",
                "TIDEMARK_S3_PATH_STYLE", "TRUE",
                "TIDEMARK_ACCESS_KEY_ID", "AKIDLOCAL",
                "TIDEMARK_SECRET_ACCESS_KEY", "s3cr3t",
                "TIDEMARK_SIGNING_KEY", "file:/tmp/key.pem"));
        assertEquals("us-east-1", c.region());
        assertEquals(Optional.of(URI.create("http://127.0.0.1:9850")), c.s3Endpoint());
        assertEquals(Optional.of(URI.create("http://127.0.0.1:9852")), c.dynamoDbEndpoint());
        assertTrue(c.s3PathStyle());
        assertEquals("AKIDLOCAL", c.credentials().orElseThrow().accessKeyId());
        assertEquals(Optional.of("file:/tmp/key.pem"), c.setting("TIDEMARK_SIGNING_KEY"));
        assertEquals(c, FunctionConfig.of(c.toEnvironment()));
        assertFalse(c.toString().contains("s3cr3t"), c.toString());
    }

    @Test
    void namesEveryProblemAtOnce() {
        Map<String, String> env = new HashMap<>();
        env.put("TIDEMARK_BUCKET", "No_Such Bucket");
        env.put("TIDEMARK_S3_ENDPOINT", "ftp://example.com");
        env.put("TIDEMARK_DYNAMODB_ENDPOINT", "localhost:8000");
        env.put("TIDEMARK_S3_PATH_STYLE", "yes");
        env.put("TIDEMARK_ACCESS_KEY_ID", "AKID");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FunctionConfig.of(env));
        String m = e.getMessage();
        assertTrue(m.startsWith("invalid Tidemark function configuration: "), m);
        for (String expected : new String[] {
            "TIDEMARK_BUCKET='No_Such Bucket' is not a valid bucket name",
            "TIDEMARK_TABLE is required",
            "TIDEMARK_REGION (or AWS_REGION) is required",
            "TIDEMARK_S3_ENDPOINT='ftp://example.com' must be an absolute http(s) URI",
            "TIDEMARK_DYNAMODB_ENDPOINT='localhost:8000' must be an absolute http(s) URI",
            "TIDEMARK_S3_PATH_STYLE='yes' must be true or false",
            "TIDEMARK_ACCESS_KEY_ID and TIDEMARK_SECRET_ACCESS_KEY must be set together"}) {
            assertTrue(m.contains(expected), "missing <" + expected + "> in: " + m);
        }
    }

    @Test
    void aCredentialsEndpointIsOneSourceOfCredentials() {
        Map<String, String> env = new HashMap<>(Map.of("TIDEMARK_BUCKET", "tidemark", "TIDEMARK_TABLE", "tidemark",
                "TIDEMARK_REGION", "us-east-1", "TIDEMARK_CREDENTIALS_URI", "http://127.0.0.1:9851/credentials/function/WalIndex"));
        FunctionConfig c = FunctionConfig.of(env);
        assertEquals(Optional.of(URI.create("http://127.0.0.1:9851/credentials/function/WalIndex")), c.credentialsUri());
        assertTrue(c.credentials().isEmpty());
        assertEquals(c, FunctionConfig.of(c.toEnvironment()));
        assertTrue(c.toString().contains("credentials=endpoint http://127.0.0.1:9851/"), c.toString());
        env.put("TIDEMARK_ACCESS_KEY_ID", "AKID");
        env.put("TIDEMARK_SECRET_ACCESS_KEY", "s");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> FunctionConfig.of(env)).getMessage()
                .contains("TIDEMARK_CREDENTIALS_URI and TIDEMARK_ACCESS_KEY_ID exclude each other"));
        env.remove("TIDEMARK_ACCESS_KEY_ID");
        env.remove("TIDEMARK_SECRET_ACCESS_KEY");
        env.put("TIDEMARK_CREDENTIALS_URI", "file:/tmp/creds");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> FunctionConfig.of(env)).getMessage()
                .contains("TIDEMARK_CREDENTIALS_URI='file:/tmp/creds' must be an absolute http(s) URI"));
    }

    @Test
    void shortBucketNamesAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FunctionConfig.of(Map.of(
                "TIDEMARK_BUCKET", "tm", "TIDEMARK_TABLE", "tidemark", "TIDEMARK_REGION", "us-east-1")));
        assertTrue(e.getMessage().contains("TIDEMARK_BUCKET='tm'"), e.getMessage());
    }
}
