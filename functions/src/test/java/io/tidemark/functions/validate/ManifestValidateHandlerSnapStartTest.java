package io.tidemark.functions.validate;

import io.tidemark.functions.runtime.SnapStartCheck;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class ManifestValidateHandlerSnapStartTest {

    @Test
    void theHandlersHooksPrimeItsHotPathAndTheClientsWithoutANetworkCall() throws Exception {
        SnapStartCheck.primesWithoutConnecting(ManifestValidateHandler::new, ManifestValidateHandler::snapStart, Map.of(),
                List.of("s3:GetObject", "dynamodb:PutItem"));
    }
}
