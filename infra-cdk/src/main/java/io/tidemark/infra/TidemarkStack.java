package io.tidemark.infra;

import io.tidemark.events.metrics.TidemarkMetric;
import io.tidemark.infra.TidemarkConfig.BackupSchedule;
import io.tidemark.infra.TidemarkConfig.StanzaConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import software.amazon.awscdk.CfnOutput;
import software.amazon.awscdk.Duration;
import software.amazon.awscdk.RemovalPolicy;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.StackProps;
import io.tidemark.events.api.ApiFunction;
import io.tidemark.events.api.ApiRoute;
import software.amazon.awscdk.services.apigateway.RestApi;
import software.amazon.awscdk.services.dynamodb.Table;
import software.amazon.awscdk.services.iam.AnyPrincipal;
import software.amazon.awscdk.services.iam.Effect;
import software.amazon.awscdk.services.iam.ManagedPolicy;
import software.amazon.awscdk.services.iam.PolicyStatement;
import software.amazon.awscdk.services.iam.Role;
import software.amazon.awscdk.services.iam.ServicePrincipal;
import software.amazon.awscdk.services.kms.Key;
import software.amazon.awscdk.services.kms.KeySpec;
import software.amazon.awscdk.services.kms.KeyUsage;
import software.amazon.awscdk.services.lambda.Alias;
import software.amazon.awscdk.services.lambda.Architecture;
import software.amazon.awscdk.services.lambda.Code;
import software.amazon.awscdk.services.lambda.Function;
import software.amazon.awscdk.services.lambda.LoggingFormat;
import software.amazon.awscdk.services.lambda.Runtime;
import software.amazon.awscdk.services.lambda.SnapStartConf;
import software.amazon.awscdk.services.lambda.destinations.SqsDestination;
import software.amazon.awscdk.services.logs.LogGroup;
import software.amazon.awscdk.services.logs.RetentionDays;
import software.amazon.awscdk.services.s3.Bucket;
import software.amazon.awscdk.services.s3.EventType;
import software.amazon.awscdk.services.s3.NotificationKeyFilter;
import software.amazon.awscdk.services.s3.notifications.LambdaDestination;
import software.amazon.awscdk.services.scheduler.Schedule;
import software.amazon.awscdk.services.scheduler.ScheduleExpression;
import software.amazon.awscdk.services.scheduler.ScheduleTargetInput;
import software.amazon.awscdk.services.scheduler.targets.LambdaInvoke;
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
        dataKey = Key.Builder.create(this, "DataKey")
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

        planKey = Key.Builder.create(this, "PlanSigningKey")
                .description("Tidemark: signs restore plans (ECDSA P-256); only the planner may sign")
                .keySpec(KeySpec.ECC_NIST_P256)
                .keyUsage(KeyUsage.SIGN_VERIFY)
                .removalPolicy(RemovalPolicy.RETAIN)
                .build();

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
        Code code = Code.fromAsset(config.functionsJar().toString());
        Map<String, String> common = new LinkedHashMap<>();
        common.put("TIDEMARK_BUCKET", bucket.getBucketName());
        common.put("TIDEMARK_TABLE", table.getTableName());
        common.put("TIDEMARK_REGION", getRegion());

        TidemarkFunction indexer = function("WalIndex", Handlers.WAL_INDEX, code, common,
                // Downloads, decompresses (16 MB segments) and scans one segment: CPU scales with
                // memory, and 1024 MB holds both copies of a segment with ample headroom.
                1024, Duration.seconds(60), "Indexes archived WAL segments and timeline history files");
        TidemarkFunction validator = function("ManifestValidate", Handlers.MANIFEST_VALIDATE, code, common,
                // Checks every file of a backup (HEAD with checksum, thousands of files): long.
                1024, Duration.minutes(15), "Validates a backup when its manifest arrives");
        validator.function().addEnvironment("TIDEMARK_CLOCK_SKEW_MINUTES",
                String.valueOf(config.guards().clockSkewMinutes()));
        indexer.function().addEnvironment("TIDEMARK_CLOCK_SKEW_MINUTES",
                String.valueOf(config.guards().clockSkewMinutes()));
        TidemarkFunction catalogApi = function(ApiFunction.CATALOG_API.stackName(), Handlers.CATALOG_API, code, common,
                // API Gateway's integration timeout is 29 s.
                512, Duration.seconds(29), "GET/PUT /stanzas/{stanza}, POST/PUT/DELETE /stanzas/{stanza}/backup-lease");
        Map<String, String> planEnv = new LinkedHashMap<>(common);
        planEnv.put("TIDEMARK_PLAN_KEY_ID", planKey.getKeyArn());
        planEnv.put("TIDEMARK_PLAN_URL_TTL_MINUTES", Integer.toString(config.planUrlTtlMinutes()));
        planEnv.put("TIDEMARK_PLAN_TTL_MINUTES", Integer.toString(config.planTtlMinutes()));
        TidemarkFunction planner = function(ApiFunction.RESTORE_PLAN.stackName(), Handlers.RESTORE_PLAN, code, planEnv,
                // Presigns one URL per file and segment (HMAC-bound, thousands per plan).
                1024, Duration.seconds(29), "POST /stanzas/{stanza}/restore-plans, GET /restore-plans/{id}/urls");
        Map<String, String> schedulerEnv = new LinkedHashMap<>(common);
        schedulerEnv.put("TIDEMARK_JOB_QUEUES", jobQueuesJson());
        TidemarkFunction scheduler = function("BackupScheduler", Handlers.BACKUP_SCHEDULER, code, schedulerEnv,
                512, Duration.seconds(30), "Turns a backup schedule into a job on the stanza's queue");
        // Each stanza's policy, for runs whose event names none (after a valid backup, the dry run).
        Map<String, String> retentionEnv = new LinkedHashMap<>(common);
        retentionEnv.put("TIDEMARK_RETENTION_POLICIES", retentionPoliciesJson());
        retentionEnv.put("TIDEMARK_RETENTION_MIN_FULL_AGE_HOURS", String.valueOf(config.guards().minFullAgeHours()));
        retentionEnv.put("TIDEMARK_RETENTION_MAX_FULLS_PER_RUN", String.valueOf(config.guards().maxFullsPerRun()));
        TidemarkFunction retention = function("Retention", Handlers.RETENTION, code, retentionEnv,
                1024, Duration.minutes(15), "Expires backups and WAL by the stanza's retention policy");
        // The dry run behind POST /stanzas/{stanza}/expire: the same planning, read-only rights.
        TidemarkFunction expireApi = function(ApiFunction.EXPIRE_API.stackName(), Handlers.EXPIRE_API, code, retentionEnv,
                1024, Duration.seconds(29), "POST /stanzas/{stanza}/expire: what retention would remove (dry run)");
        // verify: the function checks (plans, batches, the final checks); the API function starts runs
        // and reads them. Both send to the verify queue, the function's event source.
        Map<String, String> verifyEnv = new LinkedHashMap<>(common);
        verifyEnv.put("TIDEMARK_VERIFY_QUEUE", verifyQueue.getQueueUrl());
        TidemarkFunction verify = function("Verify", Handlers.VERIFY, code, verifyEnv,
                // Downloads, decompresses and hashes up to 8 objects at once (16 MB segments, GB files).
                2048, Duration.minutes(15), "Verifies every archived object of a stanza (daily, or on demand)");
        TidemarkFunction verifyApi = function(ApiFunction.VERIFY_API.stackName(), Handlers.VERIFY_API, code, verifyEnv,
                512, Duration.seconds(29), "POST /stanzas/{stanza}/verify, GET /stanzas/{stanza}/verify/{runId}");
        // Publishes each stanza's archive lag and backup age on a schedule, so both keep growing
        // while no WAL arrives and no backup is validated (the alarms watch them).
        TidemarkFunction stanzaMetrics = function("StanzaMetrics", Handlers.STANZA_METRICS, code, common,
                512, Duration.seconds(60), "Publishes a stanza's archive lag and last valid backup age");
        // The S3-triggered functions each get a share of the account's concurrency of their own:
        // a flood of objects (a node pushing junk, a backlog after an outage) is throttled there
        // (Lambda retries throttled S3 events for up to 6 h, maxEventAge) and cannot take the
        // concurrency the API functions (planner, catalog) need, nor be starved by them.
        reserveConcurrency(indexer, config.indexerConcurrency());
        reserveConcurrency(validator, config.validatorConcurrency());
        verifyQueue.grantSendMessages(verify.role());
        verifyQueue.grantSendMessages(verifyApi.role());
        verify.alias().addEventSource(software.amazon.awscdk.services.lambda.eventsources.SqsEventSource.Builder
                .create(verifyQueue).batchSize(1).maxConcurrency(20).build());
        // A backup concluded valid starts retention at once (asynchronous invoke of the alias).
        for (TidemarkFunction starter : List.of(validator, indexer)) {
            starter.function().addEnvironment("TIDEMARK_RETENTION_FUNCTION", retention.alias().getFunctionArn());
            starter.role().addToPrincipalPolicy(PolicyStatement.Builder.create()
                    .sid("StartRetention")
                    .actions(List.of("lambda:InvokeFunction"))
                    .resources(List.of(retention.alias().getFunctionArn()))
                    .build());
        }

        // ---- least privilege ----------------------------------------------------------------
        for (TidemarkFunction f : functions.values()) {
            f.role().addToPrincipalPolicy(PolicyStatement.Builder.create()
                    .sid("PublishTidemarkMetrics")
                    .actions(List.of("cloudwatch:PutMetricData"))
                    .resources(List.of("*")) // PutMetricData has no resource type
                    .conditions(Map.of("StringEquals", Map.of("cloudwatch:namespace", METRIC_NAMESPACE)))
                    .build());
        }
        allowTable(indexer, false);
        allowTable(validator, false);
        allowTable(catalogApi, false);
        allowTable(planner, false);
        allowTable(scheduler, false);
        allowTable(retention, true);
        allowTable(verify, false);
        allowTable(verifyApi, false);
        // verify reads every object of the stanza (never writes or deletes one).
        allowRead(verify, prefixes(stanzas, "/*"));

        // The indexer also resumes backups waiting for WAL: catalog reads, and at most a HEAD of an
        // earlier backup's manifest (never the backup's files).
        allowRead(indexer, prefixes(stanzas, "/wal/*"), prefixes(stanzas, "/stanza.json"),
                prefixes(stanzas, "/backup/*/manifest.json"));
        allowRead(validator, prefixes(stanzas, "/*"));
        validator.role().addToPrincipalPolicy(PolicyStatement.Builder.create()
                .sid("ReadChecksumsWithoutDownloading")
                .actions(List.of("s3:GetObjectAttributes"))
                .resources(objectArns(prefixes(stanzas, "/backup/*")))
                .build());
        // PUT /stanzas/{stanza} (stanza-create) writes S/stanza.json for the nodes to read; the
        // function reads no object.
        catalogApi.role().addToPrincipalPolicy(PolicyStatement.Builder.create()
                .sid("WriteStanzaDocument")
                .actions(List.of("s3:PutObject"))
                .resources(objectArns(prefixes(stanzas, "/stanza.json")))
                .build());
        catalogApi.role().addToPrincipalPolicy(PolicyStatement.Builder.create()
                .sid("EncryptStanzaDocumentThroughS3")
                .actions(List.of("kms:GenerateDataKey"))
                .resources(List.of(dataKey.getKeyArn()))
                .conditions(Map.of("StringEquals", Map.of("kms:ViaService", "s3." + getRegion() + ".amazonaws.com")))
                .build());
        // Presigned URLs act with the planner's permissions: it needs read on what it signs.
        allowRead(planner, prefixes(stanzas, "/*"));
        planner.role().addToPrincipalPolicy(PolicyStatement.Builder.create()
                .sid("SignRestorePlans")
                .actions(List.of("kms:Sign"))
                .resources(List.of(planKey.getKeyArn()))
                .conditions(Map.of("StringEquals", Map.of("kms:SigningAlgorithm", "ECDSA_SHA_256")))
                .build());
        // The key policy itself refuses kms:Sign to every principal but the planner's role: no
        // identity policy (an administrator's "*", another function, a node) can sign a plan.
        planKey.addToResourcePolicy(PolicyStatement.Builder.create()
                .sid("OnlyThePlannerSigns")
                .effect(Effect.DENY)
                .principals(List.of(new AnyPrincipal()))
                .actions(List.of("kms:Sign"))
                .resources(List.of("*"))
                .conditions(Map.of("ArnNotEquals", Map.of("aws:PrincipalArn", planner.role().getRoleArn())))
                .build());
        planner.role().addToPrincipalPolicy(PolicyStatement.Builder.create()
                .sid("ReadPlanPublicKey")
                .actions(List.of("kms:GetPublicKey", "kms:DescribeKey"))
                .resources(List.of(planKey.getKeyArn()))
                .build());
        for (Queue q : jobQueues.values()) {
            q.grantSendMessages(scheduler.role());
        }
        allowRead(retention, prefixes(stanzas, "/*"));
        // The bucket is versioned: DeleteObject (no version id) only adds a delete marker; the
        // data stays a noncurrent version until the lifecycle rule expires it (never before an
        // Object Lock retain-until). No DeleteObjectVersion: nobody destroys versions at once.
        retention.role().addToPrincipalPolicy(PolicyStatement.Builder.create()
                .sid("OnlyRetentionDeletes")
                .actions(List.of("s3:DeleteObject"))
                .resources(objectArns(prefixes(stanzas, "/*")))
                .build());
        allowLockRead(retention, stanzas);
        // Read-only: HEADs (s3:GetObject), listings of backup prefixes, catalog reads.
        allowTableRead(expireApi);
        allowTableRead(stanzaMetrics);
        allowRead(expireApi, prefixes(stanzas, "/*"));
        allowLockRead(expireApi, stanzas);

        // Defence in depth: whatever an identity policy says, only the retention function can
        // delete archive objects, and nobody deletes object versions (lifecycle does).
        bucket.addToResourcePolicy(PolicyStatement.Builder.create()
                .sid("DenyDeleteExceptRetentionFunction")
                .effect(Effect.DENY)
                .principals(List.of(new AnyPrincipal()))
                .actions(List.of("s3:DeleteObject"))
                .resources(List.of(bucket.arnForObjects("*")))
                .conditions(Map.of("ArnNotEquals", Map.of("aws:PrincipalArn", retention.role().getRoleArn())))
                .build());
        bucket.addToResourcePolicy(PolicyStatement.Builder.create()
                .sid("DenyDeleteObjectVersion")
                .effect(Effect.DENY)
                .principals(List.of(new AnyPrincipal()))
                .actions(List.of("s3:DeleteObjectVersion"))
                .resources(List.of(bucket.arnForObjects("*")))
                .build());

        // History is create-only: under a stanza's prefix nobody but the catalog function (stanza.json,
        // which stanza-create rewrites) writes an object without If-None-Match, so a node (whatever
        // role carries its policy) can add objects but never replace one. s3:ObjectCreationOperation
        // is false for CreateMultipartUpload and UploadPart, which take no conditional header; the
        // CompleteMultipartUpload that makes the object is judged here like a PutObject.
        bucket.addToResourcePolicy(PolicyStatement.Builder.create()
                .sid("DenyOverwritesUnderStanzas")
                .effect(Effect.DENY)
                .principals(List.of(new AnyPrincipal()))
                .actions(List.of("s3:PutObject"))
                .resources(objectArns(prefixes(stanzas, "/*")))
                .conditions(Map.of(
                        "Null", Map.of("s3:if-none-match", "true"),
                        "Bool", Map.of("s3:ObjectCreationOperation", "true"),
                        "ArnNotEquals", Map.of("aws:PrincipalArn", catalogApi.role().getRoleArn())))
                .build());
        // Object Lock settings of an object are the cloud's: no node shortens or lifts a retention,
        // sets a legal hold, or bypasses governance mode (only the retention function could be given that).
        bucket.addToResourcePolicy(PolicyStatement.Builder.create()
                .sid("DenyLockChangesExceptRetentionFunction")
                .effect(Effect.DENY)
                .principals(List.of(new AnyPrincipal()))
                .actions(List.of("s3:PutObjectRetention", "s3:PutObjectLegalHold", "s3:BypassGovernanceRetention"))
                .resources(List.of(bucket.arnForObjects("*")))
                .conditions(Map.of("ArnNotEquals", Map.of("aws:PrincipalArn", retention.role().getRoleArn())))
                .build());

        // ---- S3 notifications -> aliases ------------------------------------------------------
        for (String stanza : stanzas) {
            bucket.addEventNotification(EventType.OBJECT_CREATED, new LambdaDestination(indexer.alias()),
                    NotificationKeyFilter.builder().prefix(stanza + "/wal/").build());
            bucket.addEventNotification(EventType.OBJECT_CREATED, new LambdaDestination(validator.alias()),
                    NotificationKeyFilter.builder().prefix(stanza + "/backup/").suffix("/manifest.json").build());
            // Removals of any object of the stanza (WAL, history, backup files): the indexer marks
            // what is gone as missing, so the window and the planner stop offering it. Retention's own
            // deletes arrive here too and are recognised as such.
            for (EventType removal : List.of(EventType.OBJECT_REMOVED, EventType.LIFECYCLE_EXPIRATION)) {
                bucket.addEventNotification(removal, new LambdaDestination(indexer.alias()),
                        NotificationKeyFilter.builder().prefix(stanza + "/").build());
            }
        }

        // ---- schedules -> aliases --------------------------------------------------------------
        for (StanzaConfig s : config.stanzas()) {
            for (int i = 0; i < s.backups().size(); i++) {
                BackupSchedule b = s.backups().get(i);
                Map<String, Object> input = b.toInput(s.name());
                Schedule.Builder.create(this, "BackupSchedule-" + s.name() + "-" + i)
                        .description("Tidemark: backup of stanza " + s.name() + " (" + b.type()
                                .map(t -> t + " as scheduled").orElse("type by policy, full every "
                                        + b.fullIntervalDays() + " days") + ")")
                        .schedule(ScheduleExpression.expression(b.schedule(),
                                software.amazon.awscdk.TimeZone.of(s.timezone())))
                        .target(scheduleTarget(scheduler, input))
                        .build();
            }
            Map<String, Object> input = new LinkedHashMap<>();
            input.put("stanza", s.name());
            input.put("retention", s.retention().toInput());
            config.verifySchedule().ifPresent(expression -> Schedule.Builder.create(this, "VerifySchedule-" + s.name())
                    .description("Tidemark: verify every archived object of stanza " + s.name())
                    .schedule(ScheduleExpression.expression(expression,
                            software.amazon.awscdk.TimeZone.of(s.timezone())))
                    .target(scheduleTarget(verify, Map.of("stanza", s.name())))
                    .build());
            // Restore drills (off unless configured): a drill job on the stanza's queue, as a backup
            // job; the agents that drill.run allows claim it (docs/drills.md#scheduled-drills).
            config.drillSchedule().ifPresent(expression -> Schedule.Builder.create(this, "DrillSchedule-" + s.name())
                    .description("Tidemark: restore drill of stanza " + s.name())
                    .schedule(ScheduleExpression.expression(expression,
                            software.amazon.awscdk.TimeZone.of(s.timezone())))
                    .target(scheduleTarget(scheduler, drillInput(s.name())))
                    .build());
            // Every 5 minutes: three reports within the lag alarm's default period (15 min
            // threshold), and 8,640 invocations a month per stanza.
            Schedule.Builder.create(this, "StanzaMetricsSchedule-" + s.name())
                    .description("Tidemark: archive lag and backup age of stanza " + s.name())
                    .schedule(ScheduleExpression.rate(Duration.minutes(5)))
                    .target(scheduleTarget(functions.get("StanzaMetrics"), Map.of("stanza", s.name())))
                    .build();
            Schedule.Builder.create(this, "RetentionSchedule-" + s.name())
                    .description("Tidemark: daily retention of stanza " + s.name())
                    .schedule(ScheduleExpression.expression("cron(30 3 * * ? *)",
                            software.amazon.awscdk.TimeZone.of(s.timezone())))
                    .target(scheduleTarget(retention, input))
                    .build();
        }

        // ---- API --------------------------------------------------------------------------
        StackApi built = StackApi.build(this, config, stanzas, functions);
        api = built.api();
        apiKeys.putAll(built.apiKeys());

        // ---- node policies (one per stanza) ---------------------------------------------------
        for (String stanza : stanzas) {
            nodePolicies.put(stanza, nodePolicy(stanza));
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

    private TidemarkFunction function(String name, String handler, Code code, Map<String, String> env,
            int memoryMb, Duration timeout, String description) {
        LogGroup logs = LogGroup.Builder.create(this, name + "Logs")
                .retention(RetentionDays.THREE_MONTHS)
                .removalPolicy(RemovalPolicy.RETAIN)
                .build();
        // One role per function, no AWS managed policy: log writing is granted on its own group.
        Role role = Role.Builder.create(this, name + "Role")
                .assumedBy(new ServicePrincipal("lambda.amazonaws.com"))
                .description("Tidemark " + name + " function")
                .build();
        role.addToPrincipalPolicy(PolicyStatement.Builder.create()
                .sid("WriteOwnLogs")
                .actions(List.of("logs:CreateLogStream", "logs:PutLogEvents"))
                .resources(List.of(logs.getLogGroupArn()))
                .build());
        Function fn = Function.Builder.create(this, name)
                .description("Tidemark: " + description)
                .runtime(Runtime.JAVA_21)
                .architecture(Architecture.ARM_64)
                .handler(handler)
                .code(code)
                .memorySize(memoryMb)
                .timeout(timeout)
                .role(role)
                .logGroup(logs)
                .loggingFormat(LoggingFormat.JSON)
                .environment(env)
                .snapStart(SnapStartConf.ON_PUBLISHED_VERSIONS)
                .build();
        Alias alias = Alias.Builder.create(this, name + "Live")
                .aliasName(ALIAS)
                .version(fn.getCurrentVersion())
                // Asynchronous invocations (S3 notifications, schedules): retry twice, then park
                // the event in the failure queue; a WAL event older than 6 h is stale anyway.
                .retryAttempts(2)
                .maxEventAge(Duration.hours(6))
                .onFailure(new SqsDestination(asyncFailures))
                .build();
        TidemarkFunction f = new TidemarkFunction(fn, role, alias);
        functions.put(name, f);
        return f;
    }

    private static void reserveConcurrency(TidemarkFunction f, int executions) {
        ((software.amazon.awscdk.services.lambda.CfnFunction) f.function().getNode().getDefaultChild())
                .setReservedConcurrentExecutions(executions);
    }

    /** The drill schedule's input to the scheduler (io.tidemark.functions.schedule.ScheduleInput), in a fixed order. */
    private static Map<String, Object> drillInput(String stanza) {
        Map<String, Object> input = new LinkedHashMap<>();
        input.put("stanza", stanza);
        input.put("type", "drill");
        return input;
    }

    private LambdaInvoke scheduleTarget(TidemarkFunction target, Map<String, Object> input) {
        return LambdaInvoke.Builder.create(target.alias())
                .input(ScheduleTargetInput.fromObject(input))
                .retryAttempts(3)
                .maxEventAge(Duration.hours(1))
                .deadLetterQueue(asyncFailures)
                .build();
    }

    private void allowTable(TidemarkFunction f, boolean delete) {
        // What DynamoDbCatalogStore calls: GetItem, conditional PutItem, Query (and DeleteItem,
        // retention only). No Scan: every read on a request path is a Query on a key range; no
        // batch or update calls exist in the functions.
        List<String> actions = new ArrayList<>(List.of("dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem"));
        if (delete) {
            actions.add("dynamodb:DeleteItem");
        }
        f.role().addToPrincipalPolicy(PolicyStatement.Builder.create()
                .sid("CatalogTable")
                .actions(actions)
                .resources(List.of(table.getTableArn()))
                .build());
    }

    private void allowTableRead(TidemarkFunction f) {
        f.role().addToPrincipalPolicy(PolicyStatement.Builder.create()
                .sid("CatalogTableRead")
                .actions(List.of("dynamodb:GetItem", "dynamodb:Query"))
                .resources(List.of(table.getTableArn()))
                .build());
    }

    /** HEAD shows an object's Object Lock retain-until only with this permission. */
    private void allowLockRead(TidemarkFunction f, List<String> stanzas) {
        f.role().addToPrincipalPolicy(PolicyStatement.Builder.create()
                .sid("ReadObjectLockRetention")
                .actions(List.of("s3:GetObjectRetention"))
                .resources(objectArns(prefixes(stanzas, "/*")))
                .build());
    }

    /**
     * GetObject (and HEAD) on the key patterns, and s3:ListBucket of the same patterns: S3 answers
     * a GET or HEAD of a missing key with 404 only to a caller that may list that key (the check
     * is s3:ListBucket with s3:prefix = the key), to anyone else with 403 AccessDenied. Every
     * reader decides on "not there" (a WAL successor not yet archived, a missing backup file, an
     * object verify finds lost); retention and the dry run also list these prefixes.
     */
    @SafeVarargs
    private void allowRead(TidemarkFunction f, List<String>... keyPatterns) {
        List<String> patterns = new ArrayList<>();
        for (List<String> p : keyPatterns) {
            patterns.addAll(p);
        }
        f.role().addToPrincipalPolicy(PolicyStatement.Builder.create()
                // GetObjectVersion: a GET naming a version (the catalog's pinned one) needs it
                .actions(List.of("s3:GetObject", "s3:GetObjectVersion"))
                .resources(objectArns(patterns))
                .build());
        f.role().addToPrincipalPolicy(PolicyStatement.Builder.create()
                .sid("ListWhatItReads")
                .actions(List.of("s3:ListBucket"))
                .resources(List.of(bucket.getBucketArn()))
                .conditions(Map.of("StringLike", Map.of("s3:prefix", patterns)))
                .build());
        allowDecrypt(f.role());
    }


    private void allowDecrypt(software.amazon.awscdk.services.iam.IRole role) {
        role.addToPrincipalPolicy(PolicyStatement.Builder.create()
                .sid("DecryptArchiveObjectsThroughS3")
                .actions(List.of("kms:Decrypt"))
                .resources(List.of(dataKey.getKeyArn()))
                .conditions(Map.of("StringEquals", Map.of("kms:ViaService", "s3." + getRegion() + ".amazonaws.com")))
                .build());
    }

    private List<String> objectArns(List<String> keyPatterns) {
        return keyPatterns.stream().map(bucket::arnForObjects).toList();
    }

    private static List<String> prefixes(List<String> stanzas, String suffix) {
        return stanzas.stream().map(s -> s + suffix).toList();
    }

    private ManagedPolicy nodePolicy(String stanza) {
        List<PolicyStatement> statements = new ArrayList<>();
        statements.add(PolicyStatement.Builder.create()
                .sid("WriteOwnStanza")
                .actions(List.of("s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"))
                .resources(List.of(bucket.arnForObjects(stanza + "/*")))
                .build());
        statements.add(PolicyStatement.Builder.create()
                .sid("ReadOwnStanza")
                // GetObjectVersion: archive-get reads the version its restore plan names
                .actions(List.of("s3:GetObject", "s3:GetObjectVersion"))
                .resources(List.of(bucket.arnForObjects(stanza + "/*")))
                .build());
        statements.add(PolicyStatement.Builder.create()
                .sid("ListOwnStanza")
                .actions(List.of("s3:ListBucket"))
                .resources(List.of(bucket.getBucketArn()))
                .conditions(Map.of("StringLike", Map.of("s3:prefix", List.of(stanza + "/", stanza + "/*"))))
                .build());
        statements.add(PolicyStatement.Builder.create()
                .sid("UseArchiveKeyThroughS3")
                .actions(List.of("kms:GenerateDataKey", "kms:Decrypt"))
                .resources(List.of(dataKey.getKeyArn()))
                .conditions(Map.of("StringEquals", Map.of("kms:ViaService", "s3." + getRegion() + ".amazonaws.com")))
                .build());
        statements.add(PolicyStatement.Builder.create()
                .sid("FetchPlanVerificationKey")
                .actions(List.of("kms:GetPublicKey"))
                .resources(List.of(planKey.getKeyArn()))
                .build());
        statements.add(PolicyStatement.Builder.create()
                .sid("CallApiForOwnStanza")
                .actions(List.of("execute-api:Invoke"))
                // every method of the table, this stanza's own; ids (plans, jobs, runs) wildcards:
                // plan ids are not stanza-scoped in the path, the planner checks the plan's stanza.
                .resources(Arrays.stream(ApiRoute.values())
                        .map(r -> api.arnForExecuteApi(r.method(), r.grantPath(stanza), API_STAGE))
                        .toList())
                .build());
        statements.add(PolicyStatement.Builder.create()
                .sid("ReceiveOwnJobs")
                .actions(List.of("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"))
                .resources(List.of(jobQueues.get(stanza).getQueueArn()))
                .build());
        return ManagedPolicy.Builder.create(this, "NodePolicy-" + stanza)
                .description("Tidemark: what a database node of stanza " + stanza
                        + " may do (archive, back up, restore; never delete)")
                .statements(statements)
                .build();
    }

    private String retentionPoliciesJson() {
        // {"stanza":{"fullType":"count","full":2,"diff":6},...}: what the daily schedules send.
        return config.stanzas().stream()
                .map(st -> "\"" + st.name() + "\":{\"fullType\":\"" + st.retention().fullType() + "\",\"full\":"
                        + st.retention().full() + ",\"diff\":" + st.retention().diff() + "}")
                .collect(Collectors.joining(",", "{", "}"));
    }

    private String jobQueuesJson() {
        // {"stanza":"<queue url>",...}: stanza names are [A-Za-z0-9_.-], safe inside a JSON string.
        return jobQueues.entrySet().stream()
                .map(e -> "\"" + e.getKey() + "\":\"" + e.getValue().getQueueUrl() + "\"")
                .collect(Collectors.joining(",", "{", "}"));
    }

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
