package io.tidemark.shim;

import io.tidemark.shim.cli.Cli;
import io.tidemark.shim.cli.CommandFailure;
import io.tidemark.shim.cli.ExitCodes;
import io.tidemark.shim.cli.PlainLine;
import io.tidemark.shim.cli.UsageException;
import io.tidemark.shim.cli.Version;
import io.tidemark.shim.config.CommonOptions;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Entry point of the {@code tidemark} command. The command line is parsed by picocli; only the
 * chosen command is instantiated and registered with it: PostgreSQL starts this program once
 * per WAL segment, so start-up must not pay for commands it does not run. The common options
 * ({@code --config}, {@code --stanza}, {@code --pgdata}, ...) may stand before the command name,
 * as pgBackRest allows ({@code tidemark --stanza=main archive-push %p}).
 */
public final class Main {
    private Main() {
    }

    /** The top-level {@code tidemark} command: the common options given before the command name. */
    @CommandLine.Command(name = "tidemark", mixinStandardHelpOptions = true, versionProvider = Version.class,
            description = "Point-in-time recovery for PostgreSQL, with the bookkeeping done by the cloud.",
            synopsisSubcommandLabel = "COMMAND",
            footer = {"", "The options above may also follow the command; `tidemark COMMAND --help` lists each command's own.",
                    "Exit status: 0 ok, 1 failed, 2 bad usage; archive-get: 1 not archived, 3 error, 200 abort recovery."})
    static final class Tidemark {
        @CommandLine.Mixin
        CommonOptions global = new CommonOptions();
    }

    /**
     * The commands PostgreSQL starts once per WAL file: their plain command lines skip picocli's
     * start-up; so does the AOT caches' training run, whose classes go into those caches (every
     * class in a cache is loaded and linked at each start).
     */
    private static final java.util.Set<String> PLAIN_LINE = java.util.Set.of("archive-push", "archive-get", "aot-train");

    public static void main(String[] args) {
        // The AWS SDK logs through SLF4J and the shim ships no backend: without this, SLF4J warns
        // on stderr (PostgreSQL's log, for archive-push) in every process that loads the SDK.
        if (System.getProperty("slf4j.provider") == null) {
            System.setProperty("slf4j.provider", "org.slf4j.helpers.NOP_FallbackServiceProvider");
            // and no "attempting to load provider" notice for choosing it
            System.setProperty("slf4j.internal.verbosity", "WARN");
        }
        List<String> list = Arrays.asList(args);
        int code = run(list, System.out, System.err);
        System.out.flush();
        System.err.flush();
        io.tidemark.shim.cli.Trace.mark("exit");
        int at = PlainLine.commandIndex(list);
        String name = at < 0 ? "" : args[at];
        if (name.equals("archive-push") || name.equals("archive-get")) {
            // PostgreSQL waits for these once per WAL file. System.exit would first look for a
            // logging backend (it may log the exit), which scans every jar on the class path:
            // about 20 ms (docs/startup.md). They register no shutdown hooks and their output
            // is flushed, so halting loses nothing.
            Runtime.getRuntime().halt(code);
        }
        if (code == 0 && name.equals("aot-train")) {
            return; // the JVM writes the AOT cache as it ends; System.exit's logging classes stay out of it
        }
        System.exit(code);
    }

    public static int run(List<String> args, PrintStream out, PrintStream err) {
        return run(args, out, err, Commands::named);
    }

    /** @param commands the command of a name, or null when there is none (the AOT trainer passes its own) */
    public static int run(List<String> args, PrintStream out, PrintStream err, Function<String, Command> commands) {
        int at = PlainLine.commandIndex(args);
        if (at < 0 || args.get(at).equals("help")) {
            return WithPicocli.withoutCommand(at < 0 ? args : List.of("--help"), out, err);
        }
        String name = args.get(at);
        Command command = commands.apply(name);
        if (command == null) {
            err.println("tidemark: unknown command '" + name + "' (see tidemark --help)");
            return ExitCodes.USAGE;
        }
        if (PLAIN_LINE.contains(name) && command instanceof PlainLine.Bindable b && PlainLine.bind(b, args, at)) {
            return call(name, command, out, err); // PostgreSQL's plain line: no picocli to load (PlainLine)
        }
        return WithPicocli.run(name, command, args, out, err);
    }

    private static int call(String name, Command command, PrintStream out, PrintStream err) {
        try {
            return command.call(out, err);
        } catch (UsageException e) {
            err.println("tidemark " + name + ": " + e.getMessage());
            return ExitCodes.USAGE;
        } catch (CommandFailure e) {
            err.println("tidemark " + name + ": " + e.getMessage());
            return e.exitCode();
        }
    }

    /**
     * The command line through picocli. A class of its own: Main's per-segment path (PlainLine)
     * must not load picocli's classes, and verifying a method that catches one of its exceptions would.
     */
    private static final class WithPicocli {
        static int run(String name, Command command, List<String> args, PrintStream out, PrintStream err) {
            CommandLine top = Cli.line(new Tidemark());
            CommandLine sub = Cli.line(command);
            top.addSubcommand(name, sub);
            try {
                moveGlobalOptions(top.parseArgs(args.toArray(String[]::new)), name);
            } catch (CommandLine.ParameterException e) {
                return command.usageError(name, args, Cli.usage(e), err);
            } catch (UsageException e) {
                return command.usageError(name, args, e, err);
            }
            if (top.isUsageHelpRequested() || sub.isUsageHelpRequested()) {
                sub.usage(out);
                return ExitCodes.OK;
            }
            if (top.isVersionHelpRequested() || sub.isVersionHelpRequested()) {
                out.println(Version.line());
                return ExitCodes.OK;
            }
            return call(name, command, out, err);
        }

        /**
         * The common options given before the command name go to the command's own (its
         * CommonOptions mixin); one it does not take, or one given on both sides, is a usage error.
         */
        private static void moveGlobalOptions(CommandLine.ParseResult parsed, String name) {
            CommandLine.ParseResult sub = parsed.subcommand();
            for (OptionSpec global : parsed.matchedOptions()) {
                OptionSpec own = sub.commandSpec().findOption(global.longestName());
                if (own == null) {
                    throw new UsageException(name + " takes no " + global.longestName());
                }
                if (sub.hasMatchedOption(own)) {
                    throw new UsageException("option " + global.longestName() + " given twice (before and after " + name + ")");
                }
                own.setValue(global.getValue());
            }
        }

        /** No command: {@code --help} and {@code --version} answer; anything else is bad usage, with the help. */
        private static int withoutCommand(List<String> args, PrintStream out, PrintStream err) {
            CommandLine top = Cli.line(new Tidemark());
            for (String n : Commands.NAMES) {
                top.addSubcommand(n, Cli.line(Commands.named(n)));
            }
            try {
                top.parseArgs(args.toArray(String[]::new));
            } catch (CommandLine.ParameterException e) {
                err.println("tidemark: " + Cli.usage(e).getMessage() + " (see tidemark --help)");
                return ExitCodes.USAGE;
            }
            if (top.isVersionHelpRequested()) {
                out.println(Version.line());
                return ExitCodes.OK;
            }
            top.usage(out);
            if (top.isUsageHelpRequested()) {
                return ExitCodes.OK;
            }
            err.println("tidemark: no command given");
            return ExitCodes.USAGE;
        }
    }
}
