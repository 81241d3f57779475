package io.tidemark.functions.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

@Tag("unit")
class AwsClientsTest {

    @Test
    void localConfigGivesPathStyleClientsOnTheLocalEndpoint() {
        FunctionConfig config = FunctionConfig.of(Map.of(
                "TIDEMARK_BUCKET", "tidemark",
                "TIDEMARK_TABLE", "tidemark",
                "TIDEMARK_REGION", "us-east-1",
                "TIDEMARK_S3_ENDPOINT", "http://127.0.0.1:9850",
                "TIDEMARK_DYNAMODB_ENDPOINT", "http://127.0.0.1:9852",
                "TIDEMARK_S3_PATH_STYLE", "true",
                "TIDEMARK_ACCESS_KEY_ID", "AKIDLOCAL",
                "TIDEMARK_SECRET_ACCESS_KEY", "secret"));
        try (AwsClients clients = AwsClients.create(config)) {
            assertTrue(clients.credentialsProvider() instanceof StaticCredentialsProvider);
            assertEquals("AKIDLOCAL", clients.credentialsProvider().resolveCredentials().accessKeyId());
            assertEquals("http://127.0.0.1:9850",
                    clients.s3().serviceClientConfiguration().endpointOverride().orElseThrow().toString());
            assertEquals("us-east-1", clients.s3().serviceClientConfiguration().region().id());
            assertEquals("us-east-1", clients.dynamoDb().serviceClientConfiguration().region().id());
            assertEquals("http://127.0.0.1:9852",
                    clients.dynamoDb().serviceClientConfiguration().endpointOverride().orElseThrow().toString());
        }
    }
}
