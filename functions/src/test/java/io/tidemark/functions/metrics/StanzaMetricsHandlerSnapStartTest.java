package io.tidemark.functions.metrics;

import io.tidemark.functions.runtime.SnapStartCheck;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class StanzaMetricsHandlerSnapStartTest {

    @Test
    void theHandlersHooksPrimeItsHotPathAndTheClientsWithoutANetworkCall() throws Exception {
        SnapStartCheck.primesWithoutConnecting(StanzaMetricsHandler::new, StanzaMetricsHandler::snapStart,
                Map.of(), List.of("dynamodb:GetItem", "dynamodb:Query"));
    }
}
