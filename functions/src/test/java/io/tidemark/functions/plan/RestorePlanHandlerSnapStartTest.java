package io.tidemark.functions.plan;

import io.tidemark.functions.runtime.SnapStartCheck;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class RestorePlanHandlerSnapStartTest {

    @Test
    void theHandlersHooksPrimeItsHotPathAndTheClientsWithoutANetworkCall() throws Exception {
        SnapStartCheck.primesWithoutConnecting(RestorePlanHandler::new, RestorePlanHandler::snapStart, Map.of(RestorePlanHandler.PLAN_KEY_ID, "arn:aws:kms:eu-central-1:123456789012:key/plan"),
                List.of("s3:GetObject", "dynamodb:PutItem", "kms:Sign"));
    }
}
