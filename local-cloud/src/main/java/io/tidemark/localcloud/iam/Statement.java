package io.tidemark.localcloud.iam;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * One policy statement with its intrinsics resolved: effect, Action/NotAction,
 * Resource/NotResource, Principal/NotPrincipal (resource policies only) and the condition tests.
 * {@code label} names it in decisions: the policy and the statement's Sid (or its position).
 */
record Statement(String label, boolean allow, List<String> actions, boolean notAction, List<String> resources,
        boolean notResource, PrincipalSpec principal, List<Condition> conditions) {

    Statement {
        actions = List.copyOf(actions);
        resources = List.copyOf(resources);
        conditions = List.copyOf(conditions);
    }

    /**
     * Who a resource policy statement is about: {@code Principal} ({@code not} false) or
     * {@code NotPrincipal}; {@code AWS} ARNs (or {@code *}) and service names. Identity policy
     * statements have none ({@link #NONE}).
     */
    record PrincipalSpec(boolean not, List<String> aws, List<String> services, boolean anyone) {
        static final PrincipalSpec NONE = new PrincipalSpec(false, List.of(), List.of(), false);

        PrincipalSpec {
            aws = List.copyOf(aws);
            services = List.copyOf(services);
        }
    }

    static Statement parse(String policy, int index, JsonNode st, UnaryOperator<String> text) {
        String sid = st.path("Sid").asText("");
        String label = policy + "/" + (sid.isEmpty() ? "statement " + (index + 1) : sid);
        String effect = st.path("Effect").asText();
        if (!effect.equals("Allow") && !effect.equals("Deny")) {
            throw new IllegalArgumentException(label + ": Effect must be Allow or Deny, not '" + effect + "'");
        }
        boolean notAction = st.has("NotAction");
        boolean notResource = st.has("NotResource");
        List<String> actions = strings(st.path(notAction ? "NotAction" : "Action"), text);
        List<String> resources = strings(st.path(notResource ? "NotResource" : "Resource"), text);
        if (actions.isEmpty()) {
            throw new IllegalArgumentException(label + ": no Action or NotAction");
        }
        PrincipalSpec principal = PrincipalSpec.NONE;
        if (st.has("Principal") || st.has("NotPrincipal")) {
            boolean not = st.has("NotPrincipal");
            JsonNode p = st.path(not ? "NotPrincipal" : "Principal");
            if (p.isTextual()) {
                if (!p.asText().equals("*")) {
                    throw new IllegalArgumentException(label + ": Principal must be \"*\" or an object, not " + p);
                }
                principal = new PrincipalSpec(not, List.of(), List.of(), true);
            } else {
                List<String> aws = strings(p.path("AWS"), text);
                List<String> services = strings(p.path("Service"), text);
                for (Iterator<String> it = p.fieldNames(); it.hasNext(); ) {
                    String kind = it.next();
                    if (!kind.equals("AWS") && !kind.equals("Service")) {
                        throw new IllegalArgumentException(label + ": principal type " + kind + " is not evaluated locally");
                    }
                }
                principal = new PrincipalSpec(not, aws, services, aws.contains("*"));
            }
        }
        List<Condition> conditions = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> ops = st.path("Condition").fields(); ops.hasNext(); ) {
            Map.Entry<String, JsonNode> op = ops.next();
            for (Iterator<Map.Entry<String, JsonNode>> keys = op.getValue().fields(); keys.hasNext(); ) {
                Map.Entry<String, JsonNode> k = keys.next();
                conditions.add(new Condition(op.getKey(), k.getKey(), strings(k.getValue(), text)));
            }
        }
        return new Statement(label, effect.equals("Allow"), actions, notAction, resources, notResource, principal,
                conditions);
    }

    /** A string or a list of them; numbers and booleans as their JSON text (conditions). */
    private static List<String> strings(JsonNode node, UnaryOperator<String> text) {
        List<String> out = new ArrayList<>();
        if (node.isArray()) {
            node.forEach(n -> out.add(text.apply(n.asText())));
        } else if (node.isValueNode()) {
            out.add(text.apply(node.asText()));
        } else if (!node.isMissingNode()) {
            throw new IllegalArgumentException("expected a string or a list of strings, not " + node);
        }
        return out;
    }

    boolean coversAction(String action, Wildcards w) {
        boolean any = actions.stream().anyMatch(a -> w.matchesIgnoringCase(a, action));
        return notAction != any;
    }

    boolean coversResource(String resource, Wildcards w) {
        // An identity statement without Resource does not occur (IAM refuses it); a resource policy
        // statement without one applies to the resource it is attached to.
        if (resources.isEmpty()) {
            return !notResource;
        }
        boolean any = resources.stream().anyMatch(r -> w.matches(r, resource));
        return notResource != any;
    }

    boolean conditionsHold(Map<String, String> context, Wildcards w) {
        for (Condition c : conditions) {
            if (!c.holds(Condition.lookup(context, c.key()), w)) {
                return false;
            }
        }
        return true;
    }
}
