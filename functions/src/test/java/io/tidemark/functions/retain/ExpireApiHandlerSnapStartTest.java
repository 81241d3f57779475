package io.tidemark.functions.retain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.functions.runtime.CountingEndpoint;
import io.tidemark.functions.runtime.FunctionConfig;
import io.tidemark.functions.runtime.SnapStartHooks;
import io.tidemark.functions.runtime.TestCracContext;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class ExpireApiHandlerSnapStartTest {

    @Test
    void theHandlersHooksPrimeItsHotPathAndTheClientsWithoutANetworkCall() throws Exception {
        try (CountingEndpoint endpoint = new CountingEndpoint();
             ExpireApiHandler handler = new ExpireApiHandler(FunctionConfig.of(endpoint.environment(Map.of())))) {
            TestCracContext context = new TestCracContext();
            context.register(handler.snapStart());

            context.checkpoint();
            SnapStartHooks.Priming p = handler.snapStart().lastPriming();
            assertTrue(p.hotPathPrimed(), p.toString());
            assertTrue(p.sdkOperations().containsAll(java.util.List.of("s3:GetObject", "dynamodb:Query")), p.toString());
            assertEquals(java.util.List.of(), p.sdkFailures());

            context.restore();
            assertEquals(1, handler.snapStart().restores());
            assertEquals(0, endpoint.accepted(), "priming or restoring made a network connection");
        }
    }
}
