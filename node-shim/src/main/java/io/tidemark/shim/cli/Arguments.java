package io.tidemark.shim.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A parsed command line: {@code --name value}, {@code --name=value}, bare {@code --flag}s and
 * positional arguments. Each command declares which options take a value and which are flags;
 * anything else is a usage error, so a typo never silently changes what a command does.
 */
public final class Arguments {
    private final Map<String, String> options;
    private final List<String> positionals;

    private Arguments(Map<String, String> options, List<String> positionals) {
        this.options = options;
        this.positionals = positionals;
    }

    public static Arguments parse(List<String> args, Set<String> valued, Set<String> flags) {
        Map<String, String> options = new LinkedHashMap<>();
        List<String> positionals = new ArrayList<>();
        boolean onlyPositionals = false;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (onlyPositionals || !a.startsWith("--") || a.equals("-")) {
                positionals.add(a);
                continue;
            }
            if (a.equals("--")) {
                onlyPositionals = true;
                continue;
            }
            String name = a.substring(2);
            String value = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            if (valued.contains(name)) {
                if (value == null) {
                    if (i + 1 >= args.size()) {
                        throw new UsageException("option --" + name + " needs a value");
                    }
                    value = args.get(++i);
                }
            } else if (flags.contains(name)) {
                if (value != null) {
                    throw new UsageException("option --" + name + " takes no value");
                }
                value = "true";
            } else {
                throw new UsageException("unknown option --" + name);
            }
            if (options.put(name, value) != null) {
                throw new UsageException("option --" + name + " given twice");
            }
        }
        return new Arguments(options, positionals);
    }

    public Optional<String> option(String name) {
        return Optional.ofNullable(options.get(name));
    }

    public boolean flag(String name) {
        return options.containsKey(name);
    }

    public List<String> positionals() {
        return positionals;
    }

    /** Exactly {@code n} positionals, named in the message when they are missing or extra. */
    public List<String> requirePositionals(int n, String what) {
        if (positionals.size() != n) {
            throw new UsageException("expected " + what + ", got " + positionals.size() + " argument(s)");
        }
        return positionals;
    }
}
