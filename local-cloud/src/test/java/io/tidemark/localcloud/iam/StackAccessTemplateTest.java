package io.tidemark.localcloud.iam;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The committed template, evaluated: what each principal of the deployed stack may and may not do. */
@Tag("unit")
class StackAccessTemplateTest {

    static final String REGION = "eu-central-1";
    static final StackAccess STACK = StackAccess.load(new LocalAccount(REGION, "tidemark-archive", "tidemark-catalog", "localapi"));
    static final String VIA_S3 = "s3." + REGION + ".amazonaws.com";

    private static Decision s3(Principal p, String action, String key) {
        return STACK.decide(p, new AccessRequest(action, STACK.objectArn(key), Map.of("aws:SecureTransport", "true")));
    }

    private static Decision list(Principal p, String prefix) {
        Map<String, String> ctx = new HashMap<>(Map.of("aws:SecureTransport", "true"));
        if (prefix != null) {
            ctx.put("s3:prefix", prefix);
        }
        return STACK.decide(p, new AccessRequest("s3:ListBucket", STACK.bucketArn(), ctx));
    }

    private static Decision api(Principal p, String method, String path) {
        return STACK.decide(p, AccessRequest.of("execute-api:Invoke", STACK.executeApiArn(method, path)));
    }

    private static Decision kms(Principal p, String action, String keyArn, Map<String, String> ctx) {
        return STACK.decide(p, new AccessRequest(action, keyArn, ctx));
    }

    private static void allowed(Decision d) {
        assertTrue(d.allowed(), d.toString());
    }

    private static void deniedImplicitly(Decision d) {
        Decision.Denied denied = assertInstanceOf(Decision.Denied.class, d);
        assertFalse(denied.explicit(), d.toString());
    }

    private static Decision.Denied deniedExplicitly(Decision d) {
        Decision.Denied denied = assertInstanceOf(Decision.Denied.class, d);
        assertTrue(denied.explicit(), d.toString());
        return denied;
    }

    // ---- nodes ----------------------------------------------------------------------------------

    @Test
    void aNodeArchivesAndReadsItsOwnStanza() {
        Principal main = STACK.node("main");
        allowed(s3(main, "s3:PutObject", "main/wal/0000000100000000/000000010000000000000001.zst"));
        allowed(s3(main, "s3:GetObject", "main/stanza.json"));
        allowed(s3(main, "s3:AbortMultipartUpload", "main/backup/20261206-010000F/pg_data/base/1/1.zst"));
        allowed(list(main, "main/"));
        allowed(list(main, "main/backup/"));
        allowed(kms(main, "kms:GenerateDataKey", STACK.dataKeyArn(), Map.of("kms:ViaService", VIA_S3)));
        allowed(kms(main, "kms:GetPublicKey", STACK.planKeyArn(), Map.of()));
        allowed(STACK.decide(main, AccessRequest.of("sqs:ReceiveMessage", STACK.jobQueueArn("main"))));
    }

    @Test
    void aNodeCannotDeleteAnything() {
        Principal main = STACK.node("main");
        Decision.Denied d = deniedExplicitly(s3(main, "s3:DeleteObject", "main/wal/0000000100000000/000000010000000000000001.zst"));
        assertTrue(d.why().contains("DenyDeleteExceptRetentionFunction"), d.why());
        assertTrue(d.why().contains("s3:DeleteObject"), d.why());
        deniedExplicitly(s3(main, "s3:DeleteObjectVersion", "main/stanza.json"));
        deniedExplicitly(s3(main, "s3:PutObjectRetention", "main/stanza.json"));
        deniedImplicitly(STACK.decide(main, AccessRequest.of("dynamodb:DeleteItem", STACK.tableArn())));
    }

    private static Decision put(Principal p, String key, boolean creates, boolean ifNoneMatch) {
        Map<String, String> ctx = new HashMap<>(Map.of("aws:SecureTransport", "true",
                "s3:ObjectCreationOperation", Boolean.toString(creates)));
        if (ifNoneMatch) {
            ctx.put("s3:if-none-match", "*");
        }
        return STACK.decide(p, new AccessRequest("s3:PutObject", STACK.objectArn(key), ctx));
    }

