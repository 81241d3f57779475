package io.tidemark.events.plan;

import io.tidemark.events.wal.TimelineId;

/** {@code recovery_target_timeline}: follow the newest timeline, stay on the backup's, or a given one. */
public sealed interface TimelineTarget {
    String text();

    record Latest() implements TimelineTarget {
        public String text() {
            return "latest";
        }
    }

    record Current() implements TimelineTarget {
        public String text() {
            return "current";
        }
    }

    record Numbered(TimelineId timeline) implements TimelineTarget {
        public String text() {
            return timeline.toString();
        }
    }

    static TimelineTarget parse(String text) {
        if (text == null || text.equals("latest")) {
            return new Latest();
        }
        if (text.equals("current")) {
            return new Current();
        }
        try {
            return new Numbered(TimelineId.parseDecimal(text));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("timeline must be latest, current or a number, got '" + text + "'");
        }
    }
}
