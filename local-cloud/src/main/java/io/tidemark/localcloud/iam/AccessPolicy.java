package io.tidemark.localcloud.iam;

/**
 * What the deployed stack lets each principal do: identity policies plus resource policies
 * (bucket policy, key policies), evaluated as AWS does (explicit Deny wins, then any Allow,
 * else implicit deny). Implemented from the synthesized CloudFormation template.
 */
public interface AccessPolicy {

    Decision decide(Principal principal, AccessRequest request);
}
