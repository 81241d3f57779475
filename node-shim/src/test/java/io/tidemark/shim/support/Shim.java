package io.tidemark.shim.support;

import io.tidemark.shim.Command;
import io.tidemark.shim.Main;
import io.tidemark.shim.cli.CommandFailure;
import io.tidemark.shim.cli.ExitCodes;
import io.tidemark.shim.cli.UsageException;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Runs commands in-process and captures what they print, as Main would. */
public final class Shim {
    private Shim() {
    }

    public record Run(int code, String out, String err) {
    }

    /** Through {@link Main#run} (process environment). */
    public static Run main(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(List.of(args), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** A command instance (with its own environment), failures mapped to exit codes as Main does. */
    public static Run run(Command command, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8);
        int code;
        try {
            code = command.run(List.of(args), o, e);
        } catch (UsageException x) {
            e.println("tidemark: " + x.getMessage());
            code = ExitCodes.USAGE;
        } catch (CommandFailure x) {
            e.println("tidemark: " + x.getMessage());
            code = x.exitCode();
        }
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }
}
