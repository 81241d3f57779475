/**
 * IAM as the deployed stack defines it, for local-cloud to enforce: the principals, the ARNs of
 * local resources, and an evaluator of identity and resource policies read from the CloudFormation
 * template {@code infra-cdk} synthesizes.
 */
package io.tidemark.localcloud.iam;
