package io.tidemark.events.paths;

import java.nio.file.Path;
import java.util.List;

/**
 * A relative path that came from a manifest or a restore plan, i.e. from data a restore must not
 * trust blindly. Construction proves it cannot name anything outside the directory it is later
 * resolved under: components are separated by {@code /} only and none is empty, {@code .} or
 * {@code ..}; it is not absolute (no leading {@code /}, no {@code C:} drive prefix); it holds no
 * backslash (a separator on Windows, an escape trick elsewhere), no NUL, no control character
 * (C0, DEL, C1, U+2028/U+2029: they hide in logs and terminals) and no unpaired surrogate (not
 * encodable as a file name). Any other Unicode is allowed: PostgreSQL data directories may hold
 * user files with such names. Limits: 4096 characters, 255 per component (Linux PATH_MAX and
 * NAME_MAX, counted in chars rather than bytes as a cheap first bound).
 *
 * <p>Symbolic links are not this type's concern: the restore command checks that no component
 * of a resolved path is a link before writing through it.
 *
 * @param path the path, exactly as validated ({@code base/16384/2619})
 */
public record SafeRelativePath(String path) implements Comparable<SafeRelativePath> {

    public static final int MAX_LENGTH = 4096;
    public static final int MAX_COMPONENT_LENGTH = 255;

    public SafeRelativePath {
        String why = problem(path);
        if (why != null) {
            throw new IllegalArgumentException(why);
        }
    }

    public static SafeRelativePath of(String path) {
        return new SafeRelativePath(path);
    }

    /** True when {@link #of} would accept {@code path}. */
    public static boolean isSafe(String path) {
        return problem(path) == null;
    }

    /** Why {@code path} is refused, or null when it is safe. */
    private static String problem(String path) {
        if (path == null) {
            return "path is missing";
        }
        String shown = "path '" + printable(path) + "'";
        if (path.isEmpty()) {
            return "path is empty: a manifest entry must name a file";
        }
        if (path.length() > MAX_LENGTH) {
            return shown.substring(0, 60) + "...' is longer than " + MAX_LENGTH + " characters";
        }
        if (path.startsWith("/")) {
            return shown + " is absolute: it must be relative to the data directory";
        }
        if (path.length() >= 2 && path.charAt(1) == ':' && isAsciiLetter(path.charAt(0))) {
            return shown + " starts with a drive prefix ('" + path.substring(0, 2) + "'): it must be relative";
        }
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c == '\0') {
                return shown + " holds a NUL character at index " + i + ": it would truncate the name in C";
            }
            if (c == '\\') {
                return shown + " holds a backslash at index " + i + ": only '/' separates components";
            }
            if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029') {
                return shown + " holds control character U+" + String.format("%04X", (int) c) + " at index " + i;
            }
            if (Character.isHighSurrogate(c)) {
                if (i + 1 < path.length() && Character.isLowSurrogate(path.charAt(i + 1))) {
                    i++;
                    continue;
                }
                return shown + " holds an unpaired surrogate at index " + i + ": not encodable as a file name";
            }
            if (Character.isLowSurrogate(c)) {
                return shown + " holds an unpaired surrogate at index " + i + ": not encodable as a file name";
            }
        }
        String[] parts = path.split("/", -1);
        for (String part : parts) {
            if (part.isEmpty()) {
                return shown + " has an empty component ('//' or a trailing '/')";
            }
            if (part.equals("..")) {
                return shown + " escapes its root: '..' component";
            }
            if (part.equals(".")) {
                return shown + " has a '.' component: paths must be normalized";
            }
            if (part.length() > MAX_COMPONENT_LENGTH) {
                return shown + " has a component longer than " + MAX_COMPONENT_LENGTH + " characters";
            }
        }
        return null;
    }

    private static boolean isAsciiLetter(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }

    /** The path with control characters shown as {@code \\uXXXX}, so that messages stay one clean line. */
    private static String printable(String s) {
        StringBuilder sb = new StringBuilder();
        String head = s.length() > 200 ? s.substring(0, 200) : s;
        head.codePoints().forEach(cp -> {
            if (Character.isISOControl(cp) || cp == 0x2028 || cp == 0x2029
                    || (cp >= Character.MIN_SURROGATE && cp <= Character.MAX_SURROGATE)) {
                sb.append(String.format("\\u%04X", cp));
            } else {
                sb.appendCodePoint(cp);
            }
        });
        if (s.length() > head.length()) {
            sb.append("...");
        }
        return sb.toString();
    }

    /** The components, in order. */
    public List<String> components() {
        return List.of(path.split("/"));
    }

    /** The last component. */
    public String fileName() {
        return path.substring(path.lastIndexOf('/') + 1);
    }

    /** This path followed by {@code child} (itself checked). */
    public SafeRelativePath resolve(String child) {
        return new SafeRelativePath(path + "/" + child);
    }

    /**
     * {@code root} joined with this path, normalized, and proven to stay strictly below the
     * normalized absolute root. The check is lexical: it cannot see symbolic links.
     */
    public Path resolveUnder(Path root) {
        Path base = root.toAbsolutePath().normalize();
        Path resolved = base.resolve(path).normalize();
        if (!resolved.startsWith(base) || resolved.equals(base)) {
            throw new IllegalArgumentException("path '" + path + "' does not stay under " + base + " (resolved to "
                    + resolved + ")");
        }
        return resolved;
    }

    @Override
    public int compareTo(SafeRelativePath o) {
        return path.compareTo(o.path);
    }

    @Override
    public String toString() {
        return path;
    }
}
