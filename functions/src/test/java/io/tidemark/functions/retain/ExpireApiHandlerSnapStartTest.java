package io.tidemark.functions.retain;

import io.tidemark.functions.runtime.SnapStartCheck;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class ExpireApiHandlerSnapStartTest {

    @Test
    void theHandlersHooksPrimeItsHotPathAndTheClientsWithoutANetworkCall() throws Exception {
        SnapStartCheck.primesWithoutConnecting(ExpireApiHandler::new, ExpireApiHandler::snapStart, Map.of(),
                List.of("s3:GetObject", "dynamodb:Query"));
    }
}
