package io.tidemark.functions.validate;

import io.tidemark.events.backup.BackupManifest;
import io.tidemark.events.backup.ManifestException;
import io.tidemark.events.backup.ManifestFile;
import io.tidemark.events.backup.ManifestJson;
import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.layout.StorageKey;
import io.tidemark.events.layout.StorageKeyException;
import io.tidemark.events.layout.StorageLayout;
import io.tidemark.events.paths.SafeRelativePath;
import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.events.wal.WalSegmentSize;
import io.tidemark.functions.catalog.BackupEntry;
import io.tidemark.functions.catalog.BackupLease;
import io.tidemark.functions.catalog.CatalogStore;
import io.tidemark.functions.catalog.Item;
import io.tidemark.functions.catalog.ItemMerger;
import io.tidemark.functions.catalog.Keys;
import io.tidemark.functions.catalog.ObjectStore;
import io.tidemark.functions.catalog.ObjectVersions;
import io.tidemark.functions.catalog.RefusedUploads;
import io.tidemark.functions.catalog.StanzaMeta;
import io.tidemark.functions.catalog.UnknownStanzaException;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.function.ToIntFunction;

/**
 * Validates a base backup when its manifest arrives, and finishes the validation of backups that
 * wait for WAL or for an earlier backup of their chain. See {@code docs/backup-validation.md}.
 *
 * <h2>What makes a backup valid</h2>
 * <ol>
 *   <li>The manifest parses ({@link ManifestJson#read}: schema, chain rules, safe paths); its stanza
 *       and label are those of its key; its system identifier, PostgreSQL major version and WAL
 *       segment size are the stanza's.</li>
 *   <li>Every object the backup stores itself exists, has the manifest's stored size and SHA-256,
 *       and every bundled file's slice has its SHA-256 ({@link ObjectVerifier}: downloaded and
 *       hashed, never trusted from metadata).</li>
 *   <li>Every file stored by an earlier backup is listed, identically, in that backup's manifest.</li>
 *   <li>The prior backup and every referenced backup are {@code valid}.</li>
 *   <li>Every WAL segment from the one containing the start LSN to the one ending at the stop
 *       LSN, on the backup's timeline, is in the catalog with {@code status=archived}.</li>
 * </ol>
 * A failure of 1-3, or an invalid or missing earlier backup, makes it {@code invalid} with every
 * reason. Missing WAL makes it {@code waiting-wal}, an earlier backup still being validated
 * {@code validating} (or {@code waiting-wal} when that one waits for WAL).
 *
 * <h2>Waiting and resuming</h2>
 * A waiting backup also gets a {@code WAIT#<label>} item holding everything the last two checks
 * need. The WAL indexer, after storing a segment, calls {@link #walArchived}: it Queries the
 * stanza's few {@code WAIT#} items and resumes those whose WAL range holds the segment. A backup
 * that becomes final resumes the backups waiting for it. Resuming re-runs checks 4 and 5 only:
 * the objects were verified when the manifest arrived. Both sides write first and look second
 * (the indexer stores the segment, then reads {@code WAIT#}; the validator stores {@code WAIT#},
 * then reads the segments again), so a segment arriving during a validation is never missed.
 *
 * <h2>Idempotence</h2>
 * The {@code BACKUP#} item is a function of the manifest event (key, bytes, event time), the
 * objects and the catalog; {@code validatedAt} is the latest of the manifest event time, the
 * archive times of the WAL it needs and the validation times of its earlier backups, not the
 * wall clock. Items are joined ({@link #joinBackup}): a later manifest event wins; for the same
 * event the further status wins ({@code validating} &lt; {@code waiting-wal} &lt; {@code valid}
 * &lt; {@code invalid}). The same event twice, or a resume racing a validation, leaves the same item.
 *
 * <h2>Validated once, pinned to versions</h2>
 * The manifest is read in the version its event names ({@code manifestVersionId} on the item), and
 * every object the backup stores is read once, its version recorded ({@link ObjectVersions}): plans
 * of the backup name those versions. A label is validated once: a manifest event for a label that
 * already has a {@code BACKUP#} item with another manifest SHA-256 is refused (the item stays as it
 * is; one line is logged and {@code HistoryConflicts} counted, outcome {@link Outcome#CONFLICT}); the
 * same manifest uploaded again is a no-op ({@link Outcome#UNCHANGED}), except after the backup was
 * marked lost (its objects deleted or damaged): then the same bytes are validated afresh.
 */
public final class BackupValidator {