    @Test
    void aNodeCreatesObjectsButNeverReplacesOne() {
        Principal main = STACK.node("main");
        for (String key : List.of("main/wal/0000000100000000/000000010000000000000001.zst", "main/wal/00000002.history",
                "main/backup/20261206-010000F/manifest.json", "main/backup/20261206-010000F/bundle/0.zst",
                "main/stanza.json")) {
            allowed(put(main, key, true, true));
            Decision.Denied d = deniedExplicitly(put(main, key, true, false));
            assertTrue(d.why().contains("DenyOverwritesUnderStanzas"), d.why());
            // CreateMultipartUpload and UploadPart take no conditional header (their completion does)
            allowed(put(main, key, false, false));
        }
        // the operator is bound by the bucket policy too; the catalog function rewrites stanza.json
        deniedExplicitly(put(STACK.operator(), "main/wal/00000002.history", true, false));
        allowed(put(STACK.operator(), "top-level-object", true, false));
        allowed(put(STACK.function("CatalogApi"), "main/stanza.json", true, false));
    }

    @Test
    void nobodyButRetentionTouchesObjectLockSettings() {
        for (Principal p : List.of(STACK.node("main"), STACK.operator(), STACK.function("CatalogApi"),
                STACK.function("ManifestValidate"))) {
            for (String action : List.of("s3:PutObjectRetention", "s3:PutObjectLegalHold", "s3:BypassGovernanceRetention")) {
                Decision.Denied d = deniedExplicitly(s3(p, action, "main/backup/20261206-010000F/manifest.json"));
                assertTrue(d.why().contains("DenyLockChangesExceptRetentionFunction"), d.why());
            }
        }
    }

    @Test
    void aNodeReportsConflictsOnlyForItsOwnStanza() {
        Principal main = STACK.node("main");
        allowed(api(main, "POST", "/stanzas/main/conflicts"));
        deniedImplicitly(api(main, "POST", "/stanzas/reports/conflicts"));
        deniedImplicitly(api(main, "GET", "/stanzas/main/conflicts"));
    }

    @Test
    void aNodeCannotReadOrListAnotherStanza() {
        Principal main = STACK.node("main");
        Decision d = s3(main, "s3:GetObject", "reports/wal/0000000100000000/000000010000000000000001.zst");
        deniedImplicitly(d);
        assertEquals("no statement allows s3:GetObject on arn:aws:s3:::tidemark-archive/reports/wal/"
                + "0000000100000000/000000010000000000000001.zst", ((Decision.Denied) d).why());
        deniedImplicitly(s3(main, "s3:PutObject", "reports/stanza.json"));
        deniedImplicitly(list(main, "reports/"));
        deniedImplicitly(list(main, "mainx/"));
        deniedImplicitly(list(main, ""));
        deniedImplicitly(list(main, null));
        deniedImplicitly(STACK.decide(main, AccessRequest.of("sqs:ReceiveMessage", STACK.jobQueueArn("reports"))));
        // ...and the other way round
        deniedImplicitly(s3(STACK.node("reports"), "s3:GetObject", "main/stanza.json"));
    }

    @Test
    void aNodeCannotCallTheApiForAnotherStanza() {
        Principal main = STACK.node("main");
        allowed(api(main, "POST", "/stanzas/main/restore-plans"));
        allowed(api(main, "GET", "/stanzas/main"));
        allowed(api(main, "PUT", "/stanzas/main"));
        allowed(api(main, "POST", "/stanzas/main/jobs/j-1/claim"));
        allowed(api(main, "GET", "/restore-plans/p-1/urls"));
        deniedImplicitly(api(main, "POST", "/stanzas/reports/restore-plans"));
        deniedImplicitly(api(main, "GET", "/stanzas/reports"));
        deniedImplicitly(api(main, "PUT", "/stanzas/reports"));
        deniedImplicitly(api(main, "POST", "/stanzas/reports/jobs/j-1/claim"));
        deniedImplicitly(api(main, "DELETE", "/stanzas/main"));
    }

