package io.tidemark.shim.cli;

import java.util.List;

/**
 * Binds the plain command line PostgreSQL sends once per WAL file (archive_command,
 * restore_command) without starting picocli. picocli's classes are Java 5 class files, which the
 * JVM's AOT cache cannot hold ("old class has been linked"), and reading its annotations builds
 * proxies: together they cost each archive-push 70-180 ms of CPU (measured, docs/startup.md),
 * as much as the rest of its start. The picocli annotations stay the declaration; a command
 * that takes this path repeats its String options and arguments in {@link Bindable}, and
 * CommandLineTest checks that both bind every plain line alike. Only what is certain binds:
 * each option once, {@code --name value} or {@code --name=value}, common options also before
 * the command's name, exactly the declared arguments. Anything else (help, version, an unknown
 * or repeated option, a missing or extra argument) returns false and picocli parses the line.
 */
public final class PlainLine {
    private PlainLine() {
    }

    /** A command's String options and arguments, as its picocli annotations declare them. */
    public interface Bindable {
        /** Sets {@code --name}'s value; false when there is no such option or it is already set. */
        boolean bindOption(String name, String value);

        /** Sets argument {@code index}; false when there is none. */
        boolean bindArgument(int index, String value);

        /** How many arguments the command takes. */
        int arguments();
    }

    /** A command that takes exactly one argument (archive-push's WAL path, aot-train's push|get). */
    public interface OneArgument extends Bindable {
        /** Sets the argument. */
        void bindTheArgument(String value);

        @Override
        default boolean bindArgument(int index, String value) {
            if (index != 0) {
                return false;
            }
            bindTheArgument(value);
            return true;
        }

        @Override
        default int arguments() {
            return 1;
        }
    }

    /**
     * @param args the whole command line
     * @param at   where the command's name is in it
     * @return true when every argument was bound to {@code command}
     */
    public static boolean bind(Bindable command, List<String> args, int at) {
        int next = 0;
        for (int i = 0; i < args.size(); i++) {
            if (i == at) {
                continue;
            }
            String a = args.get(i);
            if (!a.startsWith("-")) {
                if (i < at || !command.bindArgument(next++, a)) {
                    return false;
                }
                continue;
            }
            if (!a.startsWith("--")) {
                return false;
            }
            int eq = a.indexOf('=');
            String name = eq < 0 ? a : a.substring(0, eq);
            String value;
            if (eq >= 0) {
                value = a.substring(eq + 1);
            } else if (i + 1 < args.size() && i + 1 != at && !args.get(i + 1).startsWith("-")) {
                value = args.get(++i);
            } else {
                return false;
            }
            if ((i < at && !io.tidemark.shim.config.CommonOptions.isCommon(name)) || !command.bindOption(name, value)) {
                return false;
            }
        }
        return next == command.arguments();
    }

    /** The options that may stand before the command and take a value as the next argument. */
    private static final java.util.Set<String> GLOBAL_VALUED = java.util.Set.of("--config", "--stanza", "--pgdata",
            "--pg-host", "--pg-port", "--pg-user");

    /**
     * Where the command's name is in a whole command line: the first argument that is neither an
     * option nor the value of a global option before it ({@code --stanza main archive-push});
     * -1 when there is none. bin/tidemark finds it the same way. Here, not in Cli: the
     * per-segment path must not load picocli's classes.
     */
    public static int commandIndex(List<String> args) {
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("--")) {
                return i + 1 < args.size() ? i + 1 : -1;
            }
            if (GLOBAL_VALUED.contains(a)) {
                i++;
            } else if (!a.startsWith("-")) {
                return i;
            }
        }
        return -1;
    }
}
