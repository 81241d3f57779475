package io.tidemark.shim.cli;

import io.tidemark.shim.Command;
import java.io.PrintStream;
import java.util.List;
import picocli.CommandLine;

/**
 * The shim's use of picocli, in one place: how a command line is parsed, and what a bad one
 * becomes (a {@link UsageException}: one line naming the option, exit {@link ExitCodes#USAGE}).
 */
public final class Cli {
    private Cli() {
    }

    /** A parser for one annotated command object, with the habits every command shares. */
    public static CommandLine line(Object command) {
        CommandLine c = new CommandLine(command);
        // "@file" is an argument file to picocli; to us it is a path like any other.
        c.setExpandAtFiles(false);
        // an option given twice is a usage error, not "the last one wins"
        c.setOverwrittenOptionsAllowed(false);
        return c;
    }

    /** Parses {@code args} onto {@code command}'s annotated fields; a bad command line is a {@link UsageException}. */
    public static CommandLine parse(Object command, List<String> args) {
        CommandLine c = line(command);
        try {
            c.parseArgs(args.toArray(String[]::new));
        } catch (CommandLine.ParameterException e) {
            throw usage(e);
        }
        return c;
    }

    /** What {@link Command#run} does: parse, answer --help and --version, else call the command. */
    public static int parseAndCall(Command command, List<String> args, PrintStream out, PrintStream err) {
        CommandLine c;
        try {
            c = parse(command, args);
        } catch (UsageException e) {
            return command.usageError(line(command).getCommandName(), args, e, err);
        }
        if (c.isUsageHelpRequested()) {
            c.usage(out);
            return ExitCodes.OK;
        }
        if (c.isVersionHelpRequested()) {
            out.println(Version.line());
            return ExitCodes.OK;
        }
        return command.call(out, err);
    }

    /** picocli's message, on one line, without its "Error: " prefix (the caller names the command). */
    public static UsageException usage(CommandLine.ParameterException e) {
        String m = String.valueOf(e.getMessage()).replace('\n', ' ').strip();
        if (m.startsWith("Error: ")) {
            m = m.substring("Error: ".length());
        }
        return new UsageException(m);
    }
}
