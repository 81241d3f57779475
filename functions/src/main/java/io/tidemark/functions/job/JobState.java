package io.tidemark.functions.job;

import java.util.Locale;

/**
 * Where a backup job is. {@code queued} and {@code running} move on; the other four are final.
 * <ul>
 *   <li>{@code queued}: recorded and delivered to the stanza's nodes, nobody claimed it yet;</li>
 *   <li>{@code running}: one node (the primary) claimed it and runs the backup;</li>
 *   <li>{@code done}, {@code failed}: what that node reported;</li>
 *   <li>{@code skipped-by-replica}: its deadline passed and only replicas had seen it (each left
 *       it for the primary, which never came);</li>
 *   <li>{@code missed}: its deadline passed and no node had seen it at all.</li>
 * </ul>
 */
public enum JobState {
    QUEUED, RUNNING, DONE, FAILED, SKIPPED_BY_REPLICA, MISSED;

    public boolean isFinal() {
        return this != QUEUED && this != RUNNING;
    }

    /** The catalog and API spelling: lower case, hyphens. */
    public String text() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    public static JobState parse(String text) {
        for (JobState s : values()) {
            if (s.text().equals(text)) {
                return s;
            }
        }
        throw new IllegalArgumentException("not a job state: '" + text + "'");
    }
}
