package io.tidemark.shim;

import io.tidemark.shim.cli.Cli;
import io.tidemark.shim.cli.ExitCodes;
import io.tidemark.shim.cli.UsageException;
import java.io.PrintStream;
import java.util.List;

/**
 * One {@code tidemark} command; each lives in its own package. Its options and arguments are
 * picocli-annotated fields ({@code @Command}, {@code @Option}, {@code @Parameters}, the
 * {@code CommonOptions} mixin): {@link Main} parses the command line onto them, then calls
 * {@link #call}.
 */
public interface Command {
    /** Runs with the options and arguments already set on this command's fields. */
    int call(PrintStream out, PrintStream err);

    /**
     * What a bad command line prints and exits with: one line naming the option, exit
     * {@link ExitCodes#USAGE}. archive-get overrides it: PostgreSQL reads 1..125 as "not archived".
     *
     * @param args the whole command line
     */
    default int usageError(String name, List<String> args, UsageException e, PrintStream err) {
        err.println("tidemark " + name + ": " + e.getMessage());
        return ExitCodes.USAGE;
    }

    /** Parses {@code args} (options and arguments after the command's name) onto this command, then calls it. */
    default int run(List<String> args, PrintStream out, PrintStream err) {
        return Cli.parseAndCall(this, args, out, err);
    }
}
