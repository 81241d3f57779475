package io.tidemark.shim.drill;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The drill's keys of tidemark.conf (every one starts with {@code drill.}):
 * <pre>
 * drill.check.NAME            a query the restored cluster must answer with the expected text
 * drill.check.NAME.expect     that text (default t: the query is a boolean test)
 * drill.check.NAME.database   where it runs (default postgres)
 * drill.run                   never | replica | any: which agents claim scheduled drills (default never)
 * drill.target                latest | random: what a drill restores to unless told (default latest)
 * drill.scratch               the scratch directory (default $TMPDIR/tidemark-drill-STANZA)
 * </pre>
 * {@code ShimConfig} accepts these keys and has them checked here, so that a typo is refused by
 * every command, as for its own keys.
 */
public record DrillSettings(List<Query> queries, Run run, Optional<Path> scratch, Target target) {
    private static final Pattern CHECK = Pattern.compile("drill\\.check\\.([a-z0-9_-]{1,40})(\\.expect|\\.database)?");

    /** A user query: its result (psql's unaligned text, trimmed) must equal {@code expect}. */
    public record Query(String name, String sql, String expect, String database) {
        public Query {
            if (sql.isBlank()) {
                throw new IllegalArgumentException("drill.check." + name + " is empty");
            }
            if (!database.matches("[A-Za-z0-9_][A-Za-z0-9_$.-]{0,62}")) {
                throw new IllegalArgumentException("drill.check." + name + ".database '" + database + "' is not a database name");
            }
        }
    }

    /** Which agents claim a scheduled drill: none, replicas only (the default when on), or any node, the primary too. */
    public enum Run {
        NEVER, REPLICA, ANY;

        static Run parse(String v) {
            return switch (v) {
                case "never" -> NEVER;
                case "replica" -> REPLICA;
                case "any" -> ANY;
                default -> throw new IllegalArgumentException("drill.run must be never, replica or any, got '" + v + "'");
            };
        }
    }

    /**
     * What a drill restores to: the end of the window (the newest backup and the WAL after it), or
     * a random point of it ({@link RandomTarget}), which also exercises older backups and their WAL.
     */
    public enum Target {
        LATEST, RANDOM;

        public static Target parse(String what, String v) {
            return switch (v) {
                case "latest" -> LATEST;
                case "random" -> RANDOM;
                default -> throw new IllegalArgumentException(what + " must be latest or random, got '" + v + "'");
            };
        }
    }

    public static final DrillSettings NONE = new DrillSettings(List.of(), Run.NEVER, Optional.empty(), Target.LATEST);

    public static boolean isDrillKey(String key) {
        return key.startsWith("drill.");
    }

    /**
     * The drill settings among {@code p}'s keys.
     *
     * @throws IllegalArgumentException an unknown {@code drill.} key or a bad value, named
     */
    public static DrillSettings of(Properties p) {
        Map<String, String> sql = new TreeMap<>();
        Map<String, String> expect = new TreeMap<>();
        Map<String, String> database = new TreeMap<>();
        Run run = Run.NEVER;
        Optional<Path> scratch = Optional.empty();
        Target target = Target.LATEST;
        for (String key : new java.util.TreeSet<>(p.stringPropertyNames())) {
            if (!isDrillKey(key)) {
                continue;
            }
            String v = p.getProperty(key).strip();
            Matcher m = CHECK.matcher(key);
            if (key.equals("drill.run")) {
                run = Run.parse(v);
            } else if (key.equals("drill.target")) {
                target = Target.parse("drill.target", v);
            } else if (key.equals("drill.scratch")) {
                Path s = Path.of(v);
                if (!s.isAbsolute()) {
                    throw new IllegalArgumentException("drill.scratch must be an absolute directory, got '" + v + "'");
                }
                scratch = Optional.of(s);
            } else if (m.matches()) {
                String name = m.group(1);
                if (m.group(2) == null) {
                    sql.put(name, v);
                } else if (m.group(2).equals(".expect")) {
                    expect.put(name, v);
                } else {
                    database.put(name, v);
                }
            } else {
                throw new IllegalArgumentException("unknown key " + key + " (drill keys: drill.check.NAME[.expect|.database],"
                        + " drill.run, drill.scratch, drill.target)");
            }
        }
        List<Query> queries = new ArrayList<>();
        for (String name : expect.keySet()) {
            if (!sql.containsKey(name)) {
                throw new IllegalArgumentException("drill.check." + name + ".expect without drill.check." + name);
            }
        }
        for (String name : database.keySet()) {
            if (!sql.containsKey(name)) {
                throw new IllegalArgumentException("drill.check." + name + ".database without drill.check." + name);
            }
        }
        sql.forEach((name, q) -> queries.add(new Query(name, q, expect.getOrDefault(name, "t"),
                database.getOrDefault(name, "postgres"))));
        return new DrillSettings(List.copyOf(queries), run, scratch, target);
    }

    /** Reads the drill keys of a configuration file (already validated by ShimConfig when it was loaded). */
    public static DrillSettings load(Path file) {
        return of(io.tidemark.shim.config.ShimConfig.properties(file));
    }
}
