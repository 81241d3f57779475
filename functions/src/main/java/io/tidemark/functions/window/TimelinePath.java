package io.tidemark.functions.window;

import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.TimelineHistory;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalSegmentSize;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The WAL a recovery onto {@code target} reads, as PostgreSQL picks it: the target timeline's
 * history says which timeline owns which LSNs; a segment is read from the newest timeline of the
 * history whose switch point's segment is at or before it ({@code XLogFileReadAnyTLI}). So for a
 * switch from tli1 to tli2 at LSN s, segments below {@code segno(s)} come from tli1 and the segment
 * holding s and later ones from tli2. A timeline that owns no LSN on the history (its entry's range
 * is empty because a later switch point is lower) has no part: PostgreSQL reads its segments only
 * when the newer timeline's are absent, and nothing on it is on this path.
 *
 * @param parts oldest first; a part's segments are {@code [firstSegment, lastSegment]} (the last
 *              part is open: {@code lastSegment = Long.MAX_VALUE}); empty parts are left out
 */
public record TimelinePath(TimelineId target, TimelineHistory history, List<Part> parts) {

    /** The LSNs {@code [from, to)} of {@code timeline} on this path and the segments read from it. */
    public record Part(TimelineId timeline, Lsn from, Lsn to, long firstSegment, long lastSegment) {
        public boolean isOpen() {
            return to == null;
        }

        public boolean holdsSegment(long segno) {
            return segno >= firstSegment && segno <= lastSegment;
        }

        /** Whether {@code [start, stop]} lies on this part (stop may equal the switch point). */
        public boolean holdsLsns(Lsn start, Lsn stop) {
            return !start.isBefore(from) && (to == null || !stop.isAfter(to));
        }
    }

    public TimelinePath {
        parts = List.copyOf(parts);
    }

    public static TimelinePath of(TimelineHistory history, WalSegmentSize size) {
        List<Part> parts = new ArrayList<>();
        // what each timeline owns, not the raw switch points: an entry whose range is empty (a
        // history whose switch points go back) owns no LSN and no segment (TimelineHistory#owned)
        for (TimelineHistory.Owned o : history.owned()) {
            long first = size.segmentNumberOf(o.from());
            if (o.to() == null) {
                parts.add(new Part(o.timeline(), o.from(), null, first, Long.MAX_VALUE));
                continue;
            }
            long last = size.segmentNumberOf(o.to()) - 1;
            if (last >= first) {
                parts.add(new Part(o.timeline(), o.from(), o.to(), first, last));
            }
        }
        return new TimelinePath(history.timeline(), history, parts);
    }

    /** The part of {@code timeline}, if the path goes through it. */
    public Optional<Part> part(TimelineId timeline) {
        return parts.stream().filter(p -> p.timeline().equals(timeline)).findFirst();
    }

    /** The part segment {@code segno} is read from. */
    public Part partOfSegment(long segno) {
        for (Part p : parts) {
            if (p.holdsSegment(segno)) {
                return p;
            }
        }
        throw new IllegalArgumentException("segment " + segno + " is on no part of the path of " + target);
    }

    /** The timeline that owns {@code lsn} on this path. */
    public TimelineId timelineAt(Lsn lsn) {
        return history.timelineAt(lsn);
    }

    /** The parts from the one holding segment {@code from} to the one holding {@code to}, oldest first. */
    public List<Part> partsBetween(long from, long to) {
        List<Part> out = new ArrayList<>();
        for (Part p : parts) {
            if (p.lastSegment() >= from && p.firstSegment() <= to) {
                out.add(p);
            }
        }
        return out;
    }
}
