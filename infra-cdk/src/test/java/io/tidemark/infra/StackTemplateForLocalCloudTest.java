package io.tidemark.infra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import software.amazon.awscdk.App;
import software.amazon.awscdk.StackProps;
import software.amazon.awscdk.assertions.Template;

/**
 * The IAM half of the template, as local-cloud enforces it: synthesizes {@link TidemarkStack} for
 * one placeholder stanza and compares the IAM-relevant resources with the file local-cloud ships
 * ({@value #COMMITTED}). A stack change that touches IAM fails here until the file is regenerated:
 * <pre>./mvnw -B -q -o -pl infra-cdk -am test -Dtest=StackTemplateForLocalCloudTest -Dsurefire.failIfNoSpecifiedTests=false -Dtidemark.regenerateTemplate=true</pre>
 *
 * <p>Kept whole: roles, inline and managed policies, bucket, key, queue and topic policies, Lambda
 * permissions and the keys. Kept as {@code Type} only (plus what names them): every resource their
 * intrinsics refer to, so local-cloud can resolve {@code Ref}/{@code Fn::GetAtt} to its local ARNs.
 * Environment-agnostic (pseudo parameters stay {@code AWS::Region}, {@code AWS::AccountId}), and
 * 64-hex asset hashes are replaced, so the file only changes when IAM does.
 */
@Tag("unit")
class StackTemplateForLocalCloudTest {

    /** The stanza the template is synthesized for; local-cloud substitutes the real ones. */
    static final String PLACEHOLDER_STANZA = "stanza-placeholder";
    static final String COMMITTED =
            "../local-cloud/src/main/resources/io/tidemark/localcloud/iam/stack-template.json";
    static final String REGENERATE = "tidemark.regenerateTemplate";

