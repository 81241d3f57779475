package io.tidemark.localcloud;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * An API Gateway resource path such as {@code /stanzas/{stanza}/restore-plans}: literal
 * segments, {@code {name}} variables (one segment), and a greedy {@code {name+}} as the last
 * segment. Matching yields the URL-decoded path parameters, as API Gateway passes them.
 */
final class RouteTemplate {

    private static final Pattern VARIABLE = Pattern.compile("\\{([A-Za-z0-9_]+)(\\+?)}");
    private static final Pattern LITERAL = Pattern.compile("[A-Za-z0-9._~:@!$&'()*,;=-]+");

    private enum Kind { LITERAL, VARIABLE, GREEDY }

    private record Segment(Kind kind, String text) {
    }

    private final String template;
    private final List<Segment> segments;

    private RouteTemplate(String template, List<Segment> segments) {
        this.template = template;
        this.segments = segments;
    }

    static RouteTemplate parse(String template) {
        Objects.requireNonNull(template, "template");
        if (!template.startsWith("/")) {
            throw new IllegalArgumentException("resource path must start with '/': " + template);
        }
        List<Segment> segments = new ArrayList<>();
        if (!template.equals("/")) {
            String[] parts = template.substring(1).split("/", -1);
            for (int i = 0; i < parts.length; i++) {
                String part = parts[i];
                var m = VARIABLE.matcher(part);
                if (m.matches()) {
                    boolean greedy = !m.group(2).isEmpty();
                    if (greedy && i != parts.length - 1) {
                        throw new IllegalArgumentException("a greedy {name+} must be the last segment: " + template);
                    }
                    for (Segment s : segments) {
                        if (s.kind() != Kind.LITERAL && s.text().equals(m.group(1))) {
                            throw new IllegalArgumentException("variable {" + m.group(1) + "} twice in " + template);
                        }
                    }
                    segments.add(new Segment(greedy ? Kind.GREEDY : Kind.VARIABLE, m.group(1)));
                } else if (LITERAL.matcher(part).matches()) {
                    segments.add(new Segment(Kind.LITERAL, part));
                } else {
                    throw new IllegalArgumentException("bad segment '" + part + "' in resource path " + template);
                }
            }
        }
        return new RouteTemplate(template, List.copyOf(segments));
    }

    String template() {
        return template;
    }

    /** The path parameters when {@code rawPath} (still percent-encoded) matches, else null. */
    Map<String, String> match(String rawPath) {
        if (rawPath == null || !rawPath.startsWith("/")) {
            return null;
        }
        String[] parts = rawPath.equals("/") ? new String[0] : rawPath.substring(1).split("/", -1);
        Map<String, String> params = new LinkedHashMap<>();
        int i = 0;
        for (Segment s : segments) {
            if (s.kind() == Kind.GREEDY) {
                if (i >= parts.length) {
                    return null;
                }
                List<String> rest = new ArrayList<>();
                for (int j = i; j < parts.length; j++) {
                    rest.add(decode(parts[j]));
                }
                String value = String.join("/", rest);
                if (value.isEmpty()) {
                    return null;
                }
                params.put(s.text(), value);
                return params;
            }
            if (i >= parts.length || parts[i].isEmpty()) {
                return null;
            }
            String value = decode(parts[i]);
            if (value == null) {
                return null;
            }
            if (s.kind() == Kind.LITERAL) {
                if (!s.text().equals(value)) {
                    return null;
                }
            } else {
                params.put(s.text(), value);
            }
            i++;
        }
        return i == parts.length ? params : null;
    }

    /**
     * Orders templates as API Gateway does when several match: per segment, a literal beats a
     * variable, a variable beats a greedy variable. Negative means {@code this} is more specific.
     */
    int compareSpecificity(RouteTemplate other) {
        int n = Math.max(segments.size(), other.segments.size());
        for (int i = 0; i < n; i++) {
            int a = i < segments.size() ? rank(segments.get(i).kind()) : -1;
            int b = i < other.segments.size() ? rank(other.segments.get(i).kind()) : -1;
            if (a != b) {
                return Integer.compare(b, a);
            }
        }
        return 0;
    }

    private static int rank(Kind kind) {
        return switch (kind) {
            case LITERAL -> 2;
            case VARIABLE -> 1;
            case GREEDY -> 0;
        };
    }

    /** Percent-decodes one path segment ({@code +} stays a plus); null when malformed. */
    static String decode(String segment) {
        if (segment.indexOf('%') < 0) {
            return segment;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < segment.length(); i++) {
            char c = segment.charAt(i);
            if (c == '%') {
                if (i + 2 >= segment.length()) {
                    return null;
                }
                int hi = Character.digit(segment.charAt(i + 1), 16);
                int lo = Character.digit(segment.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) {
                    return null;
                }
                out.write(hi << 4 | lo);
                i += 2;
            } else {
                int end = segment.indexOf('%', i);
                end = end < 0 ? segment.length() : end;
                byte[] b = segment.substring(i, end).getBytes(StandardCharsets.UTF_8);
                out.write(b, 0, b.length);
                i = end - 1;
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return template;
    }
}
