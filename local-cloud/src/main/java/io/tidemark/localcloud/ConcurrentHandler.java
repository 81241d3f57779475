package io.tidemark.localcloud;

import com.amazonaws.services.lambda.runtime.RequestStreamHandler;

/**
 * A route handler that stands in for an AWS service rather than a Lambda function (the job queue,
 * SQS in AWS): invoked concurrently, not one event at a time, so that one client's long poll does
 * not hold up another's request.
 */
interface ConcurrentHandler extends RequestStreamHandler {
}
