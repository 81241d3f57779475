package io.tidemark.infra;

import static io.tidemark.infra.Synth.actions;
import static io.tidemark.infra.Synth.resourcesOf;
import static io.tidemark.infra.Synth.statements;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import io.tidemark.events.api.ApiRoute;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import software.amazon.awscdk.assertions.Annotations;
import software.amazon.awscdk.assertions.Match;

/**
 * Template assertions on one synthesis: two stanzas (one with its own schedules and retention),
 * Object Lock on, non-default lifecycle and TTL settings.
 */
@Tag("unit")
class TidemarkStackTest {

    static Synth synth;
    static String bucketId;
    static String dataKeyId;
    static String planKeyId;
    static String tableId;
    /** handler class -> function logical id. */
    static Map<String, String> functionIds = new LinkedHashMap<>();
    /** handler class -> alias logical id. */
    static Map<String, String> aliasIds = new LinkedHashMap<>();

    static final List<String> HANDLERS = List.of(Handlers.WAL_INDEX, Handlers.MANIFEST_VALIDATE,
            Handlers.CATALOG_API, Handlers.RESTORE_PLAN, Handlers.BACKUP_SCHEDULER, Handlers.RETENTION,
            Handlers.EXPIRE_API, Handlers.VERIFY, Handlers.VERIFY_API, Handlers.STANZA_METRICS);

    @BeforeAll
    static void synthesize() {
        Map<String, Object> reports = new LinkedHashMap<>();
        reports.put("name", "reports");
        reports.put("backups", List.of(
                Map.of("type", "full", "schedule", "cron(0 2 ? * SAT *)"),
                Map.of("type", "incr", "schedule", "rate(6 hours)")));
        reports.put("timezone", "Europe/Berlin");
        reports.put("retention", Map.of("fullType", "time", "full", 35, "diff", 0));
        reports.put("maxBackupAgeHours", 8);
        Map<String, Object> ctx = new HashMap<>();
        ctx.put("stanzas", List.of("main", reports));
        ctx.put("objectLock", Map.of("mode", "GOVERNANCE", "days", 30));
        ctx.put("planUrlTtlMinutes", 45);
        ctx.put("planTtlMinutes", 30);
        ctx.put("indexerReservedConcurrency", 30);
        ctx.put("abortIncompleteMultipartDays", 5);
        synth = Synth.of(ctx);

        bucketId = synth.logicalId(synth.stack.bucket());
        dataKeyId = synth.logicalId(synth.stack.dataKey());
        planKeyId = synth.logicalId(synth.stack.planKey());
        tableId = synth.logicalId(synth.stack.table());
        synth.ofType("AWS::Lambda::Function").forEach((id, fn) -> {
            String handler = fn.path("Properties").path("Handler").asText();
            if (HANDLERS.contains(handler)) {
                functionIds.put(handler, id);
            }
        });
        synth.ofType("AWS::Lambda::Alias").forEach((id, alias) -> {
            String fnRef = alias.path("Properties").path("FunctionName").path("Ref").asText();
            functionIds.forEach((handler, fnId) -> {
                if (fnId.equals(fnRef)) {
                    aliasIds.put(handler, id);
                }
            });
        });
    }

    private static JsonNode ref(String logicalId) {
        return new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode().put("Ref", logicalId);
    }

    private static JsonNode props(String logicalId) {
        return synth.resources().path(logicalId).path("Properties");
    }

    private static Set<String> aliasRefs() {
        Set<String> refs = new HashSet<>();
        aliasIds.values().forEach(id -> refs.add(ref(id).toString()));
        return refs;
    }

    // ---- bucket ------------------------------------------------------------------------------

    @Test
    void bucketIsEncryptedWithTheDataKeyAndABucketKey() {
        JsonNode rule = props(bucketId).path("BucketEncryption").path("ServerSideEncryptionConfiguration").get(0);
        assertEquals("aws:kms", rule.path("ServerSideEncryptionByDefault").path("SSEAlgorithm").asText());
        assertEquals(dataKeyId, rule.path("ServerSideEncryptionByDefault").path("KMSMasterKeyID")
                .path("Fn::GetAtt").get(0).asText());
        assertTrue(rule.path("BucketKeyEnabled").asBoolean());
    }

    @Test
    void bucketBlocksPublicAccessAndIsVersioned() {
        JsonNode bpa = props(bucketId).path("PublicAccessBlockConfiguration");
        for (String f : List.of("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")) {
            assertTrue(bpa.path(f).asBoolean(), f);
        }
        assertEquals("Enabled", props(bucketId).path("VersioningConfiguration").path("Status").asText());
        assertEquals("Retain", synth.resources().path(bucketId).path("DeletionPolicy").asText());
    }

    @Test
    void bucketLifecycleAbortsIncompleteUploadsAndExpiresNoncurrentVersions() {
        JsonNode rules = props(bucketId).path("LifecycleConfiguration").path("Rules");
        boolean abort = false;
        boolean noncurrent = false;
        for (JsonNode r : rules) {
            if (r.path("AbortIncompleteMultipartUpload").path("DaysAfterInitiation").asInt() == 5) {
                abort = true;
                assertEquals("Enabled", r.path("Status").asText());
            }
            if (r.path("NoncurrentVersionExpiration").path("NoncurrentDays").asInt() == 30) {
                noncurrent = true;
            }
        }
        assertTrue(abort, "abort incomplete multipart uploads after 5 days: " + rules);
        assertTrue(noncurrent, "noncurrent versions expire after 30 days: " + rules);
    }

    @Test
    void objectLockFromContext() {
        assertTrue(props(bucketId).path("ObjectLockEnabled").asBoolean());
        JsonNode retention = props(bucketId).path("ObjectLockConfiguration").path("Rule").path("DefaultRetention");
        assertEquals("GOVERNANCE", retention.path("Mode").asText());
        assertEquals(30, retention.path("Days").asInt());
    }

    @Test
    void bucketPolicyDeniesPlainHttpAndDeletesByAnyoneButRetention() {
        JsonNode policy = null;
        for (JsonNode p : synth.ofType("AWS::S3::BucketPolicy").values()) {
            if (p.path("Properties").path("Bucket").equals(ref(bucketId))) {
                policy = p.path("Properties").path("PolicyDocument");
            }
        }
        assertNotNull(policy, "archive bucket policy");
        boolean tls = false;
        boolean delete = false;
        String retentionRole = synth.logicalId(synth.stack.functions().get("Retention").role());
        for (JsonNode st : statements(policy)) {
            if (st.path("Effect").asText().equals("Deny")
                    && st.path("Condition").path("Bool").path("aws:SecureTransport").asText().equals("false")
                    && actions(st).contains("s3:*")) {
                tls = true;
            }
            if (st.path("Effect").asText().equals("Deny") && actions(st).contains("s3:DeleteObject")) {
                JsonNode arn = st.path("Condition").path("ArnNotEquals").path("aws:PrincipalArn");
                assertEquals(retentionRole, arn.path("Fn::GetAtt").get(0).asText());
                delete = true;
            }
        }
        assertTrue(tls, "TLS-only statement");
        assertTrue(delete, "delete guard statement");
    }

