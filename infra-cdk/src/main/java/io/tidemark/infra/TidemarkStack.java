package io.tidemark.infra;

import io.tidemark.events.metrics.TidemarkMetric;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import software.amazon.awscdk.CfnOutput;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.StackProps;
import software.amazon.awscdk.services.apigateway.RestApi;
import software.amazon.awscdk.services.dynamodb.Table;
import software.amazon.awscdk.services.iam.ManagedPolicy;
import software.amazon.awscdk.services.iam.Role;
import software.amazon.awscdk.services.kms.Key;
import software.amazon.awscdk.services.lambda.Alias;
import software.amazon.awscdk.services.lambda.Function;
import software.amazon.awscdk.services.s3.Bucket;
import software.amazon.awscdk.services.sns.Topic;
import software.amazon.awscdk.services.sns.subscriptions.EmailSubscription;
import software.amazon.awscdk.services.sqs.Queue;
import software.constructs.Construct;

/**
 * The whole cloud side of Tidemark. See {@code docs/deploy.md} for what each part is for and
 * the IAM model; {@link TidemarkConfig} for the settings.
 *
 * <p>Every trigger (S3 notification, schedule, API integration) targets the {@value #ALIAS}
 * alias of its function: SnapStart snapshots exist only for published versions, so a trigger on
 * {@code $LATEST} would cold-start without them.
 */
public class TidemarkStack extends Stack {

    /** The alias every trigger targets. */
    public static final String ALIAS = "live";
    /** The stage of the REST API. */
    public static final String API_STAGE = "v1";
    /**
     * Namespace, dimension and names of the custom metrics the functions publish: one definition,
     * {@link TidemarkMetric}, which the functions render (embedded metric format) and the alarms watch.
     */
    public static final String METRIC_NAMESPACE = TidemarkMetric.NAMESPACE;
    public static final String METRIC_DIMENSION = TidemarkMetric.DIMENSION;
    public static final String ARCHIVE_LAG_METRIC = TidemarkMetric.ARCHIVE_LAG.metricName();
    public static final String BACKUP_AGE_METRIC = TidemarkMetric.LAST_VALID_BACKUP_AGE.metricName();
    public static final String VERIFY_PROBLEMS_METRIC = TidemarkMetric.VERIFY_PROBLEMS.metricName();
    public static final String HISTORY_CONFLICTS_METRIC = TidemarkMetric.HISTORY_CONFLICTS.metricName();
    public static final String VERIFY_CLEAN_AGE_METRIC = TidemarkMetric.LAST_CLEAN_VERIFY_AGE.metricName();
    /** The TTL attribute of the catalog table (epoch seconds). */
    public static final String TTL_ATTRIBUTE = "expiresAt";

    private final TidemarkConfig config;
    private final Bucket bucket;
    private final Key dataKey;
    private final Key planKey;
    private final Table table;
    private final Queue asyncFailures;
    private final Topic alarmTopic;
    private final Map<String, Queue> jobQueues = new LinkedHashMap<>();
    private final Map<String, Queue> jobDeadLetterQueues = new LinkedHashMap<>();
    private final Queue verifyQueue;
    private final Queue verifyDeadLetters;
    private final Map<String, ManagedPolicy> nodePolicies = new LinkedHashMap<>();
    private final Map<String, software.amazon.awscdk.services.apigateway.IApiKey> apiKeys = new LinkedHashMap<>();
    private final Map<String, TidemarkFunction> functions = new LinkedHashMap<>();
    private final RestApi api;

    /** A deployed handler: the function, its role and the alias its triggers use. */
    public record TidemarkFunction(Function function, Role role, Alias alias) {
    }

