package io.tidemark.localcloud;

/** local-cloud could not start or run; the message is meant for the operator, on one line. */
public class LocalCloudException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public LocalCloudException(String message) {
        super(message);
    }

    public LocalCloudException(String message, Throwable cause) {
        super(message, cause);
    }
}
