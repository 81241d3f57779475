package io.tidemark.localcloud.iam;

/**
 * The principals and resource ARNs of the stack as local-cloud deploys it (one account, one
 * region, local names for the bucket, table, API, queues): what enforcement points ask for to
 * build an {@link AccessRequest} and to know who is calling.
 */
public interface StackIdentities {

    /** A function's execution role, by the stack's function name (WalIndex, CatalogApi, RestorePlan, ...). */
    Principal function(String stackFunctionName);

    /** A database node of {@code stanza}: the role carrying that stanza's node managed policy. */
    Principal node(String stanza);

    /** The operator: an administrator of the account (still bound by the resource policies). */
    Principal operator();

    String bucketArn();

    /** {@code arn:aws:s3:::BUCKET/KEY} */
    String objectArn(String key);

    String tableArn();

    /** {@code arn:aws:execute-api:REGION:ACCOUNT:API/STAGE/METHOD/PATH} (path with its leading slash). */
    String executeApiArn(String method, String path);

    /** The ARN of the SQS queue with this local name (a stanza's job queue, the verify queue). */
    String jobQueueArn(String stanza);

    String verifyQueueArn();

    /** The ARN the functions invoke a function by (the alias), e.g. Retention. */
    String functionInvokeArn(String stackFunctionName);
}
