package io.tidemark.localcloud.iam;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * AWS's documented evaluation logic, case by case, on small hand-written templates: explicit deny
 * wins over any allow, same-account allow from either an identity or a resource policy, KMS key
 * policies, wildcards, Not* elements and each condition operator the stack uses.
 */
@Tag("unit")
class PolicyEvaluationTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final LocalAccount ACCOUNT = new LocalAccount("us-east-1", "b", "t", "api");
    static final String BUCKET = "arn:aws:s3:::b";
    static final String WAL_INDEX_ROLE = "arn:aws:iam::000000000000:role/tidemark-WalIndexRole";
    static final String RETENTION_ROLE = "arn:aws:iam::000000000000:role/tidemark-RetentionRole";
    static final String ROOT = "arn:aws:iam::000000000000:root";

    /** A template with every function role, an empty node policy, and what a test adds. */
    static final class Tpl {
        final ObjectNode root = JSON.createObjectNode();
        final ObjectNode resources = root.putObject("Resources");

        Tpl() {
            root.put("PlaceholderStanza", "stanza-placeholder");
            for (String fn : StackAccess.FUNCTIONS) {
                resources.putObject(fn + "Role00000000").put("Type", "AWS::IAM::Role").putObject("Properties");
            }
            resources.putObject("ArchiveBucket00000000").put("Type", "AWS::S3::Bucket");
            resources.putObject("DataKey00000000").put("Type", "AWS::KMS::Key").putObject("Properties")
                    .set("KeyPolicy", doc());
            resources.putObject("Api00000000").put("Type", "AWS::ApiGateway::RestApi");
            resources.putObject("Stage00000000").put("Type", "AWS::ApiGateway::Stage").putObject("Properties")
                    .put("StageName", "v1");
            node();
        }

        private static ObjectNode doc(String... statements) {
            ObjectNode d = JSON.createObjectNode().put("Version", "2012-10-17");
            ArrayNode st = d.putArray("Statement");
            for (String s : statements) {
                st.add(parse(s));
            }
            return d;
        }

        Tpl identity(String role, String... statements) {
            ObjectNode props = resources.putObject(role + "Policy" + "0000000" + resources.size() % 10)
                    .put("Type", "AWS::IAM::Policy").putObject("Properties");
            props.put("PolicyName", role + "Policy");
            props.putArray("Roles").addObject().put("Ref", role + "Role00000000");
            props.set("PolicyDocument", doc(statements));
            return this;
        }

        Tpl bucketPolicy(String... statements) {
            ObjectNode props = resources.putObject("ArchiveBucketPolicy00000000").put("Type", "AWS::S3::BucketPolicy")
                    .putObject("Properties");
            props.putObject("Bucket").put("Ref", "ArchiveBucket00000000");
            props.set("PolicyDocument", doc(statements));
            return this;
        }

        Tpl keyPolicy(String... statements) {
            ((ObjectNode) resources.path("DataKey00000000").path("Properties")).set("KeyPolicy", doc(statements));
            return this;
        }

        Tpl node(String... statements) {
            resources.putObject("NodePolicystanzaplaceholder00000000").put("Type", "AWS::IAM::ManagedPolicy")
                    .putObject("Properties").set("PolicyDocument", doc(statements));
            return this;
        }

        StackAccess load() {
            return StackAccess.of(ACCOUNT, root);
        }
    }

    static JsonNode parse(String json) {
        try {
            return JSON.readTree(json);
        } catch (Exception e) {
            throw new IllegalArgumentException(json, e);
        }
    }

    static String allow(String action, String resource) {
        return "{\"Effect\":\"Allow\",\"Action\":\"" + action + "\",\"Resource\":\"" + resource + "\"}";
    }

    static Decision decide(StackAccess s, Principal p, String action, String resource) {
        return s.decide(p, AccessRequest.of(action, resource));
    }

    static void allowed(Decision d) {
        assertTrue(d.allowed(), d.toString());
    }

    static Decision.Denied denied(Decision d, boolean explicit) {
        Decision.Denied denied = assertInstanceOf(Decision.Denied.class, d);
        assertEquals(explicit, denied.explicit(), d.toString());
        return denied;
    }

    // ---- the order of evaluation ---------------------------------------------------------------

    @Test
    void anExplicitDenyInTheResourcePolicyBeatsAnAllowInTheIdentityPolicy() {
        StackAccess s = new Tpl().identity("WalIndex", allow("s3:GetObject", BUCKET + "/*"))
                .bucketPolicy("{\"Sid\":\"NoSecrets\",\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\","
                        + "\"Resource\":\"" + BUCKET + "/secret/*\"}").load();
        Principal p = s.function("WalIndex");
        allowed(decide(s, p, "s3:GetObject", BUCKET + "/main/x"));
        Decision.Denied d = denied(decide(s, p, "s3:GetObject", BUCKET + "/secret/x"), true);
        assertEquals("explicit deny in ArchiveBucketPolicy00000000/NoSecrets: s3:GetObject on arn:aws:s3:::b/secret/x", d.why());
    }

    @Test
    void anExplicitDenyInTheIdentityPolicyBeatsAnAllowInTheResourcePolicy() {
        StackAccess s = new Tpl()
                .identity("WalIndex", "{\"Effect\":\"Deny\",\"Action\":\"s3:*\",\"Resource\":\"*\"}")
                .bucketPolicy("{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"" + WAL_INDEX_ROLE + "\"},"
                        + "\"Action\":\"s3:GetObject\",\"Resource\":\"" + BUCKET + "/*\"}").load();
        denied(decide(s, s.function("WalIndex"), "s3:GetObject", BUCKET + "/main/x"), true);
    }

    @Test
    void withoutAnAllowTheRequestIsImplicitlyDenied() {
        StackAccess s = new Tpl().identity("WalIndex", allow("s3:GetObject", BUCKET + "/main/*")).load();
        Decision.Denied d = denied(decide(s, s.function("WalIndex"), "s3:PutObject", BUCKET + "/main/x"), false);
        assertEquals("no statement allows s3:PutObject on arn:aws:s3:::b/main/x", d.why());
        denied(decide(s, s.function("Retention"), "s3:GetObject", BUCKET + "/main/x"), false);
    }

    @Test
    void inOneAccountAResourcePolicyNamingThePrincipalIsEnough() {
        StackAccess s = new Tpl().bucketPolicy("{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":[\"" + WAL_INDEX_ROLE + "\"]},"
                + "\"Action\":\"s3:GetObject\",\"Resource\":\"" + BUCKET + "/*\"}").load();
        allowed(decide(s, s.function("WalIndex"), "s3:GetObject", BUCKET + "/main/x"));
        denied(decide(s, s.function("Retention"), "s3:GetObject", BUCKET + "/main/x"), false);
    }

    @Test
    void aResourcePolicyNamingTheAccountLeavesItToIdentityPolicies() {
        StackAccess s = new Tpl().bucketPolicy("{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"" + ROOT + "\"},"
                + "\"Action\":\"s3:GetObject\",\"Resource\":\"" + BUCKET + "/*\"}").load();
        denied(decide(s, s.function("WalIndex"), "s3:GetObject", BUCKET + "/main/x"), false);
    }

    @Test
    void principalStarCoversEveryoneNotPrincipalEveryoneElse() {
        StackAccess s = new Tpl()
                .bucketPolicy("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":\""
                        + BUCKET + "/public/*\"}",
                        "{\"Effect\":\"Deny\",\"NotPrincipal\":{\"AWS\":\"" + RETENTION_ROLE + "\"},"
                                + "\"Action\":\"s3:DeleteObject\",\"Resource\":\"" + BUCKET + "/*\"}")
                .identity("WalIndex", allow("s3:DeleteObject", "*"))
                .identity("Retention", allow("s3:DeleteObject", "*")).load();
        allowed(decide(s, s.function("CatalogApi"), "s3:GetObject", BUCKET + "/public/x"));
        allowed(decide(s, s.service("s3.amazonaws.com"), "s3:GetObject", BUCKET + "/public/x"));
        denied(decide(s, s.function("WalIndex"), "s3:DeleteObject", BUCKET + "/main/x"), true);
        allowed(decide(s, s.function("Retention"), "s3:DeleteObject", BUCKET + "/main/x"));
    }

    @Test
    void principalArnComesFromThePrincipal() {
        StackAccess s = new Tpl()
                .bucketPolicy("{\"Effect\":\"Deny\",\"Principal\":{\"AWS\":\"*\"},\"Action\":\"s3:DeleteObject\","
                        + "\"Resource\":\"" + BUCKET + "/*\",\"Condition\":{\"ArnNotEquals\":{\"aws:PrincipalArn\":"
                        + "{\"Fn::GetAtt\":[\"RetentionRole00000000\",\"Arn\"]}}}}")
                .identity("Retention", allow("s3:DeleteObject", BUCKET + "/*"))
                .identity("WalIndex", allow("s3:DeleteObject", BUCKET + "/*")).load();
        allowed(decide(s, s.function("Retention"), "s3:DeleteObject", BUCKET + "/main/x"));
        denied(decide(s, s.function("WalIndex"), "s3:DeleteObject", BUCKET + "/main/x"), true);
        // a caller cannot pass itself off as another principal through the context
        denied(s.decide(s.function("WalIndex"), new AccessRequest("s3:DeleteObject", BUCKET + "/main/x",
                Map.of("aws:PrincipalArn", RETENTION_ROLE))), true);
    }

    // ---- wildcards and Not* elements -----------------------------------------------------------

    @Test
    void actionsMatchWildcardsIgnoringCase() {
        StackAccess s = new Tpl().identity("WalIndex", allow("s3:Get*", "*"), allow("sqs:?eceiveMessage", "*")).load();
        Principal p = s.function("WalIndex");
        allowed(decide(s, p, "s3:GetObject", BUCKET + "/x"));
        allowed(decide(s, p, "s3:GetObjectRetention", BUCKET + "/x"));
        allowed(decide(s, p, "S3:GETOBJECT", BUCKET + "/x"));
        allowed(decide(s, p, "sqs:ReceiveMessage", "q"));
        denied(decide(s, p, "s3:PutObject", BUCKET + "/x"), false);
        denied(decide(s, p, "sqs:ReReceiveMessage", "q"), false);
        denied(decide(s, p, "s3x:GetObject", BUCKET + "/x"), false);
    }

    @Test
    void resourcesMatchWildcardsCaseSensitively() {
        StackAccess s = new Tpl().identity("WalIndex", allow("s3:GetObject", BUCKET + "/main/*"),
                allow("s3:PutObject", BUCKET + "/main/wal/00000001?.zst")).load();
        Principal p = s.function("WalIndex");
        allowed(decide(s, p, "s3:GetObject", BUCKET + "/main/wal/a/b/c")); // * crosses '/'
        denied(decide(s, p, "s3:GetObject", BUCKET + "/Main/wal/x"), false);
        denied(decide(s, p, "s3:GetObject", BUCKET + "/main"), false);
        allowed(decide(s, p, "s3:PutObject", BUCKET + "/main/wal/000000012.zst"));
        denied(decide(s, p, "s3:PutObject", BUCKET + "/main/wal/0000000123.zst"), false);
    }

    @Test
    void notActionAndNotResource() {
        StackAccess s = new Tpl().identity("WalIndex",
                "{\"Effect\":\"Allow\",\"NotAction\":\"s3:Delete*\",\"Resource\":\"*\"}",
                "{\"Effect\":\"Deny\",\"Action\":\"s3:PutObject\",\"NotResource\":\"" + BUCKET + "/main/*\"}").load();
        Principal p = s.function("WalIndex");
        allowed(decide(s, p, "s3:GetObject", BUCKET + "/x"));
        allowed(decide(s, p, "dynamodb:Query", "arn:aws:dynamodb:us-east-1:000000000000:table/t"));
        denied(decide(s, p, "s3:DeleteObject", BUCKET + "/x"), false);
        allowed(decide(s, p, "s3:PutObject", BUCKET + "/main/x"));
        denied(decide(s, p, "s3:PutObject", BUCKET + "/other/x"), true);
    }

    @Test
    void thePlaceholderStanzaIsEveryStanzaForFunctionsAndTheNodesOwnForANode() {
        StackAccess s = new Tpl()
                .identity("WalIndex", allow("s3:GetObject", BUCKET + "/stanza-placeholder/stanza.json"))
                .node(allow("s3:GetObject", BUCKET + "/stanza-placeholder/*"),
                        "{\"Effect\":\"Allow\",\"Action\":\"s3:ListBucket\",\"Resource\":\"" + BUCKET + "\","
                                + "\"Condition\":{\"StringLike\":{\"s3:prefix\":[\"stanza-placeholder/\","
                                + "\"stanza-placeholder/*\"]}}}").load();
        Principal fn = s.function("WalIndex");
        allowed(decide(s, fn, "s3:GetObject", BUCKET + "/main/stanza.json"));
        allowed(decide(s, fn, "s3:GetObject", BUCKET + "/reports.2026_x-1/stanza.json"));
        denied(decide(s, fn, "s3:GetObject", BUCKET + "/a/b/stanza.json"), false);
        denied(decide(s, fn, "s3:GetObject", BUCKET + "//stanza.json"), false);
        Principal a = s.node("a");
        allowed(decide(s, a, "s3:GetObject", BUCKET + "/a/x"));
        denied(decide(s, a, "s3:GetObject", BUCKET + "/b/x"), false);
        denied(decide(s, a, "s3:GetObject", BUCKET + "/stanza-placeholder/x"), false);
        allowed(s.decide(a, new AccessRequest("s3:ListBucket", BUCKET, Map.of("s3:prefix", "a/wal/"))));
        denied(s.decide(a, new AccessRequest("s3:ListBucket", BUCKET, Map.of("s3:prefix", "ab/"))), false);
        denied(s.decide(a, AccessRequest.of("s3:ListBucket", BUCKET)), false);
    }

    // ---- conditions ----------------------------------------------------------------------------

    static final Wildcards W = new Wildcards("stanza-placeholder");

    static boolean holds(String op, String value, String... policy) {
        return new Condition(op, "k", List.of(policy)).holds(Optional.ofNullable(value), W);
    }

    @Test
    void stringOperators() {
        assertTrue(holds("StringEquals", "abc", "abc"));
        assertFalse(holds("StringEquals", "ABC", "abc"));
        assertFalse(holds("StringEquals", "abc", "a*")); // no wildcards in StringEquals
        assertTrue(holds("StringEquals", "b", "a", "b")); // values: OR
        assertFalse(holds("StringEquals", null, "abc")); // absent key: false
        assertTrue(holds("StringNotEquals", "c", "a", "b"));
        assertFalse(holds("StringNotEquals", "b", "a", "b")); // negated values: NOR
        assertTrue(holds("StringNotEquals", null, "a")); // absent key, negated operator: true
        assertTrue(holds("StringEqualsIgnoreCase", "ABC", "abc"));
        assertFalse(holds("StringNotEqualsIgnoreCase", "ABC", "abc"));
        assertTrue(holds("StringLike", "main/wal/x", "main/*"));
        assertTrue(holds("StringLike", "main/", "main/", "main/*"));
        assertFalse(holds("StringLike", "mainx/", "main/", "main/*"));
        assertTrue(holds("StringLike", "ab", "a?"));
        assertFalse(holds("StringLike", "Main/x", "main/*"));
        assertFalse(holds("StringLike", null, "*"));
        assertTrue(holds("StringNotLike", "x/y", "main/*"));
        assertFalse(holds("StringNotLike", "main/y", "other/*", "main/*"));
        assertTrue(holds("StringNotLike", null, "main/*"));
    }

    @Test
    void numericAndBoolOperators() {
        assertTrue(holds("NumericLessThan", "1.1", "1.2"));
        assertFalse(holds("NumericLessThan", "1.2", "1.2"));
        assertTrue(holds("NumericLessThanEquals", "1.2", "1.2"));
        assertTrue(holds("NumericGreaterThan", "3", "2"));
        assertTrue(holds("NumericGreaterThanEquals", "2", "2"));
        assertTrue(holds("NumericEquals", "2.0", "2"));
        assertTrue(holds("NumericNotEquals", "3", "2"));
        assertFalse(holds("NumericLessThan", null, "1.2"));
        assertFalse(holds("NumericLessThan", "not-a-number", "1.2"));
        assertTrue(holds("Bool", "false", "false"));
        assertTrue(holds("Bool", "TRUE", "true"));
        assertFalse(holds("Bool", "true", "false"));
        assertFalse(holds("Bool", null, "false"));
    }

    @Test
    void arnOperatorsCompareEachOfTheSixParts() {
        String role = "arn:aws:iam::000000000000:role/tidemark-RetentionRole";
        assertTrue(holds("ArnEquals", role, role));
        assertTrue(holds("ArnLike", role, "arn:aws:iam::*:role/tidemark-*"));
        assertTrue(holds("ArnEquals", role, "arn:aws:iam::000000000000:role/*")); // ArnEquals takes wildcards too
        assertFalse(holds("ArnLike", role, "arn:aws:*:role/tidemark-RetentionRole")); // '*' does not span parts
        assertFalse(holds("ArnLike", "not-an-arn", "*"));
        assertTrue(holds("ArnLike", "arn:aws:execute-api:r:1:api/v1/GET/stanzas/x",
                "arn:aws:execute-api:r:1:api/v1/GET/stanzas/*"));
        assertTrue(holds("ArnNotEquals", "arn:aws:iam::000000000000:role/other", role));
        assertFalse(holds("ArnNotEquals", role, role));
        assertTrue(holds("ArnNotEquals", null, role));
        assertTrue(holds("ArnNotLike", null, role));
        assertFalse(holds("ArnLike", null, role));
    }

    @Test
    void ifExistsAndNull() {
        assertTrue(holds("StringEqualsIfExists", null, "a"));
        assertTrue(holds("StringEqualsIfExists", "a", "a"));
        assertFalse(holds("StringEqualsIfExists", "b", "a"));
        assertTrue(holds("NumericLessThanIfExists", null, "1.2"));
        assertFalse(holds("BoolIfExists", "true", "false"));
        assertTrue(holds("Null", null, "true"));
        assertFalse(holds("Null", "x", "true"));
        assertTrue(holds("Null", "x", "false"));
        assertFalse(holds("Null", null, "false"));
    }

    @Test
    void operatorsNotImplementedAreRefusedNotGuessed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Condition("ForAnyValue:StringLike", "aws:TagKeys", List.of("a")));
        assertTrue(e.getMessage().contains("ForAnyValue:StringLike"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Condition("DateLessThan", "aws:CurrentTime", List.of("x")));
        assertThrows(IllegalArgumentException.class, () -> new Condition("NullIfExists", "k", List.of("true")));
        assertThrows(IllegalArgumentException.class, () -> new Tpl()
                .identity("WalIndex", "{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"*\","
                        + "\"Condition\":{\"IpAddress\":{\"aws:SourceIp\":\"10.0.0.0/8\"}}}").load());
    }

    @Test
    void conditionKeysAreAndedAcrossKeysAndOperatorsAndNamedIgnoringCase() {
        StackAccess s = new Tpl().identity("WalIndex", "{\"Effect\":\"Allow\",\"Action\":\"kms:Sign\",\"Resource\":\"*\","
                + "\"Condition\":{\"StringEquals\":{\"kms:SigningAlgorithm\":\"ECDSA_SHA_256\",\"kms:ViaService\":\"x\"},"
                + "\"Bool\":{\"aws:SecureTransport\":\"true\"}}}").load();
        Principal p = s.function("WalIndex");
        Map<String, String> all = Map.of("kms:SigningAlgorithm", "ECDSA_SHA_256", "kms:ViaService", "x",
                "aws:SecureTransport", "true");
        allowed(s.decide(p, new AccessRequest("kms:Sign", "k", all)));
        allowed(s.decide(p, new AccessRequest("kms:Sign", "k", Map.of("KMS:SigningAlgorithm", "ECDSA_SHA_256",
                "kms:viaservice", "x", "AWS:SecureTransport", "true"))));
        denied(s.decide(p, new AccessRequest("kms:Sign", "k", Map.of("kms:SigningAlgorithm", "ECDSA_SHA_256",
                "kms:ViaService", "x"))), false);
        denied(s.decide(p, new AccessRequest("kms:Sign", "k", Map.of("kms:SigningAlgorithm", "ECDSA_SHA_256",
                "kms:ViaService", "y", "aws:SecureTransport", "true"))), false);
    }

    // ---- KMS key policies ----------------------------------------------------------------------

    static final String KEY = "arn:aws:kms:us-east-1:000000000000:key/tidemark-data-key";

    @Test
    void aKeyPolicyThatDoesNotDelegateMakesIdentityPoliciesCountForNothing() {
        StackAccess s = new Tpl().identity("WalIndex", allow("kms:Decrypt", "*"))
                .keyPolicy("{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"" + RETENTION_ROLE + "\"},"
                        + "\"Action\":\"kms:Decrypt\",\"Resource\":\"*\"}").load();
        Decision.Denied d = denied(decide(s, s.function("WalIndex"), "kms:Decrypt", KEY), false);
        assertTrue(d.why().contains("neither allows it nor leaves it to IAM policies"), d.why());
        // the key policy alone is enough for the principal it names
        allowed(decide(s, s.function("Retention"), "kms:Decrypt", KEY));
        // the administrator's "*" does not reach a key that does not delegate to the account
        denied(decide(s, s.operator(), "kms:Decrypt", KEY), false);
    }

    @Test
    void aKeyPolicyDelegatingToTheAccountLetsIdentityPoliciesDecide() {
        StackAccess s = new Tpl().identity("WalIndex", allow("kms:Decrypt", KEY))
                .keyPolicy("{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":{\"Fn::Join\":[\"\",[\"arn:\",{\"Ref\":\"AWS::Partition\"},"
                        + "\":iam::\",{\"Ref\":\"AWS::AccountId\"},\":root\"]]}},\"Action\":\"kms:*\",\"Resource\":\"*\"}").load();
        allowed(decide(s, s.function("WalIndex"), "kms:Decrypt", KEY));
        Decision.Denied d = denied(decide(s, s.function("Retention"), "kms:Decrypt", KEY), false);
        assertTrue(d.why().contains("leaves it to IAM policies"), d.why());
        allowed(decide(s, s.operator(), "kms:ScheduleKeyDeletion", KEY));
    }

    @Test
    void aDenyInTheKeyPolicyWins() {
        StackAccess s = new Tpl().identity("WalIndex", allow("kms:*", "*"))
                .keyPolicy("{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"" + ROOT + "\"},\"Action\":\"kms:*\",\"Resource\":\"*\"}",
                        "{\"Sid\":\"NoDeletion\",\"Effect\":\"Deny\",\"Principal\":{\"AWS\":\"" + ROOT + "\"},"
                                + "\"Action\":\"kms:ScheduleKeyDeletion\",\"Resource\":\"*\"}").load();
        allowed(decide(s, s.function("WalIndex"), "kms:Decrypt", KEY));
        denied(decide(s, s.function("WalIndex"), "kms:ScheduleKeyDeletion", KEY), true);
        denied(decide(s, s.operator(), "kms:ScheduleKeyDeletion", KEY), true);
    }

    // ---- reading templates ---------------------------------------------------------------------

    @Test
    void unknownIntrinsicsAndReferencesFailLoudly() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Tpl()
                .identity("WalIndex", "{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":"
                        + "{\"Fn::If\":[\"c\",\"a\",\"b\"]}}").load());
        assertTrue(e.getMessage().contains("Fn::If"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Tpl()
                .identity("WalIndex", "{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":"
                        + "{\"Fn::GetAtt\":[\"Nowhere00000000\",\"Arn\"]}}").load());
        assertTrue(e.getMessage().contains("Nowhere00000000"), e.getMessage());
    }

    @Test
    void subSelectAndSplitResolve() {
        StackAccess s = new Tpl().identity("WalIndex",
                "{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":{\"Fn::Sub\":\"${ArchiveBucket00000000.Arn}/${AWS::Region}/*\"}}",
                "{\"Effect\":\"Allow\",\"Action\":\"s3:PutObject\",\"Resource\":{\"Fn::Sub\":[\"arn:aws:s3:::${B}/x\","
                        + "{\"B\":{\"Fn::Select\":[1,{\"Fn::Split\":[\",\",\"a,b,c\"]}]}}]}}").load();
        allowed(decide(s, s.function("WalIndex"), "s3:GetObject", BUCKET + "/us-east-1/k"));
        allowed(decide(s, s.function("WalIndex"), "s3:PutObject", "arn:aws:s3:::b/x"));
    }
}