    @Test
    void aNodeUsesTheDataKeyOnlyThroughS3AndNeverSigns() {
        Principal main = STACK.node("main");
        deniedImplicitly(kms(main, "kms:Decrypt", STACK.dataKeyArn(), Map.of()));
        deniedImplicitly(kms(main, "kms:Decrypt", STACK.dataKeyArn(), Map.of("kms:ViaService", "sqs." + REGION + ".amazonaws.com")));
        deniedExplicitly(kms(main, "kms:Sign", STACK.planKeyArn(), Map.of("kms:SigningAlgorithm", "ECDSA_SHA_256")));
    }

    @Test
    void stanzaNamesAreValidated() {
        assertThrows(IllegalArgumentException.class, () -> STACK.node("a/b"));
        assertThrows(IllegalArgumentException.class, () -> STACK.node("*"));
        assertThrows(IllegalArgumentException.class, () -> STACK.function("Nope"));
    }

    // ---- functions ------------------------------------------------------------------------------

    @Test
    void onlyRetentionDeletesAndNobodyDeletesVersions() {
        allowed(s3(STACK.function("Retention"), "s3:DeleteObject", "main/wal/0000000100000000/000000010000000000000001.zst"));
        allowed(s3(STACK.function("Retention"), "s3:DeleteObject", "any-stanza/backup/20261206-010000F/manifest.json"));
        for (String fn : StackAccess.FUNCTIONS) {
            deniedExplicitly(s3(STACK.function(fn), "s3:DeleteObjectVersion", "main/wal/x"));
            if (!fn.equals("Retention")) {
                Decision.Denied d = deniedExplicitly(s3(STACK.function(fn), "s3:DeleteObject", "main/wal/x"));
                assertTrue(d.why().contains("DenyDeleteExceptRetentionFunction"), d.why());
            }
        }
        deniedExplicitly(s3(STACK.operator(), "s3:DeleteObject", "main/wal/x"));
        deniedExplicitly(s3(STACK.operator(), "s3:DeleteObjectVersion", "main/wal/x"));
        deniedExplicitly(s3(STACK.node("main"), "s3:DeleteObjectVersion", "main/wal/x"));
        // Retention's objects are the stanzas' (S/*), nothing at the top of the bucket.
        deniedImplicitly(s3(STACK.function("Retention"), "s3:DeleteObject", "stray-object"));
        allowed(STACK.decide(STACK.function("Retention"), AccessRequest.of("dynamodb:DeleteItem", STACK.tableArn())));
        deniedImplicitly(STACK.decide(STACK.function("Verify"), AccessRequest.of("dynamodb:DeleteItem", STACK.tableArn())));
    }

    @Test
    void theCatalogFunctionWritesTheStanzaDocumentOnly() {
        Principal catalog = STACK.function("CatalogApi");
        allowed(s3(catalog, "s3:PutObject", "main/stanza.json"));
        allowed(s3(catalog, "s3:PutObject", "reports/stanza.json"));
        allowed(kms(catalog, "kms:GenerateDataKey", STACK.dataKeyArn(), Map.of("kms:ViaService", VIA_S3)));
        deniedImplicitly(s3(catalog, "s3:PutObject", "main/wal/0000000100000000/000000010000000000000001.zst"));
        deniedImplicitly(s3(catalog, "s3:PutObject", "main/sub/stanza.json"));
        deniedImplicitly(s3(catalog, "s3:GetObject", "main/backup/20261206-010000F/manifest.json"));
        allowed(STACK.decide(catalog, AccessRequest.of("dynamodb:PutItem", STACK.tableArn())));
        allowed(STACK.decide(catalog, AccessRequest.of("dynamodb:Query", STACK.tableArn())));
        deniedImplicitly(STACK.decide(catalog, AccessRequest.of("dynamodb:Scan", STACK.tableArn())));
    }

