package io.tidemark.testkit;

import java.time.Duration;
import java.util.List;

/** What a finished external command left behind. */
public record CommandResult(List<String> command, int exitCode, String stdout, String stderr, Duration elapsed) {

    public CommandResult {
        command = List.copyOf(command);
    }

    public boolean succeeded() {
        return exitCode == 0;
    }

    /** Returns this result, or throws {@link CommandFailedException} if the exit code is not 0. */
    public CommandResult orThrow() {
        if (!succeeded()) {
            throw new CommandFailedException(this, "");
        }
        return this;
    }

    /** stdout without the trailing newline(s) a command line tool prints. */
    public String stdoutTrimmed() {
        return stdout.stripTrailing();
    }
}
