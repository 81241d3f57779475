package io.tidemark.infra;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import software.amazon.awscdk.Stack;
import io.tidemark.events.api.ApiRoute;
import software.amazon.awscdk.services.apigateway.RestApi;
import software.amazon.awscdk.services.dynamodb.Table;
import software.amazon.awscdk.services.iam.AnyPrincipal;
import software.amazon.awscdk.services.iam.Effect;
import software.amazon.awscdk.services.iam.ManagedPolicy;
import software.amazon.awscdk.services.iam.PolicyStatement;
import software.amazon.awscdk.services.kms.Key;
import software.amazon.awscdk.services.s3.Bucket;
import software.amazon.awscdk.services.sqs.Queue;

/**
 * Least privilege: what each function's role may do (the catalog table, the objects it reads, the
 * keys), the bucket policy's denials (deletes, version deletes, overwrites, lock changes), and the
 * policy of each stanza's nodes. Created in the stack's own scope, so the logical ids stay the
 * stack's.
 */
final class StackAccess {
    private final Stack stack;
    private final Bucket bucket;
    private final Table table;
    private final Key dataKey;
    private final Key planKey;

    StackAccess(Stack stack, Bucket bucket, Table table, Key dataKey, Key planKey) {
        this.stack = stack;
        this.bucket = bucket;
        this.table = table;
        this.dataKey = dataKey;
        this.planKey = planKey;
    }