    private static final System.Logger LOG = System.getLogger(BackupValidator.class.getName());

    /** How long a finished {@code WAIT#} item stays before DynamoDB's TTL removes it. */
    static final Duration FINISHED_WAIT_TTL = Duration.ofDays(2);

    /** What one manifest event led to. */
    public enum Outcome {
        IGNORED, MISSING, VALID, INVALID, WAITING_WAL, VALIDATING,
        /** The manifest is larger than {@link #MAX_MANIFEST_BYTES}: invalid, never read. */
        OVERSIZED,
        /** A different manifest for a label already validated (or being validated): refused, alarmed. */
        CONFLICT,
        /** The same manifest uploaded again for a label already validated: nothing to do. */
        UNCHANGED
    }

    /**
     * The largest manifest read: about 200,000 file entries, far beyond a real cluster's file count,
     * and small enough to parse within the function's memory.
     */
    public static final long MAX_MANIFEST_BYTES = 64L << 20;

    /** The S3 version of the manifest that was validated (absent: the store keeps no versions). */
    public static final String MANIFEST_VERSION_ID = "manifestVersionId";

    private final ObjectStore objects;
    private final CatalogStore catalog;
    private final ItemMerger merger;
    private final RefusedUploads refusals;
    private final ObjectVerifier verifier;
    private final io.tidemark.functions.window.WindowService windows;

    private final io.tidemark.functions.retain.RetentionTrigger retention;
    private final io.tidemark.functions.metrics.StanzaHealth health;
    private final io.tidemark.functions.metrics.MetricsPublisher metrics;
    private final Duration skew;
    private final ObjectVersions versions;

    public BackupValidator(ObjectStore objects, CatalogStore catalog, int parallelism) {
        this(objects, catalog, parallelism, io.tidemark.functions.retain.RetentionTrigger.NONE);
    }

    /** @param retention started (not awaited) whenever a backup is concluded {@code valid} */
    public BackupValidator(ObjectStore objects, CatalogStore catalog, int parallelism,
                           io.tidemark.functions.retain.RetentionTrigger retention) {
        this(objects, catalog, parallelism, retention, io.tidemark.functions.metrics.MetricsPublisher.NONE);
    }

    /** @param metrics gets the age of the newest valid backup whenever a backup is concluded {@code valid} */
    public BackupValidator(ObjectStore objects, CatalogStore catalog, int parallelism,
                           io.tidemark.functions.retain.RetentionTrigger retention,
                           io.tidemark.functions.metrics.MetricsPublisher metrics) {
        this(objects, catalog, parallelism, retention, metrics, io.tidemark.functions.catalog.CloudClock.DEFAULT_SKEW);
    }

    /**
     * @param skew how far ahead of the manifest's S3 event time a node's times may be
     *             ({@link ManifestPlausibility}); refusals go to {@code metrics} as ManifestsRefused
     */
    public BackupValidator(ObjectStore objects, CatalogStore catalog, int parallelism,
                           io.tidemark.functions.retain.RetentionTrigger retention,
                           io.tidemark.functions.metrics.MetricsPublisher metrics, Duration skew) {
        this.skew = skew;
        this.metrics = metrics;
        this.retention = retention;
        this.health = new io.tidemark.functions.metrics.StanzaHealth(catalog, metrics, java.time.Clock.systemUTC());
        this.versions = new ObjectVersions(catalog);
        this.objects = objects;
        this.catalog = catalog;
        this.merger = new ItemMerger(catalog);
        this.refusals = new RefusedUploads(catalog);
        this.verifier = new ObjectVerifier(objects, parallelism);
        this.windows = new io.tidemark.functions.window.WindowService(catalog);
    }

    // ---- the manifest event --------------------------------------------------------------------

    /**
     * Validates the backup whose manifest is at {@code key}, uploaded at {@code eventTime} (null:
     * the object's last-modified time). Other keys are ignored; an unknown stanza throws
     * {@link UnknownStanzaException}.
     */
    public Outcome validate(String key, Instant eventTime) {
        return validate(key, eventTime, null, -1);
    }

    /** As {@link #validate(String, Instant, String, long)} with the manifest's size from the event. */
    public Outcome validate(String key, Instant eventTime, long size) {
        return validate(key, eventTime, null, size);
    }

    /** As {@link #validate(String, Instant, String, long)} reading version {@code versionId}. */
    public Outcome validate(String key, Instant eventTime, String versionId) {
        return validate(key, eventTime, versionId, -1);
    }

