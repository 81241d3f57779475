package io.tidemark.shim.restore;

import io.tidemark.shim.archiveget.AtomicFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Settings in a restored configuration that make the restore host run something the source
 * node chose: shell commands ({@code archive_command}, {@code restore_command},
 * {@code archive_cleanup_command}, {@code recovery_end_command}, {@code ssl_passphrase_command})
 * and {@code archive_library}, which loads a shared library. A compromised node can set any of
 * them with {@code ALTER SYSTEM} before a backup; restored as they are, the restored server would
 * run them on the restore host. So each one found in the restored {@code postgresql.conf},
 * {@code postgresql.auto.conf} and every file they {@code include} that the restore wrote (inside
 * PGDATA or a tablespace location) is commented out, unless the operator keeps them
 * ({@code --keep-config-commands}). Files outside the restored trees are the restore host's own
 * and are never read or changed.
 */
public final class ConfigCommands {
    /** The settings disabled; lower case, as PostgreSQL compares names without case. */
    public static final Set<String> SETTINGS = Set.of("archive_command", "restore_command", "archive_cleanup_command",
            "recovery_end_command", "ssl_passphrase_command", "archive_library");
    static final String MARK = "# disabled by tidemark restore (a command from the backup; --keep-config-commands keeps it): ";

    private static final Pattern LINE = Pattern.compile("^\\s*([A-Za-z_][A-Za-z0-9_.$]*)\\s*(?:=\\s*|\\s+|$)(.*)$");

    private ConfigCommands() {
    }

    /** One setting found: where, and the line as it was. */
    public record Found(Path file, int line, String setting, String text) {
        @Override
        public String toString() {
            return setting + " in " + file + ":" + line + " (" + text.strip() + ")";
        }
    }

    /**
     * Finds the settings in the configuration files of {@code pgdata} and, unless {@code keep},
     * comments each one out in place.
     *
     * @param roots the directories the restore wrote (PGDATA and the tablespace locations):
     *              included files elsewhere are not followed
     */
    public static List<Found> disable(Path pgdata, List<Path> roots, boolean keep) throws IOException {
        List<Path> realRoots = new ArrayList<>();
        for (Path r : roots) {
            if (Files.isDirectory(r)) {
                realRoots.add(r.toRealPath());
            }
        }
        List<Found> found = new ArrayList<>();
        Set<Path> seen = new LinkedHashSet<>();
        Path auto = pgdata.resolve("postgresql.auto.conf");
        Deque<Path> todo = new ArrayDeque<>(List.of(pgdata.resolve("postgresql.conf"), auto));
        while (!todo.isEmpty()) {
            Path f = todo.removeFirst();
            Optional<Path> real = restored(f, realRoots);
            if (real.isEmpty() || !seen.add(real.get())) {
                continue;
            }
            // bytes as they are (ISO-8859-1 maps each byte to one char and back): any encoding, even a binary file, survives
            List<String> lines = new ArrayList<>(List.of(Files.readString(real.get(), StandardCharsets.ISO_8859_1)
                    .split("\n", -1)));
            boolean changed = false;
            for (int i = 0; i < lines.size(); i++) {
                Matcher m = LINE.matcher(lines.get(i));
                if (!m.matches()) {
                    continue;
                }
                String key = m.group(1).toLowerCase(Locale.ROOT);
                if (key.equals("restore_command") && f.equals(auto)) {
                    continue; // replaced by restore's own (RecoveryConfig drops it): not the backup's to keep
                }
                if (SETTINGS.contains(key)) {
                    found.add(new Found(f, i + 1, key, lines.get(i)));
                    if (!keep) {
                        lines.set(i, MARK + lines.get(i));
                        changed = true;
                    }
                } else if (key.equals("include") || key.equals("include_if_exists") || key.equals("include_dir")) {
                    Optional<String> v = value(m.group(2));
                    if (v.isPresent() && !v.get().isEmpty()) {
                        Path target = real.get().getParent().resolve(v.get());
                        if (key.equals("include_dir")) {
                            todo.addAll(confFiles(target));
                        } else {
                            todo.add(target);
                        }
                    }
                }
            }
            if (changed) {
                AtomicFile.write(real.get(), String.join("\n", lines).getBytes(StandardCharsets.ISO_8859_1));
                Files.setPosixFilePermissions(real.get(), PosixFilePermissions.fromString("rw-------"));
            }
        }
        return found;
    }

    /** The real path of {@code f} when it is a regular file inside one of the restored trees. */
    private static Optional<Path> restored(Path f, List<Path> realRoots) throws IOException {
        if (!Files.isRegularFile(f)) {
            return Optional.empty();
        }
        Path real = f.toRealPath();
        return realRoots.stream().anyMatch(real::startsWith) ? Optional.of(real) : Optional.empty();
    }

    /** The {@code .conf} files of an {@code include_dir}, in PostgreSQL's order (by name; dot files skipped). */
    private static List<Path> confFiles(Path dir) throws IOException {
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return List.of();
        }
        Set<Path> out = new TreeSet<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, "*.conf")) {
            for (Path p : s) {
                if (!p.getFileName().toString().startsWith(".")) {
                    out.add(p);
                }
            }
        }
        return new ArrayList<>(out);
    }

    /** The value of a setting line: a quoted string ({@code ''} and backslash escapes) or a bare word. */
    static Optional<String> value(String rest) {
        String s = rest.strip();
        if (s.startsWith("'")) {
            StringBuilder sb = new StringBuilder();
            for (int i = 1; i < s.length(); i++) {
                char c = s.charAt(i);
                if (c == '\\' && i + 1 < s.length()) {
                    sb.append(s.charAt(++i));
                } else if (c == '\'') {
                    if (i + 1 < s.length() && s.charAt(i + 1) == '\'') {
                        sb.append('\'');
                        i++;
                    } else {
                        return Optional.of(sb.toString());
                    }
                } else {
                    sb.append(c);
                }
            }
            return Optional.empty();
        }
        Matcher m = Pattern.compile("^([^\\s#]+)").matcher(s);
        return m.find() ? Optional.of(m.group(1)) : Optional.empty();
    }
}
