package io.tidemark.localcloud.iam;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * One test of a statement's {@code Condition} block: an operator, a condition key and the
 * policy's values for it. A statement applies only when all its tests hold (AND across operators
 * and keys); the values of one test are alternatives (OR), for negated operators none may match
 * (NOR).
 *
 * <p>A key absent from the request: the test fails, except for negated operators (it holds),
 * {@code ...IfExists} (it holds) and {@code Null} (which tests exactly that). The set operators
 * {@code ForAnyValue:}/{@code ForAllValues:} are refused when the template is read: the stack uses
 * no multi-valued key, and an operator nobody implemented must not be silently misjudged.
 */
record Condition(String operator, String key, List<String> values) {

    /** The operators this evaluator implements (without {@code IfExists}). */
    static final List<String> OPERATORS = List.of("StringEquals", "StringNotEquals", "StringEqualsIgnoreCase",
            "StringNotEqualsIgnoreCase", "StringLike", "StringNotLike", "NumericEquals", "NumericNotEquals",
            "NumericLessThan", "NumericLessThanEquals", "NumericGreaterThan", "NumericGreaterThanEquals", "Bool",
            "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike", "Null");

    Condition {
        values = List.copyOf(values);
        if (!OPERATORS.contains(base(operator))) {
            throw new IllegalArgumentException("condition operator " + operator + " (key " + key
                    + ") is not one local-cloud evaluates; supported: " + OPERATORS + " and their ...IfExists forms");
        }
        if (base(operator).equals("Null") && operator.endsWith("IfExists")) {
            throw new IllegalArgumentException("NullIfExists is not a condition operator");
        }
    }

    private static String base(String operator) {
        return operator.endsWith("IfExists") ? operator.substring(0, operator.length() - "IfExists".length()) : operator;
    }

    private boolean negated() {
        return base(operator).contains("Not");
    }

    /** Whether this test holds for a request whose context has {@code value} for the key (empty: absent). */
    boolean holds(Optional<String> value, Wildcards wildcards) {
        String op = base(operator);
        if (op.equals("Null")) {
            boolean wantAbsent = values.stream().anyMatch(v -> v.equalsIgnoreCase("true"));
            boolean wantPresent = values.stream().anyMatch(v -> v.equalsIgnoreCase("false"));
            return value.isEmpty() ? wantAbsent : wantPresent;
        }
        if (value.isEmpty()) {
            return operator.endsWith("IfExists") || negated();
        }
        String v = value.get();
        if (negated()) {
            String positive = op.replace("Not", "");
            return values.stream().noneMatch(p -> matchesOne(positive, p, v, wildcards));
        }
        return values.stream().anyMatch(p -> matchesOne(op, p, v, wildcards));
    }

    private static boolean matchesOne(String op, String policy, String request, Wildcards w) {
        return switch (op) {
            case "StringEquals" -> w.equalsLiterally(policy, request);
            case "StringEqualsIgnoreCase" -> w.equalsLiterally(policy.toLowerCase(Locale.ROOT),
                    request.toLowerCase(Locale.ROOT));
            case "StringLike" -> w.matches(policy, request);
            case "Bool" -> policy.equalsIgnoreCase(request);
            case "ArnEquals", "ArnLike" -> arnMatches(policy, request, w);
            case "NumericEquals", "NumericLessThan", "NumericLessThanEquals", "NumericGreaterThan",
                 "NumericGreaterThanEquals" -> numeric(op, policy, request);
            default -> throw new IllegalStateException(op);
        };
    }

    /**
     * ARN operators compare the six colon-separated parts one by one, each with wildcards
     * (ArnEquals and ArnLike behave alike); a value that is not an ARN matches nothing.
     */
    private static boolean arnMatches(String policy, String request, Wildcards w) {
        String[] p = policy.split(":", 6);
        String[] r = request.split(":", 6);
        if (p.length != 6 || r.length != 6) {
            return false;
        }
        for (int i = 0; i < 6; i++) {
            if (!w.matches(p[i], r[i])) {
                return false;
            }
        }
        return true;
    }

    private static boolean numeric(String op, String policy, String request) {
        double a;
        double b;
        try {
            a = Double.parseDouble(request);
            b = Double.parseDouble(policy);
        } catch (NumberFormatException e) {
            return false;
        }
        int c = Double.compare(a, b);
        return switch (op) {
            case "NumericEquals" -> c == 0;
            case "NumericLessThan" -> c < 0;
            case "NumericLessThanEquals" -> c <= 0;
            case "NumericGreaterThan" -> c > 0;
            case "NumericGreaterThanEquals" -> c >= 0;
            default -> throw new IllegalStateException(op);
        };
    }

    /** The request's value for {@code key}: condition key names are case-insensitive. */
    static Optional<String> lookup(Map<String, String> context, String key) {
        String v = context.get(key);
        if (v != null) {
            return Optional.of(v);
        }
        for (Map.Entry<String, String> e : context.entrySet()) {
            if (e.getKey().equalsIgnoreCase(key)) {
                return Optional.of(e.getValue());
            }
        }
        return Optional.empty();
    }
}
