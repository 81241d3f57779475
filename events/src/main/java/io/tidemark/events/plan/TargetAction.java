package io.tidemark.events.plan;

/** {@code recovery_target_action}: what the server does once it reaches the target. */
public enum TargetAction {
    PROMOTE, PAUSE, SHUTDOWN;

    public String text() {
        return name().toLowerCase();
    }

    public static TargetAction parse(String text) {
        if (text == null) {
            return PROMOTE;
        }
        return switch (text) {
            case "promote" -> PROMOTE;
            case "pause" -> PAUSE;
            case "shutdown" -> SHUTDOWN;
            default -> throw new IllegalArgumentException("action must be promote, pause or shutdown, got '" + text + "'");
        };
    }
}
