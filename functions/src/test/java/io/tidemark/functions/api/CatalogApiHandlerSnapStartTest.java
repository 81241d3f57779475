package io.tidemark.functions.api;

import io.tidemark.functions.runtime.SnapStartCheck;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class CatalogApiHandlerSnapStartTest {

    @Test
    void theHandlersHooksPrimeItsHotPathAndTheClientsWithoutANetworkCall() throws Exception {
        SnapStartCheck.primesWithoutConnecting(CatalogApiHandler::new, CatalogApiHandler::snapStart, Map.of(),
                List.of("s3:GetObject", "dynamodb:PutItem"));
    }
}
