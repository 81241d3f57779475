package io.tidemark.shim.cli;

/** The command line itself is wrong: the message says what, and the exit code is {@link ExitCodes#USAGE}. */
public final class UsageException extends RuntimeException {
    public UsageException(String message) {
        super(message);
    }
}
