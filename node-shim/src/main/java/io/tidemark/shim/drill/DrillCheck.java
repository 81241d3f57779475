package io.tidemark.shim.drill;

import java.util.Objects;

/**
 * One check of a drill and how it ended. {@code name} is what a failure is known by
 * ({@code restore}, {@code target}, {@code connections}, {@code amcheck}, {@code query:<name>}).
 */
public record DrillCheck(String name, Status status, String message) {
    /** A closed set: a check passed, failed, or was not run (an earlier step failed, or it is switched off). */
    public enum Status {
        PASSED, FAILED, SKIPPED;

        public String text() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public DrillCheck {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(message, "message");
        if (!name.matches("[a-z][a-z0-9:_-]{0,63}")) {
            throw new IllegalArgumentException("check name '" + name + "' is not [a-z][a-z0-9:_-]{0,63}");
        }
    }

    public static DrillCheck passed(String name, String message) {
        return new DrillCheck(name, Status.PASSED, message);
    }

    public static DrillCheck failed(String name, String message) {
        return new DrillCheck(name, Status.FAILED, message);
    }

    public static DrillCheck skipped(String name, String message) {
        return new DrillCheck(name, Status.SKIPPED, message);
    }

    public boolean failed() {
        return status == Status.FAILED;
    }

    @Override
    public String toString() {
        return name + " " + status.text() + ": " + message;
    }
}
