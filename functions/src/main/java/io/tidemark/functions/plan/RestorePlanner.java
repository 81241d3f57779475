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
import io.tidemark.events.plan.PlanWalRange;
import io.tidemark.events.plan.RecoveryRequest;
import io.tidemark.events.plan.RestorePlan;
import io.tidemark.events.plan.RestorePlanJson;
import io.tidemark.events.plan.RestoreTarget;
import io.tidemark.events.plan.TimelineTarget;
import io.tidemark.events.sign.DocumentSigner;
import io.tidemark.events.sign.SignedEnvelope;
import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.events.wal.WalSegmentSize;
import io.tidemark.events.wal.scan.TransactionEnd;
import io.tidemark.events.wal.scan.WalScanner;
import io.tidemark.events.wal.scan.WalSegmentSummary;
import io.tidemark.functions.catalog.BackupEntry;
import io.tidemark.functions.catalog.CatalogException;
import io.tidemark.functions.catalog.CatalogStore;
import io.tidemark.functions.catalog.Item;
import io.tidemark.functions.catalog.Keys;
import io.tidemark.functions.catalog.ObjectStore;
import io.tidemark.functions.catalog.StanzaMeta;
import io.tidemark.functions.catalog.TimelineAggregate;
import io.tidemark.functions.index.LoadedObject;
import io.tidemark.functions.window.RecoveryWindow;
import io.tidemark.functions.window.TimelinePath;
import io.tidemark.functions.window.WindowBackup;
import io.tidemark.functions.window.WindowCalculator;
import io.tidemark.functions.window.WindowInterval;
import io.tidemark.functions.window.WindowPoint;
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
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;
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

    /**
     * Where recovery stops, as proven for one backup: the last path segment recovery reads, and for
     * {@code latest} the start of the last complete record of the contiguous WAL (null: none known),
     * which the plan pins as an inclusive LSN target.
     */
    private record Stop(long lastSegment, String why, Lsn pin) {
        Stop(long lastSegment, String why) {
            this(lastSegment, why, null);
        }
    }

    /** A chosen backup with everything needed to write its plan. */
    private record Choice(WindowBackup backup, TimelinePath path, WindowCalculator.Reach reach, Stop stop,
                          List<BackupEntry> chain, BackupManifest manifest) {
    }

    private static final System.Logger LOG = System.getLogger(RestorePlanner.class.getName());

    /** Phase timings of one request, logged with the plan (the benchmark reads them). */
    private static final class Phases {
        private final long start = System.nanoTime();
        private long last = start;
        private final StringBuilder out = new StringBuilder();

        void mark(String phase) {
            long now = System.nanoTime();
            out.append(phase).append('=').append((now - last) / 1_000_000).append("ms ");
            last = now;
        }

        String done() {
            return out.append("total=").append((System.nanoTime() - start) / 1_000_000).append("ms").toString();
        }
    }

    private final ThreadLocal<Phases> phases = new ThreadLocal<>();

    private void mark(String phase) {
        Phases p = phases.get();
        if (p != null) {
            p.mark(phase);
        }
    }

    public Created create(String stanzaText, PlanRequest request, String caller) {
        phases.set(new Phases());
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
                throw unreachable(calc, backups, r, null, "backup " + wanted + " is not a valid backup of stanza "
                        + stanza + " (unknown, not validated yet, invalid, or an earlier backup of its chain is not valid)");
            }
        }
        Targets targets = new Targets(meta, calc);
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
            Optional<Choice> choice = complete(meta, b, path.get(), reach.get(), stop.get(), reasons);
            mark("chain+manifest");
            if (choice.isPresent()) {
                return write(meta, r, choice.get(), caller);
            }
        }
        String why = targets.why(r).orElse("no valid backup reaches it");
        if (candidates.isEmpty()) {
            why = "the stanza has no valid backup";
        }
        TargetUnreachableException e = unreachable(calc, backups, r, targets.targetLsn(r),
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
                                      Stop stop, List<String> reasons) {
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
        return Optional.of(new Choice(b, path, reach, stop, List.copyOf(chain.values()), m));
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
        WalListing listing = listWal(meta, c.path(), c.reach().startSegment(), c.stop().lastSegment());
        List<PlanWal> wal = new ArrayList<>(histories(meta, c.path()));
        wal.addAll(listing.segments());
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
                pinnedSettings(r, c.path().target(), c.stop().pin()),
                reachability, walRanges(c.path(), c.reach().startSegment(), c.stop().lastSegment(), meta.walSegmentSize()));
        ObjectNode document = RestorePlanJson.toJson(plan);
        ObjectNode envelope = SignedEnvelope.sign(document, signer);
        mark("sign");

        Map<String, String> keys = new java.util.LinkedHashMap<>();
        files.forEach(f -> keys.put(f.key(), f.versionId()));
        files.forEach(f -> f.blocks().ifPresent(b -> b.blocks().forEach(k -> keys.put(k.key(), k.versionId()))));
        wal.forEach(w -> keys.put(w.key(), w.versionId()));
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

    private record WalListing(List<PlanWal> segments, boolean truncated, String lastListed, String lastNeeded) {
    }

    /** The WAL items from {@code from} to {@code to} along the path (a Query per timeline part), at most maxWal. */
    private WalListing listWal(StanzaMeta meta, TimelinePath path, long from, long to) {
        String pk = Keys.pk(meta.stanza());
        WalSegmentSize size = meta.walSegmentSize();
        long last = Math.min(to, from + settings.maxWal() - 1);
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
     * Every segment recovery needs, per timeline part of the path, from {@code from} through
     * {@code to}: uncapped, so that archive-get never answers "not archived" for a segment beyond
     * the capped WAL list that the plan promised.
     */
    private static List<PlanWalRange> walRanges(TimelinePath path, long from, long to, WalSegmentSize size) {
        List<PlanWalRange> out = new ArrayList<>();
        for (TimelinePath.Part p : path.partsBetween(from, to)) {
            out.add(new PlanWalRange(WalSegmentName.of(p.timeline(), Math.max(from, p.firstSegment()), size).toString(),
                    WalSegmentName.of(p.timeline(), Math.min(to, p.lastSegment()), size).toString()));
        }
        return out;
    }

    /** The history files of the target timeline and its ancestors (timeline 1 has none). */
    private List<PlanWal> histories(StanzaMeta meta, TimelinePath path) {
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

    // ---- targets ---------------------------------------------------------------------------------

    /** Per-request lookups (restore points, the xid record) done once and reused across backups. */
    private final class Targets {
        private final StanzaMeta meta;
        private final WindowCalculator calc;
        private List<RestorePointHit> restorePoints;
        private final Map<Long, Optional<XidHit>> xids = new HashMap<>();
        private String why;
        /** For {@code latest} refused because archived WAL continues past a gap: the end before the gap. */
        private WindowPoint nearest;
        private final LatestGap latestGap;

        Targets(StanzaMeta meta, WindowCalculator calc) {
            this.meta = meta;
            this.calc = calc;
            this.latestGap = new LatestGap(store, Keys.pk(meta.stanza()), calc);
        }

        Optional<WindowPoint> nearestBeforeGap() {
            return Optional.ofNullable(nearest);
        }

        Optional<String> why(RecoveryRequest r) {
            return Optional.ofNullable(why);
        }

        /** The LSN the target stands for, when it has one (for the nearest points). */
        Lsn targetLsn(RecoveryRequest r) {
            return switch (r.target()) {
                case RestoreTarget.AtLsn l -> l.lsn();
                case RestoreTarget.AtName n -> restorePoints == null || restorePoints.isEmpty() ? null
                        : restorePoints.getFirst().lsn();
                case RestoreTarget.AtXid x -> xids.values().stream().flatMap(Optional::stream).map(XidHit::lsn)
                        .findFirst().orElse(null);
                default -> null;
            };
        }

        Optional<Stop> stop(RecoveryRequest r, WindowCalculator.Reach reach) {
            WindowPoint start = reach.start();
            WindowPoint end = reach.end();
            long e = reach.endSegment();
            WalSegmentSize size = calc.segmentSize();
            return switch (r.target()) {
                case RestoreTarget.Latest l -> {
                    Lsn pin = lastCompleteRecord(reach.path(), e);
                    Optional<String> gap = latestGap.check(reach, pin, r.timeline() instanceof TimelineTarget.Latest);
                    if (gap.isPresent()) {
                        // the backup reaching furthest says it (the newest is asked first)
                        if (nearest == null || end.lsn().isAfter(nearest.lsn())) {
                            why = gap.get();
                            nearest = end;
                        }
                        yield Optional.empty();
                    }
                    yield Optional.of(new Stop(e, "latest: all WAL contiguous from the backup, to "
                            + end.lsn() + (end.time() == null ? "" : " (last commit " + end.time() + ")")
                            + (pin == null ? "; not pinned: the index has no record positions for its last segment"
                            : "; pinned to the record at " + pin), pin));
                }
                case RestoreTarget.Immediate i -> Optional.of(new Stop(
                        Math.max(reach.startSegment(), size.segmentNumberOf(Lsn.of(start.lsn().value() - 1))),
                        "immediate: the backup's consistent point " + start.lsn()));
                case RestoreTarget.AtLsn l -> {
                    if (l.lsn().isBefore(start.lsn())) {
                        why = "LSN " + l.lsn() + " precedes the consistent point of every backup that could reach it";
                        yield Optional.empty();
                    }
                    if (!l.lsn().isBefore(end.lsn())) {
                        why = "LSN " + l.lsn() + " is at or after the end of the contiguous archived WAL";
                        yield Optional.empty();
                    }
                    yield Optional.of(new Stop(Math.min(e, size.segmentNumberOf(l.lsn()) + 1),
                            "lsn " + l.lsn() + " lies between " + start.lsn() + " and " + end.lsn()));
                }
                case RestoreTarget.AtTime t -> {
                    Instant at = t.time().truncatedTo(ChronoUnit.MICROS);
                    if (at.isBefore(start.time())) {
                        why = "time " + at + " precedes the consistent point of every backup that could reach it";
                        yield Optional.empty();
                    }
                    OptionalLong seg = firstCommitAfter(reach, at, r.exclusive());
                    if (seg.isEmpty()) {
                        why = "no commit " + (r.exclusive() ? "at or after " : "after ") + at
                                + " in the contiguous archived WAL (recovery would end before reaching the target)";
                        yield Optional.empty();
                    }
                    yield Optional.of(new Stop(Math.min(e, seg.getAsLong() + 1), "time " + at + ": a commit "
                            + (r.exclusive() ? "at or after" : "after") + " it is archived in segment "
                            + WalSegmentName.of(reach.path().partOfSegment(seg.getAsLong()).timeline(), seg.getAsLong(),
                            size)));
                }
                case RestoreTarget.AtXid x -> {
                    Optional<XidHit> hit = xids.computeIfAbsent(reach.path().target().value(),
                            k -> findXid(reach.path(), x.xid() & 0xFFFFFFFFL));
                    if (hit.isEmpty()) {
                        why = "no commit or abort record of xid " + x.xid() + " in the archived WAL of timeline "
                                + reach.path().target() + "'s history";
                        yield Optional.empty();
                    }
                    XidHit h = hit.get();
                    if (h.lsn().isBefore(start.lsn()) || h.segment() < reach.startSegment() || h.segment() > e) {
                        why = "the " + h.kind() + " of xid " + x.xid() + " at " + h.lsn()
                                + " is not between a backup's consistent point and the end of its contiguous WAL";
                        yield Optional.empty();
                    }
                    yield Optional.of(new Stop(Math.min(e, h.segment() + 1), "xid " + x.xid() + ": its " + h.kind()
                            + " record is at " + h.lsn() + (h.time() == null ? "" : " (" + h.time() + ")")));
                }
                case RestoreTarget.AtName n -> {
                    if (restorePoints == null) {
                        restorePoints = restorePoints(n.name());
                    }
                    TimelinePath path = reach.path();
                    Optional<RestorePointHit> first = restorePoints.stream()
                            .filter(p -> path.timelineAt(p.lsn()).equals(p.timeline()))
                            .filter(p -> !p.lsn().isBefore(reach.backup().startLsn()))
                            .min(Comparator.comparing(RestorePointHit::lsn));
                    if (first.isEmpty()) {
                        why = restorePoints.isEmpty() ? "no restore point named '" + n.name() + "' is archived"
                                : "no restore point named '" + n.name() + "' after a backup's start on timeline "
                                + path.target() + "'s history";
                        yield Optional.empty();
                    }
                    RestorePointHit p = first.get();
                    if (p.lsn().isBefore(start.lsn())) {
                        why = "restore point '" + n.name() + "' at " + p.lsn() + " precedes the consistent point "
                                + start.lsn() + " of the backup that reads it first";
                        yield Optional.empty();
                    }
                    if (p.segment() > e) {
                        why = "restore point '" + n.name() + "' at " + p.lsn() + " is beyond the contiguous WAL";
                        yield Optional.empty();
                    }
                    yield Optional.of(new Stop(Math.min(e, p.segment() + 1), "name '" + n.name() + "': restore point at "
                            + p.lsn() + (p.time() == null ? "" : " (" + p.time() + ")")));
                }
            };
        }

        /**
         * The start of the last record that lies wholly in segment {@code seg} of the path, or null
         * when the index does not know. {@code latest} pins it as an inclusive LSN target, so that
         * PostgreSQL stops right after applying it, and fails instead of promoting when the WAL it
         * can read ends before it. The indexer finishes a record running into the next segment
         * when that object is in the bucket; that segment may still not count as archived (damaged,
         * gone, not indexed yet), and recovery could not read that record: the segment is then
         * scanned alone for its last complete record.
         */
        private Lsn lastCompleteRecord(TimelinePath path, long seg) {
            String pk = Keys.pk(meta.stanza());
            WalSegmentSize size = calc.segmentSize();
            WalSegmentName name = WalSegmentName.of(path.partOfSegment(seg).timeline(), seg, size);
            Optional<Item> item = store.get(pk, Keys.wal(name));
            if (item.isEmpty()) {
                return null;
            }
            Optional<Lsn> last = item.get().string("lastRecordLsn").map(Lsn::parse);
            Optional<Lsn> end = item.get().string("endLsn").map(Lsn::parse);
            if (last.isPresent() && end.isPresent() && !end.get().isAfter(size.segmentStart(seg + 1))) {
                return last.get();
            }
            return load(item.get(), size)
                    .map(raw -> WalScanner.scan(raw, raw.length, name.toString(), null).lastRecordLsn())
                    .orElse(null);
        }

        /** The first segment (path order) in the reach holding a commit after {@code t}: a Query per timeline part. */
        private OptionalLong firstCommitAfter(WindowCalculator.Reach reach, Instant t, boolean exclusive) {
            String pk = Keys.pk(meta.stanza());
            long micros = Keys.epochMicros(t) + (exclusive ? 0 : 1);
            for (TimelinePath.Part p : reach.path().partsBetween(reach.startSegment(), reach.endSegment())) {
                long lo = Math.max(reach.startSegment(), p.firstSegment());
                long hi = Math.min(reach.endSegment(), p.lastSegment());
                String prefix = Keys.commitTimePrefix(p.timeline());
                String from = prefix + Keys.micros(micros) + "#";
                for (int page = 0; page < 8; page++) {
                    // Commit times grow with segments: the first few items after T are the answer.
                    int limit = page == 0 ? 16 : 256;
                    List<Item> items = store.queryPage(pk, from, prefix + "~", false, limit);
                    long best = Long.MAX_VALUE;
                    for (Item i : items) {
                        long seg = i.number("segmentNumber").orElse(-1L);
                        if (seg >= lo && seg <= hi) {
                            best = Math.min(best, seg);
                        }
                    }
                    if (best != Long.MAX_VALUE) {
                        return OptionalLong.of(best);
                    }
                    if (items.size() < limit) {
                        break;
                    }
                    from = items.getLast().sk() + "!";
                }
            }
            return OptionalLong.empty();
        }

        private List<RestorePointHit> restorePoints(String name) {
            List<RestorePointHit> out = new ArrayList<>();
            for (Item i : store.query(Keys.pk(meta.stanza()), Keys.restorePointPrefix(name))) {
                if (!name.equals(i.string("name").orElse(null))) {
                    continue;
                }
                out.add(new RestorePointHit(Lsn.parse(i.string("lsn").orElseThrow()),
                        TimelineId.of(i.number("timeline").orElseThrow()), i.number("segmentNumber").orElseThrow(),
                        i.string("time").map(Instant::parse).orElse(null)));
            }
            return out;
        }

        /**
         * Proves an xid: candidate segments (XIDMAX items with minXid <= xid <= maxXid, archived on the
         * path) in path order, downloaded and scanned until the commit or abort record is found.
         */
        private Optional<XidHit> findXid(TimelinePath path, long xid) {
            String pk = Keys.pk(meta.stanza());
            WalSegmentSize size = meta.walSegmentSize();
            TreeSet<Long> candidates = new TreeSet<>();
            for (TimelinePath.Part p : path.parts()) {
                String prefix = Keys.xidMaxPrefix(p.timeline());
                String from = prefix + Keys.xid(xid) + "#";
                for (int page = 0; page < 8; page++) {
                    List<Item> items = store.queryPage(pk, from, prefix + "~", false, 1000);
                    for (Item i : items) {
                        long seg = i.number("segmentNumber").orElse(-1L);
                        long min = i.number("minXid").orElse(Long.MAX_VALUE);
                        if (min <= xid && p.holdsSegment(seg) && calc.archived(path, seg)) {
                            candidates.add(seg);
                        }
                    }
                    if (items.size() < 1000) {
                        break;
                    }
                    from = items.getLast().sk() + "!";
                }
            }
            int scanned = 0;
            for (long seg : candidates) {
                if (scanned++ >= settings.maxXidScans()) {
                    break;
                }
                TimelineId tli = path.partOfSegment(seg).timeline();
                WalSegmentName name = WalSegmentName.of(tli, seg, size);
                Optional<WalSegmentSummary> s = scan(pk, name, size);
                if (s.isEmpty()) {
                    continue;
                }
                for (TransactionEnd t : s.get().transactions()) {
                    if (t.xid() == xid) {
                        return Optional.of(new XidHit(t.lsn(), t.time(), t.isCommit() ? "commit" : "abort", seg));
                    }
                }
            }
            return Optional.empty();
        }

        private Optional<WalSegmentSummary> scan(String pk, WalSegmentName name, WalSegmentSize size) {
            Optional<Item> item = store.get(pk, Keys.wal(name));
            if (item.isEmpty()) {
                return Optional.empty();
            }
            Optional<byte[]> raw = load(item.get(), size);
            if (raw.isEmpty()) {
                return Optional.empty();
            }
            WalSegmentSummary alone = WalScanner.scan(raw.get(), raw.get().length, name.toString(), null);
            if (alone.continuesAt() == null) {
                return Optional.of(alone);
            }
            Optional<byte[]> next = store.get(pk, Keys.wal(name.next())).flatMap(i -> load(i, size));
            return Optional.of(next.isEmpty() ? alone
                    : WalScanner.scan(raw.get(), raw.get().length, name.toString(), next.get()));
        }

        private Optional<byte[]> load(Item i, WalSegmentSize size) {
            Optional<LoadedObject> o = LoadedObject.load(objects, i.string("key").orElseThrow(),
                    Compression.fromExtension(i.string("compression").orElseThrow()), size.bytes(), size.bytes());
            return o.filter(LoadedObject::ok).map(LoadedObject::raw);
        }
    }

    private record RestorePointHit(Lsn lsn, TimelineId timeline, long segment, Instant time) {
    }

    private record XidHit(Lsn lsn, Instant time, String kind, long segment) {
    }

    // ---- 422 -------------------------------------------------------------------------------------

    private TargetUnreachableException unreachable(WindowCalculator calc, List<WindowBackup> backups, RecoveryRequest r,
                                                   Lsn targetLsn, String message) {
        RecoveryWindow window = calc.compute(backups);
        TimelineId tli = switch (r.timeline()) {
            case TimelineTarget.Numbered n -> n.timeline();
            default -> window.timelines().isEmpty() ? TimelineId.FIRST
                    : (r.timeline() instanceof TimelineTarget.Latest ? window.timelines().getLast().timeline()
                    : backups.stream().max(Comparator.comparing(WindowBackup::label)).map(WindowBackup::timeline)
                    .orElse(TimelineId.FIRST));
        };
        List<WindowInterval> intervals = window.timeline(tli).map(RecoveryWindow.TimelineWindow::intervals).orElse(List.of());
        WindowPoint before = null;
        WindowPoint after = null;
        if (r.target() instanceof RestoreTarget.AtTime t) {
            Instant at = t.time();
            for (WindowInterval i : intervals) {
                if (i.end().time() != null && !i.end().time().isAfter(at)) {
                    before = i.end();
                } else if (i.start().time() != null && !i.start().time().isAfter(at)) {
                    before = i.end().time() == null ? i.start() : i.end();
                }
                if (after == null && i.start().time() != null && i.start().time().isAfter(at)) {
                    after = i.start();
                }
            }
        } else if (targetLsn != null) {
            for (WindowInterval i : intervals) {
                if (!i.start().lsn().isAfter(targetLsn)) {
                    before = i.end().lsn().isAfter(targetLsn) ? i.start() : i.end();
                }
                if (after == null && i.start().lsn().isAfter(targetLsn)) {
                    after = i.start();
                }
            }
        }
        return new TargetUnreachableException(message, window, before, after);
    }

    // ---- GET /restore-plans/{id}/urls ---------------------------------------------------------------

    /**
     * Fresh URLs for a stored plan. 404: unknown (or {@code stanza} given and not the plan's); 410:
     * expired; 403: the plan is bound to the principal that asked for it (its {@code createdBy})
     * and the caller is another principal, or the request names no caller at all (IAM cannot
     * scope this route to a stanza, and an id can leak through logs or a saved plan file). Only
     * a plan created without any caller identity (local-cloud without enforcement) is unbound.
     */
    public Renewed renew(String planId, String caller, String stanza) {
        if (planId == null || !planId.matches("[0-9a-f-]{8,64}")) {
            throw new CatalogException(CatalogException.Kind.NOT_FOUND, "no restore plan '" + planId + "'");
        }
        PlanRecords.Record rec = records.get(planId).orElseThrow(() -> new CatalogException(
                CatalogException.Kind.NOT_FOUND, "no restore plan '" + planId + "'"));
        if (stanza != null && !stanza.equals(rec.stanza())) {
            throw new CatalogException(CatalogException.Kind.NOT_FOUND, "no restore plan '" + planId + "' of stanza '"
                    + stanza + "'");
        }
        Instant now = clock.instant();
        Instant renewableUntil = rec.planExpiresAt().plus(settings.renewalWindow());
        if (!now.isBefore(renewableUntil)) {
            throw new CatalogException(CatalogException.Kind.GONE, "restore plan " + planId + " expired at "
                    + rec.planExpiresAt() + " and its URLs could be renewed until " + renewableUntil
                    + "; ask for a new plan");
        }
        if (rec.createdBy() != null && (caller == null || !samePrincipal(caller, rec.createdBy()))) {
            throw new CatalogException(CatalogException.Kind.FORBIDDEN, "restore plan " + planId
                    + " is bound to the principal that asked for it, and "
                    + (caller == null ? "this request names no caller" : principal(caller) + " is not that principal")
                    + ": ask for a plan of your own");
        }
        UrlSigner.Signed signed = presign(PlanRecords.objectVersions(rec.keys()));
        return new Renewed(planId, signed.urls(), signed.validUntil(now.truncatedTo(ChronoUnit.MILLIS).plus(settings.urlTtl())));
    }

    /** Two caller ARNs name the same principal: an assumed role's sessions count as the role. */
    static boolean samePrincipal(String a, String b) {
        return principal(a).equals(principal(b));
    }

    static String principal(String arn) {
        // arn:aws:sts::123456789012:assumed-role/RoleName/session -> 123456789012:role/RoleName
        String[] p = arn.split(":", 6);
        if (p.length == 6 && p[2].equals("sts") && p[5].startsWith("assumed-role/")) {
            String[] r = p[5].split("/");
            return p[4] + ":role/" + (r.length > 1 ? r[1] : "");
        }
        if (p.length == 6 && p[2].equals("iam")) {
            String res = p[5];
            if (res.startsWith("role/")) {
                return p[4] + ":role/" + res.substring(res.lastIndexOf('/') + 1);
            }
        }
        return arn;
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

    /**
     * The request's recovery settings with {@code recovery_target_timeline} pinned to the timeline
     * this plan resolved ({@code latest}, {@code current} or a number): recovery then follows
     * exactly the timelines whose WAL the plan lists, even if a newer timeline is archived after
     * planning, and PostgreSQL does not probe the archive for newer history files at start.
     */
    static java.util.Map<String, String> pinnedSettings(io.tidemark.events.plan.RecoveryRequest r, TimelineId timeline) {
        return pinnedSettings(r, timeline, null);
    }

    /**
     * As {@link #pinnedSettings(RecoveryRequest, TimelineId)}, and for {@code latest} with a known
     * last record: {@code recovery_target_lsn} at its start, inclusive, with the request's action.
     * PostgreSQL (13+) then applies WAL through that record and stops there, and when the WAL it can
     * read ends first (an object gone or damaged after planning) it refuses to finish ("recovery
     * ended before configured recovery target was reached") instead of promoting short of what the
     * plan promised. WAL archived after planning is not replayed: {@code latest} means the end known
     * when the plan was made.
     */
    static java.util.Map<String, String> pinnedSettings(RecoveryRequest r, TimelineId timeline, Lsn pin) {
        java.util.Map<String, String> s = new java.util.LinkedHashMap<>(r.settings());
        s.put("recovery_target_timeline", Long.toString(timeline.value()));
        if (pin != null && r.target() instanceof RestoreTarget.Latest) {
            s.put("recovery_target_lsn", pin.toString());
            s.put("recovery_target_inclusive", "on");
            s.put("recovery_target_action", r.action().text());
        }
        return s;
    }
}
