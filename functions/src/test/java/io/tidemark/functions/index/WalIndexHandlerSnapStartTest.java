package io.tidemark.functions.index;

import io.tidemark.functions.runtime.SnapStartCheck;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class WalIndexHandlerSnapStartTest {

    @Test
    void theHandlersHooksPrimeItsHotPathAndTheClientsWithoutANetworkCall() throws Exception {
        SnapStartCheck.primesWithoutConnecting(WalIndexHandler::new, WalIndexHandler::snapStart, Map.of(),
                List.of("s3:GetObject", "dynamodb:PutItem"));
    }
}
