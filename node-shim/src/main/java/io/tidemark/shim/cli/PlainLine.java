package io.tidemark.shim.cli;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Binds the plain command line PostgreSQL sends once per WAL file (archive_command,
 * restore_command) to a command's picocli-declared options and arguments without starting
 * picocli. picocli's classes are Java 5 class files, which the JVM's AOT cache cannot hold
 * ("old class has been linked"): loading and verifying them cost each archive-push about 180 ms
 * of CPU (measured, docs/startup.md), more than the rest of its start. The declarations stay
 * picocli's annotations; this reads them. It binds only what it is sure of: String options and
 * positionals, each option once, {@code --name value} or {@code --name=value}, the common options
 * (a {@code @Mixin}'s) also before the command's name, and exactly the declared positionals.
 * Anything else (help, version, an unknown or repeated option, a flag, a missing or extra
 * argument) returns false and picocli parses the line, with its messages.
 */
public final class PlainLine {
    private PlainLine() {
    }

    private record Target(Object owner, Field field, boolean common) {
    }

    /**
     * @param args the whole command line
     * @param at   where the command's name is in it
     * @return true when every argument was bound to {@code command}'s fields
     */
    public static boolean bind(Object command, List<String> args, int at) {
        Map<String, Target> options = new HashMap<>();
        List<Target> positionals = new ArrayList<>();
        try {
            if (!declared(command, false, options, positionals)) {
                return false;
            }
            Map<Target, String> values = new HashMap<>();
            Set<Target> seen = new HashSet<>();
            int next = 0;
            for (int i = 0; i < args.size(); i++) {
                if (i == at) {
                    continue;
                }
                String a = args.get(i);
                if (!a.startsWith("-")) {
                    if (i < at || next >= positionals.size()) {
                        return false;
                    }
                    values.put(positionals.get(next++), a);
                    continue;
                }
                int eq = a.indexOf('=');
                String name = eq < 0 ? a : a.substring(0, eq);
                Target t = options.get(name);
                if (t == null || (i < at && !t.common()) || !seen.add(t)) {
                    return false;
                }
                String value;
                if (eq >= 0) {
                    value = a.substring(eq + 1);
                } else if (i + 1 < args.size() && i + 1 != at && !args.get(i + 1).startsWith("-")) {
                    value = args.get(++i);
                } else {
                    return false;
                }
                values.put(t, value);
            }
            if (next != positionals.size()) {
                return false;
            }
            for (Map.Entry<Target, String> e : values.entrySet()) {
                e.getKey().field().set(e.getKey().owner(), e.getValue());
            }
            return true;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return false; // picocli will say what is wrong, if anything
        }
    }

    /** Collects the String options and positionals of {@code owner} and its mixins; false when any is of another kind. */
    private static boolean declared(Object owner, boolean common, Map<String, Target> options, List<Target> positionals)
            throws ReflectiveOperationException {
        for (Field f : owner.getClass().getDeclaredFields()) {
            if (f.isAnnotationPresent(Mixin.class)) {
                f.setAccessible(true);
                if (!declared(f.get(owner), true, options, positionals)) {
                    return false;
                }
                continue;
            }
            Option o = f.getAnnotation(Option.class);
            Parameters p = f.getAnnotation(Parameters.class);
            if (o == null && p == null) {
                continue;
            }
            if (f.getType() != String.class) {
                return false;
            }
            f.setAccessible(true);
            Target t = new Target(owner, f, common);
            if (o != null) {
                for (String n : o.names()) {
                    if (!n.startsWith("--") || o.help() || o.usageHelp() || o.versionHelp()) {
                        return false;
                    }
                    options.put(n, t);
                }
            } else {
                int index;
                try {
                    index = Integer.parseInt(p.index());
                } catch (NumberFormatException e) {
                    return false;
                }
                while (positionals.size() <= index) {
                    positionals.add(null);
                }
                positionals.set(index, t);
            }
        }
        return !positionals.contains(null);
    }
}
