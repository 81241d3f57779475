package io.tidemark.localcloud.iam;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tidemark.events.json.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

/**
 * The stack's IAM as AWS would enforce it, read from the template {@code infra-cdk} synthesizes
 * ({@value #TEMPLATE}, checked against a fresh synthesis by infra-cdk's
 * {@code StackTemplateForLocalCloudTest}), for local-cloud's enforcement points.
 *
 * <h2>Principals</h2>
 * <ul>
 * <li>{@link #function(String)}: a function's execution role, by its stack name (WalIndex,
 *     ManifestValidate, CatalogApi, RestorePlan, BackupScheduler, Retention, ExpireApi, Verify,
 *     VerifyApi), with the role's inline and managed policies.</li>
 * <li>{@link #node(String)}: a role carrying the node managed policy of that stanza. The template
 *     holds it for one placeholder stanza ({@code PlaceholderStanza} in the file); the placeholder
 *     is replaced by the stanza's name, so a node of stanza A is granted nothing on stanza B.</li>
 * <li>{@link #operator()}: an IAM user with an administrator identity policy ({@code Allow *} on
 *     {@code *}), still bound by the resource policies' Denies (it cannot delete archive objects).</li>
 * <li>{@link #service(String)}: an AWS service principal (API Gateway, S3 invoking functions),
 *     which only resource policies (Lambda permissions, key policies) can grant anything to.</li>
 * </ul>
 *
 * <h2>Every stanza is configured</h2>
 * The real stack names each configured stanza in the functions' policies, bucket-notification
 * filters and queues. Local-cloud serves whichever stanza a test creates, so in every policy other
 * than a node's, the placeholder stanza name matches any one valid stanza name
 * ({@code [A-Za-z0-9][A-Za-z0-9_.-]*}, no {@code /}): a function may do to every stanza what the
 * real stack lets it do to each configured one.
 *
 * <h2>Evaluation (same account)</h2>
 * An explicit Deny in any applicable statement (identity policies of the principal, the resource's
 * policy) wins. Otherwise, for a KMS key the key policy must allow it, either to the principal
 * directly or to the account ({@code arn:aws:iam::ACCOUNT:root}), which lets the identity policies
 * decide; for everything else an Allow in either an identity policy or the resource policy is
 * enough. Otherwise the request is implicitly denied. See {@link Condition} for conditions.
 *
 * <h2>Request context</h2>
 * {@code aws:PrincipalArn} and {@code aws:PrincipalAccount} come from the principal. The caller
 * gives the rest: for S3 {@code s3:prefix} on ListBucket, {@code aws:SecureTransport} and
 * {@code s3:TlsVersion}; for KMS calls S3 makes on the caller's behalf {@code kms:ViaService}
 * ({@code s3.REGION.amazonaws.com}); {@code kms:SigningAlgorithm} on Sign; {@code cloudwatch:namespace}
 * on PutMetricData. {@code aws:SecureTransport}: {@code "true"} when the request came over TLS,
 * and also over local-cloud's plain-HTTP mode (a stand-in for AWS endpoints, which are always
 * HTTPS); the bucket policy denies every S3 call with {@code "false"}.
 *
 * <h2>Local names (ARN formats)</h2>
 * <ul>
 * <li>function role {@code arn:aws:iam::000000000000:role/tidemark-<Name>Role}; node role
 *     {@code arn:aws:iam::000000000000:role/tidemark-node-<stanza>}; operator
 *     {@code arn:aws:iam::000000000000:user/tidemark-operator}</li>
 * <li>bucket {@code arn:aws:s3:::<bucket>}, object {@code arn:aws:s3:::<bucket>/<key>}</li>
 * <li>table {@code arn:aws:dynamodb:<region>:000000000000:table/<table>}</li>
 * <li>keys {@code arn:aws:kms:<region>:000000000000:key/tidemark-data-key} and
 *     {@code .../key/tidemark-plan-key}</li>
 * <li>queues {@code arn:aws:sqs:<region>:000000000000:tidemark-jobs-<stanza>},
 *     {@code ...:tidemark-verify}, {@code ...:tidemark-async-failures}</li>
 * <li>functions {@code arn:aws:lambda:<region>:000000000000:function:<Name>}, their alias
 *     {@code ...:function:<Name>:live}</li>
 * <li>API {@code arn:aws:execute-api:<region>:000000000000:<apiId>/<stage>/<METHOD>/<path>}</li>
 * </ul>
 */
