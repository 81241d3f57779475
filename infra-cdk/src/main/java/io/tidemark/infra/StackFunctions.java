package io.tidemark.infra;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import software.amazon.awscdk.Duration;
import software.amazon.awscdk.RemovalPolicy;
import software.amazon.awscdk.Stack;
import io.tidemark.events.api.ApiFunction;
import software.amazon.awscdk.services.dynamodb.Table;
import software.amazon.awscdk.services.iam.PolicyStatement;
import software.amazon.awscdk.services.iam.Role;
import software.amazon.awscdk.services.iam.ServicePrincipal;
import software.amazon.awscdk.services.kms.Key;
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
import software.amazon.awscdk.services.sqs.Queue;

/**
 * The stack's functions (one role, log group and {@code live} alias each), their environment, the
 * S3-triggered functions' reserved concurrency, the verify queue as verify's event source, and the
 * right of the indexer and validator to start retention. Created in the stack's own scope, so the
 * logical ids stay the stack's; every function is also put into {@code functions} by name.
 */
record StackFunctions(TidemarkStack.TidemarkFunction indexer,
                      TidemarkStack.TidemarkFunction validator,
                      TidemarkStack.TidemarkFunction catalogApi,
                      TidemarkStack.TidemarkFunction planner,
                      TidemarkStack.TidemarkFunction scheduler,
                      TidemarkStack.TidemarkFunction retention,
                      TidemarkStack.TidemarkFunction expireApi,
                      TidemarkStack.TidemarkFunction verify,
                      TidemarkStack.TidemarkFunction verifyApi,
                      TidemarkStack.TidemarkFunction stanzaMetrics) {

    static StackFunctions build(Stack stack, TidemarkConfig config, Bucket bucket, Table table, Key planKey,
                                Queue asyncFailures, Queue verifyQueue, Map<String, Queue> jobQueues,
                                Map<String, TidemarkStack.TidemarkFunction> functions) {
        Factory make = new Factory(stack, asyncFailures, functions);
        Code code = Code.fromAsset(config.functionsJar().toString());
        Map<String, String> common = new LinkedHashMap<>();
        common.put("TIDEMARK_BUCKET", bucket.getBucketName());
        common.put("TIDEMARK_TABLE", table.getTableName());
        common.put("TIDEMARK_REGION", stack.getRegion());

        TidemarkStack.TidemarkFunction indexer = make.function("WalIndex", Handlers.WAL_INDEX, code, common,
                // Downloads, decompresses (16 MB segments) and scans one segment: CPU scales with
                // memory, and 1024 MB holds both copies of a segment with ample headroom.
                1024, Duration.seconds(60), "Indexes archived WAL segments and timeline history files");
        TidemarkStack.TidemarkFunction validator = make.function("ManifestValidate", Handlers.MANIFEST_VALIDATE, code, common,
                // Checks every file of a backup (HEAD with checksum, thousands of files): long.
                1024, Duration.minutes(15), "Validates a backup when its manifest arrives");
        validator.function().addEnvironment("TIDEMARK_CLOCK_SKEW_MINUTES",
                String.valueOf(config.guards().clockSkewMinutes()));
        indexer.function().addEnvironment("TIDEMARK_CLOCK_SKEW_MINUTES",
                String.valueOf(config.guards().clockSkewMinutes()));
        TidemarkStack.TidemarkFunction catalogApi = make.function(ApiFunction.CATALOG_API.stackName(), Handlers.CATALOG_API, code, common,
                // API Gateway's integration timeout is 29 s.
                512, Duration.seconds(29), "GET/PUT /stanzas/{stanza}, POST/PUT/DELETE /stanzas/{stanza}/backup-lease");
        Map<String, String> planEnv = new LinkedHashMap<>(common);
        planEnv.put("TIDEMARK_PLAN_KEY_ID", planKey.getKeyArn());
        planEnv.put("TIDEMARK_PLAN_URL_TTL_MINUTES", Integer.toString(config.planUrlTtlMinutes()));
        planEnv.put("TIDEMARK_PLAN_TTL_MINUTES", Integer.toString(config.planTtlMinutes()));
        TidemarkStack.TidemarkFunction planner = make.function(ApiFunction.RESTORE_PLAN.stackName(), Handlers.RESTORE_PLAN, code, planEnv,
                // Presigns one URL per file and segment (HMAC-bound, thousands per plan).
                1024, Duration.seconds(29), "POST /stanzas/{stanza}/restore-plans, GET /restore-plans/{id}/urls");
        Map<String, String> schedulerEnv = new LinkedHashMap<>(common);
        schedulerEnv.put("TIDEMARK_JOB_QUEUES", jobQueuesJson(jobQueues));
        TidemarkStack.TidemarkFunction scheduler = make.function("BackupScheduler", Handlers.BACKUP_SCHEDULER, code, schedulerEnv,
                512, Duration.seconds(30), "Turns a backup schedule into a job on the stanza's queue");
        // Each stanza's policy, for runs whose event names none (after a valid backup, the dry run).
        Map<String, String> retentionEnv = new LinkedHashMap<>(common);
        retentionEnv.put("TIDEMARK_RETENTION_POLICIES", retentionPoliciesJson(config));
        retentionEnv.put("TIDEMARK_RETENTION_MIN_FULL_AGE_HOURS", String.valueOf(config.guards().minFullAgeHours()));
        retentionEnv.put("TIDEMARK_RETENTION_MAX_FULLS_PER_RUN", String.valueOf(config.guards().maxFullsPerRun()));
        TidemarkStack.TidemarkFunction retention = make.function("Retention", Handlers.RETENTION, code, retentionEnv,
                1024, Duration.minutes(15), "Expires backups and WAL by the stanza's retention policy");
        // The dry run behind POST /stanzas/{stanza}/expire: the same planning, read-only rights.
        TidemarkStack.TidemarkFunction expireApi = make.function(ApiFunction.EXPIRE_API.stackName(), Handlers.EXPIRE_API, code, retentionEnv,
                1024, Duration.seconds(29), "POST /stanzas/{stanza}/expire: what retention would remove (dry run)");
        // verify: the function checks (plans, batches, the final checks); the API function starts runs
        // and reads them. Both send to the verify queue, the function's event source.
        Map<String, String> verifyEnv = new LinkedHashMap<>(common);
        verifyEnv.put("TIDEMARK_VERIFY_QUEUE", verifyQueue.getQueueUrl());
        TidemarkStack.TidemarkFunction verify = make.function("Verify", Handlers.VERIFY, code, verifyEnv,
                // Downloads, decompresses and hashes up to 8 objects at once (16 MB segments, GB files).
                2048, Duration.minutes(15), "Verifies every archived object of a stanza (daily, or on demand)");
        TidemarkStack.TidemarkFunction verifyApi = make.function(ApiFunction.VERIFY_API.stackName(), Handlers.VERIFY_API, code, verifyEnv,
                512, Duration.seconds(29), "POST /stanzas/{stanza}/verify, GET /stanzas/{stanza}/verify/{runId}");
        // Publishes each stanza's archive lag and backup age on a schedule, so both keep growing
        // while no WAL arrives and no backup is validated (the alarms watch them).
        TidemarkStack.TidemarkFunction stanzaMetrics = make.function("StanzaMetrics", Handlers.STANZA_METRICS, code, common,
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
        for (TidemarkStack.TidemarkFunction starter : List.of(validator, indexer)) {
            starter.function().addEnvironment("TIDEMARK_RETENTION_FUNCTION", retention.alias().getFunctionArn());
            starter.role().addToPrincipalPolicy(PolicyStatement.Builder.create()
                    .sid("StartRetention")
                    .actions(List.of("lambda:InvokeFunction"))
                    .resources(List.of(retention.alias().getFunctionArn()))
                    .build());
        }
        return new StackFunctions(indexer, validator, catalogApi, planner, scheduler, retention, expireApi, verify, verifyApi, stanzaMetrics);
    }

    /** Makes one function with its log group, role and alias, and records it by name. */
    private record Factory(Stack stack, Queue asyncFailures, Map<String, TidemarkStack.TidemarkFunction> functions) {

        TidemarkStack.TidemarkFunction function(String name, String handler, Code code, Map<String, String> env,
                int memoryMb, Duration timeout, String description) {
            LogGroup logs = LogGroup.Builder.create(stack, name + "Logs")
                    .retention(RetentionDays.THREE_MONTHS)
                    .removalPolicy(RemovalPolicy.RETAIN)
                    .build();
            // One role per function, no AWS managed policy: log writing is granted on its own group.
            Role role = Role.Builder.create(stack, name + "Role")
                    .assumedBy(new ServicePrincipal("lambda.amazonaws.com"))
                    .description("Tidemark " + name + " function")
                    .build();
            role.addToPrincipalPolicy(PolicyStatement.Builder.create()
                    .sid("WriteOwnLogs")
                    .actions(List.of("logs:CreateLogStream", "logs:PutLogEvents"))
                    .resources(List.of(logs.getLogGroupArn()))
                    .build());
            Function fn = Function.Builder.create(stack, name)
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
            Alias alias = Alias.Builder.create(stack, name + "Live")
                    .aliasName(TidemarkStack.ALIAS)
                    .version(fn.getCurrentVersion())
                    // Asynchronous invocations (S3 notifications, schedules): retry twice, then park
                    // the event in the failure queue; a WAL event older than 6 h is stale anyway.
                    .retryAttempts(2)
                    .maxEventAge(Duration.hours(6))
                    .onFailure(new SqsDestination(asyncFailures))
                    .build();
            TidemarkStack.TidemarkFunction f = new TidemarkStack.TidemarkFunction(fn, role, alias);
            functions.put(name, f);
            return f;
        }
    }

    private static void reserveConcurrency(TidemarkStack.TidemarkFunction f, int executions) {
        ((software.amazon.awscdk.services.lambda.CfnFunction) f.function().getNode().getDefaultChild())
                .setReservedConcurrentExecutions(executions);
    }

    private static String retentionPoliciesJson(TidemarkConfig config) {
        // {"stanza":{"fullType":"count","full":2,"diff":6},...}: what the daily schedules send.
        return config.stanzas().stream()
                .map(st -> "\"" + st.name() + "\":{\"fullType\":\"" + st.retention().fullType() + "\",\"full\":"
                        + st.retention().full() + ",\"diff\":" + st.retention().diff() + "}")
                .collect(Collectors.joining(",", "{", "}"));
    }

    private static String jobQueuesJson(Map<String, Queue> jobQueues) {
        // {"stanza":"<queue url>",...}: stanza names are [A-Za-z0-9_.-], safe inside a JSON string.
        return jobQueues.entrySet().stream()
                .map(e -> "\"" + e.getKey() + "\":\"" + e.getValue().getQueueUrl() + "\"")
                .collect(Collectors.joining(",", "{", "}"));
    }
}