    /**
     * As {@link #validate(String, Instant)}, reading version {@code versionId} of the manifest (the
     * event's; null: the current one) with its size from the event (-1: unknown, then a HEAD asks):
     * a manifest over {@link #MAX_MANIFEST_BYTES} makes the backup invalid without being downloaded.
     */
    public Outcome validate(String key, Instant eventTime, String versionId, long size) {
        StorageKey parsed;
        try {
            parsed = StorageLayout.parse(key, stanza -> WalSegmentSize.DEFAULT);
        } catch (StorageKeyException e) {
            LOG.log(Level.INFO, "ignoring object: {0}", e.getMessage());
            return Outcome.IGNORED;
        }
        if (!(parsed instanceof StorageKey.ManifestObject mo)) {
            LOG.log(Level.DEBUG, "ignoring {0}: not a backup manifest", key);
            return Outcome.IGNORED;
        }
        StanzaMeta meta = catalog.get(Keys.pk(mo.stanza()), Keys.META).map(StanzaMeta::fromItem)
                .orElseThrow(() -> new UnknownStanzaException(mo.stanza()));
        long manifestSize = size >= 0 ? size : objects.head(key).map(ObjectStore.ObjectInfo::size).orElse(-1L);
        if (manifestSize > MAX_MANIFEST_BYTES) {
            return refuseOversized(meta, mo, key, eventTime, manifestSize);
        }
        Optional<ObjectStore.StoredObject> stored = objects.get(key, versionId);
        if (stored.isEmpty()) {
            LOG.log(Level.WARNING, "{0} is no longer in the bucket: nothing to validate", key);
            return Outcome.MISSING;
        }
        byte[] content = stored.get().content();
        String version = stored.get().versionId() != null ? stored.get().versionId() : versionId;
        Instant at = eventTime != null ? eventTime : stored.get().lastModified();
        BackupLabelName label = mo.label();
        BackupEntry base = new BackupEntry(label.toString(), label.type().name().toLowerCase(Locale.ROOT), null, null,
                null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null,
                null, null, key, ObjectVerifier.sha256Hex(content), at.toString(), null, null);

        // Visible while the objects are hashed (and known to later backups of the chain). Written
        // only if the label has no other manifest: the check and the write are one conditional write.
        BackupEntry marker = base.withOutcome(BackupEntry.VALIDATING,
                List.of("checking the manifest and every object it stores"), at.toString(), List.of(), List.of());
        Admission admission = admit(meta.stanza(), marker, version);
        if (admission != Admission.VALIDATE) {
            return admission == Admission.CONFLICT ? Outcome.CONFLICT : Outcome.UNCHANGED;
        }

        BackupManifest m;
        try {
            m = ManifestJson.read(content);
        } catch (ManifestException e) {
            return outcome(conclude(meta, base, List.of("manifest " + key + ": " + e.getMessage()), version));
        }
        BackupEntry facts = facts(base, m);
        List<String> reasons = new ArrayList<>();
        boolean identity = true;
        if (!m.stanza().equals(mo.stanza())) {
            reasons.add("the manifest is of stanza " + m.stanza() + " but is stored under " + mo.stanza());
            identity = false;
        }
        if (!m.label().equals(label)) {
            reasons.add("the manifest is of backup " + m.label() + " but is stored under " + label);
            identity = false;
        }
        if (!m.systemIdentifier().equals(meta.systemIdentifier())) {
            reasons.add("the backup is of system " + m.systemIdentifier() + ", the stanza is system "
                    + meta.systemIdentifier());
        }
        if (m.pgVersionNum() / 10000 != meta.pgVersion()) {
            reasons.add("the backup is of PostgreSQL " + m.pgVersionNum() / 10000 + " (" + m.pgVersionNum()
                    + "), the stanza is PostgreSQL " + meta.pgVersion());
        }
        if (!m.walSegmentSize().equals(meta.walSegmentSize())) {
            reasons.add("the backup has WAL segments of " + m.walSegmentSize().bytes() + " bytes, the stanza "
                    + meta.walSegmentSize().bytes());
        }
        List<String> refused = ManifestPlausibility.check(m, at, skew);
        if (!refused.isEmpty()) {
            // The cloud's clock and PostgreSQL's needs say this cannot be a real backup.
            LOG.log(Level.WARNING, "refused manifest {0}: {1}", key, String.join("; ", refused));
            metrics.count(mo.stanza(), at, io.tidemark.events.metrics.TidemarkMetric.MANIFESTS_REFUSED);
            reasons.addAll(refused);
        }
        if (identity) {
            ObjectVerifier.Checked checked = verifier.check(m);
            reasons.addAll(checked.reasons());
            reasons.addAll(checkReferencedFiles(meta, m));
            reasons.addAll(BlockMapCheck.check(m, ref -> referencedManifest(meta, m, ref)));
            Map<String, String> read = new java.util.TreeMap<>(checked.versions());
            if (version != null) {
                read.put(key, version);
            }
            if (!read.isEmpty()) {
                // stored before the verdict: a plan of a valid backup always finds its versions
                versions.put(Keys.pk(meta.stanza()), label, read);
            }
        } else {
            reasons.add("the objects were not checked: the manifest does not belong under this key");
        }
        return outcome(conclude(meta, facts, BackupEntry.capped(reasons), version));
    }

