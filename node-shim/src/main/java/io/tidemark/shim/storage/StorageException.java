package io.tidemark.shim.storage;

/** A storage request failed; {@link #retryable()} when trying again may help (network, 5xx, throttling). */
public class StorageException extends RuntimeException {
    private final boolean retryable;

    public StorageException(String message, Throwable cause, boolean retryable) {
        super(message, cause);
        this.retryable = retryable;
    }

    public boolean retryable() {
        return retryable;
    }
}
