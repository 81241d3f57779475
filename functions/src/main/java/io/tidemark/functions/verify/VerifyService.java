package io.tidemark.functions.verify;

import io.tidemark.events.backup.BackupManifest;
import io.tidemark.events.backup.ManifestException;
import io.tidemark.events.backup.ManifestJson;
import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.layout.StorageLayout;
import io.tidemark.events.metrics.TidemarkMetric;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.events.wal.WalSegmentSize;
import io.tidemark.functions.catalog.BackupEntry;
import io.tidemark.functions.catalog.CatalogException;
import io.tidemark.functions.catalog.CatalogStore;
import io.tidemark.functions.catalog.ExpiredWal;
import io.tidemark.functions.catalog.Item;
import io.tidemark.functions.catalog.ItemMerger;
import io.tidemark.functions.catalog.Keys;
import io.tidemark.functions.catalog.ObjectStore;
import io.tidemark.functions.catalog.StanzaMeta;
import io.tidemark.functions.catalog.UnknownStanzaException;
import io.tidemark.functions.index.LoadedObject;
import io.tidemark.functions.index.LostObjects;
import io.tidemark.functions.metrics.MetricsPublisher;
import io.tidemark.functions.validate.BackupValidator;
import io.tidemark.functions.validate.ObjectVerifier;
import java.lang.System.Logger.Level;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code verify}: checks every object of a stanza against what the catalog and the manifests
 * recorded, then WAL continuity and backup chains. See {@code docs/verify.md}.
 *
 * <h2>A run</h2>
 * <ol>
 *   <li>{@link #start} stores a {@code VERIFY#<id>} run ({@code planning}) and dispatches its plan
 *       (the API answers at once); the schedule calls {@link #startAndPlan}.</li>
 *   <li>{@link #plan} reads each backup's manifest in scope (checked against the SHA-256 the
 *       validator recorded), numbers the objects each backup stores ({@link ObjectVerifier#storedParts}),
 *       lists the catalog's WAL, partial, history and backup history items, cuts both into batches
 *       of at most {@value #BATCH_OBJECTS} objects, stores them and dispatches one event per batch.</li>
 *   <li>{@link #batch} downloads and hashes its objects in parallel (WAL: stored size, then the
 *       SHA-256 of the decompressed content as the indexer recorded it; backup objects: the
 *       validator's own check), stores a problem item for each finding and adds its counts to the
 *       run (once per batch, however often it is delivered).</li>
 *   <li>The batch that completes the count {@linkplain #finish finishes} the run: continuity per
 *       timeline, history files, the chain and WAL of every backup in scope, counting what this run
 *       found damaged as absent; then {@code VERIFYLAST} and the metric.</li>
 * </ol>
 * Every object found missing or damaged is marked so in the catalog at once ({@link LostObjects}):
 * the window shrinks and the planner stops offering what needs it.
 * A fault (S3 or DynamoDB unreachable while planning, an event that cannot be queued) marks the
 * run {@code failed} with the reason; it never makes a run look clean.
 */
public final class VerifyService {

    private static final System.Logger LOG = System.getLogger(VerifyService.class.getName());

    /** At most this many objects in one batch. */
    public static final int BATCH_OBJECTS = 500;
    /** And at most this many stored bytes (a batch must finish well within Lambda's 15 minutes). */
    static final long BATCH_BYTES = 8L << 30;
    /** How many problems a report lists (the count is always exact). */
    public static final int MAX_LISTED = 1000;
    /** Every item kind that names one archived WAL-side object. */
    static final List<String> CATALOG_OBJECT_PREFIXES = List.of(Keys.HISTORY_PREFIX, Keys.BACKUP_HISTORY_PREFIX,
            Keys.PARTIAL_PREFIX, Keys.WAL_PREFIX);
    static final String ARCHIVED = "archived";
    /** Sorts after every character of the catalog's sort keys: {@code prefix + END} ends a prefix range. */
    static final String END = "~";

    private final CatalogStore catalog;
    private final ObjectStore objects;
    private final ObjectVerifier verifier;
    private final VerifyDispatch dispatch;
    private final Clock clock;
    private final ItemMerger merger;
    private final MetricsPublisher metrics;
    private final LostObjects lost;
    private final int batchObjects;

    /**
     * @param parallelism objects downloaded and hashed at once by one batch
     * @param metrics where the problems and the age of the last clean run go after each whole-stanza run
     */
    public VerifyService(CatalogStore catalog, ObjectStore objects, VerifyDispatch dispatch, Clock clock,
                         int parallelism, MetricsPublisher metrics) {
        this(catalog, objects, dispatch, clock, parallelism, metrics, BATCH_OBJECTS);
    }

    /** @param batchObjects at most this many objects per batch (tests use small batches to see the fan-out) */
    VerifyService(CatalogStore catalog, ObjectStore objects, VerifyDispatch dispatch, Clock clock, int parallelism,
                  MetricsPublisher metrics, int batchObjects) {
        this.batchObjects = batchObjects;
        this.catalog = catalog;
        this.objects = objects;
        this.verifier = new ObjectVerifier(objects, parallelism);
        this.dispatch = dispatch;
        this.clock = clock;
        this.merger = new ItemMerger(catalog);
        this.metrics = metrics;
        this.lost = new LostObjects(catalog, clock);
    }

    // ---- starting -------------------------------------------------------------------------------

    /** Creates a run and dispatches its plan; the run as stored ({@code planning}, or {@code failed}). */
    public VerifyRun start(StanzaName stanza, String backup) {
        VerifyRun run = create(stanza, backup);
        try {
            dispatch.dispatch(new VerifyEvent.Plan(stanza, run.id()));
        } catch (RuntimeException e) {
            return fail(run, "the run could not be started: " + e.getMessage());
        }
        return run;
    }

    /** Creates a run and plans it in this invocation (the schedule's event). */
    public VerifyRun startAndPlan(StanzaName stanza, String backup) {
        VerifyRun run = create(stanza, backup);
        plan(stanza, run.id());
        return run(stanza, run.id()).orElseThrow();
    }

    private VerifyRun create(StanzaName stanza, String backup) {
        meta(stanza);
        if (backup != null && catalog.get(Keys.pk(stanza), Keys.backup(BackupLabelName.parse(backup))).isEmpty()) {
            throw new CatalogException(CatalogException.Kind.NOT_FOUND, "stanza " + stanza + " has no backup "
                    + backup + " in the catalog");
        }
        VerifyRun run = VerifyRun.planning(stanza, backup, clock.instant());
        if (!catalog.put(run.toItem().withRevision(), null)) {
            throw new IllegalStateException("verify run " + run.id() + " exists already");
        }
        LOG.log(Level.INFO, "verify run {0} of stanza {1} ({2}) created", run.id(), stanza,
                backup == null ? "everything" : "backup " + backup);
        return run;
    }

    // ---- planning -------------------------------------------------------------------------------

    /** What a plan found before any batch runs. */
    private static final class Planned {
        final List<VerifyBatch> batches = new ArrayList<>();
        final List<VerifyProblem> problems = new ArrayList<>();
        long objects;
        long checked;
        long bytes;
    }

    /** Plans run {@code id} if it still waits for its plan (a repeated event does nothing). */
    public void plan(StanzaName stanza, String id) {
        VerifyRun run = run(stanza, id).orElseThrow(() -> notFound(stanza, id));
        if (run.state() == VerifyState.RUNNING) {
            // Delivered again: the invocation that planned may have died before it sent every batch.
            // Batches count once, so sending those not done yet again is safe.
            LOG.log(Level.INFO, "verify run {0} is planned already: sending its unfinished batches again", id);
            dispatchBatches(run);
            return;
        }
        if (run.state() != VerifyState.PLANNING) {
            LOG.log(Level.INFO, "verify run {0} is {1}: nothing to plan", id, run.state().label());
            return;
        }
        Planned p = new Planned();
        try {
            StanzaMeta meta = meta(stanza);
            List<BackupEntry> backups = backupsInScope(stanza, run.backup());
            for (BackupEntry b : backups) {
                planBackup(p, meta, b);
            }
            planCatalogItems(p, meta, run.backup(), backups);
            String pk = Keys.pk(stanza);
            for (int i = 0; i < p.batches.size(); i++) {
                overwrite(p.batches.get(i).toItem(pk, Keys.verifyBatch(id, i + 1)));
            }
            storeProblems(run, 0, p.problems);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "planning verify run " + id + " failed", e);
            fail(run, "planning failed: " + e.getMessage());
            return;
        }
        VerifyRun planned = merge(stanza, id, cur -> cur.state() == VerifyState.PLANNING
                ? cur.planned(p.batches.size(), p.objects, p.checked, p.bytes, p.problems.size(), clock.instant())
                : cur);
        if (planned.state() != VerifyState.RUNNING) {
            return;
        }
        LOG.log(Level.INFO, "verify run {0}: {1} objects in {2} batches", id, p.objects, p.batches.size());
        if (p.batches.isEmpty()) {
            finish(planned);
            return;
        }
        dispatchBatches(planned);
    }

    /** Sends one event per batch not counted yet; a send that fails fails the run. */
    private void dispatchBatches(VerifyRun run) {
        for (int i = 1; i <= run.batches(); i++) {
            if (run.doneBatches().contains((long) i)) {
                continue;
            }
            try {
                dispatch.dispatch(new VerifyEvent.Batch(run.stanza(), run.id(), i));
            } catch (RuntimeException e) {
                fail(run, "batch " + i + " of " + run.batches() + " could not be started: " + e.getMessage());
                return;
            }
        }
    }

    /** Retention marked the backup before deleting its objects: what is gone is not lost. */
    private boolean expiring(StanzaName stanza, BackupLabelName label) {
        return catalog.get(Keys.pk(stanza), Keys.backup(label)).map(i -> i.flag(BackupEntry.EXPIRING)).orElse(false);
    }

    /**
     * Every backup to check: all but the invalid ones and those retention is removing, or one
     * backup and the backups it depends on.
     */
    private List<BackupEntry> backupsInScope(StanzaName stanza, String label) {
        String pk = Keys.pk(stanza);
        if (label == null) {
            return catalog.query(pk, Keys.BACKUP_PREFIX).stream().filter(i -> !i.flag(BackupEntry.EXPIRING))
                    .map(BackupEntry::fromItem).filter(b -> !BackupEntry.INVALID.equals(b.status())).toList();
        }
        Map<String, BackupEntry> chain = new LinkedHashMap<>();
        Deque<String> todo = new ArrayDeque<>(List.of(label));
        while (!todo.isEmpty()) {
            String l = todo.pop();
            if (chain.containsKey(l)) {
                continue;
            }
            Optional<Item> item = catalog.get(pk, Keys.backup(BackupLabelName.parse(l)));
            if (item.isEmpty()) {
                continue; // the chain check reports it
            }
            BackupEntry b = BackupEntry.fromItem(item.get());
            chain.put(l, b);
            todo.addAll(earlier(b));
        }
        return List.copyOf(chain.values());
    }

    /** The backups {@code b} depends on: its prior and the backups it references files of. */
    static Set<String> earlier(BackupEntry b) {
        Set<String> e = new TreeSet<>(b.references());
        if (b.prior() != null) {
            e.add(b.prior());
        }
        return e;
    }

    /** The manifest now (checked whole, here), then its stored objects as batches. */
    private void planBackup(Planned p, StanzaMeta meta, BackupEntry b) {
        BackupLabelName label = BackupLabelName.parse(b.label());
        String key = b.manifestKey() != null ? b.manifestKey() : StorageLayout.manifestKey(meta.stanza(), label);
        p.objects++;
        Optional<BackupManifest> m = manifest(key, b, p.problems);
        p.checked++;
        if (m.isEmpty()) {
            return;
        }
        List<ObjectVerifier.StoredPart> parts = ObjectVerifier.storedParts(m.get());
        p.objects += parts.size();
        int first = 0;
        long bytes = 0;
        for (int i = 0; i < parts.size(); i++) {
            long size = parts.get(i).storedSize();
            if (i > first && (i - first >= batchObjects || bytes + size > BATCH_BYTES)) {
                p.batches.add(new VerifyBatch.BackupObjects(b.label(), first, i - first));
                first = i;
                bytes = 0;
            }
            bytes += size;
        }
        if (first < parts.size()) {
            p.batches.add(new VerifyBatch.BackupObjects(b.label(), first, parts.size() - first));
        }
    }

    /** Reads and checks a backup's manifest against the SHA-256 the validator recorded; empty when it is not usable. */
    private Optional<BackupManifest> manifest(String key, BackupEntry b, List<VerifyProblem> problems) {
        Optional<ObjectStore.StoredObject> o = objects.get(key);
        String recorded = b.manifestSha256();
        String expected = "the manifest of backup " + b.label() + (recorded == null ? "" : ", SHA-256 " + recorded);
        if (o.isEmpty()) {
            problems.add(new VerifyProblem(key, VerifyProblem.Check.MISSING, expected, "no such object"));
            return Optional.empty();
        }
        byte[] content = o.get().content();
        String actual = sha256(content);
        if (recorded != null && !recorded.equals(actual)) {
            problems.add(new VerifyProblem(key, VerifyProblem.Check.SHA256, "SHA-256 " + recorded,
                    "SHA-256 " + actual + " (" + content.length + " bytes)"));
            return Optional.empty();
        }
        try {
            return Optional.of(ManifestJson.read(content));
        } catch (ManifestException e) {
            problems.add(new VerifyProblem(key, VerifyProblem.Check.UNREADABLE, expected, e.getMessage()));
            return Optional.empty();
        }
    }

    /** The catalog's WAL-side items as sort-key ranges of at most {@value #BATCH_OBJECTS}. */
    private void planCatalogItems(Planned p, StanzaMeta meta, String label, List<BackupEntry> backups) {
        String pk = Keys.pk(meta.stanza());
        List<String[]> ranges = new ArrayList<>(); // from, to (inclusive)
        if (label == null) {
            for (String prefix : CATALOG_OBJECT_PREFIXES) {
                ranges.add(new String[] {prefix, prefix + END});
            }
        } else {
            for (BackupEntry b : backups) {
                BackupValidator.walRange(meta, b).ifPresent(r -> {
                    ranges.add(new String[] {Keys.wal(r.first()), Keys.wal(r.last())});
                    if (r.first().timeline().value() > 1) {
                        String h = Keys.history(r.first().timeline());
                        ranges.add(new String[] {h, h});
                    }
                });
            }
        }
        Set<String> seen = new HashSet<>();
        for (String[] r : ranges) {
            List<Item> items = catalog.queryBetween(pk, r[0], r[1], List.of("key")).stream()
                    .filter(i -> i.string("key").isPresent() && seen.add(i.sk())).toList();
            for (int i = 0; i < items.size(); i += batchObjects) {
                List<Item> slice = items.subList(i, Math.min(items.size(), i + batchObjects));
                p.batches.add(new VerifyBatch.CatalogItems(slice.getFirst().sk(), slice.getLast().sk(), slice.size()));
                p.objects += slice.size();
            }
        }
    }

    // ---- batches --------------------------------------------------------------------------------

    /** What one object's check found. */
    record Checked(long bytes, List<VerifyProblem> problems) {
    }

    /** Checks batch {@code n} of run {@code id}, once; finishes the run when it was the last. */
    public void batch(StanzaName stanza, String id, int n) {
        VerifyRun run = run(stanza, id).orElseThrow(() -> notFound(stanza, id));
        if (run.state() != VerifyState.RUNNING) {
            LOG.log(Level.INFO, "verify run {0} is {1}: batch {2} skipped", id, run.state().label(), n);
            return;
        }
        if (run.doneBatches().contains((long) n)) {
            // Delivered again, maybe after the invocation that counted it died before finishing.
            if (run.allBatchesDone()) {
                finish(run);
            }
            return;
        }
        String pk = Keys.pk(stanza);
        VerifyBatch batch = catalog.get(pk, Keys.verifyBatch(id, n)).map(VerifyBatch::fromItem)
                .orElseThrow(() -> new IllegalStateException("verify run " + id + " has no batch " + n));
        StanzaMeta meta = meta(stanza);
        List<Checked> results = switch (batch) {
            case VerifyBatch.CatalogItems c -> checkItems(meta, c);
            case VerifyBatch.BackupObjects b -> checkBackupObjects(meta, b);
        };
        List<VerifyProblem> problems = new ArrayList<>();
        long bytes = 0;
        for (Checked c : results) {
            bytes += c.bytes();
            problems.addAll(c.problems());
        }
        storeProblems(run, n, problems);
        long checked = batch.count();
        long found = bytes;
        VerifyRun after = merge(stanza, id, cur -> cur.withBatch(n, checked, found, problems.size(), clock.instant()));
        LOG.log(Level.INFO, "verify run {0} batch {1}: {2} objects, {3} problems ({4} of {5} batches done)", id, n,
                checked, problems.size(), after.doneBatches().size(), after.batches());
        if (after.allBatchesDone()) {
            finish(after);
        }
    }

    private List<Checked> checkItems(StanzaMeta meta, VerifyBatch.CatalogItems c) {
        List<Item> items = catalog.queryBetween(Keys.pk(meta.stanza()), c.fromSk(), c.toSk(),
                List.of("key", "compression", "storedSize", "sha256", "status", "problem", "segment", "versionId"));
        List<Callable<List<Checked>>> tasks = new ArrayList<>();
        for (Item i : items) {
            if (i.string("key").isPresent()) {
                tasks.add(() -> List.of(checkItem(meta.walSegmentSize(), i)));
            }
        }
        return verifier.inParallel(tasks);
    }

    /**
     * One WAL-side object against its catalog item: there, the stored size, decompressible, the
     * SHA-256 of the content the indexer hashed; and the item itself usable.
     */
    static Checked checkItem(ObjectStore objects, WalSegmentSize segmentSize, Item i) {
        String key = i.string("key").orElseThrow();
        Compression compression = Compression.fromExtension(i.string("compression").orElse("raw"));
        long size = i.number("storedSize").orElse(-1L);
        String sha = i.string("sha256").orElse(null);
        String status = i.string("status").orElse("?");
        // A history or backup history file is far smaller than a segment: the segment bounds both.
        // The version the catalog accepted (what restores read), when it recorded one; that version
        // gone, the current object, which serves a restore only with the same content (archive-get).
        String version = i.string("versionId").orElse(null);
        Optional<LoadedObject> loaded = LoadedObject.load(objects, key, version, compression, segmentSize.bytes(), -1);
        if (loaded.isEmpty() && version != null) {
            loaded = LoadedObject.load(objects, key, compression, segmentSize.bytes(), -1);
        }
        if (loaded.isEmpty()) {
            return new Checked(0, List.of(new VerifyProblem(key, VerifyProblem.Check.MISSING,
                    size + " bytes" + (sha == null ? "" : ", content SHA-256 " + sha), "no such object")));
        }
        LoadedObject o = loaded.get();
        List<VerifyProblem> problems = new ArrayList<>();
        if (size >= 0 && o.storedSize() != size) {
            problems.add(new VerifyProblem(key, VerifyProblem.Check.SIZE, size + " bytes", o.storedSize() + " bytes"));
        } else if (o.raw() == null) {
            problems.add(new VerifyProblem(key, VerifyProblem.Check.UNREADABLE, "a " + compression.extension()
                    + " object of " + size + " bytes", o.problem()));
        } else if (sha != null && !sha.equals(o.sha256())) {
            problems.add(new VerifyProblem(key, VerifyProblem.Check.SHA256, "content SHA-256 " + sha,
                    "content SHA-256 " + o.sha256()));
        }
        if (problems.isEmpty() && !ARCHIVED.equals(status)) {
            problems.add(new VerifyProblem(key, VerifyProblem.Check.STATUS, ARCHIVED,
                    status + i.string("problem").map(p -> " (" + p + ")").orElse("")));
        }
        return new Checked(o.storedSize(), problems);
    }

    private Checked checkItem(WalSegmentSize segmentSize, Item i) {
        Checked c = checkItem(objects, segmentSize, i);
        if (c.problems().stream().anyMatch(p -> p.check() == VerifyProblem.Check.MISSING)
                && (catalog.get(i.pk(), i.sk()).isEmpty() || retentionIsRemoving(segmentSize, i))) {
            return new Checked(0, List.of()); // retention removed (or is removing) it since the run listed it
        }
        return c;
    }

    /** A segment at or below its timeline's retention watermark, or the range retention is deleting now. */
    private boolean retentionIsRemoving(WalSegmentSize segmentSize, Item i) {
        Optional<String> segment = i.string("segment");
        if (segment.isEmpty()) {
            return false;
        }
        WalSegmentName name = WalSegmentName.parse(segment.get(), segmentSize);
        return name.segmentNumber() <= ExpiredWal.removedThrough(catalog, i.pk(), name.timeline());
    }

    private List<Checked> checkBackupObjects(StanzaMeta meta, VerifyBatch.BackupObjects b) {
        BackupLabelName label = BackupLabelName.parse(b.label());
        BackupEntry entry = catalog.get(Keys.pk(meta.stanza()), Keys.backup(label)).map(BackupEntry::fromItem)
                .orElse(null);
        String key = entry != null && entry.manifestKey() != null ? entry.manifestKey()
                : StorageLayout.manifestKey(meta.stanza(), label);
        if (entry == null || expiring(meta.stanza(), label)) {
            return List.of(new Checked(0, List.of())); // retention removed (or is removing) the backup since the plan
        }
        List<VerifyProblem> manifestProblems = new ArrayList<>();
        Optional<BackupManifest> m = manifest(key, entry, manifestProblems);
        if (m.isEmpty()) {
            // Gone or changed since the plan read it: the backup's first batch says so, none checks objects.
            return List.of(new Checked(0, b.first() == 0 ? manifestProblems : List.of()));
        }
        List<ObjectVerifier.StoredPart> parts = ObjectVerifier.storedParts(m.get());
        int from = (int) Math.min(parts.size(), b.first());
        int to = (int) Math.min(parts.size(), b.first() + b.count());
        List<ObjectVerifier.StoredPart> slice = parts.subList(from, to);
        long bytes = slice.stream().mapToLong(ObjectVerifier.StoredPart::storedSize).sum();
        List<VerifyProblem> problems = new ArrayList<>();
        for (ObjectVerifier.ObjectProblem op : verifier.verifyParts(slice)) {
            VerifyProblem.Check check = switch (op.kind()) {
                case MISSING -> VerifyProblem.Check.MISSING;
                case SIZE -> VerifyProblem.Check.SIZE;
                case SHA256 -> VerifyProblem.Check.SHA256;
                case SLICE -> VerifyProblem.Check.SLICE;
            };
            problems.add(new VerifyProblem(op.key(), check, op.expected(), op.found()));
        }
        if (problems.stream().anyMatch(p -> p.check() == VerifyProblem.Check.MISSING)
                && (catalog.get(Keys.pk(meta.stanza()), Keys.backup(label)).isEmpty()
                || expiring(meta.stanza(), label))) {
            return List.of(new Checked(0, List.of())); // retention removed the backup while the run checked it
        }
        return List.of(new Checked(bytes, problems));
    }

    // ---- finishing ------------------------------------------------------------------------------

    /**
     * Continuity and chains, once every batch reported: WAL a batch found missing or damaged counts
     * as absent. Stores the run {@code complete}, updates {@code VERIFYLAST} and publishes the metric.
     */
    void finish(VerifyRun run) {
        StanzaName stanza = run.stanza();
        StanzaMeta meta = meta(stanza);
        Set<String> bad = new HashSet<>();
        for (VerifyProblem p : problems(stanza, run.id(), Integer.MAX_VALUE)) {
            if (p.lostStatus().isPresent() || p.check() == VerifyProblem.Check.STATUS) {
                bad.add(p.key());
            }
        }
        List<BackupEntry> backups = backupsInScope(stanza, run.backup());
        List<VerifyProblem> found = new ArrayList<>();
        ArchiveChecks checks = new ArchiveChecks(catalog);
        Map<Long, TreeSet<Long>> present = checks.presentWal(meta, run.backup(), backups, bad);
        if (run.backup() == null) {
            found.addAll(ArchiveChecks.gaps(meta.walSegmentSize(), present));
            found.addAll(checks.historyProblems(meta, present, bad));
        }
        found.addAll(checks.chainProblems(meta, backups, present, bad));
        int finalBatch = (int) run.batches() + 1;
        storeProblems(run, finalBatch, found);
        Instant now = clock.instant();
        // Two finishers may race (a batch delivered again): only the one whose write completed the
        // run records it. The merge may retry; the flag is that of the attempt that was written.
        AtomicBoolean completedHere = new AtomicBoolean();
        VerifyRun done = merge(stanza, run.id(), cur -> {
            completedHere.set(cur.state() == VerifyState.RUNNING);
            return completedHere.get() ? cur.completed(found.size(), now) : cur;
        });
        if (completedHere.get() && done.state() == VerifyState.COMPLETE) {
            recordLast(meta, done);
        }
    }

    /** {@code VERIFYLAST} (newest finished run, last clean full run) and the metric line. */
    private void recordLast(StanzaMeta meta, VerifyRun run) {
        String pk = Keys.pk(meta.stanza());
        Item last = merger.merge(pk, Keys.VERIFY_LAST, cur -> {
            Map<String, Object> a = new TreeMap<>();
            cur.ifPresent(c -> a.putAll(c.without(Item.REV).attributes()));
            a.put("kind", "verifyLast");
            a.put("run", run.id());
            a.put("backup", run.backup() == null ? "" : run.backup());
            a.put("state", run.state().label());
            a.put("finishedAt", run.finishedAt().toString());
            a.put("problems", run.problems());
            a.put("checked", run.checked());
            if (run.clean() && run.backup() == null) {
                a.put("lastCleanAt", run.finishedAt().toString());
                a.put("lastCleanRun", run.id());
            }
            return Item.of(pk, Keys.VERIFY_LAST, a);
        });
        LOG.log(Level.INFO, "verify run {0} of stanza {1} complete: {2} objects checked, {3} problems", run.id(),
                meta.stanza(), run.checked(), run.problems());
        if (run.backup() == null) {
            Instant cleanSince = last.string("lastCleanAt").map(Instant::parse).orElse(meta.createdAt());
            long age = Math.max(0, Duration.between(cleanSince, run.finishedAt()).toSeconds());
            metrics.publish(meta.stanza(), run.finishedAt(), Map.of(TidemarkMetric.VERIFY_PROBLEMS, run.problems(),
                    TidemarkMetric.LAST_CLEAN_VERIFY_AGE, age));
        }
    }

    // ---- reading --------------------------------------------------------------------------------

    public Optional<VerifyRun> run(StanzaName stanza, String id) {
        if (!VerifyRun.ID.matcher(id).matches()) {
            return Optional.empty();
        }
        return catalog.get(Keys.pk(stanza), Keys.verifyRun(id)).map(VerifyRun::fromItem);
    }

    /** The first {@code limit} problems of a run, in the order they were found (plan, batches, final checks). */
    public List<VerifyProblem> problems(StanzaName stanza, String id, int limit) {
        String prefix = Keys.verifyProblemPrefix(id);
        List<Item> items = catalog.queryPage(Keys.pk(stanza), prefix, prefix + END, false, limit);
        return items.stream().map(VerifyProblem::fromItem).toList();
    }

    /** The newest finished run's summary ({@code VERIFYLAST}), for {@code info}. */
    public static Optional<Item> last(CatalogStore catalog, StanzaName stanza) {
        return catalog.get(Keys.pk(stanza), Keys.VERIFY_LAST);
    }

    // ---- items ----------------------------------------------------------------------------------

    private void storeProblems(VerifyRun run, int batch, List<VerifyProblem> problems) {
        String pk = Keys.pk(run.stanza());
        for (int i = 0; i < problems.size(); i++) {
            VerifyProblem p = problems.get(i);
            Item item = p.toItem(pk, Keys.verifyProblem(run.id(), batch, i), batch)
                    .with(VerifyRun.TTL_ATTRIBUTE, run.createdAt().plus(VerifyRun.KEPT).getEpochSecond());
            overwrite(item);
            LOG.log(Level.WARNING, "verify run {0}: {1}", run.id(), p.text());
            markLost(run, p);
        }
    }

    /**
     * A missing or damaged object counts as lost for the window and the planner from now on: the
     * catalog item (WAL, history, partial) or the backup is marked, ranges and window recomputed.
     */
    private void markLost(VerifyRun run, VerifyProblem p) {
        Optional<String> status = p.lostStatus();
        if (status.isEmpty()) {
            return;
        }
        try {
            lost.markLost(run.stanza(), p.key(), status.get(), "verify run " + run.id() + ": " + p.check().label()
                    + ": expected " + p.expected() + ", found " + p.found());
        } catch (IllegalArgumentException e) {
            LOG.log(Level.WARNING, "verify run {0}: could not mark {1} {2}: {3}", run.id(), p.key(), status.get(),
                    e.getMessage());
        }
    }

    private void overwrite(Item item) {
        merger.merge(item.pk(), item.sk(), cur -> item);
    }

    private VerifyRun merge(StanzaName stanza, String id, java.util.function.UnaryOperator<VerifyRun> change) {
        Item stored = merger.merge(Keys.pk(stanza), Keys.verifyRun(id), cur -> change.apply(
                VerifyRun.fromItem(cur.orElseThrow(() -> notFound(stanza, id)))).toItem());
        return VerifyRun.fromItem(stored);
    }

    private VerifyRun fail(VerifyRun run, String why) {
        LOG.log(Level.WARNING, "verify run {0} of stanza {1} failed: {2}", run.id(), run.stanza(), why);
        return merge(run.stanza(), run.id(), cur -> cur.state().finished() ? cur : cur.failed(why, clock.instant()));
    }

    private StanzaMeta meta(StanzaName stanza) {
        return catalog.get(Keys.pk(stanza), Keys.META).map(StanzaMeta::fromItem)
                .orElseThrow(() -> new UnknownStanzaException(stanza));
    }

    private static CatalogException notFound(StanzaName stanza, String id) {
        return new CatalogException(CatalogException.Kind.NOT_FOUND, "stanza " + stanza + " has no verify run " + id);
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
