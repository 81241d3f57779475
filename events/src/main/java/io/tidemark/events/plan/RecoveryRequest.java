package io.tidemark.events.plan;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A complete recovery target as a user asks for it, and the PostgreSQL settings it becomes.
 *
 * @param exclusive stop just before the target instead of just after it (time, xid and lsn only)
 */
public record RecoveryRequest(RestoreTarget target, boolean exclusive, TimelineTarget timeline, TargetAction action) {

    public RecoveryRequest {
        if (target == null || timeline == null || action == null) {
            throw new IllegalArgumentException("target, timeline and action are required");
        }
        if (exclusive && !(target instanceof RestoreTarget.AtTime || target instanceof RestoreTarget.AtXid
                || target instanceof RestoreTarget.AtLsn)) {
            throw new IllegalArgumentException("exclusive applies to time, xid and lsn targets, not " + target.type());
        }
    }

    public static RecoveryRequest latest() {
        return new RecoveryRequest(new RestoreTarget.Latest(), false, new TimelineTarget.Latest(), TargetAction.PROMOTE);
    }

    /**
     * The recovery settings for {@code postgresql.auto.conf}, in a stable order, values unquoted
     * (see {@link #quote}). {@code restore_command} is the caller's to add.
     */
    public Map<String, String> settings() {
        Map<String, String> s = new LinkedHashMap<>();
        switch (target) {
            case RestoreTarget.Latest l -> { }
            case RestoreTarget.Immediate i -> s.put("recovery_target", "immediate");
            case RestoreTarget.AtTime t -> s.put("recovery_target_time", TargetTimes.forPostgres(t.time()));
            case RestoreTarget.AtXid x -> s.put("recovery_target_xid", Long.toString(x.xid()));
            case RestoreTarget.AtLsn l -> s.put("recovery_target_lsn", l.lsn().toString());
            case RestoreTarget.AtName n -> s.put("recovery_target_name", n.name());
        }
        if (target instanceof RestoreTarget.AtTime || target instanceof RestoreTarget.AtXid
                || target instanceof RestoreTarget.AtLsn) {
            s.put("recovery_target_inclusive", exclusive ? "off" : "on");
        }
        s.put("recovery_target_timeline", timeline.text());
        if (!(target instanceof RestoreTarget.Latest)) {
            s.put("recovery_target_action", action.text());
        }
        return s;
    }

    /** A value quoted for postgresql.conf: single quotes, an embedded quote doubled. */
    public static String quote(String value) {
        if (value.indexOf('\n') >= 0 || value.indexOf('\r') >= 0 || value.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("a configuration value cannot contain line breaks or NUL");
        }
        return "'" + value.replace("'", "''") + "'";
    }
}
