package io.tidemark.infra;

import io.github.cdklabs.cdknag.NagPackSuppression;
import io.github.cdklabs.cdknag.NagSuppressions;
import io.github.cdklabs.cdknag.RegexAppliesTo;
import io.tidemark.infra.TidemarkStack.TidemarkFunction;
import java.util.ArrayList;
import java.util.List;
import software.amazon.awscdk.Annotations;
import software.amazon.awscdk.CfnElement;
import software.amazon.awscdk.services.iam.ManagedPolicy;
import software.constructs.IConstruct;

/**
 * Every cdk-nag (AwsSolutions) finding the stack accepts, each scoped as narrowly as cdk-nag
 * allows (one resource, one rule, and for IAM5 the exact wildcard resource) and each with its
 * reason. Anything not listed here fails {@code cdk synth}.
 */
public final class NagSuppressionsForTidemark {

    static final String JAVA_21 = "The functions are built for Java 21 (bytecode --release 21); java21 is a"
            + " supported, SnapStart-capable runtime. Moving to a newer Java runtime is a deliberate project"
            + " decision (build, SnapStart, tests), not a drive-by change.";
    static final String PUT_METRIC_DATA = "cloudwatch:PutMetricData supports no resource-level permission (its"
            + " resource must be *); it is limited by the condition cloudwatch:namespace = Tidemark.";
    static final String STANZA_PREFIX = "S3 permissions are granted per key prefix of a configured stanza"
            + " (<stanza>/, <stanza>/wal/, <stanza>/backup/): the wildcard is the object key below that prefix,"
            + " which is unknown at deploy time (WAL segment names, backup labels, file paths); <stanza>/backup/*"
            + "/manifest.json lets the WAL indexer see backup manifests (labels unknown at deploy time) and nothing"
            + " else of a backup.";

    private NagSuppressionsForTidemark() {
    }

    /** Adds the suppressions and acknowledgements to {@code stack}. */
    public static void apply(TidemarkStack stack) {
        String bucketArn = "<" + stack.getLogicalId((CfnElement) stack.bucket().getNode().getDefaultChild()) + ".Arn>";

        for (TidemarkFunction f : stack.functions().values()) {
            NagSuppressions.addResourceSuppressions(f.function(), List.of(suppression("AwsSolutions-L1", JAVA_21)));
            // The function is published (currentVersion) and every trigger uses the alias.
            Annotations.of(f.function()).acknowledgeWarning("@aws-cdk/aws-lambda:snapStartRequirePublish",
                    "Published: the alias '" + TidemarkStack.ALIAS + "' points at currentVersion");

            List<Object> wildcards = new ArrayList<>();
            wildcards.add("Resource::*");
            for (String stanza : stack.config().stanzaNames()) {
                for (String sub : List.of("/*", "/wal/*", "/stream/*", "/backup/*", "/backup/*/manifest.json")) {
                    wildcards.add("Resource::" + bucketArn + "/" + stanza + sub);
                }
            }
            NagSuppressions.addResourceSuppressions(f.role(), List.of(
                    NagPackSuppression.builder().id("AwsSolutions-IAM5")
                            .reason(PUT_METRIC_DATA + " " + STANZA_PREFIX)
                            .appliesTo(wildcards)
                            .build()), true);
        }

        for (ManagedPolicy policy : stack.nodePolicies().values()) {
            List<Object> wildcards = new ArrayList<>();
            for (String stanza : stack.config().stanzaNames()) {
                wildcards.add("Resource::" + bucketArn + "/" + stanza + "/*");
            }
            wildcards.add(RegexAppliesTo.builder()
                    .regex("/^Resource::arn:.*:execute-api:.*\\/" + TidemarkStack.API_STAGE
                            + "\\/GET\\/restore-plans\\/\\*\\/urls$/")
                    .build());
            wildcards.add(RegexAppliesTo.builder()
                    .regex("/^Resource::arn:.*:execute-api:.*\\/" + TidemarkStack.API_STAGE
                            + "\\/POST\\/stanzas\\/[A-Za-z0-9_.-]+\\/jobs\\/\\*\\/(claim|pass|report)$/")
                    .build());
            wildcards.add(RegexAppliesTo.builder()
                    .regex("/^Resource::arn:.*:execute-api:.*\\/" + TidemarkStack.API_STAGE
                            + "\\/GET\\/stanzas\\/[A-Za-z0-9_.-]+\\/verify\\/\\*$/")
                    .build());
            NagSuppressions.addResourceSuppressions(policy, List.of(
                    NagPackSuppression.builder().id("AwsSolutions-IAM5")
                            .reason(STANZA_PREFIX + " A node writes and reads only its own stanza's prefix. "
                                    + "GET /restore-plans/{id}/urls takes a plan id that is not known in advance;"
                                    + " the planner checks that the caller may read the plan's stanza."
                                    + " POST /stanzas/<own stanza>/jobs/{jobId}/claim|pass|report take a job id"
                                    + " made by each schedule run; the path is limited to the node's stanza."
                                    + " GET /stanzas/<own stanza>/verify/{runId} takes the id of a run the node"
                                    + " started; the path is limited to the node's stanza.")
                            .appliesTo(wildcards)
                            .build()));
        }

        NagSuppressions.addResourceSuppressions(stack.asyncFailureQueue(), List.of(suppression("AwsSolutions-SQS3",
                "This queue is itself the dead-letter destination: on-failure destination of every function"
                        + " alias and the dead-letter queue of every schedule. Its depth is alarmed.")));

        IConstruct cloudWatchRole = stack.api().getNode().tryFindChild("CloudWatchRole");
        if (cloudWatchRole != null) {
            NagSuppressions.addResourceSuppressions(cloudWatchRole, List.of(suppression("AwsSolutions-IAM4",
                    "The account-level role API Gateway uses to write access and execution logs; "
                            + "AmazonAPIGatewayPushToCloudWatchLogs is the policy AWS documents for it and"
                            + " is needed for the access logging AwsSolutions-APIG1 asks for.")), true);
        }
        NagSuppressions.addResourceSuppressions(stack.api(), List.of(
                suppression("AwsSolutions-COG4", "Every method uses AWS_IAM (SigV4) authorization: the callers are"
                        + " database nodes with instance roles and operators with IAM credentials, not"
                        + " Cognito users. The node policy limits each node to its stanza's paths."),
                suppression("AwsSolutions-APIG3", "IAM-authorized, throttled API with a handful of callers; a"
                        + " WAF web ACL adds cost and no protection that SigV4 and stage throttling lack.")), true);

        // CDK's own singleton that applies the bucket notification configuration.
        for (IConstruct child : stack.getNode().getChildren()) {
            if (child.getNode().getId().startsWith("BucketNotificationsHandler")) {
                NagSuppressions.addResourceSuppressions(child, List.of(
                        suppression("AwsSolutions-IAM4", "CDK's BucketNotificationsHandler (custom resource"
                                + " that puts the bucket's notification configuration) uses"
                                + " AWSLambdaBasicExecutionRole for its logs; it is not configurable."),
                        suppression("AwsSolutions-IAM5", "CDK's BucketNotificationsHandler needs"
                                + " s3:PutBucketNotification on the bucket; CDK writes the statement.")), true);
            }
        }
    }

    private static NagPackSuppression suppression(String id, String reason) {
        return NagPackSuppression.builder().id(id).reason(reason).build();
    }
}