    // ---- table and keys ------------------------------------------------------------------------

    @Test
    void tableIsOnDemandWithPitrAndTtl() {
        JsonNode p = props(tableId);
        assertEquals("PAY_PER_REQUEST", p.path("BillingMode").asText());
        assertTrue(p.path("PointInTimeRecoverySpecification").path("PointInTimeRecoveryEnabled").asBoolean());
        assertEquals("expiresAt", p.path("TimeToLiveSpecification").path("AttributeName").asText());
        assertTrue(p.path("TimeToLiveSpecification").path("Enabled").asBoolean());
        Map<String, String> keys = new HashMap<>();
        p.path("KeySchema").forEach(k -> keys.put(k.path("AttributeName").asText(), k.path("KeyType").asText()));
        assertEquals(Map.of("PK", "HASH", "SK", "RANGE"), keys);
        p.path("AttributeDefinitions").forEach(a -> assertEquals("S", a.path("AttributeType").asText()));
    }

    @Test
    void planKeyIsEccP256ForSigningAndDataKeyRotates() {
        assertEquals("ECC_NIST_P256", props(planKeyId).path("KeySpec").asText());
        assertEquals("SIGN_VERIFY", props(planKeyId).path("KeyUsage").asText());
        assertTrue(props(dataKeyId).path("EnableKeyRotation").asBoolean());
        String spec = props(dataKeyId).path("KeySpec").asText("SYMMETRIC_DEFAULT");
        assertEquals("SYMMETRIC_DEFAULT", spec);
    }

    // ---- functions -------------------------------------------------------------------------------

    @Test
    void oneJava21SnapStartFunctionPerHandler() {
        assertEquals(new TreeSet<>(HANDLERS), new TreeSet<>(functionIds.keySet()));
        for (String handler : HANDLERS) {
            JsonNode p = props(functionIds.get(handler));
            assertEquals("java21", p.path("Runtime").asText(), handler);
            assertEquals("PublishedVersions", p.path("SnapStart").path("ApplyOn").asText(), handler);
            assertTrue(p.path("MemorySize").asInt() >= 512, handler + " memory set deliberately");
            assertTrue(p.path("Timeout").asInt() > 3, handler + " timeout set deliberately");
            JsonNode env = p.path("Environment").path("Variables");
            assertEquals(ref(bucketId), env.path("TIDEMARK_BUCKET"), handler);
            assertEquals(ref(tableId), env.path("TIDEMARK_TABLE"), handler);
            assertEquals(ref("AWS::Region"), env.path("TIDEMARK_REGION"), handler);
            assertTrue(env.path("JAVA_TOOL_OPTIONS").isMissingNode(), handler + ": no JAVA_TOOL_OPTIONS");
            assertEquals(handler.equals(Handlers.RESTORE_PLAN), env.has("TIDEMARK_PLAN_KEY_ID"), handler);
        }
        JsonNode planEnv = props(functionIds.get(Handlers.RESTORE_PLAN)).path("Environment").path("Variables");
        assertEquals(planKeyId, planEnv.path("TIDEMARK_PLAN_KEY_ID").path("Fn::GetAtt").get(0).asText());
        assertEquals("45", planEnv.path("TIDEMARK_PLAN_URL_TTL_MINUTES").asText());
        assertEquals("30", planEnv.path("TIDEMARK_PLAN_TTL_MINUTES").asText());
        assertEquals(900, props(functionIds.get(Handlers.RETENTION)).path("Timeout").asInt());
        assertEquals(29, props(functionIds.get(Handlers.CATALOG_API)).path("Timeout").asInt());
        assertEquals(29, props(functionIds.get(Handlers.EXPIRE_API)).path("Timeout").asInt());
    }

    @Test
    void validatorAndIndexerStartRetentionThroughItsAliasOnly() {
        String retentionAlias = ref(aliasIds.get(Handlers.RETENTION)).toString();
        for (String handler : HANDLERS) {
            JsonNode env = props(functionIds.get(handler)).path("Environment").path("Variables");
            boolean starts = handler.equals(Handlers.MANIFEST_VALIDATE) || handler.equals(Handlers.WAL_INDEX);
            assertEquals(starts, env.has("TIDEMARK_RETENTION_FUNCTION"), handler);
            if (starts) {
                assertEquals(retentionAlias, env.path("TIDEMARK_RETENTION_FUNCTION").toString(), handler);
            }
        }
        // Among the functions (the schedules' own roles invoke their targets too):
        Set<String> functionRoles = new TreeSet<>();
        synth.stack.functions().keySet().forEach(fn -> functionRoles.add(roleId(fn)));
        Set<String> invokers = rolesGranted(st -> actions(st).stream().anyMatch(a -> a.startsWith("lambda:")));
        invokers.retainAll(functionRoles);
        assertEquals(Set.of(roleId("ManifestValidate"), roleId("WalIndex")), invokers);
        for (JsonNode p : identityPolicies().values()) {
            boolean ofAFunction = functionRoles.stream().anyMatch(r -> p.path("Roles").toString().contains(r));
            for (JsonNode st : statements(p.path("PolicyDocument"))) {
                if (ofAFunction && actions(st).stream().anyMatch(a -> a.startsWith("lambda:"))) {
                    assertEquals(List.of("lambda:InvokeFunction"), actions(st));
                    assertEquals(List.of(retentionAlias), resourcesOf(st), "the retention alias only");
                }
            }
        }
    }

