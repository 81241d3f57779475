package io.tidemark.functions.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The check every handler's SnapStart test makes: built against a listener that counts
 * connections, a checkpoint primes the handler's hot path and the given SDK operations without
 * a failure, a restore renews the per-environment state, and neither opens a connection.
 */
public final class SnapStartCheck {
    private SnapStartCheck() {
    }

    public static <H extends AutoCloseable> void primesWithoutConnecting(Function<FunctionConfig, H> create,
            Function<H, SnapStartHooks> hooks, Map<String, String> settings, List<String> operations) throws Exception {
        try (CountingEndpoint endpoint = new CountingEndpoint();
             H handler = create.apply(FunctionConfig.of(endpoint.environment(settings)))) {
            TestCracContext context = new TestCracContext();
            context.register(hooks.apply(handler));

            context.checkpoint();
            SnapStartHooks.Priming p = hooks.apply(handler).lastPriming();
            assertTrue(p.hotPathPrimed(), p.toString());
            assertTrue(p.sdkOperations().containsAll(operations), p.toString());
            assertEquals(List.of(), p.sdkFailures());

            context.restore();
            assertEquals(1, hooks.apply(handler).restores());
            assertEquals(0, endpoint.accepted(), "priming or restoring made a network connection");
        }
    }
}
