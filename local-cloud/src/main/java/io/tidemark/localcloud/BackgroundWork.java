package io.tidemark.localcloud;

import io.tidemark.functions.runtime.FunctionConfig;
import java.time.Duration;

/**
 * Work a local cloud runs besides its S3-triggered and API functions, such as the asynchronous
 * invocations one function starts of another (retention after a valid backup). One instance per
 * local cloud, shared by every function that uses it: started with the function configuration
 * before the functions are built, waited for by {@link LocalCloud#awaitQuiescent}, and closed
 * after the S3 events are drained and before S3 and DynamoDB stop.
 */
public interface BackgroundWork extends AutoCloseable {

    /**
     * The local function name whose role this work runs as (its configuration then carries that
     * role's credentials when local-cloud enforces IAM); null for work that calls no AWS service.
     */
    default String functionName() {
        return null;
    }

    /** Called once, before any function is built. */
    void start(FunctionConfig config);

    /** Waits until nothing is queued or running; false on timeout. */
    boolean awaitIdle(Duration timeout) throws InterruptedException;

    /** Lets running work finish (briefly), drops what is queued, frees resources. */
    @Override
    void close();
}