    /** Every function's grants and the bucket policy, in the order the stack always made them. */
    void grant(List<String> stanzas, StackFunctions fns, Map<String, TidemarkStack.TidemarkFunction> functions,
               Map<String, Queue> jobQueues) {
        for (TidemarkStack.TidemarkFunction f : functions.values()) {
            f.role().addToPrincipalPolicy(PolicyStatement.Builder.create()
                    .sid("PublishTidemarkMetrics")
                    .actions(List.of("cloudwatch:PutMetricData"))
                    .resources(List.of("*")) // PutMetricData has no resource type
                    .conditions(Map.of("StringEquals", Map.of("cloudwatch:namespace", TidemarkStack.METRIC_NAMESPACE)))
                    .build());
        }
        allowTable(fns.indexer(), false);
        allowTable(fns.validator(), false);
        allowTable(fns.catalogApi(), false);
        allowTable(fns.planner(), false);
        allowTable(fns.scheduler(), false);
        allowTable(fns.retention(), true);
        allowTable(fns.verify(), false);
        allowTable(fns.verifyApi(), false);
        // verify reads every object of the stanza (never writes or deletes one).
        allowRead(fns.verify(), prefixes(stanzas, "/*"));

        // The indexer also resumes backups waiting for WAL: catalog reads, and at most a HEAD of an
        // earlier backup's manifest (never the backup's files).
        // Streamed chunks: read to validate them, to scan their records and to compare them with the
        // complete segment that supersedes them.
        allowRead(fns.indexer(), prefixes(stanzas, "/wal/*"), prefixes(stanzas, "/stanza.json"),
                prefixes(stanzas, "/backup/*/manifest.json"), prefixes(stanzas, "/stream/*"));
        allowRead(fns.validator(), prefixes(stanzas, "/*"));
        fns.validator().role().addToPrincipalPolicy(PolicyStatement.Builder.create()
                .sid("ReadChecksumsWithoutDownloading")
                .actions(List.of("s3:GetObjectAttributes"))
                .resources(objectArns(prefixes(stanzas, "/backup/*")))
                .build());
        // PUT /stanzas/{stanza} (stanza-create) writes S/stanza.json for the nodes to read; the
        // function reads no object.
        fns.catalogApi().role().addToPrincipalPolicy(PolicyStatement.Builder.create()
                .sid("WriteStanzaDocument")
                .actions(List.of("s3:PutObject"))
                .resources(objectArns(prefixes(stanzas, "/stanza.json")))
                .build());
        fns.catalogApi().role().addToPrincipalPolicy(PolicyStatement.Builder.create()
                .sid("EncryptStanzaDocumentThroughS3")
                .actions(List.of("kms:GenerateDataKey"))
                .resources(List.of(dataKey.getKeyArn()))
                .conditions(Map.of("StringEquals", Map.of("kms:ViaService", "s3." + stack.getRegion() + ".amazonaws.com")))
                .build());
        // Presigned URLs act with the planner's permissions: it needs read on what it signs.
        allowRead(fns.planner(), prefixes(stanzas, "/*"));
        fns.planner().role().addToPrincipalPolicy(PolicyStatement.Builder.create()
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
                .conditions(Map.of("ArnNotEquals", Map.of("aws:PrincipalArn", fns.planner().role().getRoleArn())))
                .build());
        fns.planner().role().addToPrincipalPolicy(PolicyStatement.Builder.create()
                .sid("ReadPlanPublicKey")
                .actions(List.of("kms:GetPublicKey", "kms:DescribeKey"))
                .resources(List.of(planKey.getKeyArn()))
                .build());
        for (Queue q : jobQueues.values()) {
            q.grantSendMessages(fns.scheduler().role());
        }
        allowRead(fns.retention(), prefixes(stanzas, "/*"));
        // The bucket is versioned: DeleteObject (no version id) only adds a delete marker; the
        // data stays a noncurrent version until the lifecycle rule expires it (never before an
        // Object Lock retain-until). No DeleteObjectVersion: nobody destroys versions at once.
        fns.retention().role().addToPrincipalPolicy(PolicyStatement.Builder.create()
                .sid("OnlyRetentionDeletes")
                .actions(List.of("s3:DeleteObject"))
                .resources(objectArns(prefixes(stanzas, "/*")))
                .build());
        allowLockRead(fns.retention(), stanzas);
        // Read-only: HEADs (s3:GetObject), listings of backup prefixes, catalog reads.
        allowTableRead(fns.expireApi());
        allowTableRead(fns.stanzaMetrics());
        allowRead(fns.expireApi(), prefixes(stanzas, "/*"));
        allowLockRead(fns.expireApi(), stanzas);

        // Defence in depth: whatever an identity policy says, only the retention function can
        // delete archive objects, and nobody deletes object versions (lifecycle does).
        bucket.addToResourcePolicy(PolicyStatement.Builder.create()
                .sid("DenyDeleteExceptRetentionFunction")
                .effect(Effect.DENY)
                .principals(List.of(new AnyPrincipal()))
                .actions(List.of("s3:DeleteObject"))
                .resources(List.of(bucket.arnForObjects("*")))
                .conditions(Map.of("ArnNotEquals", Map.of("aws:PrincipalArn", fns.retention().role().getRoleArn())))
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
                        "ArnNotEquals", Map.of("aws:PrincipalArn", fns.catalogApi().role().getRoleArn())))
                .build());
        // Object Lock settings of an object are the cloud's: no node shortens or lifts a retention,
        // sets a legal hold, or bypasses governance mode (only the retention function could be given that).
        bucket.addToResourcePolicy(PolicyStatement.Builder.create()
                .sid("DenyLockChangesExceptRetentionFunction")
                .effect(Effect.DENY)
                .principals(List.of(new AnyPrincipal()))
                .actions(List.of("s3:PutObjectRetention", "s3:PutObjectLegalHold", "s3:BypassGovernanceRetention"))
                .resources(List.of(bucket.arnForObjects("*")))
                .conditions(Map.of("ArnNotEquals", Map.of("aws:PrincipalArn", fns.retention().role().getRoleArn())))
                .build());
    }

    private void allowTable(TidemarkStack.TidemarkFunction f, boolean delete) {
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

    private void allowTableRead(TidemarkStack.TidemarkFunction f) {
        f.role().addToPrincipalPolicy(PolicyStatement.Builder.create()
                .sid("CatalogTableRead")
                .actions(List.of("dynamodb:GetItem", "dynamodb:Query"))
                .resources(List.of(table.getTableArn()))
                .build());
    }

    /** HEAD shows an object's Object Lock retain-until only with this permission. */
    private void allowLockRead(TidemarkStack.TidemarkFunction f, List<String> stanzas) {
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
    private void allowRead(TidemarkStack.TidemarkFunction f, List<String>... keyPatterns) {
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
                .conditions(Map.of("StringEquals", Map.of("kms:ViaService", "s3." + stack.getRegion() + ".amazonaws.com")))
                .build());
    }

    private List<String> objectArns(List<String> keyPatterns) {
        return keyPatterns.stream().map(bucket::arnForObjects).toList();
    }

    private static List<String> prefixes(List<String> stanzas, String suffix) {
        return stanzas.stream().map(s -> s + suffix).toList();
    }

    ManagedPolicy nodePolicy(String stanza, RestApi api, Map<String, Queue> jobQueues) {
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
                .conditions(Map.of("StringEquals", Map.of("kms:ViaService", "s3." + stack.getRegion() + ".amazonaws.com")))
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
                        .map(r -> api.arnForExecuteApi(r.method(), r.grantPath(stanza), TidemarkStack.API_STAGE))
                        .toList())
                .build());
        statements.add(PolicyStatement.Builder.create()
                .sid("ReceiveOwnJobs")
                .actions(List.of("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"))
                .resources(List.of(jobQueues.get(stanza).getQueueArn()))
                .build());
        return ManagedPolicy.Builder.create(stack, "NodePolicy-" + stanza)
                .description("Tidemark: what a database node of stanza " + stanza
                        + " may do (archive, back up, restore; never delete)")
                .statements(statements)
                .build();
    }
}