    /** What to do with a manifest event, decided against the label's {@code BACKUP#} item. */
    private enum Admission { VALIDATE, UNCHANGED, CONFLICT }

    /**
     * Stores the {@code validating} marker unless the label already has a manifest: the same event
     * again (or the same bytes after the backup was marked lost) is validated again; the same bytes
     * uploaded again are {@link Admission#UNCHANGED}; other bytes are a {@link Admission#CONFLICT}.
     */
    private Admission admit(StanzaName stanza, BackupEntry marker, String version) {
        String pk = Keys.pk(stanza);
        String sk = Keys.backup(BackupLabelName.parse(marker.label()));
        Item candidate = marker.toItem(pk, sk).with(MANIFEST_VERSION_ID, version);
        Admission[] decided = {Admission.VALIDATE};
        Item[] existing = {null};
        merger.merge(pk, sk, cur -> {
            decided[0] = cur.isEmpty() ? Admission.VALIDATE : admission(cur.get(), marker);
            existing[0] = cur.orElse(null);
            return decided[0] == Admission.VALIDATE ? joinBackup(cur, candidate) : cur.get().without(Item.REV);
        });
        if (decided[0] == Admission.CONFLICT) {
            Item e = existing[0];
            RefusedUploads.Upload upload = new RefusedUploads.Upload(marker.manifestKey(), version, null,
                    marker.manifestSha256());
            if (!refusals.firstRefusal(pk, sk, upload, e.string("manifestSha256").orElse(null), Instant.now())) {
                LOG.log(Level.INFO, "{0}: the refused manifest{1} delivered again: already counted", marker.manifestKey(),
                        version == null ? "" : " (version " + version + ")");
                return decided[0];
            }
            LOG.log(Level.WARNING, "{0}: REFUSED a second, different manifest for backup {1}: the catalog holds the"
                    + " manifest with SHA-256 {2}{3} ({4}), the new upload{5} has SHA-256 {6}; a label is validated once",
                    marker.manifestKey(), marker.label(), e.string("manifestSha256").orElse("?"),
                    e.string(MANIFEST_VERSION_ID).map(v -> " (version " + v + ")").orElse(""),
                    e.string("status").orElse("?"), version == null ? "" : " (version " + version + ")",
                    marker.manifestSha256());
            metrics.count(stanza, Instant.now(), io.tidemark.events.metrics.TidemarkMetric.HISTORY_CONFLICTS);
        } else if (decided[0] == Admission.UNCHANGED) {
            LOG.log(Level.INFO, "{0}: the same manifest again; backup {1} stays {2}", marker.manifestKey(),
                    marker.label(), existing[0].string("status").orElse("?"));
        }
        return decided[0];
    }

    private static Admission admission(Item current, BackupEntry marker) {
        String sha = current.string("manifestSha256").orElse(null);
        if (sha == null || !sha.equals(marker.manifestSha256())) {
            return Admission.CONFLICT;
        }
        String status = current.string("status").orElse("");
        boolean sameEvent = marker.manifestEventTime().equals(current.string("manifestEventTime").orElse(null));
        boolean lost = BackupEntry.MISSING.equals(status) || BackupEntry.DAMAGED.equals(status);
        return sameEvent || lost ? Admission.VALIDATE : Admission.UNCHANGED;
    }

