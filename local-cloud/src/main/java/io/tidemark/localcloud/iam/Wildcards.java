package io.tidemark.localcloud.iam;

import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * IAM's wildcard matching: {@code *} any run of characters (slashes and colons included),
 * {@code ?} any one character, everything else literal. The template's placeholder stanza name
 * matches any one stanza name: local-cloud treats every stanza as configured (see
 * {@link StackAccess}).
 */
final class Wildcards {

    /** What the placeholder stands for: one valid stanza name (TidemarkConfig's rule). */
    private static final String STANZA = "[A-Za-z0-9][A-Za-z0-9_.-]{0,62}";

    private final String placeholder;
    /** Compiled patterns: a policy has a few hundred strings, every request matches against them. */
    private final Map<String, Pattern> withWildcards = new ConcurrentHashMap<>();
    private final Map<String, Pattern> literal = new ConcurrentHashMap<>();

    Wildcards(String placeholder) {
        this.placeholder = placeholder;
    }

    /** Case-sensitive match (resources, condition values). */
    boolean matches(String pattern, String value) {
        return compile(pattern, true).matcher(value).matches();
    }

    /** Case-insensitive match (actions: {@code S3:getobject} is {@code s3:GetObject}). */
    boolean matchesIgnoringCase(String pattern, String value) {
        return compile(pattern.toLowerCase(Locale.ROOT), true).matcher(value.toLowerCase(Locale.ROOT)).matches();
    }

    /** Exact comparison, except that the placeholder still stands for any stanza (StringEquals, ArnEquals on plain text). */
    boolean equalsLiterally(String pattern, String value) {
        return compile(pattern, false).matcher(value).matches();
    }

    private Pattern compile(String pattern, boolean wildcards) {
        return (wildcards ? withWildcards : literal).computeIfAbsent(pattern, p -> build(p, wildcards));
    }

    private Pattern build(String pattern, boolean wildcards) {
        StringBuilder re = new StringBuilder();
        StringBuilder literal = new StringBuilder();
        int i = 0;
        while (i < pattern.length()) {
            if (pattern.startsWith(placeholder, i)) {
                flush(literal, re);
                re.append(STANZA);
                i += placeholder.length();
                continue;
            }
            char c = pattern.charAt(i);
            if (wildcards && (c == '*' || c == '?')) {
                flush(literal, re);
                re.append(c == '*' ? ".*" : ".");
            } else {
                literal.append(c);
            }
            i++;
        }
        flush(literal, re);
        return Pattern.compile(re.toString(), Pattern.DOTALL);
    }

    private static void flush(StringBuilder literal, StringBuilder re) {
        if (!literal.isEmpty()) {
            re.append(Pattern.quote(literal.toString()));
            literal.setLength(0);
        }
    }
}
