package io.tidemark.localcloud.iam;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Resolves the CloudFormation intrinsics policies use ({@code Ref}, {@code Fn::GetAtt},
 * {@code Fn::Join}, {@code Fn::Sub}, {@code Fn::Select}, {@code Fn::Split}) to plain JSON, with
 * the names {@link Names} gives resources and pseudo parameters. Any other {@code Fn::} fails: a
 * policy local-cloud cannot read must not be half-read.
 */
final class Intrinsics {

    /** What a logical id (or pseudo parameter) is called locally. */
    interface Names {
        String ref(String logicalIdOrPseudo);

        String attribute(String logicalId, String attribute);
    }

    private static final Pattern SUB = Pattern.compile("\\$\\{([^}!][^}]*)}");

    private final Names names;

    Intrinsics(Names names) {
        this.names = names;
    }

    JsonNode resolve(JsonNode node) {
        if (node.isArray()) {
            ArrayNode out = JsonNodeFactory.instance.arrayNode();
            node.forEach(n -> out.add(resolve(n)));
            return out;
        }
        if (!node.isObject()) {
            return node;
        }
        if (node.size() == 1) {
            String fn = node.fieldNames().next();
            JsonNode arg = node.get(fn);
            switch (fn) {
                case "Ref":
                    return text(names.ref(arg.asText()));
                case "Fn::GetAtt": {
                    String id;
                    String att;
                    if (arg.isArray()) {
                        id = arg.get(0).asText();
                        att = resolve(arg.get(1)).asText();
                    } else {
                        String[] parts = arg.asText().split("\\.", 2);
                        id = parts[0];
                        att = parts[1];
                    }
                    return text(names.attribute(id, att));
                }
                case "Fn::Join": {
                    String sep = arg.get(0).asText();
                    List<String> parts = new ArrayList<>();
                    resolve(arg.get(1)).forEach(p -> parts.add(p.asText()));
                    return text(String.join(sep, parts));
                }
                case "Fn::Select": {
                    int i = resolve(arg.get(0)).asInt();
                    JsonNode list = resolve(arg.get(1));
                    if (i < 0 || i >= list.size()) {
                        throw new IllegalArgumentException("Fn::Select index " + i + " outside " + list);
                    }
                    return list.get(i);
                }
                case "Fn::Split": {
                    ArrayNode out = JsonNodeFactory.instance.arrayNode();
                    for (String s : resolve(arg.get(1)).asText().split(Pattern.quote(arg.get(0).asText()), -1)) {
                        out.add(s);
                    }
                    return out;
                }
                case "Fn::Sub":
                    return text(sub(arg));
                default:
                    if (fn.startsWith("Fn::")) {
                        throw new IllegalArgumentException("intrinsic " + fn + " is not resolved by local-cloud: " + node);
                    }
            }
        }
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        node.fields().forEachRemaining(e -> out.set(e.getKey(), resolve(e.getValue())));
        return out;
    }

    private String sub(JsonNode arg) {
        String template = arg.isArray() ? arg.get(0).asText() : arg.asText();
        Map<String, JsonNode> vars = new java.util.HashMap<>();
        if (arg.isArray() && arg.size() > 1) {
            arg.get(1).fields().forEachRemaining(e -> vars.put(e.getKey(), resolve(e.getValue())));
        }
        Matcher m = SUB.matcher(template);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String name = m.group(1);
            String value;
            if (vars.containsKey(name)) {
                value = vars.get(name).asText();
            } else if (name.contains(".") && !name.startsWith("AWS::")) {
                String[] parts = name.split("\\.", 2);
                value = names.attribute(parts[0], parts[1]);
            } else {
                value = names.ref(name);
            }
            m.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        m.appendTail(out);
        // ${!Literal} stands for the text ${Literal}.
        return out.toString().replace("${!", "${");
    }

    private static JsonNode text(String s) {
        return JsonNodeFactory.instance.textNode(s);
    }
}
