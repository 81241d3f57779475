package io.tidemark.events.backup;

/** A backup manifest that cannot be valid; the message says which field and why. */
public final class ManifestException extends IllegalArgumentException {
    public ManifestException(String message) {
        super(message);
    }

    public ManifestException(String message, Throwable cause) {
        super(message, cause);
    }
}