    @Test
    void retentionAndItsDryRunGetEachStanzasPolicy() {
        for (String handler : List.of(Handlers.RETENTION, Handlers.EXPIRE_API)) {
            JsonNode env = props(functionIds.get(handler)).path("Environment").path("Variables");
            assertEquals("{\"main\":{\"fullType\":\"count\",\"full\":2,\"diff\":6},"
                    + "\"reports\":{\"fullType\":\"time\",\"full\":35,\"diff\":0}}",
                    env.path("TIDEMARK_RETENTION_POLICIES").asText(), handler);
            // the floors (defaults: docs/retention.md#floors)
            assertEquals("24", env.path("TIDEMARK_RETENTION_MIN_FULL_AGE_HOURS").asText(), handler);
            assertEquals("2", env.path("TIDEMARK_RETENTION_MAX_FULLS_PER_RUN").asText(), handler);
        }
        for (String handler : List.of(Handlers.MANIFEST_VALIDATE, Handlers.WAL_INDEX)) {
            JsonNode env = props(functionIds.get(handler)).path("Environment").path("Variables");
            assertEquals("10", env.path("TIDEMARK_CLOCK_SKEW_MINUTES").asText(), handler);
        }
    }

    @Test
    void theDryRunFunctionOnlyReads() {
        String role = roleId("ExpireApi");
        String failureQueue = synth.logicalId(synth.stack.asyncFailureQueue());
        Set<String> granted = new TreeSet<>();
        for (JsonNode p : identityPolicies().values()) {
            if (!p.path("Roles").toString().contains(role)) {
                continue;
            }
            for (JsonNode st : statements(p.path("PolicyDocument"))) {
                if (actions(st).stream().anyMatch(a -> a.startsWith("sqs:"))) {
                    // the alias's on-failure destination, as for every function
                    assertTrue(st.path("Resource").toString().contains(failureQueue), st.toString());
                    continue;
                }
                granted.addAll(actions(st));
            }
        }
        assertEquals(new TreeSet<>(List.of("cloudwatch:PutMetricData", "dynamodb:GetItem",
                "dynamodb:Query", "kms:Decrypt", "logs:CreateLogStream", "logs:PutLogEvents", "s3:GetObject",
                "s3:GetObjectRetention", "s3:GetObjectVersion", "s3:ListBucket")), granted);
        // retention reads Object Lock dates too (HEAD shows them only with this permission)
        assertEquals(Set.of(roleId("Retention"), roleId("ExpireApi")),
                rolesGranted(st -> actions(st).contains("s3:GetObjectRetention")));
    }

    @Test
    void everyFunctionHasALiveAliasOnAPublishedVersionWithAFailureDestination() {
        assertEquals(new TreeSet<>(HANDLERS), new TreeSet<>(aliasIds.keySet()));
        Map<String, JsonNode> versions = synth.ofType("AWS::Lambda::Version");
        Map<String, JsonNode> invokeConfigs = synth.ofType("AWS::Lambda::EventInvokeConfig");
        String failureQueue = synth.logicalId(synth.stack.asyncFailureQueue());
        for (String handler : HANDLERS) {
            JsonNode alias = props(aliasIds.get(handler));
            assertEquals("live", alias.path("Name").asText());
            String versionId = alias.path("FunctionVersion").path("Fn::GetAtt").get(0).asText();
            assertTrue(versions.containsKey(versionId), handler + " alias points at a published version");
            assertEquals(ref(functionIds.get(handler)), versions.get(versionId).path("Properties").path("FunctionName"));

            boolean found = false;
            for (JsonNode c : invokeConfigs.values()) {
                JsonNode p = c.path("Properties");
                if (p.path("Qualifier").toString().contains(aliasIds.get(handler))) {
                    found = true;
                    assertEquals(failureQueue, p.path("DestinationConfig").path("OnFailure").path("Destination")
                            .path("Fn::GetAtt").get(0).asText());
                }
            }
            assertTrue(found, handler + ": async invocations of the alias have an on-failure destination");
        }
    }

    @Test
    void everyLambdaPermissionIsOnAnAlias() {
        Set<String> aliases = aliasRefs();
        Map<String, JsonNode> permissions = synth.ofType("AWS::Lambda::Permission");
        assertFalse(permissions.isEmpty());
        permissions.forEach((id, p) -> assertTrue(aliases.contains(p.path("Properties").path("FunctionName").toString()),
                id + " grants invoke on " + p.path("Properties").path("FunctionName") + ", not on a live alias"));
    }

    // ---- triggers ---------------------------------------------------------------------------------

    @Test
    void s3NotificationsPerStanzaTargetTheAliases() {
        Map<String, JsonNode> notifications = synth.ofType("Custom::S3BucketNotifications");
        assertEquals(1, notifications.size());
        JsonNode configs = notifications.values().iterator().next().path("Properties")
                .path("NotificationConfiguration").path("LambdaFunctionConfigurations");
        assertTrue(notifications.values().iterator().next().path("Properties")
                .path("NotificationConfiguration").path("QueueConfigurations").isMissingNode());
        List<String> seen = new ArrayList<>();
        for (JsonNode c : configs) {
            Map<String, String> rules = new HashMap<>();
            c.path("Filter").path("Key").path("FilterRules")
                    .forEach(r -> rules.put(r.path("Name").asText(), r.path("Value").asText()));
            JsonNode target = c.path("LambdaFunctionArn");
            String events = c.path("Events").toString();
            String prefix = rules.get("prefix");
            if (!events.equals("[\"s3:ObjectCreated:*\"]")) {
                // removals of every object of a stanza go to the indexer
                assertTrue(events.equals("[\"s3:ObjectRemoved:*\"]") || events.equals("[\"s3:LifecycleExpiration:*\"]"),
                        events);
                assertEquals(ref(aliasIds.get(Handlers.WAL_INDEX)), target, prefix);
                assertFalse(rules.containsKey("suffix"));
                seen.add(events + " " + prefix);
                continue;
            }
            if (prefix.endsWith("/wal/") || prefix.endsWith("/stream/")) {
                // archived WAL and streamed WAL chunks (issue 17) both go to the indexer
                assertEquals(ref(aliasIds.get(Handlers.WAL_INDEX)), target, prefix);
                assertFalse(rules.containsKey("suffix"));
            } else if (prefix.endsWith("/backup/")) {
                assertEquals(ref(aliasIds.get(Handlers.MANIFEST_VALIDATE)), target, prefix);
                assertEquals("/manifest.json", rules.get("suffix"));
            } else {
                fail("unexpected notification " + c);
            }
            seen.add(prefix);
        }
        assertEquals(new TreeSet<>(List.of("main/wal/", "main/stream/", "main/backup/", "reports/wal/", "reports/stream/",
                "reports/backup/",
                "[\"s3:ObjectRemoved:*\"] main/", "[\"s3:LifecycleExpiration:*\"] main/",
                "[\"s3:ObjectRemoved:*\"] reports/", "[\"s3:LifecycleExpiration:*\"] reports/")), new TreeSet<>(seen));
        assertEquals(10, seen.size());
    }

