package io.tidemark.functions.index;

import io.tidemark.events.backup.BackupLabel;
import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.Decompression;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.layout.StorageKey;
import io.tidemark.events.layout.StorageKeyException;
import io.tidemark.events.layout.StorageLayout;
import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.TimelineHistory;
import io.tidemark.events.wal.WalFileName;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.events.wal.scan.WalScanner;
import io.tidemark.events.wal.scan.WalSegmentSummary;
import io.tidemark.functions.catalog.CatalogStore;
import io.tidemark.functions.catalog.Item;
import io.tidemark.functions.catalog.ItemMerger;
import io.tidemark.functions.catalog.Keys;
import io.tidemark.functions.catalog.ObjectStore;
import io.tidemark.functions.catalog.RefusedUploads;
import io.tidemark.functions.catalog.StanzaMeta;
import io.tidemark.functions.catalog.TimelineAggregate;
import io.tidemark.functions.catalog.UnknownStanzaException;
import java.lang.System.Logger.Level;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Indexes one archived object into the catalog: WAL segments (summary item, timeline ranges),
 * {@code .partial} segments, timeline {@code .history} files and {@code .backup} history files.
 *
 * <h2>Order independence</h2>
 * S3 events arrive at least once and in any order, and several may be handled at once. Each
 * object's item is a pure function of its bytes, joined into the stored item with
 * {@link IndexItems#join}; each timeline aggregate is a join over its objects
 * ({@link TimelineAggregate}); both are written by read-join-conditional-write
 * ({@link ItemMerger}). Joins are commutative, associative and idempotent, so any order and any
 * number of repeats leave the same catalog.
 *
 * <h2>A record across a segment boundary</h2>
 * A record that starts in segment N and ends in N+1 is counted in N, and only once it is
 * verified, which needs N+1. Indexing N: if N+1 is in the bucket (and intact), N is scanned with
 * it; otherwise N is stored with {@code pendingTail}, and <em>then</em> the bucket is checked for
 * N+1 again. Indexing N+1: its item is stored first, and <em>then</em> a pending N is re-scanned
 * with N+1 (N+1 normally starts inside N's last record; it may also say that the record was
 * abandoned by crash recovery, which finishes N just as well). Whichever of the two runs second
 * sees the other's work (S3 and consistent DynamoDB reads are read-after-write), so N never stays
 * pending while an intact N+1 is archived, and both re-scans produce the same item.
 */
public final class WalIndexer {

    private static final System.Logger LOG = System.getLogger(WalIndexer.class.getName());

    /** History and backup history files are a few hundred bytes; anything beyond this is not one. */
    static final int MAX_SMALL_FILE = 1 << 20;
    private static final List<Compression> NEXT_SEGMENT_ORDER = List.of(Compression.ZSTD, Compression.LZ4,
            Compression.NONE);

    /** What became of one object. */
    public enum Outcome {
        IGNORED, MISSING, SEGMENT_ARCHIVED,
        /** A streamed chunk, accepted: the stream (and the window's right edge) may have grown. */
        CHUNK, SEGMENT_PENDING_TAIL, SEGMENT_CORRUPT, SEGMENT_INVALID,
        PARTIAL, HISTORY, BACKUP_HISTORY, REJECTED,
        /** Larger than an object of its kind can be: refused without reading it (marked corrupt). */
        OVERSIZED,
        /**
         * Other content for a file the catalog had accepted (a different cloud-computed SHA-256): the
         * original stays, the upload is logged and counted ({@code HistoryConflicts}).
         */
        CONFLICT,
        /** A removal event: the object is gone and the catalog now says so. */
        LOST,
        /** A removal event that changed nothing (written again since, retention's own, unknown to the catalog). */
        REMOVAL_IGNORED
    }

    private final ObjectStore objects;
    private final CatalogStore catalog;
    private final ItemMerger merger;
    private final RefusedUploads refusals;
    private final Map<StanzaName, StanzaMeta> metaCache = new ConcurrentHashMap<>();
    private final SegmentListener listener;
    private final io.tidemark.functions.window.WindowService windows;
    private final LostObjects lost;
    private final io.tidemark.functions.metrics.StanzaHealth health;
    private final FutureCommitTimes futureTimes;
    private final io.tidemark.functions.metrics.MetricsPublisher metrics;
    private final ChunkIndexer chunks;

    /**
     * Told after a segment was stored as archived (the backup validator resumes backups waiting
     * for it). Runs after the item is written: whoever waits must store its wait first, then look.
     */
    @FunctionalInterface
    public interface SegmentListener {
        void archived(StanzaMeta meta, WalSegmentName segment);
    }

    public WalIndexer(ObjectStore objects, CatalogStore catalog) {
        this(objects, catalog, (meta, segment) -> { });
    }

    public WalIndexer(ObjectStore objects, CatalogStore catalog, SegmentListener listener) {
        this(objects, catalog, listener, io.tidemark.functions.metrics.MetricsPublisher.NONE);
    }

    /** @param metrics gets the stanza's archive lag after each archived segment */
    public WalIndexer(ObjectStore objects, CatalogStore catalog, SegmentListener listener,
                      io.tidemark.functions.metrics.MetricsPublisher metrics) {
        this(objects, catalog, listener, metrics, io.tidemark.functions.catalog.CloudClock.DEFAULT_SKEW);
    }

    /** @param skew how far a commit time may be ahead of its segment's S3 event time ({@link FutureCommitTimes}) */
    public WalIndexer(ObjectStore objects, CatalogStore catalog, SegmentListener listener,
                      io.tidemark.functions.metrics.MetricsPublisher metrics, java.time.Duration skew) {
        this.futureTimes = new FutureCommitTimes(skew, new ItemMerger(catalog), metrics);
        this.health = new io.tidemark.functions.metrics.StanzaHealth(catalog, metrics, java.time.Clock.systemUTC());
        this.metrics = metrics;
        this.objects = objects;
        this.catalog = catalog;
        this.merger = new ItemMerger(catalog);
        this.refusals = new RefusedUploads(catalog);
        this.listener = listener;
        this.windows = new io.tidemark.functions.window.WindowService(catalog);
        this.lost = new LostObjects(catalog, java.time.Clock.systemUTC());
        this.chunks = new ChunkIndexer(objects, catalog, metrics, java.time.Clock.systemUTC());
    }

    /**
     * Indexes the object at {@code key}, created at {@code eventTime} (null: the object's last
     * modified time). Keys that are not WAL, history or backup history objects are ignored;
     * an unknown stanza throws {@link UnknownStanzaException}.
     */
    public Outcome index(String key, Instant eventTime) {
        return index(key, eventTime, null);
    }

    /**
     * As {@link #index(String, Instant)}, with the S3 sequencer of the event (null: unknown): a
     * catalog item that a later removal of the key marked lost is not brought back by this event.
     */
    public Outcome index(String key, Instant eventTime, String sequencer) {
        return index(key, eventTime, sequencer, null, -1);
    }

    /** As {@link #index(String, Instant, String, String, long)} with the object's size from the event. */
    public Outcome index(String key, Instant eventTime, String sequencer, long size) {
        return index(key, eventTime, sequencer, null, size);
    }

    /** As {@link #index(String, Instant, String, String, long)} reading version {@code versionId}. */
    public Outcome index(String key, Instant eventTime, String sequencer, String versionId) {
        return index(key, eventTime, sequencer, versionId, -1);
    }

    /**
     * As {@link #index(String, Instant, String)}, reading version {@code versionId} of the object
     * (the event's; null: the current one, when the event names none) with the object's size from
     * the event (-1: unknown, then a HEAD asks): an object larger than its kind can be stored is
     * refused before any GET. The item records the version read and the SHA-256 of its bytes.
     */
    public Outcome index(String key, Instant eventTime, String sequencer, String versionId, long size) {
        StorageKey parsed;
        try {
            parsed = StorageLayout.parse(key, stanza -> requireMeta(stanza).walSegmentSize());
        } catch (StorageKeyException e) {
            LOG.log(Level.INFO, "ignoring object: {0}", e.getMessage());
            return Outcome.IGNORED;
        }
        if (parsed instanceof StorageKey.WalObject || parsed instanceof StorageKey.HistoryObject) {
            Optional<Outcome> refused = refuseOversized(parsed, eventTime, sequencer, size);
            if (refused.isPresent()) {
                return refused.get();
            }
        }
        return switch (parsed) {
            case StorageKey.WalObject w -> {
                StanzaMeta meta = requireMeta(w.stanza());
                yield switch (w.name()) {
                    case WalFileName.Segment s -> indexSegment(meta, w, s.segment(), eventTime, sequencer, versionId);
                    case WalFileName.Partial p -> indexPartial(meta, w, p, eventTime, sequencer, versionId);
                    case WalFileName.BackupHistory b -> indexBackupHistory(meta, w, b, eventTime, sequencer, versionId);
                    case WalFileName.History h -> throw new IllegalStateException("history as WAL object: " + key);
                };
            }
            case StorageKey.HistoryObject h -> indexHistory(requireMeta(h.stanza()), h, eventTime, sequencer, versionId);
            case StorageKey.WalChunk c -> indexChunk(requireMeta(c.stanza()), c, eventTime, sequencer, versionId, size);
            default -> {
                LOG.log(Level.DEBUG, "ignoring {0}: not a WAL object", key);
                yield Outcome.IGNORED;
            }
        };
    }

    /**
     * An ObjectRemoved or LifecycleExpiration event ({@code eventName}) for {@code key}: if the object
     * is really gone (a HEAD finds nothing: a delete of an old version, or a delete followed by a new
     * upload, leaves it readable), the catalog marks it {@linkplain LostObjects missing}. Backup data
     * files and bundles are not looked at: they are never uploaded again once their backup is valid.
     */
    public Outcome removed(String key, String eventName, String sequencer) {
        StorageKey parsed;
        try {
            parsed = StorageLayout.parse(key, stanza -> requireMeta(stanza).walSegmentSize());
        } catch (StorageKeyException e) {
            LOG.log(Level.INFO, "ignoring removal: {0}", e.getMessage());
            return Outcome.IGNORED;
        } catch (UnknownStanzaException e) {
            LOG.log(Level.INFO, "ignoring removal of {0}: {1}", key, e.getMessage());
            return Outcome.IGNORED;
        }
        StanzaName stanza = switch (parsed) {
            case StorageKey.WalObject w -> w.stanza();
            case StorageKey.HistoryObject h -> h.stanza();
            case StorageKey.ManifestObject m -> m.stanza();
            case StorageKey.BackupFileObject f -> f.stanza();
            case StorageKey.BundleObject b -> b.stanza();
            default -> null;
        };
        if (stanza == null) {
            return Outcome.IGNORED;
        }
        // A valid backup's data files and bundles are never written again (and this function may not
        // read them): a removal is final. WAL, history files and manifests can be uploaded again.
        boolean rewritable = !(parsed instanceof StorageKey.BackupFileObject || parsed instanceof StorageKey.BundleObject);
        boolean present = false;
        try {
            present = rewritable && objects.head(key).isPresent();
        } catch (RuntimeException e) {
            // Without s3:ListBucket, S3 answers a HEAD of a gone object with 403: the sequencer
            // then decides alone (a removal older than the item's last upload does not apply).
            LOG.log(Level.INFO, "{0} for {1}: HEAD failed ({2}); going by the event''s sequencer", eventName, key,
                    e.toString());
        }
        if (present) {
            LOG.log(Level.INFO, "{0} for {1}: the object is still readable, nothing lost", eventName, key);
            return Outcome.REMOVAL_IGNORED;
        }
        boolean changed;
        try {
            changed = lost.markLost(stanza, key, LostObjects.MISSING, removalReason(eventName), sequencer);
        } catch (UnknownStanzaException e) {
            return Outcome.IGNORED;
        }
        return changed ? Outcome.LOST : Outcome.REMOVAL_IGNORED;
    }

    /**
     * Refuses an object larger than its kind can be stored (a segment or .partial: the segment
     * size plus the compression's worst-case framing; history and backup history files: 1 MiB
     * plus framing) before anything reads it: its item is written corrupt with the reason, as for
     * any object that cannot be trusted. Empty when the size is acceptable (or the object is gone).
     */
    private Optional<Outcome> refuseOversized(StorageKey parsed, Instant eventTime, String sequencer, long eventSize) {
        StanzaMeta meta;
        String key;
        Compression compression;
        boolean segmentSized;
        switch (parsed) {
            case StorageKey.WalObject w -> {
                meta = requireMeta(w.stanza());
                key = w.key();
                compression = w.compression();
                segmentSized = w.name() instanceof WalFileName.Segment || w.name() instanceof WalFileName.Partial;
            }
            case StorageKey.HistoryObject h -> {
                meta = requireMeta(h.stanza());
                key = h.key();
                compression = Compression.NONE;
                segmentSized = false;
            }
            default -> throw new IllegalArgumentException(parsed.toString());
        }
        long limit = Decompression.maxStoredSize(compression, segmentSized ? meta.walSegmentSize().bytes() : MAX_SMALL_FILE);
        long size = eventSize;
        if (size < 0) {
            Optional<ObjectStore.ObjectInfo> head = objects.head(key);
            if (head.isEmpty()) {
                return Optional.empty(); // gone: the kind's own path says MISSING
            }
            size = head.get().size();
        }
        if (size <= limit) {
            return Optional.empty();
        }
        String problem = "object is " + size + " bytes, more than the " + limit + " bytes an object of its kind can"
                + " take (" + (segmentSized ? "a " + meta.walSegmentSize().bytes() + "-byte segment" : "1 MiB")
                + " plus " + compression.extension() + " framing): refused without reading it";
        Instant at = eventTime != null ? eventTime : Instant.now();
        LoadedObject o = new LoadedObject(key, compression, size, null, null, problem, at, null);
        String pk = Keys.pk(meta.stanza());
        Item item = switch (parsed) {
            case StorageKey.WalObject w -> switch (w.name()) {
                case WalFileName.Segment s -> IndexItems.segment(pk, Keys.wal(s.segment()), s.segment(), o,
                        IndexItems.CORRUPT, problem, null, false, at);
                case WalFileName.Partial p -> IndexItems.partial(pk, Keys.partial(p.segment()), p.fileName(),
                        p.segment(), o, IndexItems.CORRUPT, problem, null, at);
                case WalFileName.BackupHistory b -> IndexItems.backupHistory(pk, Keys.backupHistory(b), b.fileName(), o,
                        IndexItems.CORRUPT, problem, null, at);
                case WalFileName.History h -> throw new IllegalStateException("history as WAL object: " + key);
            };
            case StorageKey.HistoryObject h -> IndexItems.history(pk, Keys.history(h.timeline()), h.timeline().value(),
                    o, IndexItems.CORRUPT, problem, null, at);
            default -> throw new IllegalArgumentException(parsed.toString());
        };
        Item candidate = sequenced(item, sequencer);
        if (mergeObject(meta, item.sk(), candidate)) {
            return Optional.of(Outcome.CONFLICT); // an accepted object's key: the original stays
        }
        LOG.log(Level.WARNING, "{0} refused: {1}", key, problem);
        return Optional.of(Outcome.OVERSIZED);
    }

    private static String removalReason(String eventName) {
        if (eventName.startsWith("LifecycleExpiration:")) {
            return "expired by a bucket lifecycle rule (" + eventName + ")";
        }
        if (eventName.endsWith("DeleteMarkerCreated")) {
            return "hidden by a delete marker (" + eventName + ")";
        }
        return "deleted from the bucket (" + eventName + ")";
    }

    private StanzaMeta requireMeta(StanzaName stanza) {
        StanzaMeta cached = metaCache.get(stanza);
        if (cached != null) {
            return cached;
        }
        StanzaMeta meta = catalog.get(Keys.pk(stanza), Keys.META).map(StanzaMeta::fromItem)
                .orElseThrow(() -> new UnknownStanzaException(stanza));
        metaCache.put(stanza, meta);
        return meta;
    }

    // ---- segments -------------------------------------------------------------------------------

    private Outcome indexSegment(StanzaMeta meta, StorageKey.WalObject w, WalSegmentName segment, Instant eventTime,
            String sequencer, String versionId) {
        int size = meta.walSegmentSize().bytes();
        Optional<LoadedObject> loaded = LoadedObject.load(objects, w.key(), versionId, w.compression(), size, size);
        if (loaded.isEmpty()) {
            LOG.log(Level.WARNING, "{0} is no longer in the bucket: nothing to index", w.key());
            return Outcome.MISSING;
        }
        LoadedObject o = loaded.get();
        Instant at = eventTime != null ? eventTime : o.lastModified();
        String pk = Keys.pk(meta.stanza());

        Evaluated first = evaluate(meta, segment, o, at);
        if (mergeObject(meta, Keys.wal(segment), sequenced(first.item(), sequencer))) {
            return Outcome.CONFLICT;
        }
        Evaluated last = first;
        if (first.pendingTail()) {
            // Stored, now look again: N+1 may have been indexed in between (and missed our item).
            Evaluated again = evaluate(meta, segment, o, at);
            if (!again.pendingTail()) {
                if (mergeObject(meta, Keys.wal(segment), sequenced(again.item(), sequencer))) {
                    return Outcome.CONFLICT;
                }
                last = again;
            }
        }
        if (!last.archived()) {
            LOG.log(Level.WARNING, "{0} is {1}: {2}", w.key(), last.item().string("status").orElse("?"),
                    last.item().string("problem").orElse(""));
            return o.ok() ? Outcome.SEGMENT_INVALID : Outcome.SEGMENT_CORRUPT;
        }
        futureTimes.record(meta, segment, last.summary(), at);
        addLookups(meta, segment, first.summary());
        addToTimeline(meta, segment, first.summary(), at);
        if (last != first) {
            addLookups(meta, segment, last.summary());
            addToTimeline(meta, segment, last.summary(), at);
        }
        if (segment.segmentNumber() > 0) {
            // Usually N+1 starts inside N's last record (skippedLeadingBytes > 0); but when N+1
            // overwrites that record's continuation (crash recovery), N is finished by learning
            // that the record was abandoned. So look at N in every case: one consistent read.
            finishPrevious(meta, segment.previous(), o.raw());
        }
        // The complete segment supersedes its streamed chunks: they must hold the same bytes.
        chunks.supersede(meta, segment, o.raw());
        // The timeline aggregate is stored: now the window (store, then compute from the sources).
        windows.refresh(meta);
        listener.archived(meta, segment);
        try {
            health.publishArchiveLag(meta);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "could not publish the archive lag of stanza " + meta.stanza() + ": " + e);
        }
        return last.pendingTail() ? Outcome.SEGMENT_PENDING_TAIL : Outcome.SEGMENT_ARCHIVED;
    }

    /**
     * Joins {@code candidate} into the object's item; true (and nothing else done) when the item had
     * accepted other content: the original stays, one line is logged and {@code HistoryConflicts} counted.
     */
    private boolean mergeObject(StanzaMeta meta, String sk, Item candidate) {
        String pk = Keys.pk(meta.stanza());
        Item[] original = {null};
        merger.merge(pk, sk, cur -> {
            original[0] = IndexItems.conflicts(cur, candidate) ? cur.get() : null;
            return IndexItems.join(cur, candidate);
        });
        if (original[0] == null) {
            return false;
        }
        Item o = original[0];
        String key = candidate.string("key").orElse(sk);
        RefusedUploads.Upload upload = new RefusedUploads.Upload(key, candidate.string(IndexItems.VERSION_ID).orElse(null),
                candidate.string(IndexItems.SEQUENCER).orElse(null), candidate.string(IndexItems.SHA256).orElse(null));
        if (!refusals.firstRefusal(pk, sk, upload, o.string(IndexItems.SHA256).orElse(null), java.time.Instant.now())) {
            LOG.log(Level.INFO, "{0}: the refused upload{1} delivered again: already counted", key,
                    upload.versionId() == null ? "" : " (version " + upload.versionId() + ")");
            return true;
        }
        LOG.log(Level.WARNING, "{0}: REFUSED a second, different upload: the catalog accepted SHA-256 {1}{2}, the new"
                + " upload{3} has SHA-256 {4}; the original stays in the catalog, restores use it",
                key, o.string(IndexItems.SHA256).orElse("?"),
                o.string(IndexItems.VERSION_ID).map(v -> " (version " + v + ")").orElse(""),
                candidate.string(IndexItems.VERSION_ID).map(v -> " (version " + v + ")").orElse(""),
                candidate.string(IndexItems.SHA256).orElse("none: it does not decompress"));
        metrics.count(meta.stanza(), java.time.Instant.now(), io.tidemark.events.metrics.TidemarkMetric.HISTORY_CONFLICTS);
        return true;
    }

    private static Item sequenced(Item item, String sequencer) {
        return sequencer == null ? item : item.with(IndexItems.SEQUENCER, sequencer);
    }

    private record Evaluated(Item item, WalSegmentSummary summary, boolean archived, boolean pendingTail) {
    }

    /** The item for {@code segment} from its loaded object, using N+1 from the bucket if a record runs into it. */
    private Evaluated evaluate(StanzaMeta meta, WalSegmentName segment, LoadedObject o, Instant at) {
        String pk = Keys.pk(meta.stanza());
        String sk = Keys.wal(segment);
        if (!o.ok()) {
            return new Evaluated(IndexItems.segment(pk, sk, segment, o, IndexItems.CORRUPT, o.problem(), null, false, at),
                    null, false, false);
        }
        WalSegmentSummary alone = futureTimes.clip(WalScanner.scan(o.raw(), o.raw().length, segment.toString(), null), at);
        String problem = problem(meta, alone, true);
        if (problem != null) {
            return new Evaluated(IndexItems.segment(pk, sk, segment, o, IndexItems.INVALID, problem, alone, false, at),
                    alone, false, false);
        }
        if (alone.continuesAt() != null) {
            Optional<LoadedObject> next = findNext(meta, segment);
            if (next.isPresent()) {
                WalSegmentSummary joined = futureTimes.clip(WalScanner.scan(o.raw(), o.raw().length,
                        segment.toString(), next.get().raw()), at);
                if (problem(meta, joined, true) == null && joined.continuesAt() == null) {
                    return new Evaluated(IndexItems.segment(pk, sk, segment, o, IndexItems.ARCHIVED, null, joined,
                            false, at), joined, true, false);
                }
                LOG.log(Level.WARNING, "{0}: the record at {1} does not verify with {2}: {3}", segment,
                        alone.continuesAt(), next.get().key(), joined.stopDetail());
            }
            return new Evaluated(IndexItems.segment(pk, sk, segment, o, IndexItems.ARCHIVED, null, alone, true, at),
                    alone, true, true);
        }
        return new Evaluated(IndexItems.segment(pk, sk, segment, o, IndexItems.ARCHIVED, null, alone, false, at),
                alone, true, false);
    }

    /** Why a scanned segment cannot be part of the archive, or null. */
    private static String problem(StanzaMeta meta, WalSegmentSummary s, boolean requireComplete) {
        if (requireComplete && !s.isComplete()) {
            return "not a complete segment: scan stopped with " + s.stopReason().jsonName()
                    + (s.stopDetail() == null ? "" : " (" + s.stopDetail() + ")");
        }
        if (s.version() == null) {
            return "not WAL: " + s.stopDetail();
        }
        if (s.systemIdentifier() != meta.systemIdentifierBits()) {
            return "WAL of system " + s.systemIdentifierText() + ", the stanza is system " + meta.systemIdentifier();
        }
        if (s.version().major() != meta.pgVersion()) {
            return "WAL of PostgreSQL " + s.version().major() + ", the stanza is PostgreSQL " + meta.pgVersion();
        }
        return null;
    }

    /** Segment N+1 from the bucket, intact, under any compression; empty when there is none. */
    private Optional<LoadedObject> findNext(StanzaMeta meta, WalSegmentName segment) {
        WalSegmentName next;
        try {
            next = segment.next();
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
        int size = meta.walSegmentSize().bytes();
        // N+1 as the catalog accepted it (its version, its bytes), when it did: a later, different
        // upload of N+1 must not finish N's last record.
        Optional<Item> accepted = catalog.get(Keys.pk(meta.stanza()), Keys.wal(next)).filter(IndexItems::accepted);
        if (accepted.isPresent()) {
            Item i = accepted.get();
            Compression c = Compression.fromExtension(i.string("compression").orElseThrow());
            Optional<LoadedObject> o = LoadedObject.load(objects, i.string("key").orElseThrow(),
                    i.string(IndexItems.VERSION_ID).orElse(null), c, size, size);
            return o.filter(l -> l.ok() && l.sha256().equals(i.string(IndexItems.SHA256).orElse(null)));
        }
        for (Compression c : NEXT_SEGMENT_ORDER) {
            String key = StorageLayout.walKey(meta.stanza(), new WalFileName.Segment(next), c);
            if (objects.head(key).isEmpty()) {
                continue;
            }
            Optional<LoadedObject> o = LoadedObject.load(objects, key, c, size, size);
            if (o.isPresent() && o.get().ok()) {
                return o;
            }
        }
        return Optional.empty();
    }

    /** Segment {@code previous} was stored waiting for this one: finish its last record with {@code currentRaw}. */
    private void finishPrevious(StanzaMeta meta, WalSegmentName previous, byte[] currentRaw) {
        String pk = Keys.pk(meta.stanza());
        String sk = Keys.wal(previous);
        Optional<Item> item = catalog.get(pk, sk);
        if (item.isEmpty() || IndexItems.rank(item.get()) != 1) {
            return;
        }
        String key = item.get().string("key").orElseThrow();
        Compression c = Compression.fromExtension(item.get().string("compression").orElseThrow());
        Instant at = Instant.parse(item.get().string(IndexItems.ARCHIVED_AT).orElseThrow());
        int size = meta.walSegmentSize().bytes();
        Optional<LoadedObject> loaded = LoadedObject.load(objects, key,
                item.get().string(IndexItems.VERSION_ID).orElse(null), c, size, size);
        if (loaded.isEmpty() || !loaded.get().ok()
                || !loaded.get().sha256().equals(item.get().string(IndexItems.SHA256).orElse(null))) {
            LOG.log(Level.WARNING, "{0} was pending its last record but cannot be read again as it was accepted", key);
            return;
        }
        LoadedObject o = loaded.get();
        WalSegmentSummary joined = futureTimes.clip(WalScanner.scan(o.raw(), o.raw().length, previous.toString(),
                currentRaw), at);
        if (problem(meta, joined, true) != null || joined.continuesAt() != null) {
            LOG.log(Level.WARNING, "{0}: its last record does not verify with the next segment: {1}", previous,
                    joined.stopDetail());
            return;
        }
        Item resolved = IndexItems.segment(pk, sk, previous, o, IndexItems.ARCHIVED, null, joined, false, at);
        merger.merge(pk, sk, cur -> IndexItems.join(cur, resolved));
        futureTimes.record(meta, previous, joined, at);
        addLookups(meta, previous, joined);
        addToTimeline(meta, previous, joined, at);
    }

    /**
     * The planner's lookups for one archived segment: its restore points (name -> LSN, one Query per
     * name), its latest commit time (time -> segment) and its highest ended xid (xid -> segment).
     * Each item is a function of the segment's scan; a re-scan that finishes the last record may add
     * a second lookup item, which still tells the truth about the segment.
     */
    private void addLookups(StanzaMeta meta, WalSegmentName segment, WalSegmentSummary summary) {
        String pk = Keys.pk(meta.stanza());
        for (Item i : IndexItems.lookups(pk, segment, summary)) {
            merger.merge(pk, i.sk(), cur -> IndexItems.joinLookup(cur, i));
        }
    }

    private void addToTimeline(StanzaMeta meta, WalSegmentName segment, WalSegmentSummary summary, Instant at) {
        Lsn end = summary.endLsn();
        String pk = Keys.pk(meta.stanza());
        // A segment the aggregate holds as lost comes back only if its item says archived (read in
        // this attempt: the item decides, whichever of the removal and this upload was handled last).
        updateTimeline(meta, segment.timeline(), t -> t.lost().contains(segment.segmentNumber())
                && stillLost(pk, Keys.wal(segment)) ? t : t.withSegment(segment, end, summary.lastCommitTime(), at));
    }

    private boolean stillLost(String pk, String sk) {
        return catalog.get(pk, sk).map(IndexItems::isLost).orElse(false);
    }

    private void updateTimeline(StanzaMeta meta, io.tidemark.events.wal.TimelineId timeline,
            Function<TimelineAggregate, TimelineAggregate> change) {
        String pk = Keys.pk(meta.stanza());
        merger.merge(pk, Keys.timeline(timeline), cur -> change.apply(cur
                .map(i -> TimelineAggregate.fromItem(i, meta.walSegmentSize()))
                .orElseGet(() -> TimelineAggregate.empty(timeline))).toItem(pk));
    }

    // ---- streamed chunks -----------------------------------------------------------------------

    private Outcome indexChunk(StanzaMeta meta, StorageKey.WalChunk c, Instant eventTime, String sequencer,
                               String versionId, long size) {
        ChunkIndexer.Indexed indexed = chunks.index(meta, c, eventTime, sequencer, versionId, size);
        return switch (indexed.result()) {
            case MISSING -> Outcome.MISSING;
            case REJECTED -> Outcome.REJECTED;
            case CONFLICT -> Outcome.CONFLICT;
            case ACCEPTED -> {
                Item window = windows.refresh(meta);
                try {
                    var refreshed = io.tidemark.functions.window.RecoveryWindow.fromList(window.list("timelines"));
                    health.publishStreamGaps(meta, refreshed);
                    for (var b : refreshed.breaks()) {
                        LOG.log(Level.WARNING, "stanza " + meta.stanza() + ": WAL GAP: timeline " + b.from().timeline()
                                + " from " + b.from().lsn() + " to " + b.to().lsn() + " (timeline " + b.to().timeline()
                                + ") is missing; the recovery window of timeline " + b.timeline() + " ends before it");
                    }
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "could not publish the stream gaps of stanza " + meta.stanza() + ": " + e);
                }
                try {
                    // the segment's stream item as this chunk left it
                    indexed.stream().flatMap(i -> i.string("lastCommitTime")).map(Instant::parse)
                            .ifPresent(t -> health.publishStreamLag(meta, t));
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "could not publish the stream lag of stanza " + meta.stanza() + ": " + e);
                }
                yield Outcome.CHUNK;
            }
        };
    }

    // ---- .partial, .history, .backup ---------------------------------------------------------

    private Outcome indexPartial(StanzaMeta meta, StorageKey.WalObject w, WalFileName.Partial p, Instant eventTime,
            String sequencer, String versionId) {
        int size = meta.walSegmentSize().bytes();
        Optional<LoadedObject> loaded = LoadedObject.load(objects, w.key(), versionId, w.compression(), size, size);
        if (loaded.isEmpty()) {
            return Outcome.MISSING;
        }
        LoadedObject o = loaded.get();
        Instant at = eventTime != null ? eventTime : o.lastModified();
        String pk = Keys.pk(meta.stanza());
        String sk = Keys.partial(p.segment());
        Item item;
        boolean archived = false;
        if (!o.ok()) {
            item = IndexItems.partial(pk, sk, p.fileName(), p.segment(), o, IndexItems.CORRUPT, o.problem(), null, at);
        } else {
            // A .partial ends where its timeline ended: not complete by nature.
            WalSegmentSummary s = WalScanner.scan(o.raw(), o.raw().length, p.segment().toString(), null);
            String problem = problem(meta, s, false);
            archived = problem == null;
            item = IndexItems.partial(pk, sk, p.fileName(), p.segment(), o,
                    archived ? IndexItems.ARCHIVED : IndexItems.INVALID, problem, s, at);
        }
        Item candidate = sequenced(item, sequencer);
        if (mergeObject(meta, sk, candidate)) {
            return Outcome.CONFLICT;
        }
        if (archived) {
            updateTimeline(meta, p.timeline(), t -> stillLost(pk, sk) ? t : t.withPartial(p.fileName()));
            return Outcome.PARTIAL;
        }
        return Outcome.REJECTED;
    }

    private Outcome indexHistory(StanzaMeta meta, StorageKey.HistoryObject h, Instant eventTime, String sequencer,
            String versionId) {
        Optional<LoadedObject> loaded = LoadedObject.load(objects, h.key(), versionId, Compression.NONE, MAX_SMALL_FILE,
                -1);
        if (loaded.isEmpty()) {
            return Outcome.MISSING;
        }
        LoadedObject o = loaded.get();
        Instant at = eventTime != null ? eventTime : o.lastModified();
        String pk = Keys.pk(meta.stanza());
        String sk = Keys.history(h.timeline());
        TimelineHistory history = null;
        String status = IndexItems.CORRUPT;
        String problem = o.problem();
        if (o.ok()) {
            try {
                history = TimelineHistory.parse(h.timeline(), o.raw());
                status = IndexItems.ARCHIVED;
            } catch (RuntimeException e) {
                status = IndexItems.INVALID;
                problem = "not a valid history file: " + e.getMessage();
            }
        }
        Item item = sequenced(IndexItems.history(pk, sk, h.timeline().value(), o, status, problem, history, at),
                sequencer);
        if (mergeObject(meta, sk, item)) {
            return Outcome.CONFLICT;
        }
        if (history == null) {
            LOG.log(Level.WARNING, "{0} is {1}: {2}", h.key(), status, problem);
            return Outcome.REJECTED;
        }
        TimelineHistory parsed = history;
        updateTimeline(meta, h.timeline(), t -> stillLost(pk, sk) ? t : t.withHistory(parsed, h.key()));
        windows.refresh(meta);
        return Outcome.HISTORY;
    }

    private Outcome indexBackupHistory(StanzaMeta meta, StorageKey.WalObject w, WalFileName.BackupHistory b,
            Instant eventTime, String sequencer, String versionId) {
        Optional<LoadedObject> loaded = LoadedObject.load(objects, w.key(), versionId, w.compression(), MAX_SMALL_FILE,
                -1);
        if (loaded.isEmpty()) {
            return Outcome.MISSING;
        }
        LoadedObject o = loaded.get();
        Instant at = eventTime != null ? eventTime : o.lastModified();
        String pk = Keys.pk(meta.stanza());
        String sk = Keys.backupHistory(b);
        BackupLabel label = null;
        String status = IndexItems.CORRUPT;
        String problem = o.problem();
        if (o.ok()) {
            try {
                label = BackupLabel.parse(o.raw(), meta.walSegmentSize());
                status = IndexItems.ARCHIVED;
            } catch (RuntimeException e) {
                status = IndexItems.INVALID;
                problem = "not a valid backup history file: " + e.getMessage();
            }
        }
        Item item = sequenced(IndexItems.backupHistory(pk, sk, b.fileName(), o, status, problem, label, at), sequencer);
        if (mergeObject(meta, sk, item)) {
            return Outcome.CONFLICT;
        }
        return label == null ? Outcome.REJECTED : Outcome.BACKUP_HISTORY;
    }
}
