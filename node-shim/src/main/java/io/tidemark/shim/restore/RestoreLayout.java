package io.tidemark.shim.restore;

import io.tidemark.events.backup.ManifestTablespace;
import io.tidemark.events.paths.SafeRelativePath;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Where each path of a restore plan lands on this machine, and the proof that it stays there.
 *
 * <p>A plan path is either under PGDATA, or under {@code pg_tblspc/<oid>/} of one of the plan's
 * tablespaces, in which case it lands in that tablespace's location (or its
 * {@code --tablespace-map} override) and {@code pg_tblspc/<oid>} itself becomes the symbolic link
 * restore creates. Every path is resolved lexically with {@link SafeRelativePath#resolveUnder},
 * then every component below its root is checked not to be a symbolic link
 * ({@link #checkNoLinks}), so that neither a {@code ../} nor a link planted in the data directory
 * can send a write elsewhere. Tablespace locations must be absolute, normalized, not {@code /},
 * and must not overlap PGDATA or each other; files of a tablespace must sit in its
 * {@code PG_<version>_<catalog>} directory, as PostgreSQL lays them out.
 */
public final class RestoreLayout {
    static final Pattern TABLESPACE_VERSION_DIR = Pattern.compile("PG_[0-9]+_[0-9]+");

    /** One tablespace: its OID and the (absolute, normalized) directory its files go to. */
    public record Tablespace(long oid, String name, Path location, boolean remapped) {
    }

    /** Where a plan path lands. */
    public sealed interface Target {
        /** The plan path. */
        SafeRelativePath path();
    }

    /** A file or directory at {@code file}, below {@code root} (PGDATA or a tablespace location). */
    public record InTree(SafeRelativePath path, Path root, Path file) implements Target {
    }

    /** {@code pg_tblspc/<oid>} of a plan tablespace: the link restore makes. */
    public record TablespaceLink(SafeRelativePath path, Path link, Tablespace tablespace) implements Target {
    }

    private final Path pgdata;
    private final Map<Long, Tablespace> tablespaces;

    private RestoreLayout(Path pgdata, Map<Long, Tablespace> tablespaces) {
        this.pgdata = pgdata;
        this.tablespaces = tablespaces;
    }

    /**
     * @param pgdata    the data directory (need not exist yet; an existing one is taken by its real path)
     * @param overrides {@code --tablespace-map} OID to directory
     * @throws RestoreRefused a location is unsafe, an override names no tablespace of the plan
     */
    public static RestoreLayout of(Path pgdata, List<ManifestTablespace> planned, Map<Long, Path> overrides) {
        Path root = realOrNormalized(pgdata);
        Map<Long, Tablespace> ts = new TreeMap<>();
        for (ManifestTablespace t : planned) {
            Path given = overrides.get(t.oid());
            String text = given != null ? given.toString() : t.location();
            ts.put(t.oid(), new Tablespace(t.oid(), t.name(), location(t.oid(), text, root), given != null));
        }
        for (Long oid : overrides.keySet()) {
            if (!ts.containsKey(oid)) {
                throw new RestoreRefused("--tablespace-map " + oid + ": the plan has no tablespace " + oid
                        + (ts.isEmpty() ? " (it has none)" : " (it has " + ts.keySet() + ")"));
            }
        }
        List<Tablespace> list = new ArrayList<>(ts.values());
        for (int i = 0; i < list.size(); i++) {
            for (int j = i + 1; j < list.size(); j++) {
                Path a = list.get(i).location();
                Path b = list.get(j).location();
                if (a.startsWith(b) || b.startsWith(a)) {
                    throw new RestoreRefused("tablespaces " + list.get(i).oid() + " and " + list.get(j).oid()
                            + " would share a directory (" + a + ", " + b + "); map one elsewhere with --tablespace-map");
                }
            }
        }
        return new RestoreLayout(root, Collections.unmodifiableMap(new LinkedHashMap<>(ts)));
    }

    private static Path location(long oid, String text, Path pgdata) {
        String what = "tablespace " + oid + " location '" + text + "'";
        Path p;
        try {
            p = Path.of(text);
        } catch (RuntimeException e) {
            throw new RestoreRefused(what + " is not a path: " + e.getMessage());
        }
        if (!p.isAbsolute()) {
            throw new RestoreRefused(what + " is not absolute");
        }
        if (!p.normalize().equals(p) || text.contains("/./") || text.contains("/../") || text.endsWith("/..")
                || text.endsWith("/.")) {
            throw new RestoreRefused(what + " is not normalized ('.' or '..' components)");
        }
        if (p.getNameCount() == 0) {
            throw new RestoreRefused(what + " is the root directory");
        }
        Path real = realOrNormalized(p);
        if (real.startsWith(pgdata) || pgdata.startsWith(real)) {
            throw new RestoreRefused(what + (real.equals(p) ? "" : " (really " + real + ")")
                    + " overlaps the data directory " + pgdata + "; map it elsewhere with --tablespace-map " + oid + "=DIR");
        }
        return real;
    }

    /** The real path when it exists (links in the operator's own mounts are theirs), else the normalized absolute one. */
    static Path realOrNormalized(Path p) {
        Path abs = p.toAbsolutePath().normalize();
        try {
            return abs.toRealPath();
        } catch (IOException e) {
            // not there yet: take the longest existing prefix by its real path
            Path parent = abs.getParent();
            if (parent == null) {
                return abs;
            }
            return realOrNormalized(parent).resolve(abs.getFileName().toString());
        }
    }

    public Path pgdata() {
        return pgdata;
    }

    public Map<Long, Tablespace> tablespaces() {
        return tablespaces;
    }

    /** Where {@code p} lands; refuses what would leave PGDATA or a tablespace's version directory. */
    public Target target(SafeRelativePath p) {
        List<String> c = p.components();
        if (c.get(0).equals("pg_tblspc") && c.size() >= 2 && c.get(1).matches("[0-9]{1,10}")) {
            Tablespace t = tablespaces.get(Long.parseLong(c.get(1)));
            if (t != null) {
                if (c.size() == 2) {
                    return new TablespaceLink(p, resolve(p, pgdata), t);
                }
                if (!TABLESPACE_VERSION_DIR.matcher(c.get(2)).matches()) {
                    throw new RestoreRefused("path " + p + ": files of tablespace " + t.oid()
                            + " must be inside its PG_<version>_<catalog> directory, not '" + c.get(2) + "'");
                }
                SafeRelativePath rel = SafeRelativePath.of(String.join("/", c.subList(2, c.size())));
                return new InTree(p, t.location(), resolve(p, rel, t.location()));
            }
        }
        return new InTree(p, pgdata, resolve(p, pgdata));
    }

    private static Path resolve(SafeRelativePath p, Path root) {
        return resolve(p, p, root);
    }

    private static Path resolve(SafeRelativePath shown, SafeRelativePath p, Path root) {
        try {
            return p.resolveUnder(root);
        } catch (IllegalArgumentException e) {
            throw new RestoreRefused("path " + shown + " would land outside " + root + ": " + e.getMessage());
        }
    }

    /**
     * Refuses when any existing component of {@code t} below its root (the file itself included)
     * is a symbolic link. A tablespace link's own path may be a link (restore replaces it), but
     * not its parents.
     */
    public void checkNoLinks(Target t) {
        Path root;
        Path file;
        if (t instanceof InTree in) {
            root = in.root();
            file = in.file();
        } else {
            TablespaceLink l = (TablespaceLink) t;
            root = pgdata;
            file = l.link().getParent();
            if (file.equals(root)) {
                return;
            }
        }
        Path cur = root;
        for (Path part : root.relativize(file)) {
            cur = cur.resolve(part.toString());
            if (Files.isSymbolicLink(cur)) {
                String to;
                try {
                    to = Files.readSymbolicLink(cur).toString();
                } catch (IOException e) {
                    to = "?";
                }
                throw new RestoreRefused("path " + t.path() + ": " + cur + " is a symbolic link (to " + to
                        + "); refusing to write through it. Remove it and restore again");
            }
            if (!Files.exists(cur, LinkOption.NOFOLLOW_LINKS)) {
                return;
            }
        }
    }

    /** The tablespace_map PostgreSQL reads at start: one {@code <oid> <location>} line per tablespace (PG 15 escaping). */
    public String tablespaceMap() {
        StringBuilder sb = new StringBuilder();
        for (Tablespace t : tablespaces.values()) {
            sb.append(t.oid()).append(' ');
            for (char ch : t.location().toString().toCharArray()) {
                if (ch == '\n' || ch == '\r' || ch == '\\') {
                    sb.append('\\');
                }
                sb.append(ch);
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    /** The OIDs named by a tablespace_map file's content. */
    static List<Long> mapOids(String content) {
        List<Long> oids = new ArrayList<>();
        for (String line : content.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            int sp = line.indexOf(' ');
            String oid = sp < 0 ? line : line.substring(0, sp);
            if (!oid.matches("[0-9]{1,10}")) {
                throw new RestoreRefused("the plan's tablespace_map has a line that does not start with an OID: '" + line + "'");
            }
            oids.add(Long.parseLong(oid));
        }
        return oids;
    }
}