    @Test
    void functionsTouchOnlyWhatTheirRoleNames() {
        deniedImplicitly(s3(STACK.function("WalIndex"), "s3:GetObject", "main/backup/20261206-010000F/pg_data/base/1/1.zst"));
        allowed(s3(STACK.function("WalIndex"), "s3:GetObject", "main/wal/0000000100000000/000000010000000000000001.zst"));
        deniedImplicitly(s3(STACK.function("WalIndex"), "s3:PutObject", "main/wal/x"));
        deniedImplicitly(STACK.decide(STACK.function("ExpireApi"), AccessRequest.of("dynamodb:PutItem", STACK.tableArn())));
        deniedImplicitly(STACK.decide(STACK.function("VerifyApi"),
                new AccessRequest("s3:GetObject", STACK.objectArn("main/stanza.json"), Map.of("aws:SecureTransport", "true"))));
        allowed(STACK.decide(STACK.function("VerifyApi"), AccessRequest.of("sqs:SendMessage", STACK.verifyQueueArn())));
        allowed(STACK.decide(STACK.function("BackupScheduler"), AccessRequest.of("sqs:SendMessage", STACK.jobQueueArn("main"))));
        deniedImplicitly(STACK.decide(STACK.function("VerifyApi"), AccessRequest.of("sqs:SendMessage", STACK.jobQueueArn("main"))));
        allowed(STACK.decide(STACK.function("ManifestValidate"),
                AccessRequest.of("lambda:InvokeFunction", STACK.functionInvokeArn("Retention"))));
        deniedImplicitly(STACK.decide(STACK.function("CatalogApi"),
                AccessRequest.of("lambda:InvokeFunction", STACK.functionInvokeArn("Retention"))));
    }

    /**
     * S3 answers a GET/HEAD of a missing key with 404 only to a caller that may list that key
     * (s3:ListBucket with s3:prefix = the key), else 403: every function that reads objects
     * decides on "not there", and so may list what it reads; a node its own stanza.
     */
    @Test
    void readersCanTellAMissingObjectFromADeniedOne() {
        Map<String, String> tls = Map.of("aws:SecureTransport", "true");
        String wal = "main/wal/0000000100000000/000000010000000000000002.zst";
        for (String fn : java.util.List.of("WalIndex", "ManifestValidate", "RestorePlan", "Retention", "ExpireApi", "Verify")) {
            assertTrue(STACK.seesMissingKeys(STACK.function(fn), wal, tls), fn);
            deniedImplicitly(list(STACK.function(fn), null)); // no listing of the whole bucket
        }
        assertFalse(STACK.seesMissingKeys(STACK.function("WalIndex"), "main/backup/20261206-010000F/pg_data/PG_VERSION", tls));
        assertTrue(STACK.seesMissingKeys(STACK.function("Verify"), "main/backup/20261206-010000F/pg_data/PG_VERSION", tls));
        for (String fn : java.util.List.of("CatalogApi", "BackupScheduler", "VerifyApi")) {
            assertFalse(STACK.seesMissingKeys(STACK.function(fn), wal, tls), fn);
        }
        assertTrue(STACK.seesMissingKeys(STACK.node("main"), wal, tls));
        assertTrue(STACK.seesMissingKeys(STACK.node("main"), "main/wal/00000002.history", Map.of("aws:SecureTransport", "true",
                "s3:prefix", "ignored/")));
        assertFalse(STACK.seesMissingKeys(STACK.node("reports"), wal, tls));
        assertFalse(STACK.seesMissingKeys(STACK.function("Verify"), wal, Map.of("aws:SecureTransport", "false")));
        // listing what it reads: retention's listings of a stanza's backups
        allowed(list(STACK.function("Retention"), "main/backup/"));
        deniedImplicitly(list(STACK.function("WalIndex"), "main/backup/"));
    }

    @Test
    void onlyThePlannerSignsAndOnlyWithEcdsaSha256() {
        Principal planner = STACK.function("RestorePlan");
        allowed(kms(planner, "kms:Sign", STACK.planKeyArn(), Map.of("kms:SigningAlgorithm", "ECDSA_SHA_256")));
        deniedImplicitly(kms(planner, "kms:Sign", STACK.planKeyArn(), Map.of("kms:SigningAlgorithm", "ECDSA_SHA_384")));
        deniedImplicitly(kms(planner, "kms:Sign", STACK.planKeyArn(), Map.of()));
        deniedImplicitly(kms(planner, "kms:Sign", STACK.dataKeyArn(), Map.of("kms:SigningAlgorithm", "ECDSA_SHA_256")));
        deniedExplicitly(kms(STACK.function("CatalogApi"), "kms:Sign", STACK.planKeyArn(),
                Map.of("kms:SigningAlgorithm", "ECDSA_SHA_256")));
    }

