package io.tidemark.functions.plan;

import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.events.wal.WalSegmentSize;
import io.tidemark.functions.catalog.CatalogStore;
import io.tidemark.functions.catalog.Item;
import io.tidemark.functions.catalog.Keys;
import io.tidemark.functions.catalog.LostObject;
import io.tidemark.functions.catalog.SegmentRanges;
import io.tidemark.functions.catalog.TimelineAggregate;
import io.tidemark.functions.window.TimelinePath;
import io.tidemark.functions.window.WindowCalculator;
import io.tidemark.functions.window.WindowPoint;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Why {@code latest} cannot be reached from one backup although the WAL is contiguous to some end:
 * the archive holds more WAL than recovery could read. {@code latest} means the newest archived
 * point; stopping at the end of the contiguous WAL when archived WAL continues past a gap (lost,
 * damaged, or never archived) would promote a cluster short of it without anyone being told. A
 * plain end (nothing archived or lost beyond it) is the end: not a gap.
 *
 * <ul>
 *   <li>On the path after the contiguous end: a segment the catalog holds as lost (missing or
 *       damaged), or an archived segment after segments that never were.</li>
 *   <li>Streamed WAL (issue 17) after WAL that is neither archived nor streamed: {@link #walGap}.</li>
 *   <li>With {@code recovery_target_timeline = latest}: the timeline after the one the path
 *       reached has WAL archived (or lost) but its history file is lost, so that PostgreSQL would
 *       silently stay on the older timeline (and later pick that timeline's id again). The same
 *       loss refuses the other targets but immediate on timeline latest
 *       ({@link #targetOnOlderTimeline}).</li>
 * </ul>
 */
final class LatestGap {
    /** At most this many lost segments are named one by one. */
    private static final int NAMED = 3;

    private final CatalogStore store;
    private final String pk;
    private final WindowCalculator calc;
    /**
     * {@link #lostNewerTimeline} per timeline reached: the planner asks once per candidate backup,
     * and each answer may read the history file's item; one planning request reads it once.
     */
    private final Map<TimelineId, Optional<String>> newerLost = new HashMap<>();

    LatestGap(CatalogStore store, String pk, WindowCalculator calc) {
        this.store = store;
        this.pk = pk;
        this.calc = calc;
    }

    /**
     * The refusal for {@code latest} from {@code reach}, or empty when its contiguous end is the end
     * of what is archived. {@code pin}: the last complete record recovery would stop at (null:
     * unknown); {@code followsTimelines}: the request's timeline is {@code latest}.
     */
    Optional<String> check(WindowCalculator.Reach reach, Lsn pin, boolean followsTimelines) {
        TimelinePath path = reach.path();
        long end = reach.endSegment();
        WalSegmentSize size = calc.segmentSize();
        List<String> lost = new ArrayList<>();
        long lostCount = 0;
        WalSegmentName firstAbsent = null;
        WalSegmentName continues = null;
        for (TimelinePath.Part p : path.parts()) {
            if (p.lastSegment() <= end || continues != null) {
                continue;
            }
            long lo = Math.max(end + 1, p.firstSegment());
            if (firstAbsent == null) {
                firstAbsent = WalSegmentName.of(p.timeline(), lo, size);
            }
            Optional<TimelineAggregate> agg = calc.aggregate(p.timeline());
            if (agg.isEmpty()) {
                continue;
            }
            for (SegmentRanges.Range r : agg.get().lost().ranges()) {
                long a = Math.max(lo, r.start());
                long b = Math.min(p.lastSegment(), r.end());
                for (long s = a; s <= b; s++) {
                    if (lost.size() < NAMED) {
                        lost.add(describeLost(WalSegmentName.of(p.timeline(), s, size)));
                    }
                    lostCount++;
                    if (lostCount > 10_000) {
                        break;
                    }
                }
            }
            for (SegmentRanges.Range r : agg.get().ranges().ranges()) {
                if (r.end() >= lo && r.start() <= p.lastSegment()) {
                    continues = WalSegmentName.of(p.timeline(), Math.max(lo, r.start()), size);
                    break;
                }
            }
        }
        WindowPoint near = reach.end();
        if (lostCount > 0 || continues != null) {
            StringBuilder sb = new StringBuilder("latest cannot be reached: the WAL of timeline ")
                    .append(path.partOfSegment(end + 1).timeline().value()).append(" breaks off after ")
                    .append(WalSegmentName.of(path.partOfSegment(end).timeline(), end, size)).append(": ");
            if (lostCount > 0) {
                sb.append(String.join("; ", lost));
                if (lostCount > lost.size()) {
                    sb.append("; and ").append(lostCount - lost.size()).append(" more lost segment(s)");
                }
                if (!lost.getFirst().startsWith(firstAbsent.toString())) {
                    sb.append(" (from ").append(firstAbsent).append(" some were never archived)");
                }
            } else {
                sb.append("segment(s) from ").append(firstAbsent).append(" were never archived");
            }
            sb.append(continues == null ? "" : "; archived WAL continues at " + continues);
            return Optional.of(sb.append("; ").append(nearest(near, pin, null)).toString());
        }
        // nothing archived or lost past the end, but streamed chunks continue after missing WAL
        // (a slot dropped before its WAL was archived, a failover whose old timeline's WAL ends
        // before the switch): the same gap info shows, refused as an archived one is
        Optional<String> streamGap = walGap(calc, reach);
        if (streamGap.isPresent()) {
            return Optional.of("latest cannot be reached: " + streamGap.get()
                    + " (until archive_command archives the missing segments, or a backup after the gap starts a"
                    + " new window); " + nearest(near, pin, null));
        }
        if (followsTimelines) {
            return lostHistory(path.target(), near, pin);
        }
        return Optional.empty();
    }

    /**
     * The WAL gap right after {@code reach}'s end, as {@code info} shows it ({@link
     * WindowCalculator#resumesAfter}: WAL archived or streamed from a segment's start lies beyond
     * WAL that is neither), or empty when the reach's WAL simply ends. Every refusal of a target
     * past that end names it.
     */
    static Optional<String> walGap(WindowCalculator calc, WindowCalculator.Reach reach) {
        WindowPoint from = reach.end();
        return calc.resumesAfter(reach.path(), reach.endSegment()).map(to -> "WAL GAP: timeline "
                + from.timeline().value() + " from LSN " + from.lsn()
                + (from.time() == null ? "" : " (last commit " + from.time() + ")") + " to LSN " + to.lsn()
                + " is missing from both the archive and the stream; WAL continues there on timeline "
                + to.timeline().value() + " (segment " + WalSegmentName.of(to.timeline(),
                calc.segmentSize().segmentNumberOf(to.lsn()), calc.segmentSize()) + ")");
    }

    /** The next timeline has WAL in the catalog but its history file is lost: latest would silently stay behind. */
    private Optional<String> lostHistory(TimelineId reached, WindowPoint near, Lsn pin) {
        return lostNewerTimeline(reached).map(lost -> "latest cannot be reached: " + lost
                + "; recovery cannot follow it and would stop on timeline " + reached.value() + "; "
                + nearest(near, pin, reached)
                + " (the promoted cluster would pick timeline id " + reached.next().value() + " again while "
                + reached.next().hex() + ".history is missing: put the history file back if you can)");
    }

    /**
     * For a time, xid, LSN or name target with {@code recovery_target_timeline = latest}: the
     * timeline after the one {@code latest} resolved to has WAL, but its history file is lost, so
     * the target would be looked for on the older timeline alone. Past the switch point the two
     * timelines hold different histories, where the same time, xid, LSN or restore point name can
     * stand for another point (an xid is given out again on the new timeline), and without the
     * history file the switch point is unknown: refused, naming the explicit timeline.
     */
    Optional<String> targetOnOlderTimeline(TimelineId reached) {
        return lostNewerTimeline(reached).map(lost -> "the target cannot be looked for on timeline latest: " + lost
                + "; timeline latest would resolve to " + reached.value() + " only because of that loss, and past"
                + " the switch point (unknown without the history file) timeline " + reached.value()
                + " holds another history, where the same time, xid, LSN or name can stand for another point"
                + "; put the history file back, or to look for the target on timeline " + reached.value()
                + " alone: --target-timeline " + reached.value());
    }

    /** What is lost when the timeline after {@code reached} has WAL but its history file is lost, else empty. */
    private Optional<String> lostNewerTimeline(TimelineId reached) {
        return newerLost.computeIfAbsent(reached, this::readLostNewerTimeline);
    }

    private Optional<String> readLostNewerTimeline(TimelineId reached) {
        if (reached.value() >= 0xFFFFFFFFL) {
            return Optional.empty();
        }
        TimelineId next = reached.next();
        Optional<TimelineAggregate> agg = calc.aggregate(next);
        if (agg.isEmpty() || agg.get().history() != null
                || (agg.get().ranges().isEmpty() && agg.get().lost().isEmpty())) {
            return Optional.empty();
        }
        Optional<LostObject> history = store.get(pk, Keys.history(next)).flatMap(LostObject::of);
        if (history.isEmpty()) {
            return Optional.empty(); // not known lost (not archived yet, or still being indexed)
        }
        LostObject h = history.get();
        String wal = agg.get().ranges().isEmpty() ? "its WAL is lost too"
                : "its WAL is archived from " + WalSegmentName.of(next, agg.get().ranges().ranges().getFirst().start(),
                calc.segmentSize());
        return Optional.of("timeline " + next.value() + " follows timeline " + reached.value() + " but its history file "
                + next.hex() + ".history is " + h.status() + (h.problem() == null ? "" : " (" + h.problem() + ")")
                + " and " + wal);
    }

    /** The nearest reachable point before the gap and the exact option that restores to it. */
    private static String nearest(WindowPoint near, Lsn pin, TimelineId timeline) {
        String tl = timeline == null ? "" : " --target-timeline " + timeline.value();
        String at = "nearest reachable point before it: LSN " + near.lsn() + " on timeline " + near.timeline().value()
                + (near.time() == null ? " (no commit known before it)" : " (last commit " + near.time() + ")");
        if (pin != null) {
            return at + "; to accept the loss and restore to it: --target-lsn " + pin + tl;
        }
        if (near.time() != null) {
            return at + "; to accept the loss and restore up to its last commit: --target-time " + near.time()
                    + " --target-exclusive" + tl + " (stops just before that commit)";
        }
        return at + "; to accept the loss, restore with --target-lsn to a point before " + near.lsn() + tl;
    }

    private String describeLost(WalSegmentName name) {
        Optional<Item> item = store.get(pk, Keys.wal(name));
        Optional<LostObject> l = item.flatMap(LostObject::of);
        if (l.isEmpty()) {
            return name + " is lost";
        }
        return name + " is " + l.get().status() + (l.get().problem() == null ? "" : " (" + l.get().problem() + ")");
    }
}
