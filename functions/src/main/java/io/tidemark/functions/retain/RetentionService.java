package io.tidemark.functions.retain;

import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.layout.StorageLayout;
import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.events.wal.WalSegmentSize;
import io.tidemark.functions.catalog.BackupEntry;
import io.tidemark.functions.catalog.BackupLease;
import io.tidemark.functions.catalog.CatalogStore;
import io.tidemark.functions.catalog.ExpiredWal;
import io.tidemark.functions.catalog.Item;
import io.tidemark.functions.catalog.ItemMerger;
import io.tidemark.functions.catalog.Keys;
import io.tidemark.functions.catalog.ObjectStore;
import io.tidemark.functions.catalog.StanzaMeta;
import io.tidemark.functions.catalog.UnknownStanzaException;
import io.tidemark.functions.retain.RetentionPlan.BackupDeletion;
import io.tidemark.functions.retain.RetentionPlan.Deletion;
import io.tidemark.functions.retain.RetentionPlan.OrphanDeletion;
import io.tidemark.functions.retain.RetentionPlan.WalDeletion;
import io.tidemark.functions.window.WindowService;
import io.tidemark.events.metrics.TidemarkMetric;
import io.tidemark.functions.metrics.MetricsPublisher;
import java.lang.System.Logger.Level;
import java.lang.System.Logger;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Runs retention for one stanza: reads the catalog and the bucket into a {@link RetentionView},
 * asks the {@link RetentionPlanner}, and (unless it is a dry run) carries the plan out.
 *
 * <p>Order, chosen so that a crash at any point leaves a catalog that never offers what is gone,
 * and a re-run finishes the work (every step is idempotent):
 * <ol>
 *   <li>per backup, dependents first: its manifest (after which the planner cannot use it), its
 *       other objects, then its {@code WAIT#} and {@code BACKUP#} items;</li>
 *   <li>the window ({@code WINDOW#backups}, {@code WINDOW}) from the backups left;</li>
 *   <li>orphaned prefixes;</li>
 *   <li>per timeline, the WAL objects, their lookup items and {@code WAL#} items, and last the
 *       expired-through watermark (a re-run after a crash before it plans the same range again).</li>
 * </ol>
 * Object Lock is planned around: the manifests of backups about to go and the newest WAL segment
 * about to go are checked with HEAD first; a locked one is kept and the plan made again.
 */
public final class RetentionService {

    private static final Logger LOG = System.getLogger(RetentionService.class.getName());

    private final ObjectStore objects;
    private final CatalogStore catalog;
    private final RetentionPlanner planner;
    private final Clock clock;
    private final WindowService windows;
    private final ItemMerger merger;
    private final StanzaPolicies policies;
    private final MetricsPublisher metrics;

    public RetentionService(ObjectStore objects, CatalogStore catalog, RetentionPlanner planner, Clock clock) {
        this(objects, catalog, planner, clock, StanzaPolicies.NONE);
    }

    /** @param policies each stanza's configured policy, for runs whose event names none */
    public RetentionService(ObjectStore objects, CatalogStore catalog, RetentionPlanner planner, Clock clock,
                            StanzaPolicies policies) {
        this(objects, catalog, planner, clock, policies, MetricsPublisher.NONE);
    }

    /** @param metrics where each real run's BackupsExpired and BackupsHeldBack go */
    public RetentionService(ObjectStore objects, CatalogStore catalog, RetentionPlanner planner, Clock clock,
                            StanzaPolicies policies, MetricsPublisher metrics) {
        this.metrics = metrics;
        this.policies = policies;
        this.objects = objects;
        this.catalog = catalog;
        this.planner = planner;
        this.clock = clock;
        this.windows = new WindowService(catalog);
        this.merger = new ItemMerger(catalog);
    }

    /** What a run did (or, dry, would do): the plan, with the bytes and objects of each deletion. */
    public record Result(String stanza, boolean dryRun, RetentionPlan plan, Map<Deletion, Long> bytes,
                         long objectsDeleted, long itemsDeleted, WalSegmentSize segmentSize) {
    }

    /**
     * @param policy the caller's policy; null takes the stanza's configured one ({@link StanzaPolicies})
     * @throws UnknownStanzaException when the stanza has no META item
     */
    public Result run(StanzaName stanza, RetentionPolicy policy, boolean dryRun) {
        return run(stanza, policy, dryRun, false);
    }

    /**
     * @param confirmed an operator confirmed this run: it may expire more fulls than the cap
     *                  ({@link RetentionPlanner.Floors#maxFullsPerRun()}), this once
     */
    public Result run(StanzaName stanza, RetentionPolicy policy, boolean dryRun, boolean confirmed) {
        RetentionPolicy p = policy == null ? policies.of(stanza) : policy;
        String pk = Keys.pk(stanza);
        StanzaMeta meta = catalog.get(pk, Keys.META).map(StanzaMeta::fromItem)
                .orElseThrow(() -> new UnknownStanzaException(stanza));
        Instant now = clock.instant();
        View v = read(meta, now);
        Set<String> heldBefore = Set.copyOf(last(catalog, stanza).map(i -> i.list("heldBack")).orElse(List.of())
                .stream().map(String::valueOf).toList());
        RetentionPlan plan = planner.plan(v.view(), p, now, confirmed, heldBefore);
        // Object Lock: keep locked backups (and what they need), then stop WAL below a locked segment.
        Map<String, Instant> locks = new HashMap<>();
        for (BackupDeletion d : plan.backupDeletions()) {
            v.entries().stream().filter(e -> e.label().equals(d.label().toString()) && e.manifestKey() != null)
                    .findFirst().flatMap(e -> objects.head(e.manifestKey())).map(ObjectStore.ObjectInfo::retainUntil)
                    .ifPresent(u -> locks.put(d.label().toString(), u));
        }
        if (!locks.isEmpty()) {
            plan = planner.plan(withLocks(v.view(), locks, Map.of()), p, now, confirmed, heldBefore);
        }
        Map<Deletion, List<Item>> walItems = new HashMap<>();
        Map<TimelineId, Long> walLocks = new TreeMap<>();
        for (WalDeletion w : plan.walDeletions()) {
            List<Item> items = walItems(meta, w);
            walItems.put(w, items);
            lowestLocked(items, now).ifPresent(seg -> walLocks.put(w.timeline(), seg));
        }
        if (!walLocks.isEmpty()) {
            plan = planner.plan(withLocks(v.view(), locks, walLocks), p, now, confirmed, heldBefore);
            walItems.clear();
            for (WalDeletion w : plan.walDeletions()) {
                walItems.put(w, walItems(meta, w));
            }
        }
        Map<Deletion, Long> bytes = new HashMap<>();
        for (Deletion d : plan.deletions()) {
            bytes.put(d, switch (d) {
                case BackupDeletion b -> b.storedSize();
                case OrphanDeletion o -> o.size();
                case WalDeletion w -> walItems.get(w).stream().mapToLong(i -> i.number("storedSize").orElse(0L)).sum();
            });
        }
        if (dryRun) {
            return new Result(stanza.value(), true, plan, bytes, 0, 0, meta.walSegmentSize());
        }
        long[] counts = new long[2];
        long expired = 0;
        boolean backupsGone = false;
        for (Deletion d : plan.deletions()) {
            switch (d) {
                case BackupDeletion b -> {
                    // Said first, so that the indexer takes the removal events of these deletes for retention's own.
                    catalog.get(pk, Keys.backup(b.label())).ifPresent(item -> merger.merge(pk, Keys.backup(b.label()),
                            cur -> cur.orElse(item).with(BackupEntry.EXPIRING, true)));
                    deletePrefix(StorageLayout.backupPrefix(stanza, b.label()),
                            StorageLayout.manifestKey(stanza, b.label()), counts);
                    // the version ids of its objects go with it (before BACKUP#: a re-run still finds them)
                    for (String sk : new io.tidemark.functions.catalog.ObjectVersions(catalog).sortKeys(pk, b.label())) {
                        catalog.delete(pk, sk);
                    }
                    deleteItem(pk, Keys.waiting(b.label()), counts);
                    deleteItem(pk, Keys.backup(b.label()), counts);
                    backupsGone = true;
                    expired++;
                    LOG.log(Level.INFO, "retention of stanza {0}: expired backup {1} ({2}, {3} bytes): {4}",
                            stanza, b.label(), b.status(), b.storedSize(), b.reason());
                }
                case OrphanDeletion o -> {
                    if (backupsGone) {
                        windows.refreshBackups(meta);
                        backupsGone = false;
                    }
                    deletePrefix(StorageLayout.backupPrefix(stanza, o.label()), null, counts);
                    LOG.log(Level.INFO, "retention of stanza {0}: removed abandoned prefix of {1} ({2} objects): {3}",
                            stanza, o.label(), o.objects(), o.reason());
                }
                case WalDeletion w -> {
                    if (backupsGone) {
                        windows.refreshBackups(meta);
                        backupsGone = false;
                    }
                    deleteWal(meta, w, walItems.get(w), counts);
                    LOG.log(Level.INFO, "retention of stanza {0}: expired WAL of timeline {1} from {2} through {3} "
                            + "({4} segments): {5}", stanza, w.timeline().value(),
                            WalSegmentName.of(w.timeline(), w.from(), meta.walSegmentSize()),
                            WalSegmentName.of(w.timeline(), w.through(), meta.walSegmentSize()), w.segments(), w.reason());
                }
            }
        }
        if (!plan.isEmpty()) {
            windows.refreshBackups(meta);
        }
        removeSupersededChunks(meta, counts);
        LOG.log(Level.INFO, "retention of stanza {0} ({1}): {2} deletions, {3} objects and {4} items removed",
                stanza, p, plan.deletions().size(), counts[0], counts[1]);
        if (!plan.heldBack().isEmpty()) {
            LOG.log(Level.WARNING, "retention of stanza {0}: {1} fulls held back by the cap on fulls per run ({2}); "
                    + "an operator confirms a run to expire them", stanza, plan.heldBack().size(),
                    String.join(", ", plan.heldBack()));
        }
        recordRun(meta, now, plan, expired, confirmed);
        try {
            metrics.publish(stanza, now, Map.of(TidemarkMetric.BACKUPS_EXPIRED, expired,
                    TidemarkMetric.BACKUPS_HELD_BACK, (long) plan.heldBack().size()));
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "could not publish the retention metrics of stanza " + stanza + ": " + e);
        }
        return new Result(stanza.value(), false, plan, bytes, counts[0], counts[1], meta.walSegmentSize());
    }

    private record View(RetentionView view, List<BackupEntry> entries) {
    }

    /**
     * {@code RETENTIONLAST}: what the latest real run did, for {@code GET /stanzas/{stanza}} and
     * {@code tidemark info} (above all, fulls the cap held back).
     */
    private void recordRun(StanzaMeta meta, Instant now, RetentionPlan plan, long expired, boolean confirmed) {
        String pk = Keys.pk(meta.stanza());
        Map<String, Object> a = new TreeMap<>();
        a.put("kind", "retention");
        a.put("at", now.toString());
        a.put("policy", plan.policy().toString());
        a.put("backupsExpired", expired);
        a.put("heldBack", plan.heldBack());
        a.put("confirmed", confirmed);
        a.put("notes", BackupEntry.capped(plan.notes()));
        merger.merge(pk, Keys.RETENTION_LAST, cur -> Item.of(pk, Keys.RETENTION_LAST, a));
    }

    /** The latest real run's record, if retention ever ran for the stanza. */
    public static Optional<Item> last(CatalogStore catalog, StanzaName stanza) {
        return catalog.get(Keys.pk(stanza), Keys.RETENTION_LAST);
    }

    private View read(StanzaMeta meta, Instant now) {
        StanzaName stanza = meta.stanza();
        String pk = Keys.pk(stanza);
        List<BackupEntry> entries = new ArrayList<>();
        List<RetentionView.Backup> backups = new ArrayList<>();
        for (Item i : catalog.query(pk, Keys.BACKUP_PREFIX)) {
            BackupEntry e = BackupEntry.fromItem(i);
            entries.add(e);
            backups.add(new RetentionView.Backup(e, null));
        }
        Set<String> known = new java.util.HashSet<>();
        entries.forEach(e -> known.add(e.label()));
        List<RetentionView.OrphanPrefix> orphans = new ArrayList<>();
        String backupsPrefix = StorageLayout.backupsPrefix(stanza);
        for (String prefix : objects.childPrefixes(backupsPrefix)) {
            String labelText = prefix.substring(backupsPrefix.length(), prefix.length() - 1);
            BackupLabelName label;
            try {
                label = BackupLabelName.parse(labelText);
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "{0}: not a backup label, left alone", prefix);
                continue;
            }
            if (known.contains(label.toString())) {
                continue;
            }
            List<ObjectStore.ListedObject> listed = objects.list(prefix);
            if (listed.isEmpty()) {
                continue;
            }
            ObjectStore.ListedObject newest = listed.stream().max((a, b) -> a.lastModified().compareTo(b.lastModified()))
                    .orElseThrow();
            String manifest = StorageLayout.manifestKey(stanza, label);
            Instant lock = objects.head(newest.key()).map(ObjectStore.ObjectInfo::retainUntil).orElse(null);
            orphans.add(new RetentionView.OrphanPrefix(label, listed.size(),
                    listed.stream().mapToLong(ObjectStore.ListedObject::size).sum(), newest.lastModified(),
                    listed.stream().anyMatch(o -> o.key().equals(manifest)), lock));
        }
        String lease = catalog.get(pk, Keys.BACKUP_LEASE).map(BackupLease::fromItem).filter(l -> l.heldAt(now))
                .map(BackupLease::label).orElse(null);
        RetentionView view = new RetentionView(meta.walSegmentSize(), backups, orphans, lease, windows.timelines(meta),
                new WindowService.CatalogFacts(catalog, meta), ExpiredWal.read(catalog, pk), Map.of());
        return new View(view, entries);
    }

    private static RetentionView withLocks(RetentionView v, Map<String, Instant> locks, Map<TimelineId, Long> walLocks) {
        List<RetentionView.Backup> backups = v.backups().stream()
                .map(b -> new RetentionView.Backup(b.entry(), locks.getOrDefault(b.entry().label(), b.lockedUntil())))
                .toList();
        return new RetentionView(v.segmentSize(), backups, v.orphans(), v.leaseLabel(), v.timelines(), v.facts(),
                v.expiredThrough(), walLocks);
    }

    /** The {@code WAL#} items of a deletion's range (key, size and what names their lookup items). */
    private List<Item> walItems(StanzaMeta meta, WalDeletion w) {
        String pk = Keys.pk(meta.stanza());
        return catalog.queryBetween(pk, Keys.wal(WalSegmentName.of(w.timeline(), w.from(), meta.walSegmentSize())),
                Keys.wal(WalSegmentName.of(w.timeline(), w.through(), meta.walSegmentSize())));
    }

    /**
     * The lowest segment under Object Lock retention among {@code items}, assuming retention dates
     * grow with upload order (the bucket's default retention): HEAD the newest, then bisect.
     */
    private Optional<Long> lowestLocked(List<Item> items, Instant now) {
        if (items.isEmpty() || !locked(items.getLast(), now)) {
            return Optional.empty();
        }
        int lo = 0;
        int hi = items.size() - 1; // locked
        while (lo < hi) {
            int mid = (lo + hi) / 2;
            if (locked(items.get(mid), now)) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return Optional.of(segmentNumber(items.get(lo)));
    }

    private boolean locked(Item walItem, Instant now) {
        return walItem.string("key").flatMap(objects::head).map(ObjectStore.ObjectInfo::retainUntil)
                .filter(u -> u.isAfter(now)).isPresent();
    }

    private static long segmentNumber(Item walItem) {
        String sk = walItem.sk();
        return Long.parseUnsignedLong(sk.substring(sk.lastIndexOf('#') + 1), 16);
    }

    private void deletePrefix(String prefix, String first, long[] counts) {
        List<ObjectStore.ListedObject> listed = objects.list(prefix);
        if (first != null && listed.stream().anyMatch(o -> o.key().equals(first))) {
            objects.delete(first);
            counts[0]++;
        }
        for (ObjectStore.ListedObject o : listed) {
            if (!o.key().equals(first)) {
                objects.delete(o.key());
                counts[0]++;
            }
        }
    }

    private void deleteItem(String pk, String sk, long[] counts) {
        if (catalog.get(pk, sk).isPresent()) {
            catalog.delete(pk, sk);
            counts[1]++;
        }
    }

    /**
     * Streamed chunks (issue 17) that are no longer needed: those the complete segment superseded
     * (it holds their bytes, compared by the indexer), and every chunk of a segment at or below its
     * timeline's expired watermark (older than the window). A chunk that disagrees with its segment
     * ({@code mismatch}) is kept as evidence until its segment expires. A streamed segment's
     * {@code STREAM#} item goes when its segment is archived or expired and none of its chunks is left.
     * The removal events of these deletes are nothing lost for the indexer (it ignores chunk removals).
     */
    private void removeSupersededChunks(StanzaMeta meta, long[] counts) {
        String pk = Keys.pk(meta.stanza());
        Map<TimelineId, Long> through = new HashMap<>();
        for (Item stream : catalog.query(pk, Keys.STREAM_PREFIX)) {
            WalSegmentName seg = WalSegmentName.parse(stream.string("segment").orElseThrow(), meta.walSegmentSize());
            long expiredThrough = through.computeIfAbsent(seg.timeline(), t -> catalog.get(pk, ExpiredWal.key(t))
                    .flatMap(i -> i.number("through")).orElse(-1L));
            boolean expired = seg.segmentNumber() <= expiredThrough;
            boolean archived = catalog.get(pk, Keys.wal(seg)).map(i -> "archived".equals(i.string("status").orElse(null)))
                    .orElse(false);
            int kept = 0;
            for (Item c : catalog.query(pk, Keys.chunkPrefix(seg))) {
                boolean accepted = "archived".equals(c.string("status").orElse(null));
                if (expired || c.flag("superseded") || (archived && !accepted)) {
                    c.string("key").ifPresent(k -> {
                        objects.delete(k);
                        counts[0]++;
                    });
                    catalog.delete(pk, c.sk());
                    counts[1]++;
                } else {
                    kept++;
                }
            }
            if (kept == 0 && (archived || expired)) {
                catalog.delete(pk, stream.sk());
                counts[1]++;
                LOG.log(Level.INFO, "retention of stanza {0}: removed the streamed chunks of {1} ({2})", meta.stanza(),
                        seg, expired ? "expired" : "superseded by the archived segment");
            }
        }
    }

    private void deleteWal(StanzaMeta meta, WalDeletion w, List<Item> items, long[] counts) {
        String pk = Keys.pk(meta.stanza());
        // Said first, so that the indexer takes the removal events of these deletes for retention's own.
        merger.merge(pk, ExpiredWal.key(w.timeline()), cur -> ExpiredWal.deleting(pk, w.timeline(), cur, w.through()));
        for (Item i : items) {
            Optional<String> key = i.string("key");
            if (key.isPresent()) {
                objects.delete(key.get());
                counts[0]++;
            }
            for (String sk : lookupKeys(meta, i)) {
                deleteItem(pk, sk, counts);
            }
            catalog.delete(pk, i.sk());
            counts[1]++;
        }
        merger.merge(pk, ExpiredWal.key(w.timeline()), cur -> {
            long previous = cur.flatMap(c -> c.number("through")).orElse(-1L);
            Item next = ExpiredWal.item(pk, w.timeline(), Math.max(previous, w.through()));
            return cur.flatMap(c -> c.number("deleting")).map(d -> next.with("deleting", d)).orElse(next);
        });
    }

    /**
     * The lookup items the indexer wrote for a segment, named from its {@code WAL#} item. A lookup
     * whose key cannot be rebuilt (a second scan's) stays behind: it names a segment below the
     * watermark, which no kept backup reaches, so no plan can use it.
     */
    private static List<String> lookupKeys(StanzaMeta meta, Item wal) {
        List<String> out = new ArrayList<>();
        Optional<WalSegmentName> seg = wal.string("segment").map(s -> WalSegmentName.parse(s, meta.walSegmentSize()));
        if (seg.isEmpty()) {
            return out;
        }
        for (Object o : wal.list("restorePoints")) {
            if (o instanceof Map<?, ?> m && m.get("name") instanceof String name && m.get("lsn") instanceof String lsn) {
                out.add(Keys.restorePoint(name, Lsn.parse(lsn)));
            }
        }
        wal.string("lastCommitTime").ifPresent(t -> out.add(Keys.commitTime(seg.get(), Keys.epochMicros(Instant.parse(t)))));
        wal.number("maxXid").ifPresent(x -> out.add(Keys.xidMax(seg.get(), x)));
        return out;
    }
}
