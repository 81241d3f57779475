package io.tidemark.events.sign;

/** A signed document that must not be trusted; the message says why. */
public final class PlanSignatureException extends RuntimeException {
    public PlanSignatureException(String message) {
        super(message);
    }

    public PlanSignatureException(String message, Throwable cause) {
        super(message, cause);
    }
}