    @Test
    void thePlanKeyPolicyLetsNoOtherFunctionNodeOrOperatorSign() {
        Map<String, String> ecdsa = Map.of("kms:SigningAlgorithm", "ECDSA_SHA_256");
        allowed(kms(STACK.function("RestorePlan"), "kms:Sign", STACK.planKeyArn(), ecdsa));
        for (String fn : StackAccess.FUNCTIONS) {
            if (!fn.equals("RestorePlan")) {
                Decision.Denied d = deniedExplicitly(kms(STACK.function(fn), "kms:Sign", STACK.planKeyArn(), ecdsa));
                assertTrue(d.why().contains("OnlyThePlannerSigns"), fn + ": " + d.why());
            }
        }
        for (Principal p : new Principal[] {STACK.node("main"), STACK.node("reports"), STACK.operator()}) {
            Decision.Denied d = deniedExplicitly(kms(p, "kms:Sign", STACK.planKeyArn(), ecdsa));
            assertTrue(d.why().contains("OnlyThePlannerSigns"), p + ": " + d.why());
        }
    }

    @Test
    void noFunctionOrNodeCanLiftOrBypassObjectLock() {
        String key = "main/backup/20261206-010000F/manifest.json";
        java.util.List<Principal> principals = new java.util.ArrayList<>();
        StackAccess.FUNCTIONS.forEach(fn -> principals.add(STACK.function(fn)));
        principals.add(STACK.node("main"));
        for (Principal p : principals) {
            for (String action : new String[] {"s3:BypassGovernanceRetention", "s3:PutObjectRetention",
                    "s3:PutObjectLegalHold", "s3:PutBucketObjectLockConfiguration", "s3:DeleteObjectVersion"}) {
                Decision d = action.equals("s3:PutBucketObjectLockConfiguration")
                        ? STACK.decide(p, new AccessRequest(action, STACK.bucketArn(), Map.of("aws:SecureTransport", "true")))
                        : s3(p, action, key);
                assertFalse(d.allowed(), p + " " + action + ": " + d);
            }
        }
    }

    @Test
    void metricsOnlyInTheTidemarkNamespace() {
        Principal verify = STACK.function("Verify");
        allowed(STACK.decide(verify, new AccessRequest("cloudwatch:PutMetricData", "*", Map.of("cloudwatch:namespace", "Tidemark"))));
        deniedImplicitly(STACK.decide(verify, new AccessRequest("cloudwatch:PutMetricData", "*", Map.of("cloudwatch:namespace", "Other"))));
    }

    // ---- operator, transport, services -------------------------------------------------------------

    @Test
    void theOperatorIsAnAdministratorBoundByTheBucketPolicy() {
        Principal op = STACK.operator();
        allowed(s3(op, "s3:GetObject", "main/stanza.json"));
        allowed(s3(op, "s3:PutObject", "anything"));
        allowed(STACK.decide(op, AccessRequest.of("dynamodb:Scan", STACK.tableArn())));
        // the key policies delegate to IAM (the administrator policy counts), but for kms:Sign on
        // the plan key, which the key policy denies to everyone but the planner
        allowed(kms(op, "kms:GetPublicKey", STACK.planKeyArn(), Map.of()));
        assertTrue(deniedExplicitly(kms(op, "kms:Sign", STACK.planKeyArn(), Map.of())).why()
                .contains("OnlyThePlannerSigns"));
        allowed(api(op, "POST", "/stanzas/reports/restore-plans"));
    }

    @Test
    void plainHttpAndOldTlsAreRefusedByTheBucketPolicy() {
        Principal op = STACK.operator();
        Decision d = STACK.decide(op, new AccessRequest("s3:GetObject", STACK.objectArn("main/stanza.json"),
                Map.of("aws:SecureTransport", "false")));
        deniedExplicitly(d);
        deniedExplicitly(STACK.decide(op, new AccessRequest("s3:GetObject", STACK.objectArn("main/stanza.json"),
                Map.of("aws:SecureTransport", "true", "s3:TlsVersion", "1.1"))));
        allowed(STACK.decide(op, new AccessRequest("s3:GetObject", STACK.objectArn("main/stanza.json"),
                Map.of("aws:SecureTransport", "true", "s3:TlsVersion", "1.3"))));
    }