    @Test
    void schedulesPerStanzaTargetTheAliases() {
        Map<String, JsonNode> schedules = synth.ofType("AWS::Scheduler::Schedule");
        Map<String, JsonNode> byInput = new HashMap<>();
        String failureQueue = synth.logicalId(synth.stack.asyncFailureQueue());
        String metrics = ref(aliasIds.get(Handlers.STANZA_METRICS)).toString();
        List<String> metricsSchedules = new ArrayList<>();
        for (JsonNode s : schedules.values()) {
            JsonNode target = s.path("Properties").path("Target");
            assertTrue(aliasRefs().contains(target.path("Arn").toString()), "schedule target is an alias: " + target);
            assertEquals(failureQueue, target.path("DeadLetterConfig").path("Arn").path("Fn::GetAtt").get(0).asText());
            if (target.path("Arn").toString().equals(metrics)) {
                // the stanza-metrics publisher: same input as verify's, so kept apart
                metricsSchedules.add(target.path("Input").asText() + " " + s.path("Properties").path("ScheduleExpression").asText());
                continue;
            }
            byInput.put(target.path("Input").asText(), s.path("Properties"));
        }
        assertEquals(List.of("{\"stanza\":\"main\"} rate(5 minutes)", "{\"stanza\":\"reports\"} rate(5 minutes)"),
                metricsSchedules.stream().sorted().toList());
        String scheduler = ref(aliasIds.get(Handlers.BACKUP_SCHEDULER)).toString();
        String retention = ref(aliasIds.get(Handlers.RETENTION)).toString();
        Map<String, String[]> expected = new LinkedHashMap<>();
        // The scheduler's input (io.tidemark.functions.schedule.ScheduleInput): no type = the policy decides.
        expected.put("{\"stanza\":\"main\",\"fullIntervalDays\":7}", new String[] {"cron(0 1 * * ? *)", "UTC", scheduler});
        expected.put("{\"stanza\":\"reports\",\"type\":\"full\",\"fullIntervalDays\":7}",
                new String[] {"cron(0 2 ? * SAT *)", "Europe/Berlin", scheduler});
        expected.put("{\"stanza\":\"reports\",\"type\":\"incr\",\"fullIntervalDays\":7}",
                new String[] {"rate(6 hours)", "Europe/Berlin", scheduler});
        assertEquals(expected.size() + 6, schedules.size(),
                "backup schedules + one retention, one verify and one stanza-metrics schedule per stanza");
        expected.forEach((input, want) -> {
            JsonNode p = byInput.get(input);
            assertNotNull(p, "schedule with input " + input + " among " + byInput.keySet());
            assertEquals(want[0], p.path("ScheduleExpression").asText());
            assertEquals(want[1], p.path("ScheduleExpressionTimezone").asText());
            assertEquals(want[2], p.path("Target").path("Arn").toString());
        });
        int retentionSchedules = 0;
        for (Map.Entry<String, JsonNode> e : byInput.entrySet()) {
            if (e.getValue().path("Target").path("Arn").toString().equals(retention)) {
                retentionSchedules++;
                assertTrue(e.getKey().contains("\"retention\":{"), e.getKey());
            }
        }
        assertEquals(2, retentionSchedules);
        assertTrue(byInput.containsKey(
                "{\"stanza\":\"reports\",\"retention\":{\"full\":35,\"diff\":0,\"fullType\":\"time\"}}")
                || byInput.keySet().stream().anyMatch(k -> k.contains("\"stanza\":\"reports\"")
                        && k.contains("\"full\":35") && k.contains("\"fullType\":\"time\"") && k.contains("\"diff\":0")),
                byInput.keySet().toString());
    }

    @Test
    void verifyFansOutThroughItsQueueAndRunsDailyPerStanza() {
        String queue = synth.logicalId(synth.stack.verifyQueue());
        JsonNode q = props(queue);
        assertTrue(q.path("SqsManagedSseEnabled").asBoolean());
        assertEquals(3, q.path("RedrivePolicy").path("maxReceiveCount").asInt());
        assertTrue(q.path("VisibilityTimeout").asInt() >= 900, "at least the function's timeout");
        Map<String, JsonNode> mappings = synth.ofType("AWS::Lambda::EventSourceMapping");
        assertEquals(1, mappings.size());
        JsonNode m = mappings.values().iterator().next().path("Properties");
        // "<function name>:live", taken apart from the alias ARN by CDK
        assertTrue(m.path("FunctionName").toString().contains(ref(aliasIds.get(Handlers.VERIFY)).toString())
                && m.path("FunctionName").toString().contains(":live"), m.path("FunctionName").toString());
        assertEquals(queue, m.path("EventSourceArn").path("Fn::GetAtt").get(0).asText());
        assertEquals(1, m.path("BatchSize").asInt());
        assertEquals(20, m.path("ScalingConfig").path("MaximumConcurrency").asInt());
        for (String handler : List.of(Handlers.VERIFY, Handlers.VERIFY_API)) {
            JsonNode env = props(functionIds.get(handler)).path("Environment").path("Variables");
            assertEquals(ref(queue), env.path("TIDEMARK_VERIFY_QUEUE"), handler);
        }
        assertEquals(Set.of(roleId("Verify"), roleId("VerifyApi")),
                rolesGranted(st -> actions(st).contains("sqs:SendMessage")
                        && st.path("Resource").toString().contains(queue)));
        String verify = ref(aliasIds.get(Handlers.VERIFY)).toString();
        Map<String, String> byStanza = new TreeMap<>();
        for (JsonNode s : synth.ofType("AWS::Scheduler::Schedule").values()) {
            JsonNode p = s.path("Properties");
            if (p.path("Target").path("Arn").toString().equals(verify)) {
                byStanza.put(p.path("Target").path("Input").asText(), p.path("ScheduleExpression").asText() + " "
                        + p.path("ScheduleExpressionTimezone").asText());
            }
        }
        assertEquals(Map.of("{\"stanza\":\"main\"}", "cron(0 4 * * ? *) UTC",
                "{\"stanza\":\"reports\"}", "cron(0 4 * * ? *) Europe/Berlin"), byStanza);
    }

