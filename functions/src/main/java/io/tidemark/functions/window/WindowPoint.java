package io.tidemark.functions.window;

import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.TimelineId;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;

/**
 * A point of the recovery window: an LSN on a timeline and the commit time there ({@code time}
 * null when no commit is known at or before it within the interval).
 */
public record WindowPoint(Lsn lsn, Instant time, TimelineId timeline) {

    public Map<String, Object> toMap() {
        Map<String, Object> m = new TreeMap<>();
        m.put("lsn", lsn.toString());
        m.put("time", time == null ? null : time.toString());
        m.put("timeline", timeline.value());
        return m;
    }

    public static WindowPoint fromMap(Map<?, ?> m) {
        Object t = m.get("time");
        return new WindowPoint(Lsn.parse((String) m.get("lsn")), t == null ? null : Instant.parse((String) t),
                TimelineId.of((Long) m.get("timeline")));
    }
}
