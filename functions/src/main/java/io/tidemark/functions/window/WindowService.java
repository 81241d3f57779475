package io.tidemark.functions.window;

import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.functions.catalog.BackupEntry;
import io.tidemark.functions.catalog.CatalogStore;
import io.tidemark.functions.catalog.Item;
import io.tidemark.functions.catalog.ItemMerger;
import io.tidemark.functions.catalog.Keys;
import io.tidemark.functions.catalog.StanzaMeta;
import io.tidemark.functions.catalog.TimelineAggregate;
import io.tidemark.functions.catalog.TimelineAggregate.CommitMark;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Keeps the {@code WINDOW} item of a stanza (the recovery window, a few hundred bytes per
 * interval) and {@code WINDOW#backups} (the valid backups, one line each: label, timeline, start/stop
 * LSN, stop time, what they need; about 120 bytes each), computed from the {@code TIMELINE#} aggregates and
 * the {@code BACKUP#} items. Two items so that the one written after every archived segment stays
 * small (write units are per KB).
 *
 * <p>Updated incrementally, never by reading all WAL items and never by a Scan:
 * <ul>
 *   <li>after a segment or history file is indexed ({@link #refresh(StanzaMeta)}): one Query of the
 *       stanza's few TIMELINE items, one GetItem of {@code WINDOW#backups};</li>
 *   <li>after a backup's validation concluded ({@link #refreshBackups(StanzaMeta)}): first one Query
 *       of the BACKUP items (hundreds at most) into {@code WINDOW#backups}, then as above.</li>
 * </ul>
 * WAL items are read only where an aggregate cannot answer (a range cut by a timeline switch):
 * one GetItem, or a descending Query of at most {@link #LOOKBACK} items.
 *
 * <p>The item is a function of the TIMELINE and BACKUP items, written read-compute-conditional-write
 * ({@link ItemMerger}), with the sources read inside each attempt; every writer updates its source
 * before it refreshes the window, so the last write includes every source update before it.
 */
public final class WindowService {

    /** How many WAL items a lookback for the last commit reads at most. */
    static final int LOOKBACK = 2048;

    private final CatalogStore store;
    private final ItemMerger merger;

    public WindowService(CatalogStore store) {
        this.store = store;
        this.merger = new ItemMerger(store);
    }

    /** The stored window and backups, if the item exists. */
    public record Stored(RecoveryWindow window, List<WindowBackup> backups) {
    }

    public Optional<Stored> read(StanzaMeta meta) {
        String pk = Keys.pk(meta.stanza());
        return store.get(pk, Keys.WINDOW).map(w -> new Stored(RecoveryWindow.fromList(w.list("timelines")),
                backups(meta).orElse(List.of())));
    }

    /** The valid backups as {@code WINDOW#backups} lists them, if the item exists. */
    public Optional<List<WindowBackup>> backups(StanzaMeta meta) {
        return store.get(Keys.pk(meta.stanza()), Keys.WINDOW_BACKUPS).map(WindowService::backupsOf);
    }

    /** A segment or a history file was indexed: recompute with the backups {@code WINDOW#backups} lists. */
    public Item refresh(StanzaMeta meta) {
        String pk = Keys.pk(meta.stanza());
        return merger.merge(pk, Keys.WINDOW, cur -> {
            List<WindowBackup> backups = backups(meta).orElseGet(() -> validBackups(meta));
            return toItem(pk, compute(meta, backups));
        });
    }

    /** A backup's validation concluded: take the valid backups from the BACKUP items, and recompute. */
    public Item refreshBackups(StanzaMeta meta) {
        String pk = Keys.pk(meta.stanza());
        merger.merge(pk, Keys.WINDOW_BACKUPS, cur -> backupsItem(pk, validBackups(meta)));
        return refresh(meta);
    }

    /** Every valid backup of the stanza: one Query of the BACKUP items. */
    public List<WindowBackup> validBackups(StanzaMeta meta) {
        List<WindowBackup> out = new ArrayList<>();
        for (Item i : store.query(Keys.pk(meta.stanza()), Keys.BACKUP_PREFIX)) {
            WindowBackup.of(BackupEntry.fromItem(i)).ifPresent(out::add);
        }
        return out;
    }

    public List<TimelineAggregate> timelines(StanzaMeta meta) {
        List<TimelineAggregate> out = new ArrayList<>();
        for (Item i : store.query(Keys.pk(meta.stanza()), Keys.TIMELINE_PREFIX)) {
            out.add(TimelineAggregate.fromItem(i, meta.walSegmentSize()));
        }
        return out;
    }

    public WindowCalculator calculator(StanzaMeta meta, List<TimelineAggregate> timelines) {
        return new WindowCalculator(meta.walSegmentSize(), timelines, new CatalogFacts(store, meta), streamTails(meta));
    }

    /** How many of the newest streamed segments the window looks at (each past the archived WAL). */
    static final int STREAM_LOOKBACK = 64;

    /**
     * The newest streamed segments ({@code STREAM#} items, one descending Query): only those after
     * the archived WAL matter, and retention removes the ones a complete segment superseded.
     */
    public List<StreamTail> streamTails(StanzaMeta meta) {
        List<StreamTail> out = new ArrayList<>();
        for (Item i : store.queryPage(Keys.pk(meta.stanza()), Keys.STREAM_PREFIX, Keys.STREAM_PREFIX + "~", true,
                STREAM_LOOKBACK)) {
            StreamTail.fromItem(i, meta.walSegmentSize()).ifPresent(out::add);
        }
        return out;
    }

    private RecoveryWindow compute(StanzaMeta meta, List<WindowBackup> backups) {
        return calculator(meta, timelines(meta)).compute(backups);
    }

    static Item toItem(String pk, RecoveryWindow window) {
        Map<String, Object> a = new TreeMap<>();
        a.put("kind", "window");
        a.put("timelines", window.toList());
        return Item.of(pk, Keys.WINDOW, a);
    }

    static Item backupsItem(String pk, List<WindowBackup> backups) {
        Map<String, Object> a = new TreeMap<>();
        a.put("kind", "windowBackups");
        List<Object> bs = new ArrayList<>();
        backups.stream().sorted((x, y) -> x.label().compareTo(y.label())).forEach(b -> bs.add(b.toLine()));
        a.put("backups", bs);
        return Item.of(pk, Keys.WINDOW_BACKUPS, a);
    }

    static List<WindowBackup> backupsOf(Item i) {
        List<WindowBackup> backups = new ArrayList<>();
        for (Object o : i.list("backups")) {
            backups.add(WindowBackup.fromLine((String) o));
        }
        return backups;
    }

    /** {@link WindowCalculator.SegmentFacts} from WAL items: a GetItem, or a bounded descending Query. */
    public static final class CatalogFacts implements WindowCalculator.SegmentFacts {
        private final CatalogStore store;
        private final StanzaMeta meta;

        public CatalogFacts(CatalogStore store, StanzaMeta meta) {
            this.store = store;
            this.meta = meta;
        }

        @Override
        public Optional<Lsn> endLsn(TimelineId timeline, long segment) {
            return store.get(Keys.pk(meta.stanza()), Keys.wal(WalSegmentName.of(timeline, segment, meta.walSegmentSize())))
                    .flatMap(i -> i.string("endLsn")).map(Lsn::parse);
        }

        @Override
        public Optional<CommitMark> lastCommit(TimelineId timeline, long from, long to) {
            if (from > to) {
                return Optional.empty();
            }
            long lo = Math.max(from, to - LOOKBACK + 1);
            String pk = Keys.pk(meta.stanza());
            long hi = to;
            while (hi >= lo) {
                long pageLo = Math.max(lo, hi - 255);
                List<Item> page = store.queryPage(pk, Keys.wal(WalSegmentName.of(timeline, pageLo, meta.walSegmentSize())),
                        Keys.wal(WalSegmentName.of(timeline, hi, meta.walSegmentSize())), true, 256);
                for (Item i : page) {
                    if (!"archived".equals(i.string("status").orElse(null))) {
                        continue;
                    }
                    Optional<String> t = i.string("lastCommitTime");
                    if (t.isPresent()) {
                        long seg = WalSegmentName.parse(i.string("segment").orElseThrow(), meta.walSegmentSize())
                                .segmentNumber();
                        return Optional.of(new CommitMark(seg, Instant.parse(t.get())));
                    }
                }
                hi = pageLo - 1;
            }
            return Optional.empty();
        }
    }
}