    private Outcome refuseOversized(StanzaMeta meta, StorageKey.ManifestObject mo, String key, Instant eventTime,
            long size) {
        Instant at = eventTime != null ? eventTime : Instant.now();
        BackupLabelName label = mo.label();
        BackupEntry base = new BackupEntry(label.toString(), label.type().name().toLowerCase(Locale.ROOT), null, null,
                null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null,
                null, null, key, null, at.toString(), null, null);
        String problem = "manifest " + key + " is " + size + " bytes, more than the " + MAX_MANIFEST_BYTES
                + " a manifest may have: refused without reading it";
        LOG.log(Level.WARNING, problem);
        // A label is judged once: an oversized upload under the key of an accepted manifest (S3 without
        // our bucket policy lets a node overwrite) is a conflict, never a verdict over the first one.
        BackupEntry marker = base.withOutcome(BackupEntry.VALIDATING, List.of(problem), at.toString(), List.of(),
                List.of());
        Admission admission = admit(meta.stanza(), marker, null);
        if (admission != Admission.VALIDATE) {
            return admission == Admission.CONFLICT ? Outcome.CONFLICT : Outcome.UNCHANGED;
        }
        conclude(meta, base, List.of(problem), null);
        return Outcome.OVERSIZED;
    }

    private static Outcome outcome(BackupEntry e) {
        return switch (e.status()) {
            case BackupEntry.VALID -> Outcome.VALID;
            case BackupEntry.INVALID -> Outcome.INVALID;
            case BackupEntry.WAITING_WAL -> Outcome.WAITING_WAL;
            default -> Outcome.VALIDATING;
        };
    }

    /** The manifest's description of the backup, without a verdict. */
    private static BackupEntry facts(BackupEntry base, BackupManifest m) {
        long errors = 0;
        List<String> errorFiles = new ArrayList<>();
        for (ManifestFile f : m.files()) {
            if (!f.pageChecksumErrors().isEmpty()) {
                errors += f.pageChecksumErrors().size();
                errorFiles.add(f.path().path());
            }
        }
        return new BackupEntry(base.label(), m.type().name().toLowerCase(Locale.ROOT),
                m.prior().map(Object::toString).orElse(null), null, null,
                m.timeline().value(), m.startLsn().toString(), m.stopLsn().toString(),
                m.startTime().toString(), m.stopTime().toString(),
                m.originalSize(), m.storedSize(), m.deltaSize(),
                m.references().stream().map(Object::toString).toList(),
                m.fromStandby(), errors, BackupEntry.capped(errorFiles), m.systemIdentifier(),
                (long) m.pgVersionNum(), m.compression().extension(), (long) m.files().size(),
                (long) m.bundles().size(), null, base.manifestKey(), base.manifestSha256(),
                base.manifestEventTime(), null, null);
    }

    /**
     * A file kept by an earlier backup must be in that backup's manifest, stored there (its
     * reference is that backup) with the same content and storage: that copy is what a restore
     * of this backup downloads.
     */
    private List<String> checkReferencedFiles(StanzaMeta meta, BackupManifest m) {
        Map<BackupLabelName, List<ManifestFile>> byReference = new HashMap<>();
        for (ManifestFile f : m.files()) {
            if (!f.reference().equals(m.label())) {
                byReference.computeIfAbsent(f.reference(), r -> new ArrayList<>()).add(f);
            }
        }
        List<String> reasons = new ArrayList<>();
        for (BackupLabelName ref : new TreeSet<>(byReference.keySet())) {
            String key = StorageLayout.manifestKey(m.stanza(), ref);
            // the version of the earlier manifest that was validated, when it was recorded
            String refVersion = catalog.get(Keys.pk(meta.stanza()), Keys.backup(ref))
                    .flatMap(i -> i.string(MANIFEST_VERSION_ID)).orElse(null);
            Optional<ObjectStore.StoredObject> o = objects.get(key, refVersion);
            if (o.isEmpty()) {
                continue; // the chain check says the backup does not exist
            }
            BackupManifest earlier;
            try {
                earlier = ManifestJson.read(o.get().content());
            } catch (ManifestException e) {
                reasons.add("referenced backup " + ref + ": its manifest cannot be read: " + e.getMessage());
                continue;
            }
            Map<SafeRelativePath, ManifestFile> theirs = new HashMap<>();
            earlier.files().forEach(f -> theirs.put(f.path(), f));
            for (ManifestFile f : byReference.get(ref)) {
                ManifestFile t = theirs.get(f.path());
                if (t == null) {
                    reasons.add("file " + f.path() + ": referenced backup " + ref + " does not have it");
                } else if (!t.reference().equals(ref)) {
                    reasons.add("file " + f.path() + ": referenced backup " + ref + " does not store it itself (it"
                            + " references " + t.reference() + ")");
                } else if (t.size() != f.size() || !t.sha256().equals(f.sha256()) || t.storedSize() != f.storedSize()
                        || !t.storedSha256().equals(f.storedSha256()) || !t.bundle().equals(f.bundle())
                        || t.bundleOffset() != f.bundleOffset() || !t.blocks().equals(f.blocks())) {
                    reasons.add("file " + f.path() + ": differs from the copy referenced backup " + ref + " stores");
                }
            }
        }
        return reasons;
    }