    @Test
    void apiMethodsAreIamAuthorizedProxiesToAliases() {
        Map<String, JsonNode> resources = synth.ofType("AWS::ApiGateway::Resource");
        String apiId = synth.logicalId(synth.stack.api());
        Set<String> routes = new TreeSet<>();
        Map<String, JsonNode> methods = synth.ofType("AWS::ApiGateway::Method");
        assertEquals(20, methods.size());
        for (JsonNode m : methods.values()) {
            JsonNode p = m.path("Properties");
            assertEquals("AWS_IAM", p.path("AuthorizationType").asText(), p.toString());
            assertEquals("AWS_PROXY", p.path("Integration").path("Type").asText());
            String uri = p.path("Integration").path("Uri").toString();
            String target = aliasIds.entrySet().stream().filter(e -> uri.contains(ref(e.getValue()).toString()))
                    .map(Map.Entry::getKey).findFirst().orElse(null);
            assertNotNull(target, "integration targets a live alias: " + uri);
            String path = pathOf(p.path("ResourceId"), resources, apiId);
            routes.add(p.path("HttpMethod").asText() + " " + path + " -> " + target);
        }
        assertEquals(new TreeSet<>(List.of(
                "GET /stanzas/{stanza} -> " + Handlers.CATALOG_API,
                "PUT /stanzas/{stanza} -> " + Handlers.CATALOG_API,
                "POST /stanzas/{stanza}/restore-plans -> " + Handlers.RESTORE_PLAN,
                "POST /stanzas/{stanza}/expire -> " + Handlers.EXPIRE_API,
                "POST /stanzas/{stanza}/backup-lease -> " + Handlers.CATALOG_API,
                "PUT /stanzas/{stanza}/backup-lease -> " + Handlers.CATALOG_API,
                "DELETE /stanzas/{stanza}/backup-lease -> " + Handlers.CATALOG_API,
                "POST /stanzas/{stanza}/stream-lease -> " + Handlers.CATALOG_API,
                "PUT /stanzas/{stanza}/stream-lease -> " + Handlers.CATALOG_API,
                "DELETE /stanzas/{stanza}/stream-lease -> " + Handlers.CATALOG_API,
                "GET /stanzas/{stanza}/jobs -> " + Handlers.CATALOG_API,
                "POST /stanzas/{stanza}/jobs/{jobId}/claim -> " + Handlers.CATALOG_API,
                "POST /stanzas/{stanza}/jobs/{jobId}/pass -> " + Handlers.CATALOG_API,
                "POST /stanzas/{stanza}/jobs/{jobId}/report -> " + Handlers.CATALOG_API,
                "POST /stanzas/{stanza}/conflicts -> " + Handlers.CATALOG_API,
                "POST /stanzas/{stanza}/drills -> " + Handlers.CATALOG_API,
                "GET /stanzas/{stanza}/drills -> " + Handlers.CATALOG_API,
                "POST /stanzas/{stanza}/verify -> " + Handlers.VERIFY_API,
                "GET /stanzas/{stanza}/verify/{runId} -> " + Handlers.VERIFY_API,
                "GET /restore-plans/{id}/urls -> " + Handlers.RESTORE_PLAN)), routes);
    }

    /** The stack's API is the route table (events ApiRoute), method for method, and nothing else. */
    @Test
    void apiMethodsAreTheRouteTable() {
        Map<String, JsonNode> resources = synth.ofType("AWS::ApiGateway::Resource");
        String apiId = synth.logicalId(synth.stack.api());
        Set<String> synthesized = new TreeSet<>();
        for (JsonNode m : synth.ofType("AWS::ApiGateway::Method").values()) {
            JsonNode p = m.path("Properties");
            String uri = p.path("Integration").path("Uri").toString();
            String handler = aliasIds.entrySet().stream().filter(e -> uri.contains(ref(e.getValue()).toString()))
                    .map(Map.Entry::getKey).findFirst().orElse("no alias");
            List<String> parameters = new ArrayList<>();
            p.path("RequestParameters").fields().forEachRemaining(e -> parameters.add(e.getKey() + "=" + e.getValue()));
            synthesized.add(p.path("HttpMethod").asText() + " " + pathOf(p.path("ResourceId"), resources, apiId)
                    + " -> " + handler + " auth " + p.path("AuthorizationType").asText() + " key "
                    + p.path("ApiKeyRequired").asBoolean(false) + " " + parameters);
        }
        Set<String> table = new TreeSet<>();
        for (ApiRoute r : ApiRoute.values()) {
            table.add(r.method() + " " + r.template() + " -> " + r.function().handlerClass() + " auth "
                    + (r.iamAuthorized() ? "AWS_IAM" : "NONE") + " key " + r.apiKeyRequired() + " "
                    + r.requiredRequestParameters().stream().map(q -> q + "=true").toList());
        }
        assertEquals(table, synthesized);
    }

    /** Each node may call every method of the table for its own stanza, and no other stanza's. */
    @Test
    void nodesMayInvokeEveryRouteOfTheTableForTheirStanza() {
        for (String stanza : List.of("main", "reports")) {
            String policy = synth.resources().path(synth.logicalId(synth.stack.nodePolicies().get(stanza)))
                    .toString();
            assertTrue(policy.contains("execute-api:Invoke"), policy);
            for (ApiRoute r : ApiRoute.values()) {
                assertTrue(policy.contains("/v1/" + r.method() + r.grantPath(stanza) + "\""), stanza + " may call " + r);
            }
        }
    }

    private static String pathOf(JsonNode resourceId, Map<String, JsonNode> resources, String apiId) {
        String id = resourceId.path("Ref").asText();
        if (id.isEmpty()) {
            return ""; // root (Fn::GetAtt Api.RootResourceId)
        }
        JsonNode p = resources.get(id).path("Properties");
        return pathOf(p.path("ParentId"), resources, apiId) + "/" + p.path("PathPart").asText();
    }

    @Test
    void apiStageHasAccessLoggingAndThrottling() {
        Map<String, JsonNode> stages = synth.ofType("AWS::ApiGateway::Stage");
        assertEquals(1, stages.size());
        JsonNode p = stages.values().iterator().next().path("Properties");
        assertEquals("v1", p.path("StageName").asText());
        assertFalse(p.path("AccessLogSetting").path("DestinationArn").isMissingNode());
        assertFalse(p.path("AccessLogSetting").path("Format").asText().isEmpty());
        JsonNode settings = p.path("MethodSettings").get(0);
        assertEquals(50.0, settings.path("ThrottlingRateLimit").asDouble());
        assertEquals(100, settings.path("ThrottlingBurstLimit").asInt());
    }

