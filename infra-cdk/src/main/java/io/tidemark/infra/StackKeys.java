package io.tidemark.infra;

import java.util.List;
import software.amazon.awscdk.RemovalPolicy;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.services.iam.PolicyStatement;
import software.amazon.awscdk.services.iam.ServicePrincipal;
import software.amazon.awscdk.services.kms.Key;
import software.amazon.awscdk.services.kms.KeySpec;
import software.amazon.awscdk.services.kms.KeyUsage;

/**
 * The stack's KMS keys: the data key (SSE-KMS of the archive bucket, the alarm topic) and the key
 * that signs restore plans. Created in the stack's own scope, so the logical ids stay the stack's.
 */
record StackKeys(Key dataKey, Key planKey) {

    static StackKeys build(Stack stack) {
        Key dataKey = Key.Builder.create(stack, "DataKey")
                .description("Tidemark: SSE-KMS for the archive bucket, the alarm topic")
                .enableKeyRotation(true)
                .removalPolicy(RemovalPolicy.RETAIN)
                .build();
        // CloudWatch alarms publish to the encrypted alarm topic.
        dataKey.addToResourcePolicy(PolicyStatement.Builder.create()
                .sid("AllowCloudWatchAlarmsToUseTheKeyForTheAlarmTopic")
                .principals(List.of(new ServicePrincipal("cloudwatch.amazonaws.com")))
                .actions(List.of("kms:Decrypt", "kms:GenerateDataKey*"))
                .resources(List.of("*"))
                .build());

        Key planKey = Key.Builder.create(stack, "PlanSigningKey")
                .description("Tidemark: signs restore plans (ECDSA P-256); only the planner may sign")
                .keySpec(KeySpec.ECC_NIST_P256)
                .keyUsage(KeyUsage.SIGN_VERIFY)
                .removalPolicy(RemovalPolicy.RETAIN)
                .build();
        return new StackKeys(dataKey, planKey);
    }
}