public final class StackAccess implements AccessPolicy, StackIdentities {

    public static final String TEMPLATE = "/io/tidemark/localcloud/iam/stack-template.json";
    /** The stack names of the functions. */
    public static final List<String> FUNCTIONS = List.of("WalIndex", "ManifestValidate", "CatalogApi", "RestorePlan",
            "BackupScheduler", "Retention", "ExpireApi", "Verify", "VerifyApi", "StanzaMetrics");

    private static final Pattern STANZA = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}");
    private static final Pattern HASH = Pattern.compile("[0-9A-F]{8}$");
    private static final String OPERATOR_ARN = "arn:aws:iam::" + LocalAccount.ACCOUNT + ":user/tidemark-operator";

    private final LocalAccount account;
    private final JsonNode resources;
    private final String placeholder;
    private final Wildcards wildcards;
    private final Intrinsics intrinsics;
    private final String stage;
    /** Function stack name -> its role's logical id. */
    private final Map<String, String> functionRoles = new LinkedHashMap<>();
    /** Role ARN -> identity statements. */
    private final Map<String, List<Statement>> identity = new HashMap<>();
    private final List<ResourcePolicy> resourcePolicies = new ArrayList<>();
    private final JsonNode nodePolicyDocument;
    private final String nodePolicyLabel;
    private final Map<String, List<Statement>> nodeStatements = new ConcurrentHashMap<>();
    private final List<Statement> operatorStatements;

    /** The policy attached to one resource (or, for a bucket, to it and its objects). */
    private record ResourcePolicy(String resourceArn, boolean withObjects, boolean keyPolicy, List<Statement> statements) {
        boolean owns(String resource, Wildcards w) {
            return w.equalsLiterally(resourceArn, resource)
                    || (withObjects && resource.startsWith(resourceArn + "/"));
        }
    }

    private StackAccess(LocalAccount account, JsonNode template) {
        this.account = account;
        this.resources = template.path("Resources");
        this.placeholder = template.path("PlaceholderStanza").asText();
        if (!STANZA.matcher(placeholder).matches()) {
            throw new IllegalArgumentException("the template names no valid PlaceholderStanza: '" + placeholder + "'");
        }
        this.wildcards = new Wildcards(placeholder);
        this.intrinsics = new Intrinsics(new LocalNames());
        this.stage = ofType("AWS::ApiGateway::Stage").values().stream().findFirst()
                .map(s -> s.path("Properties").path("StageName").asText())
                .orElseThrow(() -> new IllegalArgumentException("the template has no API stage"));

        for (String fn : FUNCTIONS) {
            String roleId = ofType("AWS::IAM::Role").keySet().stream().filter(id -> base(id).equals(fn + "Role"))
                    .findFirst().orElseThrow(() -> new IllegalArgumentException("the template has no role of function " + fn));
            functionRoles.put(fn, roleId);
            identity.put(roleArn(roleId), identityStatements(roleId));
        }

        Map<String, JsonNode> nodePolicies = new LinkedHashMap<>();
        ofType("AWS::IAM::ManagedPolicy").forEach((id, p) -> {
            if (base(id).startsWith("NodePolicy")) {
                nodePolicies.put(id, p);
            }
        });
        if (nodePolicies.size() != 1) {
            throw new IllegalArgumentException("expected one node policy in the template, found " + nodePolicies.keySet());
        }
        nodePolicyLabel = nodePolicies.keySet().iterator().next();
        nodePolicyDocument = intrinsics.resolve(nodePolicies.get(nodePolicyLabel).path("Properties").path("PolicyDocument"));

        ObjectNode admin = JsonNodeFactory.instance.objectNode();
        admin.put("Sid", "AdministratorAccess").put("Effect", "Allow").put("Action", "*").put("Resource", "*");
        operatorStatements = List.of(Statement.parse("operator", 0, admin, UnaryOperator.identity()));

        readResourcePolicies();
    }

    /** Reads the committed template (the one {@code infra-cdk} synthesizes) for {@code account}. */
    public static StackAccess load(LocalAccount account) {
        try (InputStream in = StackAccess.class.getResourceAsStream(TEMPLATE)) {
            if (in == null) {
                throw new IllegalStateException("resource " + TEMPLATE + " is missing from local-cloud's jar");
            }
            return of(account, Json.mapper().readTree(in));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + TEMPLATE, e);
        }
    }

    /** From a template in the committed file's form (tests give small hand-written ones). */
    static StackAccess of(LocalAccount account, JsonNode template) {
        return new StackAccess(account, template);
    }

    // ---- decisions ------------------------------------------------------------------------------

    @Override
    public Decision decide(Principal principal, AccessRequest request) {
        Map<String, String> context = new HashMap<>(request.context());
        boolean iamPrincipal = principal.arn().startsWith("arn:");
        if (iamPrincipal) {
            context.put("aws:PrincipalArn", principal.arn());
            context.put("aws:PrincipalAccount", LocalAccount.ACCOUNT);
        }
        List<Statement> mine = identityOf(principal);
        List<ResourcePolicy> policies = resourcePolicies.stream()
                .filter(p -> p.owns(request.resource(), wildcards)).toList();

        // 1. An explicit Deny anywhere wins.
        for (Statement s : mine) {
            if (!s.allow() && applies(s, request, context)) {
                return explicitDeny(s, request);
            }
        }
        for (ResourcePolicy p : policies) {
            for (Statement s : p.statements()) {
                if (!s.allow() && principalMatches(s, principal, true) && applies(s, request, context)) {
                    return explicitDeny(s, request);
                }
            }
        }
        Optional<Statement> identityAllow = mine.stream()
                .filter(s -> s.allow() && applies(s, request, context)).findFirst();
        // 2. A KMS key: its key policy decides, or lets IAM policies decide.
        Optional<ResourcePolicy> key = policies.stream().filter(ResourcePolicy::keyPolicy).findFirst();
        if (key.isPresent()) {
            Optional<Statement> direct = allowing(key.get(), principal, request, context, false);
            if (direct.isPresent()) {
                return new Decision.Allowed(direct.get().label());
            }
            Optional<Statement> delegated = allowing(key.get(), principal, request, context, true);
            if (delegated.isPresent() && identityAllow.isPresent()) {
                return new Decision.Allowed(identityAllow.get().label());
            }
            return new Decision.Denied(false, "no statement allows " + request.action() + " on " + request.resource()
                    + (delegated.isPresent() ? " (the key policy leaves it to IAM policies)"
                            : " (the key policy neither allows it nor leaves it to IAM policies)"));
        }
        // 3. Same account: an Allow in an identity policy or in the resource policy.
        if (identityAllow.isPresent()) {
            return new Decision.Allowed(identityAllow.get().label());
        }
        for (ResourcePolicy p : policies) {
            Optional<Statement> s = allowing(p, principal, request, context, false);
            if (s.isPresent()) {
                return new Decision.Allowed(s.get().label());
            }
        }
        return new Decision.Denied(false, "no statement allows " + request.action() + " on " + request.resource());
    }

    /**
     * Whether S3 tells {@code principal} that {@code key} is missing (404 NoSuchKey) rather than
     * 403 AccessDenied: only a caller that may list that key learns it does not exist. AWS judges
     * this as {@code s3:ListBucket} on the bucket with {@code s3:prefix} set to the key (Ceph RGW
     * does the same since its fix "consult s3:prefix when deciding between 403/404"), with the
     * request's other keys ({@code aws:SecureTransport}).
     */
    public boolean seesMissingKeys(Principal principal, String key, Map<String, String> context) {
        Map<String, String> c = new HashMap<>(context);
        c.keySet().removeIf(k -> k.equalsIgnoreCase("s3:prefix"));
        c.put("s3:prefix", key);
        return decide(principal, new AccessRequest("s3:ListBucket", bucketArn(), c)).allowed();
    }

    private static Decision explicitDeny(Statement s, AccessRequest request) {
        return new Decision.Denied(true, "explicit deny in " + s.label() + ": " + request.action() + " on "
                + request.resource());
    }

    /**
     * The first Allow of a resource policy for {@code principal}: named directly ({@code viaAccount}
     * false), or through the account root, which hands the decision to identity policies.
     */
    private Optional<Statement> allowing(ResourcePolicy p, Principal principal, AccessRequest request,
            Map<String, String> context, boolean viaAccount) {
        return p.statements().stream()
                .filter(s -> s.allow() && applies(s, request, context))
                .filter(s -> viaAccount ? namesAccount(s, principal) : principalMatches(s, principal, false))
                .findFirst();
    }

    private boolean applies(Statement s, AccessRequest request, Map<String, String> context) {
        return s.coversAction(request.action(), wildcards) && s.coversResource(request.resource(), wildcards)
                && s.conditionsHold(context, wildcards);
    }

    /**
     * Whether a resource policy statement's Principal covers {@code p}. The account root covers
     * every principal of the account in a Deny; in an Allow it only delegates to IAM policies
     * ({@link #namesAccount}).
     */
    private boolean principalMatches(Statement s, Principal p, boolean deny) {
        Statement.PrincipalSpec spec = s.principal();
        boolean named = spec.anyone()
                || spec.aws().contains(p.arn())
                || spec.services().contains(p.arn())
                || (deny && p.arn().startsWith("arn:") && spec.aws().contains(accountRoot()));
        return spec.not() != named;
    }

    private boolean namesAccount(Statement s, Principal p) {
        return !s.principal().not() && p.arn().startsWith("arn:") && s.principal().aws().contains(accountRoot());
    }

    private List<Statement> identityOf(Principal p) {
        if (p.arn().equals(OPERATOR_ARN)) {
            return operatorStatements;
        }
        String nodePrefix = "arn:aws:iam::" + LocalAccount.ACCOUNT + ":role/tidemark-node-";
        if (p.arn().startsWith(nodePrefix)) {
            return nodeStatements(p.arn().substring(nodePrefix.length()));
        }
        return identity.getOrDefault(p.arn(), List.of());
    }

    private List<Statement> nodeStatements(String stanza) {
        if (!STANZA.matcher(stanza).matches() || stanza.contains("..")) {
            throw new IllegalArgumentException("invalid stanza name '" + stanza + "'");
        }
        return nodeStatements.computeIfAbsent(stanza, s -> statementsOf(nodePolicyLabel, nodePolicyDocument,
                text -> text.replace(placeholder, s)));
    }

    // ---- identities -----------------------------------------------------------------------------

    @Override
    public Principal function(String stackFunctionName) {
        String roleId = functionRoles.get(stackFunctionName);
        if (roleId == null) {
            throw new IllegalArgumentException("no function '" + stackFunctionName + "' in the stack; functions: " + FUNCTIONS);
        }
        return new Principal("function/" + stackFunctionName, roleArn(roleId));
    }

    @Override
    public Principal node(String stanza) {
        nodeStatements(stanza); // validates the name
        return new Principal("node/" + stanza, "arn:aws:iam::" + LocalAccount.ACCOUNT + ":role/tidemark-node-" + stanza);
    }

    @Override
    public Principal operator() {
        return new Principal("operator", OPERATOR_ARN);
    }

    /** An AWS service principal, e.g. {@code apigateway.amazonaws.com}: only resource policies grant it anything. */
    public Principal service(String servicePrincipal) {
        return new Principal("service/" + servicePrincipal, servicePrincipal);
    }

    @Override
    public String bucketArn() {
        return "arn:aws:s3:::" + account.bucket();
    }

    @Override
    public String objectArn(String key) {
        return bucketArn() + "/" + key;
    }

    @Override
    public String tableArn() {
        return arn("dynamodb", "table/" + account.table());
    }

    @Override
    public String executeApiArn(String method, String path) {
        if (!path.startsWith("/")) {
            throw new IllegalArgumentException("API path must start with '/': " + path);
        }
        return arn("execute-api", account.apiId() + "/" + stage + "/" + method + path);
    }

    @Override
    public String jobQueueArn(String stanza) {
        return arn("sqs", "tidemark-jobs-" + stanza);
    }

    @Override
    public String verifyQueueArn() {
        return arn("sqs", "tidemark-verify");
    }

    @Override
    public String functionInvokeArn(String stackFunctionName) {
        if (!FUNCTIONS.contains(stackFunctionName)) {
            throw new IllegalArgumentException("no function '" + stackFunctionName + "' in the stack; functions: " + FUNCTIONS);
        }
        String alias = ofType("AWS::Lambda::Alias").entrySet().stream()
                .filter(e -> base(e.getKey()).equals(stackFunctionName + "Live"))
                .map(e -> e.getValue().path("Properties").path("Name").asText()).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("the template has no alias of " + stackFunctionName));
        return functionArn(stackFunctionName) + ":" + alias;
    }

    public String functionArn(String stackFunctionName) {
        return arn("lambda", "function:" + stackFunctionName);
    }

    public String dataKeyArn() {
        return arn("kms", "key/tidemark-data-key");
    }

    public String planKeyArn() {
        return arn("kms", "key/tidemark-plan-key");
    }

    public String asyncFailureQueueArn() {
        return arn("sqs", "tidemark-async-failures");
    }

    /** The stage the template deploys the API to ({@code v1}). */
    public String apiStage() {
        return stage;
    }

    /** The stanza name the template was synthesized for. */
    public String placeholderStanza() {
        return placeholder;
    }

    /**
     * The Allow statements of a principal's identity policies as the template has them (the
     * placeholder for every stanza, {@code S} in the docs), for documentation: actions, resources,
     * condition tests.
     */
    public List<Grant> grants(Principal principal) {
        List<Grant> out = new ArrayList<>();
        for (Statement s : identityOf(principal)) {
            if (s.allow()) {
                List<String> conditions = s.conditions().stream()
                        .map(c -> c.operator() + " " + c.key() + " " + c.values()).toList();
                out.add(new Grant(s.actions(), s.resources(), conditions));
            }
        }
        return out;
    }

    /** One Allow statement of an identity policy: its actions, resources and condition tests. */
    public record Grant(List<String> actions, List<String> resources, List<String> conditions) {
    }

    // ---- reading the template -------------------------------------------------------------------

    private List<Statement> identityStatements(String roleId) {
        List<Statement> out = new ArrayList<>();
        JsonNode role = resources.path(roleId).path("Properties");
        for (JsonNode p : role.path("Policies")) {
            out.addAll(statementsOf(roleId + "/" + p.path("PolicyName").asText(),
                    intrinsics.resolve(p.path("PolicyDocument")), UnaryOperator.identity()));
        }
        List<String> managed = new ArrayList<>();
        role.path("ManagedPolicyArns").forEach(a -> managed.add(intrinsics.resolve(a).asText()));
        for (String type : List.of("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")) {
            ofType(type).forEach((id, p) -> {
                boolean attached = false;
                for (JsonNode r : p.path("Properties").path("Roles")) {
                    attached |= r.path("Ref").asText().equals(roleId);
                }
                if (type.equals("AWS::IAM::ManagedPolicy") && managed.remove(new LocalNames().ref(id))) {
                    attached = true;
                }
                if (attached) {
                    out.addAll(statementsOf(id, intrinsics.resolve(p.path("Properties").path("PolicyDocument")),
                            UnaryOperator.identity()));
                }
            });
        }
        if (!managed.isEmpty()) {
            throw new IllegalArgumentException("role " + roleId + " has managed policies local-cloud does not know: " + managed);
        }
        return out;
    }

    private static List<Statement> statementsOf(String label, JsonNode document, UnaryOperator<String> text) {
        List<Statement> out = new ArrayList<>();
        JsonNode st = document.path("Statement");
        if (st.isObject()) {
            out.add(Statement.parse(label, 0, st, text));
        } else {
            for (int i = 0; i < st.size(); i++) {
                out.add(Statement.parse(label, i, st.get(i), text));
            }
        }
        return out;
    }

    private void readResourcePolicies() {
        ofType("AWS::S3::BucketPolicy").forEach((id, p) -> {
            String bucket = intrinsics.resolve(p.path("Properties").path("Bucket")).asText();
            resourcePolicies.add(new ResourcePolicy("arn:aws:s3:::" + bucket, true, false,
                    statementsOf(id, intrinsics.resolve(p.path("Properties").path("PolicyDocument")),
                            UnaryOperator.identity())));
        });
        ofType("AWS::KMS::Key").forEach((id, k) -> resourcePolicies.add(new ResourcePolicy(new LocalNames().attribute(id, "Arn"),
                false, true, statementsOf(id + " key policy", intrinsics.resolve(k.path("Properties").path("KeyPolicy")),
                        UnaryOperator.identity()))));
        ofType("AWS::SQS::QueuePolicy").forEach((id, p) -> {
            List<Statement> statements = statementsOf(id, intrinsics.resolve(p.path("Properties").path("PolicyDocument")),
                    UnaryOperator.identity());
            for (JsonNode q : p.path("Properties").path("Queues")) {
                String url = intrinsics.resolve(q).asText();
                resourcePolicies.add(new ResourcePolicy(arn("sqs", url.substring(url.lastIndexOf('/') + 1)), false, false,
                        statements));
            }
        });
        ofType("AWS::SNS::TopicPolicy").forEach((id, p) -> {
            List<Statement> statements = statementsOf(id, intrinsics.resolve(p.path("Properties").path("PolicyDocument")),
                    UnaryOperator.identity());
            for (JsonNode t : p.path("Properties").path("Topics")) {
                resourcePolicies.add(new ResourcePolicy(intrinsics.resolve(t).asText(), false, false, statements));
            }
        });
        // Lambda permissions: each one a statement of the function's (or alias's) resource policy.
        ofType("AWS::Lambda::Permission").forEach((id, p) -> {
            JsonNode props = intrinsics.resolve(p.path("Properties"));
            String target = props.path("FunctionName").asText();
            String principal = props.path("Principal").asText();
            ObjectNode st = JsonNodeFactory.instance.objectNode();
            st.put("Effect", "Allow").put("Action", props.path("Action").asText());
            if (principal.equals("*")) {
                st.put("Principal", "*");
            } else {
                st.putObject("Principal").put(principal.endsWith(".amazonaws.com") ? "Service" : "AWS", principal);
            }
            if (props.has("SourceArn")) {
                st.putObject("Condition").putObject("ArnLike").put("aws:SourceArn", props.path("SourceArn").asText());
            }
            if (props.has("SourceAccount")) {
                st.with("Condition").putObject("StringEquals").put("aws:SourceAccount", props.path("SourceAccount").asText());
            }
            resourcePolicies.add(new ResourcePolicy(target.startsWith("arn:") ? target : functionArn(target), false, false,
                    List.of(Statement.parse(id, 0, st, UnaryOperator.identity()))));
        });
    }

    private Map<String, JsonNode> ofType(String type) {
        Map<String, JsonNode> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = resources.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getValue().path("Type").asText().equals(type)) {
                out.put(e.getKey(), e.getValue());
            }
        }
        return out;
    }

    /** A logical id without CDK's 8-hex-digit hash: the construct path ({@code WalIndexRole}). */
    private static String base(String logicalId) {
        return HASH.matcher(logicalId).replaceFirst("");
    }

    private String arn(String service, String resource) {
        return "arn:" + LocalAccount.PARTITION + ":" + service + ":" + account.region() + ":" + LocalAccount.ACCOUNT + ":"
                + resource;
    }

    private static String accountRoot() {
        return "arn:aws:iam::" + LocalAccount.ACCOUNT + ":root";
    }

    private static String roleArn(String roleId) {
        return "arn:aws:iam::" + LocalAccount.ACCOUNT + ":role/tidemark-" + base(roleId);
    }

    /** The local name of each resource the template's policies refer to. */
    private final class LocalNames implements Intrinsics.Names {

        @Override
        public String ref(String id) {
            switch (id) {
                case "AWS::Region":
                    return account.region();
                case "AWS::AccountId":
                    return LocalAccount.ACCOUNT;
                case "AWS::Partition":
                    return LocalAccount.PARTITION;
                case "AWS::URLSuffix":
                    return "amazonaws.com";
                case "AWS::StackName":
                    return "TidemarkStack";
                default:
                    break;
            }
            String type = typeOf(id);
            String base = base(id);
            return switch (type) {
                case "AWS::S3::Bucket" -> bucketName(id);
                case "AWS::DynamoDB::Table" -> account.table();
                case "AWS::KMS::Key" -> keyId(base);
                case "AWS::SQS::Queue" -> "https://sqs." + account.region() + ".amazonaws.com/" + LocalAccount.ACCOUNT + "/"
                        + queueName(base);
                case "AWS::SNS::Topic" -> arn("sns", "tidemark-" + base);
                case "AWS::Lambda::Function" -> base;
                case "AWS::Lambda::Alias" -> {
                    JsonNode props = resources.path(id).path("Properties");
                    yield functionArn(ref(props.path("FunctionName").path("Ref").asText())) + ":"
                            + props.path("Name").asText();
                }
                case "AWS::ApiGateway::RestApi" -> account.apiId();
                case "AWS::ApiGateway::Stage" -> resources.path(id).path("Properties").path("StageName").asText();
                case "AWS::IAM::Role" -> "tidemark-" + base;
                case "AWS::IAM::ManagedPolicy" -> "arn:aws:iam::" + LocalAccount.ACCOUNT + ":policy/tidemark-" + base;
                case "AWS::Logs::LogGroup" -> logGroup(base);
                default -> throw unnamed(id, type, "Ref");
            };
        }

        @Override
        public String attribute(String id, String attribute) {
            String type = typeOf(id);
            String base = base(id);
            String key = type + "." + attribute;
            return switch (key) {
                case "AWS::S3::Bucket.Arn" -> "arn:aws:s3:::" + bucketName(id);
                case "AWS::DynamoDB::Table.Arn" -> tableArn();
                case "AWS::KMS::Key.Arn" -> arn("kms", "key/" + keyId(base));
                case "AWS::SQS::Queue.Arn" -> arn("sqs", queueName(base));
                case "AWS::SQS::Queue.QueueName" -> queueName(base);
                case "AWS::SNS::Topic.TopicArn" -> ref(id);
                case "AWS::Lambda::Function.Arn" -> functionArn(base);
                case "AWS::IAM::Role.Arn" -> roleArn(id);
                case "AWS::Logs::LogGroup.Arn" -> arn("logs", "log-group:" + logGroup(base) + ":*");
                default -> throw unnamed(id, type, "Fn::GetAtt " + attribute);
            };
        }

        private String typeOf(String id) {
            JsonNode r = resources.path(id);
            if (r.isMissingNode()) {
                throw new IllegalArgumentException("the template refers to '" + id + "', which it does not define");
            }
            return r.path("Type").asText();
        }

        private String bucketName(String id) {
            String base = base(id);
            return switch (base) {
                case "ArchiveBucket" -> account.bucket();
                case "AccessLogBucket" -> account.bucket() + "-access-logs";
                default -> throw unnamed(id, "AWS::S3::Bucket", "a bucket name");
            };
        }

        private static String keyId(String base) {
            return switch (base) {
                case "DataKey" -> "tidemark-data-key";
                case "PlanSigningKey" -> "tidemark-plan-key";
                default -> "tidemark-" + base;
            };
        }

        private String queueName(String base) {
            if (base.startsWith("JobDeadLetterQueue")) {
                return "tidemark-job-dead-letters-" + placeholder;
            }
            if (base.startsWith("JobQueue")) {
                return "tidemark-jobs-" + placeholder;
            }
            return switch (base) {
                case "VerifyQueue" -> "tidemark-verify";
                case "VerifyDeadLetterQueue" -> "tidemark-verify-dead-letters";
                case "AsyncFailureQueue" -> "tidemark-async-failures";
                default -> "tidemark-" + base;
            };
        }

        private static String logGroup(String base) {
            return base.endsWith("Logs") ? "/aws/lambda/" + base.substring(0, base.length() - "Logs".length())
                    : "/tidemark/" + base;
        }

        private static IllegalArgumentException unnamed(String id, String type, String what) {
            return new IllegalArgumentException("the template's policies use " + what + " of " + id + " (" + type
                    + "), which local-cloud has no local name for");
        }
    }
}