    @Test
    void eachStanzaHasItsOwnApiKeyAndThrottleAndEveryMethodRequiresAKey() {
        synth.ofType("AWS::ApiGateway::Method").forEach((id, m) ->
                assertTrue(m.path("Properties").path("ApiKeyRequired").asBoolean(), id + " requires an API key"));
        JsonNode restApi = synth.ofType("AWS::ApiGateway::RestApi").values().iterator().next().path("Properties");
        assertEquals("HEADER", restApi.path("ApiKeySourceType").asText());
        String stageId = synth.ofType("AWS::ApiGateway::Stage").keySet().iterator().next();
        Map<String, JsonNode> plans = synth.ofType("AWS::ApiGateway::UsagePlan");
        Map<String, JsonNode> keys = synth.ofType("AWS::ApiGateway::ApiKey");
        assertEquals(2, plans.size(), "one usage plan per stanza");
        assertEquals(2, keys.size(), "one key per stanza");
        Set<String> described = new TreeSet<>();
        plans.forEach((planId, plan) -> {
            JsonNode p = plan.path("Properties");
            assertEquals(10.0, p.path("Throttle").path("RateLimit").asDouble(), planId);
            assertEquals(20, p.path("Throttle").path("BurstLimit").asInt(), planId);
            assertEquals(stageId, p.path("ApiStages").get(0).path("Stage").path("Ref").asText(), planId);
            described.add(p.path("Description").asText());
            // exactly one key, its own
            List<String> planKeys = new ArrayList<>();
            synth.ofType("AWS::ApiGateway::UsagePlanKey").values().forEach(k -> {
                if (k.path("Properties").path("UsagePlanId").path("Ref").asText().equals(planId)) {
                    planKeys.add(k.path("Properties").path("KeyId").path("Ref").asText());
                }
            });
            assertEquals(1, planKeys.size(), planId + " " + planKeys);
            assertTrue(keys.containsKey(planKeys.get(0)));
        });
        assertEquals(Set.of("Tidemark: the API throttle of stanza main", "Tidemark: the API throttle of stanza reports"),
                described);
        // a stanza's share stays below the stage's throttle, which all stanzas share
        assertTrue(10 * 2 <= TidemarkConfig.API_STAGE_RATE);
    }

    // ---- queues -------------------------------------------------------------------------------

    @Test
    void oneJobQueueWithDeadLetterQueuePerStanza() {
        JsonNode env = props(functionIds.get(Handlers.BACKUP_SCHEDULER)).path("Environment").path("Variables");
        String queuesEnv = env.path("TIDEMARK_JOB_QUEUES").toString();
        for (String stanza : List.of("main", "reports")) {
            String q = synth.logicalId(synth.stack.jobQueues().get(stanza));
            JsonNode p = props(q);
            assertTrue(p.path("SqsManagedSseEnabled").asBoolean());
            assertEquals(5, p.path("RedrivePolicy").path("maxReceiveCount").asInt());
            String dlq = p.path("RedrivePolicy").path("deadLetterTargetArn").path("Fn::GetAtt").get(0).asText();
            assertTrue(synth.resources().has(dlq));
            assertTrue(queuesEnv.contains("\\\"" + stanza + "\\\":\\\"") || queuesEnv.contains("\"" + stanza + "\":\""),
                    queuesEnv);
            assertTrue(queuesEnv.contains(ref(q).toString()), queuesEnv);
        }
    }

    // ---- IAM ------------------------------------------------------------------------------------

    private static final Pattern DELETE = Pattern.compile("(?i).*delete.*");

    @Test
    void nodePoliciesNeverDeleteAndStayInTheirStanza() {
        Map<String, JsonNode> managed = synth.ofType("AWS::IAM::ManagedPolicy");
        for (String stanza : List.of("main", "reports")) {
            String id = synth.logicalId(synth.stack.nodePolicies().get(stanza));
            JsonNode doc = managed.get(id).path("Properties").path("PolicyDocument");
            Set<String> all = new TreeSet<>();
            for (JsonNode st : statements(doc)) {
                assertEquals("Allow", st.path("Effect").asText());
                for (String a : actions(st)) {
                    all.add(a);
                    assertFalse(a.contains("*"), "no wildcard action: " + a);
                    // Acknowledging a job is the only "delete" a node does; it removes no data.
                    if (DELETE.matcher(a).matches()) {
                        assertEquals("sqs:DeleteMessage", a, "node policy of " + stanza + " may not delete");
                    }
                }
                String other = stanza.equals("main") ? "reports" : "main";
                assertFalse(st.toString().contains("/" + other), "stays out of stanza " + other + ": " + st);
                if (actions(st).stream().anyMatch(a -> a.startsWith("s3:") && !a.equals("s3:ListBucket"))) {
                    for (String r : resourcesOf(st)) {
                        assertTrue(r.contains("\"/" + stanza + "/*\""), "object actions only under " + stanza + "/: " + r);
                    }
                }
                if (actions(st).contains("s3:ListBucket")) {
                    assertEquals("[\"" + stanza + "/\",\"" + stanza + "/*\"]",
                            st.path("Condition").path("StringLike").path("s3:prefix").toString());
                }
                if (actions(st).stream().anyMatch(a -> a.startsWith("sqs:"))) {
                    assertEquals(synth.logicalId(synth.stack.jobQueues().get(stanza)),
                            st.path("Resource").path("Fn::GetAtt").get(0).asText());
                }
                if (actions(st).contains("kms:GenerateDataKey")) {
                    assertEquals(dataKeyId, st.path("Resource").path("Fn::GetAtt").get(0).asText());
                    assertFalse(st.path("Condition").path("StringEquals").path("kms:ViaService").isMissingNode());
                }
            }
            assertTrue(all.containsAll(List.of("s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts",
                    "s3:GetObject", "s3:ListBucket", "kms:GenerateDataKey", "kms:Decrypt", "execute-api:Invoke",
                    "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility")), all.toString());
            String text = doc.toString();
            for (String route : List.of("/v1/GET/stanzas/" + stanza + "\"", "/v1/PUT/stanzas/" + stanza + "\"",
                    "/v1/POST/stanzas/" + stanza + "/restore-plans\"", "/v1/POST/stanzas/" + stanza + "/expire\"", "/v1/GET/restore-plans/*/urls\"",
                    "/v1/POST/stanzas/" + stanza + "/backup-lease\"", "/v1/PUT/stanzas/" + stanza + "/backup-lease\"",
                    "/v1/DELETE/stanzas/" + stanza + "/backup-lease\"", "/v1/GET/stanzas/" + stanza + "/jobs\"",
                    "/v1/POST/stanzas/" + stanza + "/jobs/*/claim\"", "/v1/POST/stanzas/" + stanza + "/jobs/*/pass\"",
                    "/v1/POST/stanzas/" + stanza + "/jobs/*/report\"", "/v1/POST/stanzas/" + stanza + "/verify\"",
                    "/v1/GET/stanzas/" + stanza + "/verify/*\"")) {
                assertTrue(text.contains(route), "node may call " + route);
            }
        }
    }

