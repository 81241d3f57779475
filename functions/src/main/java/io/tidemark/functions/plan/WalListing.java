package io.tidemark.functions.plan;

import io.tidemark.events.layout.Compression;
import io.tidemark.events.plan.PlanWal;
import io.tidemark.events.plan.PlanWalRange;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.events.wal.WalSegmentSize;
import io.tidemark.functions.catalog.CatalogStore;
import io.tidemark.functions.catalog.Item;
import io.tidemark.functions.catalog.Keys;
import io.tidemark.functions.catalog.StanzaMeta;
import io.tidemark.functions.window.TimelinePath;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;

/**
 * The WAL a plan lists: the archived segments along the timeline path (capped at the plan's
 * maximum), the uncapped ranges recovery needs, and the history files of the target timeline and
 * its ancestors, read from the catalog.
 *
 * @param segments   the listed segments, in recovery order
 * @param truncated  whether the cap cut the list short of {@code lastNeeded}
 */
record WalListing(List<PlanWal> segments, boolean truncated, String lastListed, String lastNeeded) {

    /** The WAL items from {@code from} to {@code to} along the path (a Query per timeline part), at most maxWal. */
    static WalListing list(CatalogStore store, int maxWal, StanzaMeta meta, TimelinePath path, long from, long to) {
        String pk = Keys.pk(meta.stanza());
        WalSegmentSize size = meta.walSegmentSize();
        long last = Math.min(to, from + maxWal - 1);
        List<PlanWal> out = new ArrayList<>();
        for (TimelinePath.Part p : path.partsBetween(from, last)) {
            long lo = Math.max(from, p.firstSegment());
            long hi = Math.min(last, p.lastSegment());
            List<Item> items = store.queryBetween(pk, Keys.wal(WalSegmentName.of(p.timeline(), lo, size)),
                    Keys.wal(WalSegmentName.of(p.timeline(), hi, size)),
                    List.of("segment", "status", "key", "compression", "sha256", "storedSize", "versionId"));
            long expect = lo;
            for (Item i : items) {
                WalSegmentName name = WalSegmentName.parse(i.string("segment").orElseThrow(), size);
                if (name.segmentNumber() != expect || !"archived".equals(i.string("status").orElse(null))) {
                    throw new IllegalStateException("WAL " + name + " is not archived although its timeline's ranges"
                            + " say so");
                }
                expect++;
                out.add(new PlanWal(name.toString(), i.string("key").orElseThrow(),
                        Compression.fromExtension(i.string("compression").orElseThrow()), i.string("sha256").orElseThrow(),
                        i.number("storedSize").orElse(0L), i.string("versionId").orElse(null)));
            }
            if (expect != hi + 1) {
                throw new IllegalStateException("WAL of timeline " + p.timeline() + " from segment " + lo + " to " + hi
                        + " is not all in the catalog");
            }
        }
        String lastNeeded = WalSegmentName.of(path.partOfSegment(to).timeline(), to, size).toString();
        String lastListed = out.isEmpty() ? "" : out.getLast().name();
        return new WalListing(out, last < to, lastListed, lastNeeded);
    }

    /**
     * The streamed segments of the reach from {@code from} through {@code to} (after its archived
     * WAL), each assembled from the accepted chunks that cover it contiguously from offset 0 to at
     * least the end of its last complete record ({@code CHUNK#} items, one Query per segment).
     */
    static List<PlanWal> streamed(CatalogStore store, StanzaMeta meta, io.tidemark.functions.window.WindowCalculator calc,
                                  io.tidemark.functions.window.WindowCalculator.Reach reach, long from, long to) {
        String pk = Keys.pk(meta.stanza());
        List<PlanWal> out = new ArrayList<>();
        for (long seg = Math.max(from, reach.archivedEnd() + 1); seg <= to; seg++) {
            io.tidemark.functions.window.StreamTail tail = calc.streamed(reach.path(), seg).orElseThrow(
                    () -> new IllegalStateException("the window reaches a streamed segment the catalog does not hold"));
            WalSegmentName name = tail.segment();
            long need = tail.endLsn().value() - name.startLsn().value();
            List<Item> items = new ArrayList<>(store.query(pk, Keys.chunkPrefix(name)));
            items.removeIf(i -> !"archived".equals(i.string("status").orElse(null)) || i.string("mismatch").isPresent());
            items.sort(java.util.Comparator.comparingLong(i -> i.number("start").orElse(0L)));
            List<io.tidemark.events.plan.PlanWalChunk> chunks = new ArrayList<>();
            long at = 0;
            while (at < need) {
                Item best = null;
                for (Item i : items) {
                    long s = i.number("start").orElseThrow();
                    long e = i.number("end").orElseThrow();
                    if (s <= at && e > at && (best == null || e > best.number("end").orElseThrow())) {
                        best = i;
                    }
                }
                if (best == null) {
                    throw new IllegalStateException("the streamed chunks of " + name + " no longer cover [" + at + ", "
                            + need + ")");
                }
                chunks.add(new io.tidemark.events.plan.PlanWalChunk(best.string("key").orElseThrow(),
                        best.string("versionId").orElse(null),
                        Compression.fromExtension(best.string("compression").orElseThrow()),
                        best.number("start").orElseThrow(), best.number("end").orElseThrow(),
                        best.string("sha256").orElseThrow(), best.number("storedSize").orElse(0L)));
                at = best.number("end").orElseThrow();
            }
            out.add(PlanWal.assembled(name.toString(), chunks));
        }
        return out;
    }

    /**
     * Every segment recovery needs, per timeline part of the path, from {@code from} through
     * {@code to}: uncapped, so that archive-get never answers "not archived" for a segment beyond
     * the capped WAL list that the plan promised.
     */
    static List<PlanWalRange> ranges(TimelinePath path, long from, long to, WalSegmentSize size) {
        List<PlanWalRange> out = new ArrayList<>();
        for (TimelinePath.Part p : path.partsBetween(from, to)) {
            out.add(new PlanWalRange(WalSegmentName.of(p.timeline(), Math.max(from, p.firstSegment()), size).toString(),
                    WalSegmentName.of(p.timeline(), Math.min(to, p.lastSegment()), size).toString()));
        }
        return out;
    }

    /** The history files of the target timeline and its ancestors (timeline 1 has none). */
    static List<PlanWal> histories(CatalogStore store, StanzaMeta meta, TimelinePath path) {
        List<PlanWal> out = new ArrayList<>();
        TreeSet<TimelineId> tlis = new TreeSet<>(path.history().ancestors());
        tlis.add(path.target());
        for (TimelineId t : tlis) {
            if (t.value() == 1) {
                continue;
            }
            Optional<Item> h = store.get(Keys.pk(meta.stanza()), Keys.history(t));
            if (h.isEmpty() || !"archived".equals(h.get().string("status").orElse(null))) {
                if (t.equals(path.target())) {
                    throw new IllegalStateException("history of timeline " + t + " is not archived");
                }
                continue; // an ancestor's history is not needed by recovery, only listed when present
            }
            Item i = h.get();
            out.add(new PlanWal(t.hex() + ".history", i.string("key").orElseThrow(), Compression.NONE,
                    i.string("sha256").orElseThrow(), i.number("storedSize").orElse(0L), i.string("versionId").orElse(null)));
        }
        return out;
    }
}
