package io.tidemark.functions.plan;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tidemark.events.backup.BackupManifest;
import io.tidemark.events.backup.ManifestException;
import io.tidemark.events.backup.ManifestFile;
import io.tidemark.events.backup.ManifestJson;
import io.tidemark.events.json.CanonicalJson;
import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.layout.StorageLayout;
import io.tidemark.events.plan.PlanFile;
import io.tidemark.events.plan.PlanWal;
import io.tidemark.events.plan.RecoveryRequest;
import io.tidemark.events.plan.RestorePlan;
import io.tidemark.events.plan.RestorePlanJson;
import io.tidemark.events.plan.TimelineTarget;
import io.tidemark.events.sign.DocumentSigner;
import io.tidemark.events.sign.SignedEnvelope;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.scan.WalScanner;
import io.tidemark.functions.catalog.BackupEntry;
import io.tidemark.functions.catalog.CatalogException;
import io.tidemark.functions.catalog.CatalogStore;
import io.tidemark.functions.catalog.Keys;
import io.tidemark.functions.catalog.ObjectStore;
import io.tidemark.functions.catalog.StanzaMeta;
import io.tidemark.functions.catalog.TimelineAggregate;
import io.tidemark.functions.window.TimelinePath;
import io.tidemark.functions.window.WindowBackup;
import io.tidemark.functions.window.WindowCalculator;
import io.tidemark.functions.window.WindowService;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * Turns a recovery target into a signed restore plan, or proves it cannot be reached.
 *
 * <h2>Reachability (PostgreSQL's rules)</h2>
 * For each valid backup whose chain is valid, newest first (only the named one when a label is
 * given), the target timeline is resolved ({@code latest}: follow archived history files from the
 * backup's timeline; {@code current}: the backup's; or the number), the backup must lie on that
 * timeline's path, and the WAL is followed from its start segment as far as it is contiguous
 * ({@link WindowCalculator}). Then, by target type:
 * <ul>
 *   <li>{@code latest}: any such backup whose contiguous WAL ends where the archive ends; WAL to
 *       that end. When archived WAL continues past a gap (a lost or never-archived segment on the
 *       path, or the next timeline's history file lost), the newest point cannot be reached:
 *       refused with what is lost and the nearest point before the gap ({@link LatestGap});</li>
 *   <li>{@code immediate}: any such backup; WAL to the segment of its stop LSN;</li>
 *   <li>{@code lsn} L: stop LSN &lt;= L &lt; end of the contiguous WAL;</li>
 *   <li>{@code time} T: stop time &lt;= T, and a commit with time &gt; T (inclusive) or &gt;= T
 *       (exclusive) in the contiguous WAL: recovery stops at the first such commit, and fails
 *       ("recovery ended before configured recovery target was reached") without one. Found through
 *       the {@code COMMITTIME#} items (one Query per timeline of the path);</li>
 *   <li>{@code xid} X: a commit or abort record of X (32-bit) proven by scanning the candidate
 *       segments ({@code XIDMAX#} items: minXid &lt;= X &lt;= maxXid) with {@link WalScanner}, after
 *       the backup's stop LSN and within its contiguous WAL;</li>
 *   <li>{@code name} N: the first restore point named N after the backup's start LSN on the path
 *       ({@code RESTOREPOINT#} items, one Query); it must not precede the stop LSN (PostgreSQL
 *       refuses to stop before consistency) and must lie in the contiguous WAL.</li>
 * </ul>
 * The first backup that reaches the target is the plan's. None: {@link TargetUnreachableException}.
 *
 * <h2>The plan</h2>
 * Every file of the backup's manifest (referenced files at the key of the backup storing them),
 * the WAL segments from the backup's start segment through the segment after the target record
 * (capped at {@code maxWal}: later segments are fetched by archive-get with the node's own read
 * access), every history file of the target timeline and its ancestors, and the recovery settings.
 * Signed, recorded as {@code PLAN#<id>}, returned with presigned URLs for every distinct key.
 *
 * <h2>The steps, file by file</h2>
 * <ol>
 *   <li>{@link #create}: the stanza, its window and backups, newest first;</li>
 *   <li>{@link TargetSearch}: whether a backup reaches the target, and where recovery then stops
 *       ({@link Stop}); {@link LatestGap} for {@code latest} past a gap;</li>
 *   <li>{@code complete}: the backup's chain checked and its manifest read;</li>
 *   <li>{@link WalListing}: the WAL and history files along the timeline path;</li>
 *   <li>{@code write}: the plan document ({@link PinnedSettings}), signed, recorded
 *       ({@link PlanRecords}) and presigned ({@link UrlSigner});</li>
 *   <li>none reaches it: {@link NearestPoints} makes the 422;</li>
 *   <li>{@link #renew}: {@link PlanRenewal}, fresh URLs for a stored plan.</li>
 * </ol>
 * {@link PlanPhases} times the steps of one request for the log.
 */
public final class RestorePlanner {

    /**
     * Tunables, from the function's settings. {@code planTtl} is the signed plan's lifetime: a
     * restore must start before it ends (the shim refuses an expired plan, so a plan file kept or
     * stolen is useless an hour later). {@code renewalWindow}: how long after that the principal
     * that asked may still renew the URLs of a restore already running (a large download).
     */
    public record Settings(Duration urlTtl, Duration planTtl, Duration renewalWindow, int maxWal, int maxXidScans) {
        public static final Settings DEFAULT = new Settings(Duration.ofMinutes(60), Duration.ofMinutes(60),
                Duration.ofHours(24), 1000, 8);

        public Settings(Duration urlTtl, Duration planTtl, int maxWal, int maxXidScans) {
            this(urlTtl, planTtl, DEFAULT.renewalWindow(), maxWal, maxXidScans);
        }
    }

    /** A signed plan and its download URLs. */
    public record Created(RestorePlan plan, ObjectNode envelope, Map<String, String> urls, Instant urlsExpireAt) {
    }

    /** URLs for a stored plan. */
    public record Renewed(String planId, Map<String, String> urls, Instant urlsExpireAt) {
    }

    private final CatalogStore store;
    private final ObjectStore objects;
    private final DocumentSigner signer;
    private final UrlSigner urlSigner;
    private final Clock clock;
    private final Settings settings;
    private final WindowService windows;
    private final PlanRecords records;

    public RestorePlanner(CatalogStore store, ObjectStore objects, DocumentSigner signer, UrlSigner urlSigner, Clock clock,
                          Settings settings) {
        this.store = store;
        this.objects = objects;
        this.signer = signer;
        this.urlSigner = urlSigner;
        this.clock = clock;
        this.settings = settings;
        this.windows = new WindowService(store);
        this.records = new PlanRecords(store);
    }

    // ---- POST /stanzas/{stanza}/restore-plans ------------------------------------------------

    /** A chosen backup with everything needed to write its plan. */
    private record Choice(WindowBackup backup, TimelinePath path, WindowCalculator.Reach reach, Stop stop,
                          List<BackupEntry> chain, BackupManifest manifest, WindowCalculator calc) {
    }

    private static final System.Logger LOG = System.getLogger(RestorePlanner.class.getName());

    private final ThreadLocal<PlanPhases> phases = new ThreadLocal<>();

    private void mark(String phase) {
        PlanPhases p = phases.get();
        if (p != null) {
            p.mark(phase);
        }
    }

    public Created create(String stanzaText, PlanRequest request, String caller) {
        phases.set(new PlanPhases());
        try {
            Created c = createTimed(stanzaText, request, caller);
            LOG.log(System.Logger.Level.INFO, "plan {0} timings: {1}", c.plan().planId(), phases.get().done());
            return c;
        } finally {
            phases.remove();
        }
    }

    private Created createTimed(String stanzaText, PlanRequest request, String caller) {
        StanzaName stanza;
        try {
            stanza = StanzaName.of(stanzaText);
        } catch (IllegalArgumentException e) {
            throw CatalogException.badRequest(e.getMessage());
        }
        String pk = Keys.pk(stanza);
        StanzaMeta meta = store.get(pk, Keys.META).map(StanzaMeta::fromItem).orElseThrow(() -> new CatalogException(
                CatalogException.Kind.NOT_FOUND, "no stanza '" + stanza + "'; run tidemark stanza-create"));
        List<TimelineAggregate> timelines = windows.timelines(meta);
        List<WindowBackup> backups = windows.backups(meta).orElseGet(() -> windows.validBackups(meta));
        WindowCalculator calc = windows.calculator(meta, timelines);
        mark("catalog");
        List<WindowBackup> candidates = new ArrayList<>(WindowCalculator.withCompleteChains(backups));
        candidates.sort(Comparator.comparing(WindowBackup::label).reversed());
        RecoveryRequest r = request.recovery();
        if (request.backup().isPresent()) {
            BackupLabelName wanted = request.backup().get();
            candidates.removeIf(b -> !b.label().equals(wanted));
            if (candidates.isEmpty()) {
                throw NearestPoints.unreachable(calc, backups, r, null, "backup " + wanted + " is not a valid backup of stanza "
                        + stanza + " (unknown, not validated yet, invalid, or an earlier backup of its chain is not valid)");
            }
        }
        TargetSearch targets = new TargetSearch(store, objects, settings, meta, calc);
        List<String> reasons = new ArrayList<>();
        for (WindowBackup b : candidates) {
            TimelineId tli = resolveTimeline(calc, r.timeline(), b);
            Optional<TimelinePath> path = calc.path(tli);
            if (path.isEmpty()) {
                reasons.add(b.label() + ": timeline " + tli + " has no archived history file");
                continue;
            }
            Optional<WindowCalculator.Reach> reach = calc.reach(path.get(), b);
            if (reach.isEmpty()) {
                reasons.add(b.label() + ": not on the history of timeline " + tli);
                continue;
            }
            Optional<Stop> stop = targets.stop(r, reach.get());
            if (stop.isEmpty()) {
                continue;
            }
            mark("target");
            Optional<Choice> choice = complete(meta, b, path.get(), reach.get(), stop.get(), reasons, calc);
            mark("chain+manifest");
            if (choice.isPresent()) {
                return write(meta, r, choice.get(), caller);
            }
        }
        String why = targets.why(r).orElse("no valid backup reaches it");
        if (candidates.isEmpty()) {
            why = "the stanza has no valid backup";
        }
        TargetUnreachableException e = NearestPoints.unreachable(calc, backups, r, targets.targetLsn(r),
                "target " + describe(r) + " is not reachable: " + why
                        + (reasons.isEmpty() ? "" : " (" + String.join("; ", reasons.subList(0, Math.min(5, reasons.size()))) + ")"));
        if (targets.nearestBeforeGap().isPresent()) {
            // latest refused at a gap: nothing is reachable after it, the end before it is the nearest point
            throw new TargetUnreachableException(e.getMessage(), e.window(), targets.nearestBeforeGap().get(), null);
        }
        throw e;
    }

    private static TimelineId resolveTimeline(WindowCalculator calc, TimelineTarget t, WindowBackup b) {
        return switch (t) {
            case TimelineTarget.Latest l -> calc.newest(b.timeline());
            case TimelineTarget.Current c -> b.timeline();
            case TimelineTarget.Numbered n -> n.timeline();
        };
    }

    private static String describe(RecoveryRequest r) {
        String v = r.target().value();
        return r.target().type() + (v == null ? "" : " " + v) + (r.exclusive() ? " (exclusive)" : "")
                + " on timeline " + r.timeline().text();
    }

    /** Checks the chain at plan time and reads the manifest; empty (with a reason) when the backup cannot be used. */
    private Optional<Choice> complete(StanzaMeta meta, WindowBackup b, TimelinePath path, WindowCalculator.Reach reach,
                                      Stop stop, List<String> reasons, WindowCalculator calc) {
        String pk = Keys.pk(meta.stanza());
        Map<String, BackupEntry> chain = new LinkedHashMap<>();
        List<String> todo = new ArrayList<>(List.of(b.label().toString()));
        while (!todo.isEmpty()) {
            String label = todo.removeFirst();
            if (chain.containsKey(label)) {
                continue;
            }
            Optional<BackupEntry> e = store.get(pk, Keys.backup(BackupLabelName.parse(label))).map(BackupEntry::fromItem);
            if (e.isEmpty() || !BackupEntry.VALID.equals(e.get().status())) {
                reasons.add(b.label() + ": backup " + label + " of its chain is " + e.map(BackupEntry::status).orElse("missing"));
                return Optional.empty();
            }
            chain.put(label, e.get());
            todo.addAll(e.get().references());
            if (e.get().prior() != null) {
                todo.add(e.get().prior());
            }
        }
        BackupEntry self = chain.get(b.label().toString());
        // the version of the manifest that was validated (a later upload of the key is not that backup)
        String manifestVersion = store.get(pk, Keys.backup(b.label()))
                .flatMap(i -> i.string(io.tidemark.functions.validate.BackupValidator.MANIFEST_VERSION_ID)).orElse(null);
        Optional<ObjectStore.StoredObject> o = objects.get(self.manifestKey() != null ? self.manifestKey()
                : StorageLayout.manifestKey(meta.stanza(), b.label()), manifestVersion);
        if (o.isEmpty() || (self.manifestSha256() != null && !self.manifestSha256().equals(sha256(o.get().content())))) {
            reasons.add(b.label() + ": its manifest is missing or changed since it was validated");
            return Optional.empty();
        }
        BackupManifest m;
        try {
            m = ManifestJson.read(o.get().content());
        } catch (ManifestException e) {
            reasons.add(b.label() + ": its manifest cannot be read: " + e.getMessage());
            return Optional.empty();
        }
        return Optional.of(new Choice(b, path, reach, stop, List.copyOf(chain.values()), m, calc));
    }

    private Created write(StanzaMeta meta, RecoveryRequest r, Choice c, String caller) {
        StanzaName stanza = meta.stanza();
        String pk = Keys.pk(stanza);
        Map<String, Compression> compressionOf = new HashMap<>();
        for (BackupEntry e : c.chain()) {
            compressionOf.put(e.label(), Compression.fromExtension(e.compression() == null ? "zst" : e.compression()));
        }
        // the versions the validator checked, per backup of the chain (none: the store keeps no versions)
        Map<String, String> objectVersions = new HashMap<>();
        io.tidemark.functions.catalog.ObjectVersions recorded = new io.tidemark.functions.catalog.ObjectVersions(store);
        for (BackupEntry e : c.chain()) {
            objectVersions.putAll(recorded.get(pk, BackupLabelName.parse(e.label())));
        }
        List<PlanFile> files = new ArrayList<>();
        for (ManifestFile f : c.manifest().files()) {
            BackupLabelName ref = f.reference();
            Compression comp = compressionOf.getOrDefault(ref.toString(), c.manifest().compression());
            String key = f.isBundled() ? StorageLayout.bundleKey(stanza, ref, f.bundle().getAsInt(), comp)
                    : StorageLayout.backupFileKey(stanza, ref, f.path(), comp);
            files.add(new PlanFile(f.path(), f.size(), f.sha256(), ref, key, comp, f.isBundled(), f.bundleOffset(),
                    f.storedSize(), f.storedSha256(), objectVersions.get(key),
                    f.blocks().map(map -> planBlocks(stanza, f, map, compressionOf, c.manifest().compression(), objectVersions))));
        }
        mark("files");
        WalListing listing = WalListing.list(store, settings.maxWal(), meta, c.path(), c.reach().startSegment(),
                Math.min(c.stop().lastSegment(), c.reach().archivedEnd()));
        List<PlanWal> wal = new ArrayList<>(WalListing.histories(store, meta, c.path()));
        wal.addAll(listing.segments());
        // segments known only from streamed chunks (issue 17): assembled by archive-get, never capped
        wal.addAll(WalListing.streamed(store, meta, c.calc(), c.reach(), c.reach().startSegment(), c.stop().lastSegment()));
        mark("wal");

        Instant now = clock.instant().truncatedTo(ChronoUnit.MILLIS);
        String planId = UUID.randomUUID().toString();
        List<BackupLabelName> chainLabels = c.chain().stream().map(e -> BackupLabelName.parse(e.label())).sorted().toList();
        String reachability = c.stop().why() + "; backup " + c.backup().label() + " is consistent at "
                + c.backup().stopLsn() + " (" + c.backup().stopTime() + ")"
                + (listing.truncated() ? "; WAL is listed through " + listing.lastListed() + " of "
                + listing.lastNeeded() + " (cap " + settings.maxWal()
                + "): archive-get fetches later segments with the node's own read access" : "");
        RestorePlan plan = new RestorePlan(RestorePlan.FORMAT_VERSION, planId, stanza, meta.systemIdentifier(),
                c.manifest().pgVersionNum(), meta.walSegmentSize(), now, now.plus(settings.planTtl()), r,
                c.path().target(), c.backup().label(), chainLabels, c.manifest().startLsn(), c.manifest().stopLsn(),
                c.manifest().timeline(), c.manifest().backupLabel(), c.manifest().tablespaceMap(),
                c.manifest().tablespaces(), c.manifest().directories(), files, wal,
                PinnedSettings.of(r, c.path().target(), c.stop().pin()),
                reachability, WalListing.ranges(c.path(), c.reach().startSegment(), c.stop().lastSegment(), meta.walSegmentSize()));
        ObjectNode document = RestorePlanJson.toJson(plan);
        ObjectNode envelope = SignedEnvelope.sign(document, signer);
        mark("sign");

        Map<String, String> keys = new java.util.LinkedHashMap<>();
        files.forEach(f -> keys.put(f.key(), f.versionId()));
        files.forEach(f -> f.blocks().ifPresent(b -> b.blocks().forEach(k -> keys.put(k.key(), k.versionId()))));
        wal.forEach(w -> keys.put(w.key(), w.versionId()));
        wal.forEach(w -> w.chunks().forEach(ch -> keys.put(ch.key(), ch.versionId())));
        records.put(pk, new PlanRecords.Record(planId, stanza.value(), now, plan.expiresAt(), caller,
                c.backup().label().toString(), c.path().target().value(), describe(r),
                sha256(CanonicalJson.canonicalize(document)), PlanRecords.objectLines(keys)));
        mark("record");
        UrlSigner.Signed signed = presign(keys);
        // a URL dies with the session keys that signed it: the node renews them by then
        Instant urlsExpireAt = signed.validUntil(now.plus(settings.urlTtl()));
        mark("presign");
        return new Created(plan, envelope, signed.urls(), urlsExpireAt);
    }

    /** Each block of a block-mapped file at the object of the backup that stores it. */
    private static io.tidemark.events.plan.PlanBlocks planBlocks(StanzaName stanza, ManifestFile f,
                                                                 io.tidemark.events.backup.BlockMap map,
                                                                 Map<String, Compression> compressionOf, Compression fallback,
                                                                 Map<String, String> objectVersions) {
        List<io.tidemark.events.plan.PlanBlocks.Block> blocks = new ArrayList<>(map.blocks().size());
        for (io.tidemark.events.backup.BlockMap.Block b : map.blocks()) {
            Compression comp = compressionOf.getOrDefault(b.reference().toString(), fallback);
            String key = StorageLayout.backupFileKey(stanza, b.reference(), f.path(), comp);
            blocks.add(new io.tidemark.events.plan.PlanBlocks.Block(b.reference(), key, objectVersions.get(key), b.offset(),
                    b.storedSize(), b.sha256()));
        }
        return new io.tidemark.events.plan.PlanBlocks(map.blockSize(), blocks);
    }

    /** URLs of {@code versionsByKey}, each naming its version when it has one. */
    private UrlSigner.Signed presign(Map<String, String> versionsByKey) {
        return urlSigner.signVersions(versionsByKey, settings.urlTtl());
    }

    // ---- targets ---------------------------------------------------------------------------------

    // ---- 422 -------------------------------------------------------------------------------------

    // ---- GET /restore-plans/{id}/urls ---------------------------------------------------------------

    /** Fresh URLs for a stored plan ({@link PlanRenewal}: 404, 410, 403 as it says). */
    public Renewed renew(String planId, String caller, String stanza) {
        return new PlanRenewal(records, urlSigner, clock, settings).renew(planId, caller, stanza);
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

}
