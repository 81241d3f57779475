package io.tidemark.functions.retain;

import io.tidemark.functions.runtime.SnapStartCheck;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class RetentionHandlerSnapStartTest {

    @Test
    void theHandlersHooksPrimeItsHotPathAndTheClientsWithoutANetworkCall() throws Exception {
        SnapStartCheck.primesWithoutConnecting(RetentionHandler::new, RetentionHandler::snapStart, Map.of(),
                List.of("s3:GetObject", "s3:DeleteObject", "s3:ListObjectsV2", "dynamodb:Query", "dynamodb:DeleteItem"));
    }
}