    /** Every identity policy in the stack (inline and managed), by logical id. */
    private static Map<String, JsonNode> identityPolicies() {
        Map<String, JsonNode> out = new LinkedHashMap<>();
        synth.ofType("AWS::IAM::Policy").forEach((id, p) -> out.put(id, p.path("Properties")));
        synth.ofType("AWS::IAM::ManagedPolicy").forEach((id, p) -> out.put(id, p.path("Properties")));
        synth.ofType("AWS::IAM::Role").forEach((id, r) -> r.path("Properties").path("Policies")
                .forEach(p -> out.put(id + "/" + p.path("PolicyName").asText(), p)));
        return out;
    }

    private static Set<String> rolesGranted(java.util.function.Predicate<JsonNode> statement) {
        Set<String> roles = new TreeSet<>();
        identityPolicies().forEach((id, p) -> {
            for (JsonNode st : statements(p.path("PolicyDocument"))) {
                if (st.path("Effect").asText().equals("Allow") && statement.test(st)) {
                    p.path("Roles").forEach(r -> roles.add(r.path("Ref").asText()));
                    if (!p.has("Roles")) {
                        roles.add(id);
                    }
                }
            }
        });
        return roles;
    }

    private static String roleId(String function) {
        return synth.logicalId(synth.stack.functions().get(function).role());
    }

    @Test
    void onlyTheRetentionFunctionDeletesObjects() {
        Set<String> deleters = rolesGranted(st -> actions(st).stream()
                .anyMatch(a -> a.startsWith("s3:Delete") || a.equals("s3:*") || a.equals("*")));
        assertEquals(Set.of(roleId("Retention")), deleters);
        Set<String> versionDeleters = rolesGranted(st -> actions(st).contains("s3:DeleteObjectVersion"));
        assertTrue(versionDeleters.isEmpty(), versionDeleters.toString());
    }

    @Test
    void onlyThePlannerSignsAndOnlyWithThePlanKey() {
        assertEquals(Set.of(roleId("RestorePlan")),
                rolesGranted(st -> actions(st).stream().anyMatch(a -> a.equals("kms:Sign") || a.equals("kms:*"))));
        for (JsonNode p : identityPolicies().values()) {
            for (JsonNode st : statements(p.path("PolicyDocument"))) {
                if (actions(st).contains("kms:Sign")) {
                    assertEquals(planKeyId, st.path("Resource").path("Fn::GetAtt").get(0).asText());
                }
            }
        }
    }

    @Test
    void thePlanKeyPolicyDeniesSigningToEveryoneButThePlannerRole() {
        JsonNode policy = props(planKeyId).path("KeyPolicy");
        List<JsonNode> denies = new ArrayList<>();
        for (JsonNode st : statements(policy)) {
            if (st.path("Effect").asText().equals("Deny")) {
                denies.add(st);
            }
        }
        assertEquals(1, denies.size(), policy.toString());
        JsonNode deny = denies.get(0);
        assertEquals("*", deny.path("Principal").path("AWS").asText(), deny.toString());
        assertEquals(List.of("kms:Sign"), actions(deny));
        JsonNode except = deny.path("Condition").path("ArnNotEquals").path("aws:PrincipalArn");
        assertEquals(roleId("RestorePlan"), except.path("Fn::GetAtt").get(0).asText(), deny.toString());
        assertEquals("Arn", except.path("Fn::GetAtt").get(1).asText());
    }

    @Test
    void theS3TriggeredFunctionsHaveReservedConcurrency() {
        // the indexer's from the context, the validator's default; no other function reserves any
        assertEquals(30, props(functionIds.get(Handlers.WAL_INDEX)).path("ReservedConcurrentExecutions").asInt());
        assertEquals(5, props(functionIds.get(Handlers.MANIFEST_VALIDATE)).path("ReservedConcurrentExecutions").asInt());
        for (String handler : HANDLERS) {
            if (!handler.equals(Handlers.WAL_INDEX) && !handler.equals(Handlers.MANIFEST_VALIDATE)) {
                assertTrue(props(functionIds.get(handler)).path("ReservedConcurrentExecutions").isMissingNode(), handler);
            }
        }
    }

    @Test
    void leastPrivilegePerFunction() {
        // No one scans the catalog; object reads stay within the prefixes each function needs.
        assertTrue(rolesGranted(st -> actions(st).contains("dynamodb:Scan")).isEmpty());
        assertEquals(Set.of(roleId("Retention")), rolesGranted(st -> actions(st).contains("dynamodb:DeleteItem")));
        assertEquals(Set.of(roleId("BackupScheduler")), rolesGranted(st -> actions(st).contains("sqs:SendMessage")
                && st.toString().contains("JobQueue")));
        for (JsonNode st : statements(identityPolicies().get(
                synth.logicalId(synth.stack.functions().get("WalIndex").role().getNode().tryFindChild("DefaultPolicy")))
                .path("PolicyDocument"))) {
            if (actions(st).contains("s3:GetObject")) {
                for (String r : resourcesOf(st)) {
                    // ...and earlier manifests' existence, when it resumes a backup waiting for WAL.
                    // streamed chunks too (issue 17): validated, scanned, compared with their segment
                    assertTrue(r.contains("/wal/*\"") || r.contains("/stanza.json\"")
                            || r.contains("/backup/*/manifest.json\"") || r.contains("/stream/*\""),
                            "indexer reads WAL only: " + r);
                }
            }
            assertFalse(actions(st).stream().anyMatch(a -> a.startsWith("s3:Put") || a.startsWith("kms:Sign")), st.toString());
        }
        for (JsonNode st : statements(identityPolicies().get(
                synth.logicalId(synth.stack.functions().get("CatalogApi").role().getNode().tryFindChild("DefaultPolicy")))
                .path("PolicyDocument"))) {
            // stanza-create (PUT /stanzas/S) writes S/stanza.json; the function reads no object.
            assertFalse(actions(st).contains("s3:GetObject"), st.toString());
            if (actions(st).contains("s3:PutObject")) {
                assertEquals(List.of("s3:PutObject"), actions(st));
                List<String> rs = resourcesOf(st);
                assertEquals(2, rs.size(), rs.toString());
                for (String r : rs) {
                    assertTrue(r.endsWith("/stanza.json\"]]}"), "catalog API writes stanza.json only: " + r);
                }
            }
        }
        // Only nodes write the archive (and the catalog API the stanza documents).
        Set<String> writers = rolesGranted(st -> actions(st).contains("s3:PutObject"));
        for (String fn : List.of("WalIndex", "ManifestValidate", "RestorePlan", "BackupScheduler", "Retention",
                "ExpireApi", "Verify", "VerifyApi")) {
            assertFalse(writers.contains(roleId(fn)), fn + " may not write archive objects");
        }
        // Function roles carry no AWS managed policy.
        for (String fn : List.of("WalIndex", "ManifestValidate", "CatalogApi", "RestorePlan", "BackupScheduler", "Retention",
                "ExpireApi")) {
            assertTrue(props(roleId(fn)).path("ManagedPolicyArns").isMissingNode(), fn);
        }
    }

