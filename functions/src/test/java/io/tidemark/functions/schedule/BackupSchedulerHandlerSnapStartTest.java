package io.tidemark.functions.schedule;

import io.tidemark.functions.runtime.FunctionConfig;
import io.tidemark.functions.runtime.SnapStartCheck;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class BackupSchedulerHandlerSnapStartTest {

    @Test
    void theHandlersHooksPrimeItsHotPathAndTheClientsWithoutANetworkCall() throws Exception {
        SnapStartCheck.primesWithoutConnecting(BackupSchedulerHandler::new, BackupSchedulerHandler::snapStart,
                Map.of(FunctionConfig.JOB_QUEUES, "{\"main\": \"https://sqs.eu-central-1.amazonaws.com/123456789012/jobs\"}"),
                List.of("dynamodb:Query", "dynamodb:PutItem"));
    }
}