    static final Set<String> KEPT_WHOLE = Set.of("AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy",
            "AWS::S3::BucketPolicy", "AWS::KMS::Key", "AWS::SQS::QueuePolicy", "AWS::SNS::TopicPolicy",
            "AWS::Lambda::Permission");
    /** Properties of a referenced resource that say what it is (which function an alias is of). */
    static final Map<String, List<String>> NAMING_PROPERTIES = Map.of(
            "AWS::Lambda::Alias", List.of("FunctionName", "Name"),
            "AWS::ApiGateway::Stage", List.of("StageName", "RestApiId"));

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT);

    @Test
    void committedTemplateIsTheSynthesizedOne() throws IOException {
        String fresh = render(iamTemplate(synthesize()));
        Path committed = Path.of(COMMITTED);
        if (Boolean.getBoolean(REGENERATE)) {
            Files.writeString(committed, fresh, StandardCharsets.UTF_8);
            return;
        }
        String how = " Regenerate it with: ./mvnw -B -q -o -pl infra-cdk -am test"
                + " -Dtest=StackTemplateForLocalCloudTest -Dsurefire.failIfNoSpecifiedTests=false -D" + REGENERATE
                + "=true";
        if (!Files.isRegularFile(committed)) {
            fail(committed.toAbsolutePath().normalize() + " is missing." + how);
        }
        String old = Files.readString(committed, StandardCharsets.UTF_8);
        if (!old.equals(fresh)) {
            fail(committed.toAbsolutePath().normalize() + " is not what TidemarkStack synthesizes now (first"
                    + " difference at line " + firstDifferentLine(old, fresh) + ")." + how);
        }
    }

    @Test
    void twoSynthesesGiveTheSameFile() throws IOException {
        assertEquals(render(iamTemplate(synthesize())), render(iamTemplate(synthesize())));
    }

    @Test
    void everyIntrinsicReferenceIsKept() throws IOException {
        JsonNode t = iamTemplate(synthesize());
        Set<String> missing = new TreeSet<>();
        for (JsonNode r : t.path("Resources")) {
            for (String ref : references(r)) {
                if (!t.path("Resources").has(ref) && !ref.startsWith("AWS::")) {
                    missing.add(ref);
                }
            }
        }
        assertTrue(missing.isEmpty(), "references to resources not in the file: " + missing);
    }

    /** The stack for one placeholder stanza, defaults otherwise, no account or region. */
    static JsonNode synthesize() throws IOException {
        App app = App.Builder.create().context(Map.of(
                TidemarkConfig.STANZAS, List.of(PLACEHOLDER_STANZA),
                TidemarkConfig.FUNCTIONS_JAR, fixedJar().toString())).build();
        TidemarkApp.FEATURE_FLAGS.forEach((flag, value) -> app.getNode().setContext(flag, value));
        TidemarkConfig config = TidemarkConfig.fromContext(app.getNode()::tryGetContext);
        // Not TidemarkApp.build: that takes the account and region from the environment when set.
        TidemarkStack stack = new TidemarkStack(app, TidemarkApp.STACK_NAME, StackProps.builder().build(), config);
        return JSON.valueToTree(Template.fromStack(stack).toJSON());
    }

    /** A jar whose bytes (and so asset hash) never change: fixed entry times. */
    private static Path fixedJar() throws IOException {
        Path jar = Files.createTempFile("tidemark-functions-fixed", ".jar");
        jar.toFile().deleteOnExit();
        try (OutputStream out = Files.newOutputStream(jar); ZipOutputStream zip = new ZipOutputStream(out)) {
            ZipEntry e = new ZipEntry("README");
            e.setTime(0);
            zip.putNextEntry(e);
            zip.write("stand-in for the IAM template".getBytes(StandardCharsets.UTF_8));
            zip.closeEntry();
        }
        return jar;
    }

    /** The IAM resources and, as stubs, everything their intrinsics refer to (transitively). */
    static JsonNode iamTemplate(JsonNode template) {
        JsonNode all = template.path("Resources");
        ObjectNode kept = JsonNodeFactory.instance.objectNode();
        Deque<String> todo = new ArrayDeque<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = all.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String type = e.getValue().path("Type").asText();
            if (KEPT_WHOLE.contains(type)) {
                ObjectNode r = JsonNodeFactory.instance.objectNode();
                r.put("Type", type);
                r.set("Properties", e.getValue().path("Properties"));
                kept.set(e.getKey(), r);
                todo.addAll(references(r));
            }
        }
        while (!todo.isEmpty()) {
            String id = todo.pop();
            if (kept.has(id) || !all.has(id)) {
                continue;
            }
            String type = all.path(id).path("Type").asText();
            ObjectNode stub = JsonNodeFactory.instance.objectNode();
            stub.put("Type", type);
            List<String> naming = NAMING_PROPERTIES.getOrDefault(type, List.of());
            if (!naming.isEmpty()) {
                ObjectNode props = stub.putObject("Properties");
                for (String p : naming) {
                    JsonNode v = all.path(id).path("Properties").path(p);
                    if (!v.isMissingNode()) {
                        props.set(p, v);
                    }
                }
                todo.addAll(references(stub));
            }
            kept.set(id, stub);
        }
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.put("Description", "IAM of TidemarkStack for local-cloud, synthesized for the placeholder stanza '"
                + PLACEHOLDER_STANZA + "'. Generated by infra-cdk StackTemplateForLocalCloudTest; do not edit.");
        out.put("PlaceholderStanza", PLACEHOLDER_STANZA);
        out.set("Resources", kept);
        out.set("ApiKeys", apiKeys(all));
        return sorted(withoutAssetHashes(out));
    }

    /**
     * What API Gateway checks before IAM, for local-cloud's API gate: the methods that require an
     * API key ({@code "METHOD /resource/{path}"}) and the throttle of the placeholder stanza's usage
     * plan (every stanza's plan has the same one).
     */
    static JsonNode apiKeys(JsonNode all) {
        Set<String> required = new TreeSet<>();
        ObjectNode throttle = null;
        for (Iterator<Map.Entry<String, JsonNode>> it = all.fields(); it.hasNext(); ) {
            JsonNode r = it.next().getValue();
            JsonNode props = r.path("Properties");
            switch (r.path("Type").asText()) {
                case "AWS::ApiGateway::Method" -> {
                    if (props.path("ApiKeyRequired").asBoolean(false)) {
                        required.add(props.path("HttpMethod").asText() + " " + resourcePath(all, props.path("ResourceId")));
                    }
                }
                case "AWS::ApiGateway::UsagePlan" -> {
                    if (throttle != null) {
                        throw new IllegalStateException("more than one usage plan for one stanza");
                    }
                    throttle = JsonNodeFactory.instance.objectNode();
                    throttle.put("RateLimit", props.path("Throttle").path("RateLimit").asDouble());
                    throttle.put("BurstLimit", props.path("Throttle").path("BurstLimit").asInt());
                }
                default -> {
                }
            }
        }
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        ArrayNode methods = out.putArray("KeyRequired");
        required.forEach(methods::add);
        if (throttle != null) {
            out.set("UsagePlanThrottle", throttle);
        }
        return out;
    }

    /** The path of an API resource ({@code Ref} to an AWS::ApiGateway::Resource, or the root). */
    private static String resourcePath(JsonNode all, JsonNode id) {
        if (id.has("Fn::GetAtt")) {
            return "/";
        }
        JsonNode r = all.path(id.path("Ref").asText()).path("Properties");
        String parent = resourcePath(all, r.path("ParentId"));
        return (parent.equals("/") ? "" : parent) + "/" + r.path("PathPart").asText();
    }

    /** Logical ids named by {@code Ref} and {@code Fn::GetAtt} anywhere in {@code node}. */
    static Set<String> references(JsonNode node) {
        Set<String> out = new TreeSet<>();
        collect(node, out);
        return out;
    }

    private static void collect(JsonNode node, Set<String> out) {
        if (node.isObject()) {
            if (node.size() == 1 && node.has("Ref") && node.get("Ref").isTextual()) {
                out.add(node.get("Ref").asText());
            }
            if (node.size() == 1 && node.has("Fn::GetAtt")) {
                JsonNode g = node.get("Fn::GetAtt");
                out.add(g.isArray() ? g.get(0).asText() : g.asText().split("\\.", 2)[0]);
            }
            node.forEach(c -> collect(c, out));
        } else if (node.isArray()) {
            node.forEach(c -> collect(c, out));
        }
    }

    private static JsonNode withoutAssetHashes(JsonNode node) {
        if (node.isTextual()) {
            return JsonNodeFactory.instance.textNode(node.asText().replaceAll("[0-9a-f]{64}", "ASSET_HASH"));
        }
        if (node.isArray()) {
            ArrayNode a = JsonNodeFactory.instance.arrayNode();
            node.forEach(c -> a.add(withoutAssetHashes(c)));
            return a;
        }
        if (node.isObject()) {
            ObjectNode o = JsonNodeFactory.instance.objectNode();
            node.fields().forEachRemaining(e -> o.set(e.getKey(), withoutAssetHashes(e.getValue())));
            return o;
        }
        return node;
    }

    /** Object keys in order (arrays keep theirs: statement order is the template's). */
    private static JsonNode sorted(JsonNode node) {
        if (node.isObject()) {
            TreeMap<String, JsonNode> m = new TreeMap<>();
            node.fields().forEachRemaining(e -> m.put(e.getKey(), sorted(e.getValue())));
            ObjectNode o = JsonNodeFactory.instance.objectNode();
            m.forEach(o::set);
            return o;
        }
        if (node.isArray()) {
            ArrayNode a = JsonNodeFactory.instance.arrayNode();
            node.forEach(c -> a.add(sorted(c)));
            return a;
        }
        return node;
    }

    static String render(JsonNode node) throws IOException {
        return JSON.writeValueAsString(node) + "\n";
    }

    private static int firstDifferentLine(String a, String b) {
        String[] x = a.split("\n", -1);
        String[] y = b.split("\n", -1);
        for (int i = 0; i < Math.min(x.length, y.length); i++) {
            if (!x[i].equals(y[i])) {
                return i + 1;
            }
        }
        return Math.min(x.length, y.length) + 1;
    }
}
