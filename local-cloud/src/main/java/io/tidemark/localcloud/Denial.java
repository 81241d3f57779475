package io.tidemark.localcloud;

import java.time.Instant;
import java.util.Objects;

/**
 * One call local-cloud refused: who (a principal's name, or the access key when it names no
 * principal), the action and resource asked for, and why ({@code implicit deny}, {@code explicit
 * deny: ...}, {@code expired token}, {@code unknown access key}, {@code signature mismatch}, ...).
 */
public record Denial(Instant at, String principal, String action, String resource, String reason) {
    public Denial {
        Objects.requireNonNull(at, "at");
        Objects.requireNonNull(principal, "principal");
        Objects.requireNonNull(action, "action");
        Objects.requireNonNull(resource, "resource");
        Objects.requireNonNull(reason, "reason");
    }

    @Override
    public String toString() {
        return "denied: principal=" + principal + " action=" + action + " resource=" + resource + " reason=" + reason;
    }
}
