package io.tidemark.functions.verify;

/**
 * Hands an event to another invocation of the verify function without waiting for it: how a run
 * fans out. In AWS an asynchronous Lambda invoke of the function's alias
 * ({@link io.tidemark.functions.aws.LambdaAsyncInvoke}; Lambda queues the event and retries a
 * failed invocation twice); in local-cloud a small in-process pool running the same handler.
 *
 * @throws RuntimeException when the event could not be queued (the run is then marked failed)
 */
@FunctionalInterface
public interface VerifyDispatch {

    void dispatch(VerifyEvent event);
}
