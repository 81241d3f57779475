package io.tidemark.functions.plan;

import io.tidemark.events.plan.RecoveryRequest;
import io.tidemark.events.plan.RestoreTarget;
import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.TimelineId;
import java.util.LinkedHashMap;
import java.util.Map;

/** The recovery settings a plan carries, pinned to what the planner resolved. */
final class PinnedSettings {
    private PinnedSettings() {
    }

    /**
     * The request's recovery settings with {@code recovery_target_timeline} pinned to the timeline
     * this plan resolved ({@code latest}, {@code current} or a number): recovery then follows
     * exactly the timelines whose WAL the plan lists, even if a newer timeline is archived after
     * planning, and PostgreSQL does not probe the archive for newer history files at start.
     */
    static java.util.Map<String, String> of(io.tidemark.events.plan.RecoveryRequest r, TimelineId timeline) {
        return of(r, timeline, null);
    }

    /**
     * As {@link #of(RecoveryRequest, TimelineId)}, and for {@code latest} with a known
     * last record: {@code recovery_target_lsn} at its start, inclusive, with the request's action.
     * PostgreSQL (13+) then applies WAL through that record and stops there, and when the WAL it can
     * read ends first (an object gone or damaged after planning) it refuses to finish ("recovery
     * ended before configured recovery target was reached") instead of promoting short of what the
     * plan promised. WAL archived after planning is not replayed: {@code latest} means the end known
     * when the plan was made.
     */
    static java.util.Map<String, String> of(RecoveryRequest r, TimelineId timeline, Lsn pin) {
        java.util.Map<String, String> s = new java.util.LinkedHashMap<>(r.settings());
        s.put("recovery_target_timeline", Long.toString(timeline.value()));
        if (pin != null && r.target() instanceof RestoreTarget.Latest) {
            s.put("recovery_target_lsn", pin.toString());
            s.put("recovery_target_inclusive", "on");
            s.put("recovery_target_action", r.action().text());
        }
        return s;
    }
}