    // ---- alarms and outputs ---------------------------------------------------------------------

    @Test
    void alarmsCoverLagBackupAgeErrorsAndDeadLetters() {
        Map<String, JsonNode> alarms = synth.ofType("AWS::CloudWatch::Alarm");
        String topic = synth.logicalId(synth.stack.alarmTopic());
        Set<String> custom = new TreeSet<>();
        Set<String> errorFunctions = new TreeSet<>();
        Set<String> dlqs = new TreeSet<>();
        for (JsonNode a : alarms.values()) {
            JsonNode p = a.path("Properties");
            assertEquals(ref(topic), p.path("AlarmActions").get(0), "alarm notifies the topic");
            String ns = p.path("Namespace").asText();
            if (ns.equals("Tidemark")) {
                JsonNode dim = p.path("Dimensions").get(0);
                assertEquals("Stanza", dim.path("Name").asText());
                custom.add(p.path("MetricName").asText() + "/" + dim.path("Value").asText() + "/" + p.path("Threshold").asInt());
            } else if (ns.equals("AWS/Lambda")) {
                assertEquals("Errors", p.path("MetricName").asText());
                errorFunctions.add(p.path("Dimensions").get(0).path("Value").path("Ref").asText());
            } else if (ns.equals("AWS/SQS")) {
                assertEquals("ApproximateNumberOfMessagesVisible", p.path("MetricName").asText());
                dlqs.add(p.path("Dimensions").get(0).path("Value").path("Fn::GetAtt").get(0).asText());
            }
        }
        assertEquals(new TreeSet<>(List.of("ArchiveLagSeconds/main/900", "ArchiveLagSeconds/reports/900",
                "LastValidBackupAgeSeconds/main/93600", "LastValidBackupAgeSeconds/reports/28800",
                "VerifyProblems/main/1", "VerifyProblems/reports/1", "LastCleanVerifyAgeSeconds/main/172800",
                "LastCleanVerifyAgeSeconds/reports/172800", "HistoryConflicts/main/1", "HistoryConflicts/reports/1",
                "ManifestsRefused/main/1", "ManifestsRefused/reports/1", "DrillFailed/main/1", "DrillFailed/reports/1",
                "StreamMismatch/main/1", "StreamMismatch/reports/1", "StreamGaps/main/1", "StreamGaps/reports/1")),
                custom);
        assertEquals(new TreeSet<>(functionIds.values()), errorFunctions);
        Set<String> expectedDlqs = new TreeSet<>();
        expectedDlqs.add(synth.logicalId(synth.stack.asyncFailureQueue()));
        expectedDlqs.add(synth.logicalId(synth.stack.verifyDeadLetterQueue()));
        for (String s : List.of("main", "reports")) {
            expectedDlqs.add(props(synth.logicalId(synth.stack.jobQueues().get(s)))
                    .path("RedrivePolicy").path("deadLetterTargetArn").path("Fn::GetAtt").get(0).asText());
        }
        assertEquals(expectedDlqs, dlqs);
    }

    @Test
    void outputs() {
        JsonNode outputs = synth.json.path("Outputs");
        assertEquals(ref(bucketId), outputs.path("BucketName").path("Value"));
        assertTrue(outputs.path("ApiUrl").path("Value").toString().contains("execute-api"));
        assertEquals(planKeyId, outputs.path("PlanKeyArn").path("Value").path("Fn::GetAtt").get(0).asText());
        assertTrue(outputs.path("PlanPublicKeyCommand").path("Value").toString().contains("aws kms get-public-key"));
        int policies = 0;
        int queues = 0;
        for (Iterator<Map.Entry<String, JsonNode>> it = outputs.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().startsWith("NodePolicyArn")) {
                policies++;
            }
            if (e.getKey().startsWith("JobQueueUrl")) {
                queues++;
            }
        }
        assertEquals(2, policies);
        assertEquals(2, queues);
        assertEquals(ref(synth.logicalId(synth.stack.nodePolicies().get("main"))), outputs.path("NodePolicyArnmain").path("Value"));
        assertEquals(ref(synth.logicalId(synth.stack.jobQueues().get("reports"))), outputs.path("JobQueueUrlreports").path("Value"));
        for (String stanza : List.of("main", "reports")) {
            String keyRef = outputs.path("ApiKeyId" + stanza).path("Value").path("Ref").asText();
            assertTrue(synth.ofType("AWS::ApiGateway::ApiKey").containsKey(keyRef), stanza + ": " + keyRef);
        }
    }

    // ---- cdk-nag ----------------------------------------------------------------------------------

    @Test
    void cdkNagAwsSolutionsReportsNothingUnsuppressed() {
        Annotations annotations = Annotations.fromStack(synth.stack);
        List<String> findings = new ArrayList<>();
        annotations.findError("*", Match.anyValue())
                .forEach(m -> findings.add("error " + m.getId() + ": " + m.getEntry().getData()));
        annotations.findWarning("*", Match.anyValue())
                .forEach(m -> findings.add("warning " + m.getId() + ": " + m.getEntry().getData()));
        assertTrue(findings.isEmpty(), String.join("\n", findings));
    }

    @Test
    void everyNagSuppressionHasAWrittenReason() {
        int count = 0;
        for (Iterator<Map.Entry<String, JsonNode>> it = synth.resources().fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            for (JsonNode s : e.getValue().path("Metadata").path("cdk_nag").path("rules_to_suppress")) {
                count++;
                String reason = s.path("reason").asText();
                assertTrue(reason.length() >= 40 && reason.contains(" "),
                        e.getKey() + " suppresses " + s.path("id").asText() + " without a real reason: " + reason);
                assertTrue(s.path("id").asText().startsWith("AwsSolutions-"), s.toString());
            }
        }
        assertTrue(count > 0, "the suppressions are in the template metadata");
    }
}
