package io.tidemark.events.plan;

/** A restore plan that is malformed or must not be executed; the message says what and why. */
public final class PlanException extends IllegalArgumentException {
    public PlanException(String message) {
        super(message);
    }

    public PlanException(String message, Throwable cause) {
        super(message, cause);
    }
}
