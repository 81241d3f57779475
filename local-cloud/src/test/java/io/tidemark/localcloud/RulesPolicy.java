package io.tidemark.localcloud;

import io.tidemark.localcloud.iam.AccessPolicy;
import io.tidemark.localcloud.iam.AccessRequest;
import io.tidemark.localcloud.iam.Decision;
import io.tidemark.localcloud.iam.Principal;
import io.tidemark.localcloud.iam.StackIdentities;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Test-only policy and identities: a handful of allow/deny rules on principal names, action and
 * resource globs ({@code *} any run of characters), and optionally one condition key's glob.
 * Explicit deny wins, then any allow, else implicit deny. Not the stack's evaluator (StackAccess):
 * just enough to drive the enforcement points.
 */
final class RulesPolicy implements AccessPolicy, StackIdentities {

    static final String ACCOUNT = "000000000000";
    static final String REGION = "us-east-1";

    private record Rule(boolean allow, String principal, Pattern action, Pattern resource, String key, Pattern value,
            String sid) {
    }

    private final String bucket;
    private final String table;
    private final List<Rule> rules = new ArrayList<>();

    RulesPolicy(String bucket, String table) {
        this.bucket = bucket;
        this.table = table;
    }

    RulesPolicy allow(String principal, String action, String resource) {
        rules.add(new Rule(true, principal, glob(action), glob(resource), null, null, "allow-" + rules.size()));
        return this;
    }

    RulesPolicy allowIf(String principal, String action, String resource, String key, String valueGlob) {
        rules.add(new Rule(true, principal, glob(action), glob(resource), key, glob(valueGlob), "allow-" + rules.size()));
        return this;
    }

    RulesPolicy deny(String principal, String action, String resource) {
        rules.add(new Rule(false, principal, glob(action), glob(resource), null, null, "deny-" + rules.size()));
        return this;
    }

    private static Pattern glob(String g) {
        List<String> parts = new ArrayList<>();
        for (String part : g.split("\\*", -1)) {
            parts.add(Pattern.quote(part));
        }
        return Pattern.compile(String.join(".*", parts), Pattern.DOTALL);
    }

    private static boolean matches(Rule r, Principal p, AccessRequest q) {
        if (!r.principal().equals(p.name()) || !r.action().matcher(q.action()).matches()
                || !r.resource().matcher(q.resource()).matches()) {
            return false;
        }
        if (r.key() == null) {
            return true;
        }
        String v = q.context().get(r.key());
        return v != null && r.value().matcher(v).matches();
    }

    @Override
    public Decision decide(Principal principal, AccessRequest request) {
        for (Rule r : rules) {
            if (!r.allow() && matches(r, principal, request)) {
                return new Decision.Denied(true, r.sid());
            }
        }
        for (Rule r : rules) {
            if (r.allow() && matches(r, principal, request)) {
                return new Decision.Allowed(r.sid());
            }
        }
        return new Decision.Denied(false, "no statement allows " + request.action() + " on " + request.resource()
                + (request.context().isEmpty() ? "" : " with " + Map.copyOf(request.context())));
    }

    @Override
    public Principal function(String stackFunctionName) {
        return new Principal("function/" + stackFunctionName, "arn:aws:iam::" + ACCOUNT + ":role/" + stackFunctionName + "Role");
    }

    @Override
    public Principal node(String stanza) {
        return new Principal("node/" + stanza, "arn:aws:iam::" + ACCOUNT + ":role/TidemarkNode-" + stanza);
    }

    @Override
    public Principal operator() {
        return new Principal("operator", "arn:aws:iam::" + ACCOUNT + ":user/operator");
    }

    @Override
    public String bucketArn() {
        return "arn:aws:s3:::" + bucket;
    }

    @Override
    public String objectArn(String key) {
        return "arn:aws:s3:::" + bucket + "/" + key;
    }

    @Override
    public String tableArn() {
        return "arn:aws:dynamodb:" + REGION + ":" + ACCOUNT + ":table/" + table;
    }

    @Override
    public String executeApiArn(String method, String path) {
        return "arn:aws:execute-api:" + REGION + ":" + ACCOUNT + ":localapi/local/" + method + path;
    }

    @Override
    public String jobQueueArn(String stanza) {
        return "arn:aws:sqs:" + REGION + ":" + ACCOUNT + ":tidemark-jobs-" + stanza;
    }

    @Override
    public String verifyQueueArn() {
        return "arn:aws:sqs:" + REGION + ":" + ACCOUNT + ":tidemark-verify";
    }

    @Override
    public String functionInvokeArn(String stackFunctionName) {
        return "arn:aws:lambda:" + REGION + ":" + ACCOUNT + ":function:" + stackFunctionName + ":live";
    }
}
