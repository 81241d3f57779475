package io.tidemark.functions.verify;

/**
 * Hands an event to another invocation of the verify function without waiting for it: how a run
 * fans out. In AWS a message on the verify queue, the function's SQS event source
 * ({@link io.tidemark.functions.aws.SqsVerifyDispatch}); in local-cloud a small in-process pool
 * running the same handler.
 *
 * @throws RuntimeException when the event could not be queued (the run is then marked failed)
 */
@FunctionalInterface
public interface VerifyDispatch {

    void dispatch(VerifyEvent event);
}