    public TidemarkStack(Construct scope, String id, StackProps props, TidemarkConfig config) {
        super(scope, id, props);
        this.config = config;
        List<String> stanzas = config.stanzaNames();

        // ---- keys -------------------------------------------------------------------------
        StackKeys keys = StackKeys.build(this);
        dataKey = keys.dataKey();
        planKey = keys.planKey();

        // ---- storage ----------------------------------------------------------------------
        StackStorage storage = StackStorage.build(this, config, dataKey);
        bucket = storage.bucket();
        table = storage.table();

        // ---- queues -----------------------------------------------------------------------
        StackQueues queues = StackQueues.build(this, stanzas);
        asyncFailures = queues.asyncFailures();
        jobQueues.putAll(queues.jobQueues());
        jobDeadLetterQueues.putAll(queues.jobDeadLetterQueues());
        verifyQueue = queues.verifyQueue();
        verifyDeadLetters = queues.verifyDeadLetters();

        alarmTopic = Topic.Builder.create(this, "AlarmTopic")
                .displayName("Tidemark alarms")
                .masterKey(dataKey)
                .enforceSsl(true)
                .build();
        config.alarmEmail().ifPresent(email -> alarmTopic.addSubscription(new EmailSubscription(email)));

        // ---- functions --------------------------------------------------------------------
        StackFunctions fns = StackFunctions.build(this, config, bucket, table, planKey, asyncFailures, verifyQueue,
                jobQueues, functions);

        // ---- least privilege ----------------------------------------------------------------
        StackAccess access = new StackAccess(this, bucket, table, dataKey, planKey);
        access.grant(stanzas, fns, functions, jobQueues);

        // ---- S3 notifications -> aliases ------------------------------------------------------
        StackNotifications.add(bucket, stanzas, fns);

        // ---- schedules -> aliases --------------------------------------------------------------
        StackSchedules.add(this, config, fns, functions, asyncFailures);

        // ---- API --------------------------------------------------------------------------
        StackApi built = StackApi.build(this, config, stanzas, functions);
        api = built.api();
        apiKeys.putAll(built.apiKeys());

        // ---- node policies (one per stanza) ---------------------------------------------------
        for (String stanza : stanzas) {
            nodePolicies.put(stanza, access.nodePolicy(stanza, api, jobQueues));
        }

        // ---- alarms -----------------------------------------------------------------------
        Map<String, Queue> dlqs = new LinkedHashMap<>();
        dlqs.put("AsyncFailures", asyncFailures);
        dlqs.put("VerifyDeadLetters", verifyDeadLetters);
        jobDeadLetterQueues.forEach((stanza, q) -> dlqs.put("JobDeadLetters-" + stanza, q));
        StackAlarms.add(this, config, alarmTopic, functions, dlqs);

        // ---- outputs ----------------------------------------------------------------------
        output("BucketName", bucket.getBucketName(), "The archive bucket (repo) for the tidemark shim");
        output("TableName", table.getTableName(), "The catalog table");
        output("ApiUrl", api.getUrl(), "Base URL of the Tidemark API (SigV4, service execute-api)");
        output("PlanKeyArn", planKey.getKeyArn(), "KMS key that signs restore plans (ECDSA P-256, SHA-256)");
        output("PlanPublicKeyCommand",
                "aws kms get-public-key --key-id " + planKey.getKeyArn()
                        + " --query PublicKey --output text | base64 -d"
                        + " | openssl pkey -pubin -inform DER -outform PEM",
                "Prints the plan verification key as PEM (KMS exposes it only at run time)");
        output("AlarmTopicArn", alarmTopic.getTopicArn(), "SNS topic of every Tidemark alarm");
        output("AsyncFailureQueueUrl", asyncFailures.getQueueUrl(), "Failed asynchronous invocations");
        for (String stanza : stanzas) {
            output("NodePolicyArn-" + stanza, nodePolicies.get(stanza).getManagedPolicyArn(),
                    "Attach to the instance role of every node of stanza " + stanza);
            output("JobQueueUrl-" + stanza, jobQueues.get(stanza).getQueueUrl(),
                    "Backup jobs for the nodes of stanza " + stanza);
            output("ApiKeyId-" + stanza, apiKeys.get(stanza).getKeyId(), "The API key of stanza " + stanza
                    + " (api.key in its nodes' tidemark.conf: aws apigateway get-api-key --include-value --api-key ID)");
        }
    }

    // ---- building blocks ------------------------------------------------------------------------

    private void output(String id, String value, String description) {
        CfnOutput.Builder.create(this, id).value(value).description(description).build();
    }

    // ---- accessors (tests, other constructs) ---------------------------------------------------

    public TidemarkConfig config() {
        return config;
    }

    public Bucket bucket() {
        return bucket;
    }

    public Table table() {
        return table;
    }

    public Key dataKey() {
        return dataKey;
    }

    public Key planKey() {
        return planKey;
    }

    public RestApi api() {
        return api;
    }

    public Map<String, TidemarkFunction> functions() {
        return Map.copyOf(functions);
    }

    public Map<String, ManagedPolicy> nodePolicies() {
        return Map.copyOf(nodePolicies);
    }

    public Queue verifyQueue() {
        return verifyQueue;
    }

    public Queue verifyDeadLetterQueue() {
        return verifyDeadLetters;
    }

    public Map<String, Queue> jobQueues() {
        return Map.copyOf(jobQueues);
    }

    public Queue asyncFailureQueue() {
        return asyncFailures;
    }

    public Topic alarmTopic() {
        return alarmTopic;
    }
}
