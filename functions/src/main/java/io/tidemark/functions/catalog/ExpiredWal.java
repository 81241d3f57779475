package io.tidemark.functions.catalog;

import io.tidemark.events.wal.TimelineId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The expired-through watermark of a timeline ({@code EXPIRED#<TTTTTTTT>}, attribute
 * {@code through}): every segment with a number at or below it was (or is being) removed by
 * retention.
 *
 * <p>Why a watermark and not a change to {@code TIMELINE#ranges}: the indexer's aggregate is a
 * join that only grows (S3 events arrive late and repeated, so a removal would be undone by the
 * next join). The watermark is a join too (the maximum), so it commutes with the indexer's joins;
 * readers clip the aggregate's ranges against it ({@link #clip}). Retention writes it before it
 * deletes any WAL object, so no reader offers a segment that is about to go.
 */
public final class ExpiredWal {

    public static final String PREFIX = Keys.EXPIRED_PREFIX;
    private static final String DELETING = "deleting";

    private ExpiredWal() {
    }

    public static String key(TimelineId timeline) {
        return PREFIX + timeline.hex();
    }

    /** The item for a watermark (the caller merges: the larger {@code through} wins). */
    public static Item item(String pk, TimelineId timeline, long through) {
        Map<String, Object> a = new TreeMap<>();
        a.put("kind", "expired");
        a.put("timeline", timeline.value());
        a.put("through", through);
        return Item.of(pk, key(timeline), a);
    }

    /**
     * {@code current} (or a new item) that also says retention is deleting the WAL objects up to
     * {@code upTo} ({@code deleting}, a maximum too). Written before the first object goes, so
     * that the removal events of retention's own deletes are not taken for losses
     * ({@link #removedThrough}); readers of the window still use {@code through} only, so a
     * re-run after a crash plans the same range again.
     */
    public static Item deleting(String pk, TimelineId timeline, java.util.Optional<Item> current, long upTo) {
        long through = current.flatMap(c -> c.number("through")).orElse(-1L);
        long deleting = Math.max(upTo, current.flatMap(c -> c.number(DELETING)).orElse(-1L));
        return item(pk, timeline, through).with(DELETING, deleting);
    }

    /** The highest segment of {@code timeline} that retention removed or is removing; -1 when none. */
    public static long removedThrough(CatalogStore store, String pk, TimelineId timeline) {
        return store.get(pk, key(timeline))
                .map(i -> Math.max(i.number("through").orElse(-1L), i.number(DELETING).orElse(-1L)))
                .orElse(-1L);
    }

    /** Every watermark of a stanza: one Query. */
    public static Map<TimelineId, Long> read(CatalogStore store, String pk) {
        Map<TimelineId, Long> out = new TreeMap<>();
        for (Item i : store.query(pk, PREFIX)) {
            long tli = i.number("timeline").orElse(-1L);
            if (tli > 0) {
                out.put(TimelineId.of(tli), i.number("through").orElse(-1L));
            }
        }
        return out;
    }

    /** {@code agg} without the segments at or below {@code through} (null or negative: unchanged). */
    public static TimelineAggregate clip(TimelineAggregate agg, Long through) {
        if (through == null || through < 0 || agg.ranges().isEmpty()) {
            return agg;
        }
        List<SegmentRanges.Range> kept = new ArrayList<>();
        for (SegmentRanges.Range r : agg.ranges().ranges()) {
            if (r.end() > through) {
                kept.add(new SegmentRanges.Range(Math.max(r.start(), through + 1), r.end()));
            }
        }
        return new TimelineAggregate(agg.timeline(), SegmentRanges.of(kept), agg.lastSegment(), agg.endLsn(),
                agg.lastCommitTime(), agg.lastArchivedAt(), agg.partials(), agg.history(), agg.historyKey(),
                agg.rangeEnds().stream().filter(m -> m.segment() > through).toList(),
                agg.rangeCommits().stream().filter(m -> m.segment() > through).toList(),
                agg.lost().minus(SegmentRanges.of(List.of(new SegmentRanges.Range(0, through)))));
    }

    /** Every aggregate clipped by its timeline's watermark. */
    public static List<TimelineAggregate> clipAll(List<TimelineAggregate> aggs, Map<TimelineId, Long> through) {
        return aggs.stream().map(a -> clip(a, through.get(a.timeline()))).toList();
    }
}
