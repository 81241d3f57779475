package io.tidemark.functions.catalog;

import java.time.Duration;
import java.util.Optional;

/**
 * The cloud trusts its own clock: S3 event times. A node's clock may run ahead of it by at most
 * the skew; times further ahead (a backup that stops after its manifest arrived, a commit after
 * its segment arrived) cannot be true and are refused or flagged. One setting for the validator
 * and the indexer.
 */
public final class CloudClock {

    /** Minutes a node's times may be ahead of the S3 event time. */
    public static final String SKEW_SETTING = "TIDEMARK_CLOCK_SKEW_MINUTES";

    public static final Duration DEFAULT_SKEW = Duration.ofMinutes(10);

    private CloudClock() {
    }

    /**
     * The skew from the setting's value (absent: {@link #DEFAULT_SKEW}).
     *
     * @throws IllegalArgumentException naming the setting when it is not a whole number of minutes, 0 or more
     */
    public static Duration skew(Optional<String> minutes) {
        if (minutes.isEmpty()) {
            return DEFAULT_SKEW;
        }
        try {
            long m = Long.parseLong(minutes.get().strip());
            if (m < 0) {
                throw new NumberFormatException("negative");
            }
            return Duration.ofMinutes(m);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(SKEW_SETTING + ": must be a whole number of minutes, 0 or more, got '"
                    + minutes.get() + "'");
        }
    }
}
