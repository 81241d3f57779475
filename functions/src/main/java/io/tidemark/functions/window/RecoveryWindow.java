package io.tidemark.functions.window;

import io.tidemark.events.wal.TimelineId;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The recovery window of a stanza: for every timeline one can recover onto (timeline 1, or one
 * whose history file is archived), the intervals of points reachable from a valid backup, split
 * at WAL gaps.
 */
public record RecoveryWindow(List<TimelineWindow> timelines) {

    /**
     * The intervals of one target timeline, in LSN order, disjoint.
     *
     * @param resumesAt where WAL of the path continues after a break past the last interval (the
     *                  start of the first segment after it that is archived or streamed from its
     *                  start), null when nothing lies beyond: the WAL between the last interval's
     *                  end and this point is missing, so the window ends before it (issue 17: a
     *                  dropped slot, a failover whose old timeline's WAL ends before the switch)
     */
    public record TimelineWindow(TimelineId timeline, List<WindowInterval> intervals, WindowPoint resumesAt) {
        public TimelineWindow {
            intervals = List.copyOf(intervals);
            if (intervals.isEmpty()) {
                resumesAt = null;
            }
        }

        public TimelineWindow(TimelineId timeline, List<WindowInterval> intervals) {
            this(timeline, intervals, null);
        }

        public Optional<WindowPoint> earliest() {
            return intervals.isEmpty() ? Optional.empty() : Optional.of(intervals.getFirst().start());
        }

        public Optional<WindowPoint> latest() {
            return intervals.isEmpty() ? Optional.empty() : Optional.of(intervals.getLast().end());
        }
    }

    /** A stretch between two intervals of one timeline that no backup and WAL reach. */
    public record Gap(TimelineId timeline, WindowPoint from, WindowPoint to) {
    }

    /**
     * WAL missing between the window's right edge ({@code from}, the end of the last interval of
     * {@code timeline}'s window) and WAL that exists after it ({@code to}, where it continues, with
     * the timeline it is read from): the window does not reach past it until the missing WAL arrives.
     */
    public record Break(TimelineId timeline, WindowPoint from, WindowPoint to) {
    }

    public static final RecoveryWindow EMPTY = new RecoveryWindow(List.of());

    public RecoveryWindow {
        timelines = timelines.stream().filter(t -> !t.intervals().isEmpty())
                .sorted(Comparator.comparing(TimelineWindow::timeline)).toList();
    }

    public Optional<TimelineWindow> timeline(TimelineId tli) {
        return timelines.stream().filter(t -> t.timeline().equals(tli)).findFirst();
    }

    /** The earliest restorable point of any timeline (the oldest valid backup's consistent point). */
    public Optional<WindowPoint> earliest() {
        return timelines.stream().map(t -> t.earliest().orElseThrow())
                .min(Comparator.comparing((WindowPoint p) -> p.time() == null ? java.time.Instant.MAX : p.time())
                        .thenComparing(WindowPoint::lsn));
    }

    /** The latest restorable point of the newest timeline with a window (where "latest" recovers to). */
    public Optional<WindowPoint> latest() {
        return timelines.isEmpty() ? Optional.empty() : timelines.getLast().latest();
    }

    public List<Gap> gaps() {
        List<Gap> gaps = new ArrayList<>();
        for (TimelineWindow t : timelines) {
            for (int i = 1; i < t.intervals().size(); i++) {
                gaps.add(new Gap(t.timeline(), t.intervals().get(i - 1).end(), t.intervals().get(i).start()));
            }
        }
        return gaps;
    }

    /**
     * The breaks past the right edge of every target timeline's window, each once (a break on a
     * timeline's part shared by several target timelines' paths is the same missing WAL).
     */
    public List<Break> breaks() {
        List<Break> out = new ArrayList<>();
        for (TimelineWindow t : timelines) {
            if (t.resumesAt() == null) {
                continue;
            }
            WindowPoint from = t.intervals().getLast().end();
            boolean seen = out.stream().anyMatch(b -> b.from().lsn().equals(from.lsn())
                    && b.to().lsn().equals(t.resumesAt().lsn()) && b.to().timeline().equals(t.resumesAt().timeline()));
            if (!seen) {
                out.add(new Break(t.timeline(), from, t.resumesAt()));
            }
        }
        return out;
    }

    // ---- item form ---------------------------------------------------------------------------

    public List<Object> toList() {
        List<Object> out = new ArrayList<>();
        for (TimelineWindow t : timelines) {
            Map<String, Object> m = new TreeMap<>();
            m.put("timeline", t.timeline().value());
            List<Object> intervals = new ArrayList<>();
            for (WindowInterval i : t.intervals()) {
                Map<String, Object> im = new TreeMap<>();
                im.put("start", i.start().toMap());
                im.put("end", i.end().toMap());
                im.put("endSegment", i.endSegment());
                intervals.add(im);
            }
            m.put("intervals", intervals);
            if (t.resumesAt() != null) {
                m.put("resumesAt", t.resumesAt().toMap());
            }
            out.add(m);
        }
        return out;
    }

    public static RecoveryWindow fromList(List<Object> list) {
        List<TimelineWindow> out = new ArrayList<>();
        for (Object o : list) {
            Map<?, ?> m = (Map<?, ?>) o;
            List<WindowInterval> intervals = new ArrayList<>();
            for (Object io : (List<?>) m.get("intervals")) {
                Map<?, ?> im = (Map<?, ?>) io;
                intervals.add(new WindowInterval(WindowPoint.fromMap((Map<?, ?>) im.get("start")),
                        WindowPoint.fromMap((Map<?, ?>) im.get("end")), (Long) im.get("endSegment")));
            }
            Object resumes = m.get("resumesAt");
            out.add(new TimelineWindow(TimelineId.of((Long) m.get("timeline")), intervals,
                    resumes == null ? null : WindowPoint.fromMap((Map<?, ?>) resumes)));
        }
        return new RecoveryWindow(out);
    }
}
