package io.tidemark.functions.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.functions.catalog.RetryJitter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.exception.SdkClientException;

@Tag("unit")
class SnapStartHooksTest {

    private static final List<String> SDK_OPERATIONS = List.of("s3:GetObject", "s3:HeadObject", "s3:PutObject",
            "s3:DeleteObject", "s3:ListObjectsV2", "dynamodb:DeleteItem",
            "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query");

    @Test
    void checkpointPrimesEveryClientOperationAndTheHotPathWithoutConnecting() throws Exception {
        try (CountingEndpoint endpoint = new CountingEndpoint();
             AwsClients aws = AwsClients.create(FunctionConfig.of(endpoint.environment(Map.of())))) {
            AtomicInteger hotPathRuns = new AtomicInteger();
            TestCracContext context = new TestCracContext();
            SnapStartHooks hooks = SnapStartHooks.register(context, aws, hotPathRuns::incrementAndGet);
            assertNull(hooks.lastPriming(), "nothing primed before a checkpoint");

            context.checkpoint();

            SnapStartHooks.Priming p = hooks.lastPriming();
            assertEquals(SDK_OPERATIONS, p.sdkOperations());
            assertEquals(List.of(), p.sdkFailures());
            assertEquals(SDK_OPERATIONS.size(), aws.primingRequestsStopped(),
                    "each priming request ran its pipeline up to the point of sending");
            assertEquals(1, hotPathRuns.get());
            assertTrue(p.hotPathPrimed());
            assertTrue(p.credentialsRenewed());
            assertEquals(0, endpoint.accepted(), "priming made a network connection");
        }
    }

    @Test
    void kmsIsPrimedOnlyWhereTheFunctionBuiltIt() throws Exception {
        try (CountingEndpoint endpoint = new CountingEndpoint();
             AwsClients aws = AwsClients.create(FunctionConfig.of(endpoint.environment(
                     Map.of("TIDEMARK_PLAN_KEY_ID", "arn:aws:kms:eu-central-1:123456789012:key/priming"))))) {
            aws.kms();
            TestCracContext context = new TestCracContext();
            SnapStartHooks hooks = SnapStartHooks.register(context, aws, () -> { });
            context.checkpoint();
            assertTrue(hooks.lastPriming().sdkOperations().contains("kms:Sign"), hooks.lastPriming().toString());
            assertEquals(SDK_OPERATIONS.size() + 1, aws.primingRequestsStopped());
            assertEquals(0, endpoint.accepted());
        }
    }

    @Test
    void requestsThatAreNotPrimingStillGoOut() {
        // The short circuit must stop priming requests only: an ordinary call reaches the endpoint.
        try (CountingEndpoint endpoint = new CountingEndpoint();
             AwsClients aws = AwsClients.create(FunctionConfig.of(endpoint.environment(Map.of(
                     FunctionConfig.ACCESS_KEY_ID, "AKIDTEST", FunctionConfig.SECRET_ACCESS_KEY, "secret"))))) {
            assertThrows(SdkClientException.class, () -> aws.dynamoDb().getItem(b -> b.tableName("t1t")
                    .key(Map.of("PK", software.amazon.awssdk.services.dynamodb.model.AttributeValue.fromS("x")))));
            assertTrue(endpoint.accepted() >= 1, "the ordinary request never connected");
            assertEquals(0, aws.primingRequestsStopped());
        }
    }

    @Test
    void aFailingHotPathIsReportedNotThrown() throws Exception {
        try (CountingEndpoint endpoint = new CountingEndpoint();
             AwsClients aws = AwsClients.create(FunctionConfig.of(endpoint.environment(Map.of())))) {
            TestCracContext context = new TestCracContext();
            SnapStartHooks hooks = SnapStartHooks.register(context, aws, () -> {
                throw new IllegalStateException("priming event rejected");
            });
            context.checkpoint();
            assertFalse(hooks.lastPriming().hotPathPrimed());
            assertTrue(hooks.lastPriming().hotPathFailure().contains("priming event rejected"));
            assertEquals(SDK_OPERATIONS, hooks.lastPriming().sdkOperations(), "the SDK was primed all the same");
        }
    }

    @Test
    void restoreGivesEachEnvironmentAFreshCredentialsChainAndJitterSeed() throws Exception {
        try (CountingEndpoint endpoint = new CountingEndpoint();
             AwsClients aws = AwsClients.create(FunctionConfig.of(endpoint.environment(Map.of())))) {
            RenewableCredentials credentials = (RenewableCredentials) aws.credentialsProvider();
            TestCracContext context = new TestCracContext();
            SnapStartHooks hooks = SnapStartHooks.register(context, aws, () -> { });

            context.checkpoint();
            var inSnapshot = credentials.delegate();
            assertEquals(1, credentials.generation(), "the checkpoint drops what init resolved");

            // What every environment restored from one snapshot would draw without a reseed:
            RetryJitter.reseed(() -> 42L);
            List<Long> fromSnapshot = draws();
            RetryJitter.reseed(() -> 42L);

            context.restore();

            assertEquals(1, hooks.restores());
            assertEquals(2, credentials.generation());
            assertNotSame(inSnapshot, credentials.delegate(), "the restored environment kept the snapshot's provider");
            assertSame(credentials, aws.credentialsProvider(), "the clients keep the wrapper: no rebuild");
            assertNotEquals(fromSnapshot, draws(), "the restored environment draws the snapshot's jitter");
            assertEquals(0, endpoint.accepted());
        }
    }

    @Test
    void staticCredentialsAreKeptAcrossRestore() throws Exception {
        try (CountingEndpoint endpoint = new CountingEndpoint();
             AwsClients aws = AwsClients.create(FunctionConfig.of(endpoint.environment(Map.of(
                     FunctionConfig.ACCESS_KEY_ID, "AKIDLOCAL", FunctionConfig.SECRET_ACCESS_KEY, "secret"))))) {
            TestCracContext context = new TestCracContext();
            SnapStartHooks hooks = SnapStartHooks.register(context, aws, () -> { });
            var before = aws.credentialsProvider();
            context.checkpoint();
            context.restore();
            assertFalse(hooks.lastPriming().credentialsRenewed());
            assertSame(before, aws.credentialsProvider());
            assertEquals("AKIDLOCAL", aws.credentialsProvider().resolveCredentials().accessKeyId());
        }
    }

    private static List<Long> draws() {
        List<Long> out = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            out.add(RetryJitter.pauseMillis(10));
        }
        return out;
    }
}
