package io.tidemark.infra;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import software.amazon.awscdk.App;
import software.amazon.awscdk.assertions.Template;

/** Synthesizes the stack once for a test class, with a stand-in Lambda jar. */
final class Synth {

    final TidemarkStack stack;
    final Template template;
    final JsonNode json;

    private Synth(TidemarkStack stack, Template template) {
        this.stack = stack;
        this.template = template;
        this.json = new ObjectMapper().valueToTree(template.toJSON());
    }

    static Synth of(Map<String, Object> context) {
        Map<String, Object> ctx = new java.util.HashMap<>(context);
        ctx.putIfAbsent(TidemarkConfig.FUNCTIONS_JAR, standInJar().toString());
        App app = App.Builder.create().context(ctx).build();
        TidemarkConfig config = TidemarkConfig.fromContext(app.getNode()::tryGetContext);
        TidemarkStack stack = TidemarkApp.build(app, config);
        return new Synth(stack, Template.fromStack(stack));
    }

    /** A tiny valid jar: the stack only hashes and stages it. */
    static Path standInJar() {
        try {
            Path jar = Files.createTempFile("tidemark-functions-lambda", ".jar");
            jar.toFile().deleteOnExit();
            try (OutputStream out = Files.newOutputStream(jar); ZipOutputStream zip = new ZipOutputStream(out)) {
                zip.putNextEntry(new ZipEntry("README"));
                zip.write("stand-in for tests".getBytes(java.nio.charset.StandardCharsets.UTF_8));
                zip.closeEntry();
            }
            return jar;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    JsonNode resources() {
        return json.path("Resources");
    }

    /** Logical id -> resource, for every resource of {@code type}. */
    Map<String, JsonNode> ofType(String type) {
        Map<String, JsonNode> out = new java.util.LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = resources().fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getValue().path("Type").asText().equals(type)) {
                out.put(e.getKey(), e.getValue());
            }
        }
        return out;
    }

    String logicalId(software.constructs.IConstruct construct) {
        return stack.getLogicalId((software.amazon.awscdk.CfnElement) construct.getNode().getDefaultChild());
    }

    /** The statements of a policy document, one list entry per statement. */
    static List<JsonNode> statements(JsonNode policyDocument) {
        List<JsonNode> out = new ArrayList<>();
        policyDocument.path("Statement").forEach(out::add);
        return out;
    }

    /** A statement's actions, whether written as a string or a list. */
    static List<String> actions(JsonNode statement) {
        List<String> out = new ArrayList<>();
        JsonNode a = statement.path("Action");
        if (a.isTextual()) {
            out.add(a.asText());
        } else {
            a.forEach(x -> out.add(x.asText()));
        }
        return out;
    }

    /** A statement's resources, as JSON text, whether written as one value or a list. */
    static List<String> resourcesOf(JsonNode statement) {
        List<String> out = new ArrayList<>();
        JsonNode r = statement.path("Resource");
        if (r.isArray()) {
            r.forEach(x -> out.add(x.toString()));
        } else if (!r.isMissingNode()) {
            out.add(r.toString());
        }
        return out;
    }
}
