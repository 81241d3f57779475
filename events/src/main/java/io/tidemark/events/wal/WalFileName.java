package io.tidemark.events.wal;

import java.util.Objects;

/**
 * Every kind of file PostgreSQL hands to {@code archive_command}: segments, {@code .partial}
 * segments (the end of a timeline at promotion), timeline {@code .history} files and
 * {@code .backup} history files. {@link #parse} is the one place that tells them apart.
 */
public sealed interface WalFileName {

    /** The name exactly as PostgreSQL writes it. */
    String fileName();

    TimelineId timeline();

    record Segment(WalSegmentName segment) implements WalFileName {
        public Segment {
            Objects.requireNonNull(segment, "segment");
        }

        public String fileName() {
            return segment.toString();
        }

        public TimelineId timeline() {
            return segment.timeline();
        }
    }

    record Partial(WalSegmentName segment) implements WalFileName {
        public Partial {
            Objects.requireNonNull(segment, "segment");
        }

        public String fileName() {
            return segment + ".partial";
        }

        public TimelineId timeline() {
            return segment.timeline();
        }
    }

    record History(TimelineId timeline) implements WalFileName {
        public History {
            Objects.requireNonNull(timeline, "timeline");
            if (timeline.value() < 2) {
                throw new IllegalArgumentException("timeline 1 has no history file");
            }
        }

        public String fileName() {
            return timeline.hex() + ".history";
        }
    }

    /** {@code <segment>.<offset 8 hex>.backup}: written by pg_backup_stop; the offset is the start LSN's. */
    record BackupHistory(WalSegmentName segment, long offset) implements WalFileName {
        public BackupHistory {
            Objects.requireNonNull(segment, "segment");
            if (offset < 0 || offset >= segment.segmentSize().bytes()) {
                throw new IllegalArgumentException("backup offset outside its segment: " + offset);
            }
        }

        public String fileName() {
            return segment + "." + WalNames.hex8(offset) + ".backup";
        }

        public TimelineId timeline() {
            return segment.timeline();
        }

        public Lsn startLsn() {
            return segment.startLsn().plus(offset);
        }
    }

    static WalFileName parse(String name, WalSegmentSize size) {
        if (name == null) {
            throw new IllegalArgumentException("WAL file name is missing");
        }
        if (WalSegmentName.looksLikeSegment(name)) {
            return new Segment(WalSegmentName.parse(name, size));
        }
        if (name.length() == 32 && name.endsWith(".partial")) {
            return new Partial(WalSegmentName.parse(name.substring(0, 24), size));
        }
        if (name.length() == 16 && name.endsWith(".history")) {
            return new History(TimelineId.parseHex(name.substring(0, 8)));
        }
        if (name.length() == 40 && name.endsWith(".backup") && name.charAt(24) == '.'
                && WalNames.isUpperHex(name, 25, 33)) {
            return new BackupHistory(WalSegmentName.parse(name.substring(0, 24), size),
                    Long.parseLong(name.substring(25, 33), 16));
        }
        throw new IllegalArgumentException("not a WAL, .partial, .history or .backup file name: '" + name + "'");
    }
}
