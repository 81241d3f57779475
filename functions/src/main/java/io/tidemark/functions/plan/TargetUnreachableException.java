package io.tidemark.functions.plan;

import io.tidemark.functions.window.RecoveryWindow;
import io.tidemark.functions.window.WindowPoint;

/**
 * The target cannot be reached from any valid backup and the archived WAL (HTTP 422): why, the
 * window, and the reachable points nearest to the target on the timeline asked for.
 */
public final class TargetUnreachableException extends RuntimeException {
    private final transient RecoveryWindow window;
    private final transient WindowPoint before;
    private final transient WindowPoint after;

    public TargetUnreachableException(String message, RecoveryWindow window, WindowPoint before, WindowPoint after) {
        super(message);
        this.window = window;
        this.before = before;
        this.after = after;
    }

    public RecoveryWindow window() {
        return window;
    }

    public WindowPoint before() {
        return before;
    }

    public WindowPoint after() {
        return after;
    }
}