    @Test
    void apiGatewayInvokesTheApiFunctionsThroughTheirAliases() {
        Principal apigw = STACK.service("apigateway.amazonaws.com");
        String source = STACK.executeApiArn("GET", "/stanzas/main");
        allowed(STACK.decide(apigw, new AccessRequest("lambda:InvokeFunction", STACK.functionInvokeArn("CatalogApi"),
                Map.of("aws:SourceArn", source))));
        // another API's calls, or the function without its alias, are not allowed
        deniedImplicitly(STACK.decide(apigw, new AccessRequest("lambda:InvokeFunction", STACK.functionInvokeArn("CatalogApi"),
                Map.of("aws:SourceArn", source.replace("localapi", "otherapi")))));
        deniedImplicitly(STACK.decide(apigw, new AccessRequest("lambda:InvokeFunction", STACK.functionArn("CatalogApi"),
                Map.of("aws:SourceArn", source))));
        deniedImplicitly(STACK.decide(apigw, new AccessRequest("lambda:InvokeFunction", STACK.functionInvokeArn("Retention"),
                Map.of("aws:SourceArn", source))));
    }

    @Test
    void s3NotifiesTheIndexerAndValidatorOfThisBucketInThisAccountOnly() {
        Principal s3 = STACK.service("s3.amazonaws.com");
        Map<String, String> fromBucket = Map.of("aws:SourceArn", STACK.bucketArn(), "aws:SourceAccount", "000000000000");
        allowed(STACK.decide(s3, new AccessRequest("lambda:InvokeFunction", STACK.functionInvokeArn("WalIndex"), fromBucket)));
        allowed(STACK.decide(s3, new AccessRequest("lambda:InvokeFunction", STACK.functionInvokeArn("ManifestValidate"),
                fromBucket)));
        deniedImplicitly(STACK.decide(s3, new AccessRequest("lambda:InvokeFunction", STACK.functionInvokeArn("Retention"),
                fromBucket)));
        deniedImplicitly(STACK.decide(s3, new AccessRequest("lambda:InvokeFunction", STACK.functionInvokeArn("WalIndex"),
                Map.of("aws:SourceArn", STACK.bucketArn()))));
        deniedImplicitly(STACK.decide(s3, new AccessRequest("lambda:InvokeFunction", STACK.functionInvokeArn("WalIndex"),
                Map.of("aws:SourceArn", "arn:aws:s3:::another-bucket", "aws:SourceAccount", "000000000000"))));
    }

    @Test
    void arnFormats() {
        assertEquals("arn:aws:iam::000000000000:role/tidemark-WalIndexRole", STACK.function("WalIndex").arn());
        assertEquals("function/WalIndex", STACK.function("WalIndex").name());
        assertEquals("arn:aws:iam::000000000000:role/tidemark-node-main", STACK.node("main").arn());
        assertEquals("arn:aws:iam::000000000000:user/tidemark-operator", STACK.operator().arn());
        assertEquals("arn:aws:s3:::tidemark-archive", STACK.bucketArn());
        assertEquals("arn:aws:s3:::tidemark-archive/main/stanza.json", STACK.objectArn("main/stanza.json"));
        assertEquals("arn:aws:dynamodb:eu-central-1:000000000000:table/tidemark-catalog", STACK.tableArn());
        assertEquals("arn:aws:execute-api:eu-central-1:000000000000:localapi/v1/GET/stanzas/main",
                STACK.executeApiArn("GET", "/stanzas/main"));
        assertEquals("arn:aws:sqs:eu-central-1:000000000000:tidemark-jobs-main", STACK.jobQueueArn("main"));
        assertEquals("arn:aws:sqs:eu-central-1:000000000000:tidemark-verify", STACK.verifyQueueArn());
        assertEquals("arn:aws:lambda:eu-central-1:000000000000:function:Retention:live", STACK.functionInvokeArn("Retention"));
        assertEquals("arn:aws:kms:eu-central-1:000000000000:key/tidemark-data-key", STACK.dataKeyArn());
    }
}
