package io.tidemark.functions.index;

import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.layout.StorageKey;
import io.tidemark.events.layout.StorageLayout;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalFileName;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.functions.catalog.CatalogStore;
import io.tidemark.functions.catalog.ExpiredWal;
import io.tidemark.functions.catalog.Item;
import io.tidemark.functions.catalog.ItemMerger;
import io.tidemark.functions.catalog.Keys;
import io.tidemark.functions.catalog.SegmentRanges;
import io.tidemark.functions.catalog.StanzaMeta;
import io.tidemark.functions.catalog.TimelineAggregate;
import io.tidemark.functions.catalog.UnknownStanzaException;
import io.tidemark.functions.window.WindowService;
import java.lang.System.Logger.Level;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * Records in the catalog that an archived object is lost: {@value IndexItems#MISSING} (deleted, a
 * delete marker, expired by a lifecycle rule) or {@value IndexItems#DAMAGED} (there, but its content
 * is not what was archived). Only {@code archived} objects count for ranges, the window and plans,
 * so what is lost stops being offered at once:
 * <ul>
 *   <li>a WAL segment: its {@code WAL#} item gets the status and the reason ({@code problem}); the
 *       timeline's range holding it splits ({@link TimelineAggregate#withLost}); the window is
 *       recomputed, so it shrinks to the WAL that is still contiguous;</li>
 *   <li>a timeline history file: its {@code HISTORY#} item, and the timeline loses its history (no
 *       recovery onto it) until the file is archived again;</li>
 *   <li>a {@code .partial} or {@code .backup} file: its item;</li>
 *   <li>a backup's manifest, data file or bundle: the {@code BACKUP#} item gets the status, the key
 *       in {@code lostObjects} and a reason; the backup and every backup that needs it leave the
 *       window and the planner's candidates.</li>
 * </ul>
 * Objects the catalog does not know (never indexed, or removed by retention with their items), WAL
 * at or below the timeline's retention watermark ({@link ExpiredWal#removedThrough}) and backups
 * retention is deleting ({@code expiring}) are left alone: retention's own deletes are not losses.
 *
 * <p>Idempotent: marking again changes nothing. With an S3 sequencer (a removal event), the mark
 * applies only if the event is later than the last event applied to the item's key, so a delete
 * that was followed by a new upload of the key (indexed first or later) does not win; the new
 * upload, indexed, replaces the lost item ({@link IndexItems#join}).
 */
public final class LostObjects {

    private static final System.Logger LOG = System.getLogger(LostObjects.class.getName());

    public static final String MISSING = IndexItems.MISSING;
    public static final String DAMAGED = IndexItems.DAMAGED;

    /** A backup item's list of the keys found missing or damaged. */
    static final String LOST_OBJECTS = "lostObjects";
    /** When the item was marked lost. */
    static final String LOST_AT = "lostAt";

    private final CatalogStore store;
    private final Clock clock;
    private final ItemMerger merger;
    private final WindowService windows;

    public LostObjects(CatalogStore store, Clock clock) {
        this.store = Objects.requireNonNull(store, "store");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.merger = new ItemMerger(store);
        this.windows = new WindowService(store);
    }

    /**
     * Marks the object at {@code key} of {@code stanza} lost.
     *
     * @param status {@value #MISSING} or {@value #DAMAGED}
     * @param reason one line saying what was found (kept as the item's {@code problem})
     * @return whether the catalog changed
     * @throws IllegalArgumentException when the status is neither, or the key is not an object of the stanza
     * @throws UnknownStanzaException when the stanza does not exist
     */
    public boolean markLost(StanzaName stanza, String key, String status, String reason) {
        return markLost(stanza, key, status, reason, null);
    }

    /**
     * As {@link #markLost(StanzaName, String, String, String)}, for an S3 event with its sequencer
     * (null: unknown, the mark applies whatever came before).
     */
    public boolean markLost(StanzaName stanza, String key, String status, String reason, String sequencer) {
        if (!MISSING.equals(status) && !DAMAGED.equals(status)) {
            throw new IllegalArgumentException("lost status must be " + MISSING + " or " + DAMAGED + ", not " + status);
        }
        if (reason == null || reason.isBlank()) {
            throw new IllegalArgumentException("a lost object needs a reason");
        }
        String pk = Keys.pk(stanza);
        StanzaMeta meta = store.get(pk, Keys.META).map(StanzaMeta::fromItem)
                .orElseThrow(() -> new UnknownStanzaException(stanza));
        StorageKey parsed = StorageLayout.parse(key, meta.walSegmentSize());
        Mark mark = new Mark(key, status, reason.strip(), sequencer);
        boolean changed = switch (parsed) {
            case StorageKey.WalObject w when !w.stanza().equals(stanza) -> throw notOf(stanza, key);
            case StorageKey.WalObject w -> switch (w.name()) {
                case WalFileName.Segment s -> segment(meta, s.segment(), mark);
                case WalFileName.Partial p -> partial(meta, p, mark);
                case WalFileName.BackupHistory b -> !expired(meta, b.segment())
                        && markItem(pk, Keys.backupHistory(b), mark);
                case WalFileName.History h -> throw new IllegalArgumentException("history as WAL object: " + key);
            };
            case StorageKey.HistoryObject h when !h.stanza().equals(stanza) -> throw notOf(stanza, key);
            case StorageKey.HistoryObject h -> history(meta, h.timeline(), mark);
            case StorageKey.ManifestObject m when m.stanza().equals(stanza) -> backup(meta, m.label(), mark);
            case StorageKey.BackupFileObject f when f.stanza().equals(stanza) -> backup(meta, f.label(), mark);
            case StorageKey.BundleObject b when b.stanza().equals(stanza) -> backup(meta, b.label(), mark);
            default -> throw notOf(stanza, key);
        };
        if (changed) {
            LOG.log(Level.WARNING, "{0} is {1}: {2}", key, status, mark.reason());
        }
        return changed;
    }

    private record Mark(String key, String status, String reason, String sequencer) {
    }

    private static IllegalArgumentException notOf(StanzaName stanza, String key) {
        return new IllegalArgumentException(key + " is not a WAL, history or backup object of stanza " + stanza);
    }

    // ---- WAL ----------------------------------------------------------------------------------

    private boolean segment(StanzaMeta meta, WalSegmentName segment, Mark mark) {
        if (expired(meta, segment)) {
            return false;
        }
        String pk = Keys.pk(meta.stanza());
        boolean changed = markItem(pk, Keys.wal(segment), mark);
        // Whether or not this call changed the item: the aggregate follows the item as it is now.
        WindowService.CatalogFacts facts = new WindowService.CatalogFacts(store, meta);
        long n = segment.segmentNumber();
        boolean aggregateChanged = updateTimeline(meta, segment.timeline(), t -> {
            if (t.lost().contains(n) || !isLostNow(pk, Keys.wal(segment))) {
                return t;
            }
            Optional<SegmentRanges.Range> before = t.ranges().ranges().stream()
                    .filter(r -> r.start() < n && r.end() >= n - 1).findFirst();
            TimelineAggregate.EndMark end = null;
            TimelineAggregate.CommitMark commit = null;
            if (before.isPresent()) {
                end = facts.endLsn(segment.timeline(), n - 1)
                        .map(l -> new TimelineAggregate.EndMark(n - 1, l)).orElse(null);
                commit = facts.lastCommit(segment.timeline(), before.get().start(), n - 1).orElse(null);
            }
            return t.withLost(segment, end, commit);
        });
        if (changed || aggregateChanged) {
            windows.refresh(meta);
        }
        return changed || aggregateChanged;
    }

    private boolean partial(StanzaMeta meta, WalFileName.Partial p, Mark mark) {
        if (expired(meta, p.segment())) {
            return false;
        }
        String pk = Keys.pk(meta.stanza());
        boolean changed = markItem(pk, Keys.partial(p.segment()), mark);
        updateTimeline(meta, p.timeline(), t -> t.partials().contains(p.fileName())
                && isLostNow(pk, Keys.partial(p.segment())) ? t.withoutPartial(p.fileName()) : t);
        return changed;
    }

    private boolean history(StanzaMeta meta, TimelineId timeline, Mark mark) {
        String pk = Keys.pk(meta.stanza());
        boolean changed = markItem(pk, Keys.history(timeline), mark);
        boolean aggregateChanged = updateTimeline(meta, timeline, t -> t.history() != null
                && isLostNow(pk, Keys.history(timeline)) ? t.withoutHistory() : t);
        if (changed || aggregateChanged) {
            windows.refresh(meta);
        }
        return changed || aggregateChanged;
    }

    /** At or below the retention watermark (or the range retention is deleting now): not a loss. */
    private boolean expired(StanzaMeta meta, WalSegmentName segment) {
        long through = ExpiredWal.removedThrough(store, Keys.pk(meta.stanza()), segment.timeline());
        if (segment.segmentNumber() <= through) {
            LOG.log(Level.DEBUG, "{0}: removed by retention (through segment {1}), not a loss", segment, through);
            return true;
        }
        return false;
    }

    private boolean isLostNow(String pk, String sk) {
        return store.get(pk, sk).map(IndexItems::isLost).orElse(false);
    }

    /** Applies {@code change} to an existing timeline aggregate; returns whether it changed. */
    private boolean updateTimeline(StanzaMeta meta, TimelineId timeline, UnaryOperator<TimelineAggregate> change) {
        String pk = Keys.pk(meta.stanza());
        boolean[] changed = {false};
        update(pk, Keys.timeline(timeline), cur -> {
            TimelineAggregate before = TimelineAggregate.fromItem(cur, meta.walSegmentSize());
            TimelineAggregate after = change.apply(before);
            changed[0] = !after.equals(before);
            return changed[0] ? after.toItem(pk) : cur;
        });
        return changed[0];
    }

    /** Marks an object's own item (WAL#, PARTIAL#, HISTORY#, BACKUPHIST#); absent: nothing to mark. */
    private boolean markItem(String pk, String sk, Mark mark) {
        boolean[] changed = {false};
        update(pk, sk, cur -> {
            changed[0] = false;
            String seen = cur.string(IndexItems.SEQUENCER).orElse(null);
            if (mark.sequencer() != null && seen != null && S3Sequencer.compare(mark.sequencer(), seen) <= 0) {
                return cur; // the key was written again after this removal
            }
            if (!mark.key().equals(cur.string("key").orElse(mark.key()))) {
                return cur; // the item is about the same file under another compression
            }
            Item next = cur.with(IndexItems.SEQUENCER, S3Sequencer.max(seen, mark.sequencer()));
            if (!mark.status().equals(cur.string("status").orElse(null))) {
                changed[0] = true;
                next = next.with("status", mark.status()).with("problem", mark.reason())
                        .with(LOST_AT, clock.instant().toString()).without("pendingTail");
            }
            return next;
        });
        return changed[0];
    }

    // ---- backups ------------------------------------------------------------------------------

    private boolean backup(StanzaMeta meta, BackupLabelName label, Mark mark) {
        String pk = Keys.pk(meta.stanza());
        boolean[] changed = {false};
        update(pk, Keys.backup(label), cur -> {
            changed[0] = false;
            if (cur.flag(io.tidemark.functions.catalog.BackupEntry.EXPIRING)) {
                return cur; // retention is deleting this backup
            }
            List<Object> lost = new ArrayList<>(cur.list(LOST_OBJECTS));
            String status = cur.string("status").orElse(null);
            if (lost.contains(mark.key()) && (mark.status().equals(status) || MISSING.equals(status))) {
                return cur;
            }
            changed[0] = true;
            if (!lost.contains(mark.key())) {
                lost.add(mark.key());
            }
            List<Object> reasons = new ArrayList<>(cur.list("reasons"));
            reasons.add(mark.key() + " is " + mark.status() + ": " + mark.reason());
            // Missing outranks damaged: a backup with a file gone says so.
            String next = MISSING.equals(status) ? MISSING : mark.status();
            return cur.with("status", next).with("reasons", reasons).with(LOST_OBJECTS, lost)
                    .with(LOST_AT, clock.instant().toString());
        });
        if (changed[0]) {
            windows.refreshBackups(meta);
        }
        return changed[0];
    }

    // ---- read-change-write of an existing item -------------------------------------------------

    /** Thrown inside a merge when the item is absent: a lost mark never creates an item. */
    private static final class Absent extends RuntimeException {
        Absent() {
            super(null, null, false, false);
        }
    }

    private void update(String pk, String sk, UnaryOperator<Item> change) {
        try {
            merger.merge(pk, sk, cur -> change.apply(cur.orElseThrow(Absent::new)));
        } catch (Absent e) {
            LOG.log(Level.DEBUG, "{0} {1}: not in the catalog, nothing to mark", pk, sk);
        }
    }
}
