package io.tidemark.testkit;

import java.util.Optional;

/**
 * An external command exited non-zero or timed out. The message names the command, the exit
 * code and the tail of its stderr, plus any extra context (usually the server log tail), because
 * that is all a CI log will show of a failed test.
 */
public class CommandFailedException extends RuntimeException {

    private static final long serialVersionUID = 1L;
    private static final int STDERR_TAIL_CHARS = 4000;

    private final transient CommandResult result;

    public CommandFailedException(CommandResult result, String context) {
        super(describe(result, context));
        this.result = result;
    }

    public CommandFailedException(String message) {
        super(message);
        this.result = null;
    }

    /** The failed command's result; empty when the command never produced one (timeout, start failure). */
    public Optional<CommandResult> result() {
        return Optional.ofNullable(result);
    }

    static String describe(CommandResult r, String context) {
        StringBuilder b = new StringBuilder()
                .append("command failed with exit code ").append(r.exitCode())
                .append(" after ").append(r.elapsed().toMillis()).append(" ms: ")
                .append(String.join(" ", r.command()));
        String err = tail(r.stderr(), STDERR_TAIL_CHARS);
        b.append("\n--- stderr").append(err.length() < r.stderr().length() ? " (tail)" : "").append(" ---\n")
                .append(err.isBlank() ? "(empty)" : err.stripTrailing());
        if (r.stderr().isBlank() && !r.stdout().isBlank()) {
            b.append("\n--- stdout (tail) ---\n").append(tail(r.stdout(), STDERR_TAIL_CHARS).stripTrailing());
        }
        if (context != null && !context.isBlank()) {
            b.append('\n').append(context.stripTrailing());
        }
        return b.toString();
    }

    static String tail(String text, int maxChars) {
        return text.length() <= maxChars ? text : text.substring(text.length() - maxChars);
    }
}