    /** The validated manifest of {@code ref}, or empty when it is missing or unreadable (reported elsewhere). */
    private Optional<BackupManifest> referencedManifest(StanzaMeta meta, BackupManifest m, BackupLabelName ref) {
        String refVersion = catalog.get(Keys.pk(meta.stanza()), Keys.backup(ref))
                .flatMap(i -> i.string(MANIFEST_VERSION_ID)).orElse(null);
        Optional<ObjectStore.StoredObject> o = objects.get(StorageLayout.manifestKey(m.stanza(), ref), refVersion);
        try {
            return o.map(x -> ManifestJson.read(x.content()));
        } catch (ManifestException e) {
            return Optional.empty();
        }
    }

    // ---- conclusions ---------------------------------------------------------------------------

    /**
     * Decides the status of {@code facts} given the problems already found, stores the
     * {@code BACKUP#} and {@code WAIT#} items, looks once more when waiting (store-then-check),
     * and resumes the backups that waited for this one once it is final.
     */
    private BackupEntry conclude(StanzaMeta meta, BackupEntry facts, List<String> problems, String manifestVersion) {
        BackupEntry entry = evaluate(meta, facts, problems);
        store(meta, entry, manifestVersion);
        if (entry.isWaiting()) {
            BackupEntry again = evaluate(meta, facts, problems);
            if (!again.equals(entry)) {
                store(meta, again, manifestVersion);
                entry = again;
            }
        }
        LOG.log(Level.INFO, "backup {0} of stanza {1}: {2} {3}", entry.label(), meta.stanza(), entry.status(),
                entry.reasons());
        // The BACKUP item is stored: the window takes the valid backups from the BACKUP items again.
        windows.refreshBackups(meta);
        if (entry.isFinal()) {
            resumeWaitingFor(meta, entry.label());
        }
        if (BackupEntry.VALID.equals(entry.status())) {
            // A new valid backup may let older ones go; a repeated trigger is harmless (retention is idempotent).
            try {
                retention.backupValid(meta.stanza(), entry.label());
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "could not start retention after backup " + entry.label(), e);
            }
            try {
                health.publishBackupAge(meta);
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "could not publish the backup age of stanza " + meta.stanza() + ": " + e);
            }
        }
        return entry;
    }

    private BackupEntry evaluate(StanzaMeta meta, BackupEntry facts, List<String> problems) {
        String pk = Keys.pk(meta.stanza());
        List<String> reasons = new ArrayList<>(problems);
        List<String> waits = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        List<String> waitingFor = new ArrayList<>();
        boolean waitWal = false;
        boolean waitValidation = false;
        Instant latest = facts.eventTime();

        Optional<WalRange> range = walRange(meta, facts);
        if (range.isPresent()) {
            WalRange r = range.get();
            Map<Long, Item> found = new HashMap<>();
            for (Item i : catalog.queryBetween(pk, Keys.wal(r.first()), Keys.wal(r.last()))) {
                i.string("segment").ifPresent(s -> found.put(
                        WalSegmentName.parse(s, meta.walSegmentSize()).segmentNumber(), i));
            }
            long count = 0;
            for (long n = r.first().segmentNumber(); n <= r.last().segmentNumber(); n++) {
                Item i = found.get(n);
                String status = i == null ? null : i.string("status").orElse(null);
                if ("archived".equals(status)) {
                    Optional<String> archivedAt = i.string("archivedAt");
                    if (archivedAt.isPresent()) {
                        Instant t = Instant.parse(archivedAt.get());
                        latest = t.isAfter(latest) ? t : latest;
                    }
                    continue;
                }
                count++;
                if (missing.size() < BackupEntry.MAX_LISTED) {
                    String name = WalSegmentName.of(r.first().timeline(), n, meta.walSegmentSize()).toString();
                    missing.add(status == null ? name : name + " (" + status + ")");
                }
            }
            if (count > 0) {
                waitWal = true;
                waits.add("WAL not archived yet on timeline " + r.first().timeline().value() + ": " + count + " of "
                        + (r.last().segmentNumber() - r.first().segmentNumber() + 1) + " segments from " + r.first()
                        + " to " + r.last() + ", first missing " + missing.get(0));
            }
        }

        TreeSet<String> earlier = new TreeSet<>(facts.references());
        if (facts.prior() != null) {
            earlier.add(facts.prior());
        }
        for (String label : earlier) {
            String role = label.equals(facts.prior()) ? "prior backup " : "referenced backup ";
            Optional<Item> item = catalog.get(pk, Keys.backup(BackupLabelName.parse(label)));
            if (item.isEmpty()) {
                boolean uploaded = objects.head(StorageLayout.manifestKey(meta.stanza(), BackupLabelName.parse(label)))
                        .isPresent();
                if (uploaded) {
                    waitValidation = true;
                    waitingFor.add(label);
                    waits.add(role + label + " has not been validated yet");
                } else {
                    reasons.add(role + label + " does not exist");
                }
                continue;
            }
            BackupEntry e = BackupEntry.fromItem(item.get());
            switch (e.status() == null ? "" : e.status()) {
                case BackupEntry.VALID -> {
                    if (e.validatedAt() != null) {
                        Instant t = Instant.parse(e.validatedAt());
                        latest = t.isAfter(latest) ? t : latest;
                    }
                }
                case BackupEntry.INVALID -> reasons.add(role + label + " is invalid");
                case BackupEntry.WAITING_WAL -> {
                    waitWal = true;
                    waitingFor.add(label);
                    waits.add(role + label + " is waiting for WAL");
                }
                default -> {
                    waitValidation = true;
                    waitingFor.add(label);
                    waits.add(role + label + " is still being validated");
                }
            }
        }

        String at = facts.manifestEventTime();
        if (!reasons.isEmpty()) {
            if (waitWal && !missing.isEmpty()) {
                reasons.add(waits.get(0));
            }
            return facts.withOutcome(BackupEntry.INVALID, BackupEntry.capped(reasons), at, missing, List.of());
        }
        if (waitWal) {
            return facts.withOutcome(BackupEntry.WAITING_WAL, waits, at, missing, waitingFor);
        }
        if (waitValidation) {
            return facts.withOutcome(BackupEntry.VALIDATING, waits, at, missing, waitingFor);
        }
        return facts.withOutcome(BackupEntry.VALID, List.of(), latest.toString(), List.of(), List.of());
    }

    /** The WAL segments a backup needs to be consistent, first to last, on its timeline. */
    public record WalRange(WalSegmentName first, WalSegmentName last) {
    }

    /** The segments from start to stop LSN on the backup's timeline, when the manifest gave them. */
    public static Optional<WalRange> walRange(StanzaMeta meta, BackupEntry facts) {
        if (facts.timeline() == null || facts.startLsn() == null || facts.stopLsn() == null) {
            return Optional.empty();
        }
        TimelineId tli = TimelineId.of(facts.timeline());
        Lsn start = Lsn.parse(facts.startLsn());
        Lsn stop = Lsn.parse(facts.stopLsn());
        WalSegmentSize size = meta.walSegmentSize();
        WalSegmentName first = WalSegmentName.containing(tli, start, size);
        WalSegmentName last = stop.isValid() ? WalSegmentName.endingAt(tli, stop, size) : first;
        if (last.compareTo(first) < 0) {
            last = first;
        }
        return Optional.of(new WalRange(first, last));
    }

    // ---- items -----------------------------------------------------------------------------------

    private void store(StanzaMeta meta, BackupEntry entry, String manifestVersion) {
        StanzaName stanza = meta.stanza();
        String pk = Keys.pk(stanza);
        BackupLabelName label = BackupLabelName.parse(entry.label());
        mergeBackup(stanza, entry, manifestVersion);
        String waitSk = Keys.waiting(label);
        if (entry.isWaiting()) {
            Map<String, Object> a = entry.attributes();
            a.put("kind", "wait");
            a.put("done", false);
            walRange(meta, entry).ifPresent(r -> {
                a.put("walFirst", r.first().segmentNumber());
                a.put("walLast", r.last().segmentNumber());
            });
            Item wait = Item.of(pk, waitSk, a);
            merger.merge(pk, waitSk, cur -> join(cur, wait, BackupValidator::waitRank));
        } else if (catalog.get(pk, waitSk).isPresent()) {
            Map<String, Object> a = entry.attributes();
            a.put("kind", "wait");
            a.put("done", true);
            a.put(BackupLease.TTL_ATTRIBUTE,
                    Instant.parse(entry.validatedAt()).plus(FINISHED_WAIT_TTL).getEpochSecond());
            Item done = Item.of(pk, waitSk, a);
            merger.merge(pk, waitSk, cur -> join(cur, done, BackupValidator::waitRank));
        }
    }

    /** @param manifestVersion null: not known here (a resumed validation): the stored item's stays */
    private void mergeBackup(StanzaName stanza, BackupEntry entry, String manifestVersion) {
        String pk = Keys.pk(stanza);
        String sk = Keys.backup(BackupLabelName.parse(entry.label()));
        Item candidate = entry.toItem(pk, sk).with(MANIFEST_VERSION_ID, manifestVersion);
        merger.merge(pk, sk, cur -> joinBackup(cur, candidate));
    }

    /**
     * The join of two {@code BACKUP#} items: later manifest event, then further status, then larger
     * hash; the manifest's version id stays when the winner does not carry it for the same manifest.
     */
    static Item joinBackup(Optional<Item> current, Item candidate) {
        Item winner = join(current, candidate, i -> BackupEntry.rank(i.string("status").orElse(null)));
        if (current.isPresent() && winner.string(MANIFEST_VERSION_ID).isEmpty()
                && current.get().string("manifestSha256").equals(winner.string("manifestSha256"))) {
            winner = winner.with(MANIFEST_VERSION_ID, current.get().string(MANIFEST_VERSION_ID).orElse(null));
        }
        return winner;
    }

    private static int waitRank(Item i) {
        return i.flag("done") ? 1 : 0;
    }

    private static Item join(Optional<Item> current, Item candidate, ToIntFunction<Item> rank) {
        if (current.isEmpty()) {
            return candidate;
        }
        Item cur = current.get();
        Instant a = cur.string("manifestEventTime").map(Instant::parse).orElse(Instant.MIN);
        Instant b = candidate.string("manifestEventTime").map(Instant::parse).orElse(Instant.MIN);
        int c = a.compareTo(b);
        if (c == 0) {
            c = Integer.compare(rank.applyAsInt(cur), rank.applyAsInt(candidate));
        }
        if (c == 0) {
            // Waiting for WAL: fewer segments missing is further along (WAL only arrives).
            c = Integer.compare(candidate.list("missingWal").size(), cur.list("missingWal").size());
        }
        if (c == 0) {
            c = cur.hashExcluding().compareTo(candidate.hashExcluding());
        }
        return c >= 0 ? cur.without(Item.REV) : candidate;
    }

    // ---- resuming -------------------------------------------------------------------------------

    /**
     * The WAL indexer stored {@code segment} as archived: finish the validation of every backup
     * of the stanza waiting for WAL in a range that holds it. Returns the resumed backups' entries.
     */
    public List<BackupEntry> walArchived(StanzaMeta meta, WalSegmentName segment) {
        List<BackupEntry> out = new ArrayList<>();
        for (Item wait : catalog.query(Keys.pk(meta.stanza()), Keys.WAIT_PREFIX)) {
            if (wait.flag("done")) {
                continue;
            }
            long tli = wait.number("timeline").orElse(-1L);
            long first = wait.number("walFirst").orElse(Long.MAX_VALUE);
            long last = wait.number("walLast").orElse(-1L);
            long n = segment.segmentNumber();
            if (tli == segment.timeline().value() && first <= n && n <= last) {
                out.add(resume(meta, wait));
            }
        }
        return out;
    }

    /** {@code label} became final: resume the backups that waited for it. */
    private void resumeWaitingFor(StanzaMeta meta, String label) {
        for (Item wait : catalog.query(Keys.pk(meta.stanza()), Keys.WAIT_PREFIX)) {
            if (!wait.flag("done") && wait.list("waitingFor").contains(label)) {
                resume(meta, wait);
            }
        }
    }

    private BackupEntry resume(StanzaMeta meta, Item wait) {
        BackupEntry facts = BackupEntry.fromItem(wait).withOutcome(null, List.of(), null, List.of(), List.of());
        LOG.log(Level.INFO, "resuming the validation of backup {0} of stanza {1}", facts.label(), meta.stanza());
        return conclude(meta, facts, List.of(), null);
    }

    /** The stored entry of a backup, for tests and callers. */
    public Optional<BackupEntry> entry(StanzaName stanza, BackupLabelName label) {
        return catalog.get(Keys.pk(stanza), Keys.backup(label)).map(BackupEntry::fromItem);
    }
}
