package io.tidemark.functions.verify;

import io.tidemark.functions.aws.SqsVerifyDispatch;
import io.tidemark.functions.runtime.SnapStartCheck;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class VerifyHandlerSnapStartTest {

    @Test
    void theHandlersHooksPrimeItsHotPathAndTheClientsWithoutANetworkCall() throws Exception {
        SnapStartCheck.primesWithoutConnecting(VerifyHandler::new, VerifyHandler::snapStart,
                Map.of(SqsVerifyDispatch.QUEUE, "https://sqs.eu-central-1.amazonaws.com/123456789012/verify"),
                List.of("s3:GetObject", "dynamodb:Query", "dynamodb:PutItem"));
    }
}
