package io.tidemark.shim.restore;

/** The restore must not go on: the plan, the data directory or a download is not what it must be. */
public final class RestoreRefused extends RuntimeException {
    public RestoreRefused(String message) {
        super(message);
    }

    public RestoreRefused(String message, Throwable cause) {
        super(message, cause);
    }
}
