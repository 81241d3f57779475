package io.tidemark.functions.verify;

import java.util.Locale;

/** Where a verify run is: listing what to check, checking, done (with or without problems), or stopped by a fault. */
public enum VerifyState {
    PLANNING, RUNNING, COMPLETE, FAILED;

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    public boolean finished() {
        return this == COMPLETE || this == FAILED;
    }

    static VerifyState parse(String label) {
        return valueOf(label.toUpperCase(Locale.ROOT));
    }
}
