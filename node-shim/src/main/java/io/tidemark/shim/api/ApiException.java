package io.tidemark.shim.api;

/** The catalog API answered with an error, or could not be reached. */
public final class ApiException extends RuntimeException {
    private final int status;

    public ApiException(int status, String message, Throwable cause) {
        super(message, cause);
        this.status = status;
    }

    /** The HTTP status, or 0 when there was no answer. */
    public int status() {
        return status;
    }
}
