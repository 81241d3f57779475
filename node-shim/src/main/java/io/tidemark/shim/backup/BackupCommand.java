package io.tidemark.shim.backup;

import io.tidemark.shim.cli.Progress;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.events.backup.BackupLabel;
import io.tidemark.events.backup.BackupManifest;
import io.tidemark.events.backup.ManifestBundle;
import io.tidemark.events.backup.ManifestException;
import io.tidemark.events.backup.ManifestFile;
import io.tidemark.events.backup.ManifestJson;
import io.tidemark.events.backup.ManifestTablespace;
import io.tidemark.events.json.Json;
import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.layout.StorageLayout;
import io.tidemark.events.paths.SafeRelativePath;
import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.WalSegmentSize;
import io.tidemark.shim.Command;
import io.tidemark.shim.api.ApiException;
import io.tidemark.shim.api.CatalogApi;
import io.tidemark.shim.api.ConflictReport;
import io.tidemark.shim.cli.CommandFailure;
import io.tidemark.shim.cli.ExitCodes;
import io.tidemark.shim.cli.UsageException;
import io.tidemark.shim.config.CommonOptions;
import io.tidemark.shim.config.ShimConfig;
import io.tidemark.shim.pg.PgConnector;
import io.tidemark.shim.pg.PgOptions;
import io.tidemark.shim.storage.CreateOnly;
import io.tidemark.shim.storage.CredentialSource;
import io.tidemark.shim.storage.ObjectStore;
import io.tidemark.shim.storage.Retry;
import io.tidemark.shim.storage.StorageException;
import io.tidemark.shim.storage.Stores;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import picocli.CommandLine;

/**
 * {@code tidemark backup [--type full|diff|incr] [--from-standby] [--process-max N] [--checksum-delta]}:
 * a base backup of the running cluster straight to S3, validated by the cloud once its manifest
 * (uploaded last) arrives. See docs/backup.md.
 */
@CommandLine.Command(name = "backup", mixinStandardHelpOptions = true, versionProvider = io.tidemark.shim.cli.Version.class,
        description = {"Base backup straight to S3 (default incr; full when no valid full exists).",
                "A standby skips unless --from-standby."})
public final class BackupCommand implements Command {
    static final int DEFAULT_PROCESS_MAX = 2;
    /** Without a terminal (logs), a progress line this often. */
    static final long PROGRESS_PLAIN_MS = 5_000;
    /** How long to wait after the upload for the validation verdict (it is not required). */
    static final long VALIDATION_WAIT_MS = 6_000;

    private static final ObjectMapper MAPPER = Json.mapper();

    private final Map<String, String> env;
    private final boolean terminal;
    private final java.util.function.Consumer<BackupManifest> onUploaded;

    @CommandLine.Mixin
    private CommonOptions common = new CommonOptions();

    @CommandLine.Option(names = "--type", paramLabel = "full|diff|incr", description = "backup type (default incr)")
    private String typeOption;

    @CommandLine.Option(names = "--process-max", paramLabel = "N", description = "parallel copies (default 2)")
    private String processMaxOption;

    @CommandLine.Option(names = "--from-standby", description = "back up this node when it is a standby")
    private boolean fromStandby;

    @CommandLine.Option(names = "--checksum-delta", description = "reference an unchanged-looking file of the prior backup only when its SHA-256 matches")
    private boolean checksumDelta;

    public BackupCommand() {
        this(System.getenv(), System.console() != null);
    }

    public BackupCommand(Map<String, String> env, boolean terminal) {
        this(env, terminal, m -> { });
    }

    /**
     * @param onUploaded told the manifest once it is uploaded (the agent reports label, sizes and
     *                   times of the backup it ran from it)
     */
    public BackupCommand(Map<String, String> env, boolean terminal, java.util.function.Consumer<BackupManifest> onUploaded) {
        this.env = env;
        this.terminal = terminal;
        this.onUploaded = onUploaded;
    }

    @Override
    public int call(PrintStream out, PrintStream err) {
        Optional<BackupLabelName.Type> type = Optional.ofNullable(typeOption).map(BackupCommand::type);
        int processMax = Optional.ofNullable(processMaxOption).map(BackupCommand::processMax).orElse(DEFAULT_PROCESS_MAX);
        ShimConfig config = ShimConfig.load(common, env);
        PgOptions pg = PgOptions.from(common, env);
        CredentialSource credentials = CredentialSource.of(config, env);
        CatalogApi api = new CatalogApi(config.requireApiUrl(), config.apiRegion(), credentials, Retry.of(config.retries()),
                config.apiKey());

        Connection c;
        try {
            c = PgConnector.connect(pg, 10, 3600);
        } catch (SQLException e) {
            throw new CommandFailure(ExitCodes.FAILED, "cannot connect to PostgreSQL at " + pg.describe() + ": "
                    + e.getMessage(), e);
        }
        try (c; ObjectStore store = Stores.open(config, credentials)) {
            PgConnector.ClusterFacts facts = PgConnector.facts(c);
            if (facts.inRecovery() && !fromStandby) {
                out.println("skipped: this node is a standby (use --from-standby)");
                return ExitCodes.OK;
            }
            if (!facts.inRecovery() && fromStandby) {
                err.println("tidemark backup: note: --from-standby given, but this node is the primary: backing up the primary");
            }
            Run run = new Run(config, pg, api, store, c, facts, type, processMax, checksumDelta, out, err);
            return run.execute();
        } catch (SQLException e) {
            throw new CommandFailure(ExitCodes.FAILED, "PostgreSQL: " + e.getMessage(), e);
        } catch (StorageException | ApiException e) {
            throw new CommandFailure(ExitCodes.FAILED, e.getMessage(), e);
        } catch (UncheckedIOException e) {
            throw new CommandFailure(ExitCodes.FAILED, e.getMessage(), e);
        } catch (ManifestException e) {
            throw new CommandFailure(ExitCodes.FAILED, "cannot build the manifest: " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new CommandFailure(ExitCodes.FAILED, e.getMessage(), e);
        }
    }

    static BackupLabelName.Type type(String v) {
        return switch (v) {
            case "full" -> BackupLabelName.Type.FULL;
            case "diff" -> BackupLabelName.Type.DIFF;
            case "incr" -> BackupLabelName.Type.INCR;
            default -> throw new UsageException("--type must be full, diff or incr, got '" + v + "'");
        };
    }

    static int processMax(String v) {
        try {
            int n = Integer.parseInt(v);
            if (n >= 1 && n <= 64) {
                return n;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new UsageException("--process-max must be an integer from 1 to 64, got '" + v + "'");
    }

    static String typeName(BackupLabelName.Type t) {
        return t.name().toLowerCase(Locale.ROOT);
    }

    /** One backup run. */
    private final class Run {
        private final ShimConfig config;
        private final PgOptions pg;
        private final CatalogApi api;
        private final ObjectStore store;
        private final Connection connection;
        private final PgConnector.ClusterFacts facts;
        private final Optional<BackupLabelName.Type> requested;
        private final int processMax;
        private final boolean checksumDelta;
        private final PrintStream out;
        private final PrintStream err;
        private final StanzaName stanza;

        Run(ShimConfig config, PgOptions pg, CatalogApi api, ObjectStore store, Connection connection,
            PgConnector.ClusterFacts facts, Optional<BackupLabelName.Type> requested, int processMax, boolean checksumDelta,
            PrintStream out, PrintStream err) {
            this.config = config;
            this.pg = pg;
            this.api = api;
            this.store = store;
            this.connection = connection;
            this.facts = facts;
            this.requested = requested;
            this.processMax = processMax;
            this.checksumDelta = checksumDelta;
            this.out = out;
            this.err = err;
            this.stanza = config.stanza();
        }

        int execute() throws SQLException {
            long t0 = System.nanoTime();
            JsonNode doc = stanzaDocument();
            String sysid = doc.path("systemIdentifier").asText();
            if (!sysid.equals(facts.systemIdentifierText())) {
                throw new CommandFailure(ExitCodes.FAILED, "stanza " + stanza + " belongs to database system " + sysid
                        + ", this cluster is " + facts.systemIdentifierText());
            }
            BackupSelection sel = BackupSelection.select(requested, CatalogBackup.fromStanzaDocument(doc));
            sel.note().ifPresent(n -> out.println(n));

            Path stanzaSpool = config.spoolDir().resolve(stanza.value());
            Path resumeFile = ResumeRecord.fileFor(stanzaSpool);
            Optional<ResumeRecord.Previous> previous = usableSpool(stanzaSpool) ? ResumeRecord.read(resumeFile) : Optional.empty();
            BackupLabelName label;
            boolean resuming = false;
            if (previous.isPresent() && previous.get().type().equals(typeName(sel.type()))
                    && previous.get().prior().equals(sel.prior())
                    && store.head(StorageLayout.manifestKey(stanza, previous.get().label())).isEmpty()) {
                label = previous.get().label();
                resuming = true;
            } else {
                label = sel.label(Instant.now());
                previous = Optional.empty();
            }

            String holder = holder();
            try (LeaseKeeper lease = LeaseKeeper.acquire(api, stanza, holder, HolderIdentity.current(), label,
                    config.backupLeaseTtl(), err)) {
                return backup(sel, label, previous, resumeFile, lease, t0);
            }
        }

        private int backup(BackupSelection sel, BackupLabelName label, Optional<ResumeRecord.Previous> previous,
                           Path resumeFile, LeaseKeeper lease, long t0) throws SQLException {
            Optional<BackupManifest> prior = sel.prior().map(this::manifest);
            Map<BackupLabelName, Instant> startTimes = prior.map(this::startTimes).orElse(Map.of());
            Path pgdata = pgdata();
            boolean dataChecksums = "on".equals(show("data_checksums"));
            WalSegmentSize segmentSize = WalSegmentSize.ofBytes(facts.walSegmentSize());
            Compression compression = config.compression();

            out.println("backup " + label + " (" + typeName(sel.type()) + (sel.prior().isPresent() ? ", prior "
                    + sel.prior().get() : "") + ") of " + pgdata + (facts.inRecovery() ? " from this standby" : "")
                    + ", " + processMax + " process" + (processMax == 1 ? "" : "es"));

            Instant startTime = Instant.now();
            long tStart = System.nanoTime();
            PgBackupSession session = new PgBackupSession(connection, facts.pgVersionNum());
            Lsn startLsn = session.start(label.toString());
            long tCopy = System.nanoTime();

            DataDirWalker.Result walk = DataDirWalker.walk(pgdata);
            walk.skipped().forEach(s -> err.println("tidemark backup: warning: skipped " + s));

            // Incremental decisions: unchanged files are referenced to the copy the prior backup names.
            Map<SafeRelativePath, ManifestFile> priorFiles = new HashMap<>();
            prior.ifPresent(p -> p.files().forEach(f -> priorFiles.put(f.path(), f)));
            List<ManifestFile> referenced = new ArrayList<>();
            List<SourceFile> toStore = new ArrayList<>();
            List<SourceFile> checksumCandidates = new ArrayList<>();
            for (SourceFile f : walk.files()) {
                ManifestFile earlier = priorFiles.get(f.path());
                if (checksumDelta && earlier != null && earlier.size() == f.size() && earlier.mtime().equals(f.mtime())) {
                    checksumCandidates.add(f);
                } else if (!checksumDelta && BackupPlanner.unchanged(f, earlier, BackupPlanner.storedByStart(earlier, startTimes))) {
                    referenced.add(earlier);
                } else {
                    toStore.add(f);
                }
            }
            if (!checksumCandidates.isEmpty()) {
                Map<SafeRelativePath, Optional<String>> sums = parallel(checksumCandidates, f -> FileCopier.sha256Of(f.absolute()));
                for (SourceFile f : checksumCandidates) {
                    Optional<String> sum = sums.get(f.path());
                    if (sum.isEmpty()) {
                        continue; // vanished
                    }
                    ManifestFile earlier = priorFiles.get(f.path());
                    if (BackupPlanner.unchangedByChecksum(f, earlier, sum.get())) {
                        referenced.add(earlier);
                    } else {
                        toStore.add(f);
                    }
                }
                toStore.sort(Comparator.comparing(SourceFile::path));
            }

            // Resume: what an interrupted run of this label stored, if the file and the object still match.
            List<ManifestFile> reused = new ArrayList<>();
            List<ManifestBundle> reusedBundles = new ArrayList<>();
            int nextBundleId = 0;
            if (previous.isPresent()) {
                ResumeRecord.Previous p = previous.get();
                Map<SafeRelativePath, SourceFile> byPath = new HashMap<>();
                toStore.forEach(f -> byPath.put(f.path(), f));
                Set<SafeRelativePath> taken = new HashSet<>();
                // Reused only when the file's time is safely before the read that stored it (the
                // mtime margin, as for incrementals): a write in the same clock tick keeps the time.
                List<ManifestFile> singleCandidates = new ArrayList<>();
                // why stored copies are not reused, for the operator (and for a test that expects some to be)
                Map<BackupPlanner.ResumeCheck, Integer> why = new java.util.EnumMap<>(BackupPlanner.ResumeCheck.class);
                for (ResumeRecord.StoredFile stored : p.files().values()) {
                    ManifestFile r = stored.file();
                    SourceFile f = byPath.get(r.path());
                    BackupPlanner.ResumeCheck check = BackupPlanner.resumeCheck(f, r, stored.readAt());
                    if (check == BackupPlanner.ResumeCheck.REUSABLE && !BackupPlanner.bundled(f)) {
                        singleCandidates.add(r);
                    } else {
                        why.merge(check, 1, Integer::sum);
                    }
                }
                nextBundleId = p.firstUnusedBundleId();
                List<ResumeRecord.StoredBundle> bundleCandidates = new ArrayList<>();
                for (ResumeRecord.StoredBundle b : p.bundles().values()) {
                    List<BackupPlanner.ResumeCheck> checks = b.files().stream()
                            .map(r -> BackupPlanner.resumeCheck(byPath.get(r.path()), r, b.readAt())).toList();
                    if (checks.stream().allMatch(c -> c == BackupPlanner.ResumeCheck.REUSABLE)) {
                        bundleCandidates.add(b);
                    } else {
                        checks.forEach(c -> why.merge(c, 1, Integer::sum));
                    }
                }
                int storedCopyDiffers = 0;
                Map<SafeRelativePath, Optional<String>> heads = parallel(singleCandidates.stream()
                        .map(r -> byPath.get(r.path())).toList(), f -> storedSha(
                        StorageLayout.backupFileKey(stanza, label, f.path(), compression)));
                for (ManifestFile r : singleCandidates) {
                    if (heads.get(r.path()).map(r.storedSha256()::equals).orElse(false)) {
                        reused.add(r);
                        taken.add(r.path());
                    } else {
                        storedCopyDiffers++;
                    }
                }
                for (ResumeRecord.StoredBundle b : bundleCandidates) {
                    boolean free = b.files().stream().noneMatch(r -> taken.contains(r.path()));
                    if (free && storedSha(StorageLayout.bundleKey(stanza, label, b.bundle().id(), compression))
                            .map(b.bundle().storedSha256()::equals).orElse(false)) {
                        reusedBundles.add(b.bundle());
                        reused.addAll(b.files());
                        b.files().forEach(r -> taken.add(r.path()));
                    } else if (free) {
                        storedCopyDiffers += b.files().size();
                    }
                }
                toStore.removeIf(f -> taken.contains(f.path()));
                out.println("resuming backup " + label + ": " + reused.size() + " files already uploaded"
                        + resumeReport(why, storedCopyDiffers));
                if (toStore.stream().anyMatch(f -> p.files().containsKey(f.path()))) {
                    out.println("  files changed since, or modified too recently to trust their time, are read again;"
                            + " where the earlier copy's key is taken they are stored under a new bundle id");
                }
            }

            List<SourceFile> singles = new ArrayList<>();
            List<SourceFile> small = new ArrayList<>();
            for (SourceFile f : toStore) {
                (BackupPlanner.bundled(f) ? small : singles).add(f);
            }
            List<BackupPlanner.Bundle> bundles = BackupPlanner.bundle(small, nextBundleId, BackupPlanner.BUNDLE_MAX);

            long totalBytes = toStore.stream().mapToLong(SourceFile::size).sum();
            FileCopier copier = new FileCopier(compression, config.compressLevel(), dataChecksums, startLsn.value());
            boolean recordOk = usableSpool(resumeFile.getParent());
            ResumeRecord record = openRecord(resumeFile, label, sel, previous.isPresent(), recordOk);
            int firstSpareId = nextBundleId + bundles.size();
            BackupCopier copierRun;
            java.util.concurrent.ExecutorService blockWorkers = java.util.concurrent.Executors.newFixedThreadPool(processMax,
                    r -> Thread.ofPlatform().daemon().name("tidemark-backup-blocks").unstarted(r));
            try (Progress progress = Progress.ofFiles(toStore.size(), totalBytes, err, terminal, PROGRESS_PLAIN_MS, System::nanoTime).start()) {
                record.plannedBundles(firstSpareId);
                copierRun = new BackupCopier(store, stanza, label, compression, copier, record, progress, processMax,
                        interruptAfter(), () -> lease.lost() == null ? null : "the backup lease was lost: "
                        + lease.lost(), firstSpareId);
                // large files: their blocks hashed and compressed by processMax workers of their own
                copierRun.withBlocks(new BlockFileCopier(compression, config.compressLevel(), dataChecksums, startLsn.value(),
                        blockWorkers, processMax, recordOk ? resumeFile.getParent() : null), priorFiles);
                copierRun.run(singles, bundles);
            } catch (IOException e) {
                closeQuietly(record);
                throw new CommandFailure(ExitCodes.FAILED, e.getMessage() + "; running the backup again resumes it", e);
            } finally {
                blockWorkers.shutdownNow();
            }

            long tStop = System.nanoTime();
            PgBackupSession.Stop stop = session.stop();
            Instant stopTime = Instant.now();
            long tManifest = System.nanoTime();
            BackupLabel parsedLabel = BackupLabel.parse(stop.labelFile(), segmentSize);

            // backup_label and tablespace_map as pg_backup_stop returned them, as files of the backup.
            List<ManifestFile> files = new ArrayList<>(referenced);
            files.addAll(reused);
            try {
                putSmall(copierRun, "backup_label", stop.labelFile(), stopTime);
                if (stop.tablespaceMap().isPresent()) {
                    putSmall(copierRun, "tablespace_map", stop.tablespaceMap().get(), stopTime);
                }
            } catch (IOException e) {
                closeQuietly(record);
                throw new CommandFailure(ExitCodes.FAILED, e.getMessage() + "; running the backup again resumes it", e);
            }
            // what the copier stored, the small files included (one of them may have gone to a spare bundle)
            BackupCopier.Stored all = copierRun.stored();
            files.addAll(all.files());
            files.sort(Comparator.comparing(ManifestFile::path));
            List<ManifestBundle> allBundles = new ArrayList<>(reusedBundles);
            allBundles.addAll(all.bundles());
            allBundles.sort(Comparator.comparingInt(ManifestBundle::id));
            List<SafeRelativePath> dirs = new ArrayList<>(walk.directories());
            dirs.sort(Comparator.naturalOrder());

            Instant start = parsedLabel.startTime().flatMap(t -> t.instant()).filter(t -> !t.isAfter(stopTime))
                    .orElse(startTime);
            BackupManifest manifest = new BackupManifest(BackupManifest.formatFor(files), stanza, label, sel.prior(),
                    facts.systemIdentifierText(), facts.pgVersionNum(), segmentSize, parsedLabel.timeline(),
                    parsedLabel.startLsn(), stop.lsn(), start, stopTime.isBefore(start) ? start : stopTime,
                    facts.inRecovery(), dataChecksums, compression, stop.labelFile(), stop.tablespaceMap(),
                    tablespaces(walk.tablespaces()), dirs, allBundles, files);

            if (lease.lost() != null) {
                closeQuietly(record);
                throw new CommandFailure(ExitCodes.FAILED, "the backup lease was lost (" + lease.lost()
                        + "); the manifest was not uploaded");
            }
            try {
                storeManifest(store, api, stanza, label, ManifestJson.write(manifest));
            } catch (CommandFailure f) {
                closeQuietly(record);
                throw f;
            }
            onUploaded.accept(manifest);
            try {
                record.delete();
            } catch (IOException e) {
                err.println("tidemark backup: warning: cannot delete the resume record " + resumeFile + ": " + e.getMessage());
            }
            long tEnd = System.nanoTime();
            summary(manifest, t0);
            out.println(String.format(Locale.ROOT, "  phases: start %.1f s (checkpoint), copy %.1f s (%s/s), stop %.1f s"
                    + " (WAL archived), manifest %.1f s", (tCopy - tStart) / 1e9, (tStop - tCopy) / 1e9,
                    Progress.size((long) (totalBytes / Math.max(1e-3, (tStop - tCopy) / 1e9))), (tManifest - tStop) / 1e9,
                    (tEnd - tManifest) / 1e9));
            awaitValidation(label, facts.inRecovery());
            return ExitCodes.OK;
        }

        private ManifestFile putSmall(BackupCopier copier, String name, String content, Instant mtime) throws IOException {
            byte[] raw = content.getBytes(StandardCharsets.UTF_8);
            byte[] stored = io.tidemark.shim.storage.Codec.compress(config.compression(), config.compressLevel(), raw);
            String sha = FileCopier.hex(FileCopier.sha256().digest(raw));
            String storedSha = FileCopier.hex(FileCopier.sha256().digest(stored));
            return copier.store(SafeRelativePath.of(name), mtime, new FileCopier.Copy(raw.length, sha, stored, storedSha,
                    List.of()), Instant.now());
        }

        private ResumeRecord openRecord(Path file, BackupLabelName label, BackupSelection sel, boolean append, boolean ok) {
            if (ok) {
                try {
                    return ResumeRecord.open(file, label, typeName(sel.type()), sel.prior(), append);
                } catch (IOException e) {
                    err.println("tidemark backup: warning: cannot write the resume record " + file + " (" + e.getMessage()
                            + "): an interrupted backup will start over");
                }
            } else {
                err.println("tidemark backup: warning: the spool " + file.getParent() + " is not usable by this user:"
                        + " an interrupted backup will start over");
            }
            try {
                return ResumeRecord.open(Files.createTempFile("tidemark-resume", ".jsonl"), label, typeName(sel.type()),
                        sel.prior(), false);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        private void summary(BackupManifest m, long t0) {
            long errors = m.files().stream().mapToLong(f -> f.pageChecksumErrors().size()).sum();
            List<ManifestFile> bad = m.files().stream().filter(f -> !f.pageChecksumErrors().isEmpty()).toList();
            double seconds = (System.nanoTime() - t0) / 1e9;
            long storedFiles = m.files().stream().filter(f -> f.reference().equals(m.label())).count();
            out.println("backup " + m.label() + " (" + typeName(m.type()) + ") complete: " + m.files().size() + " files ("
                    + storedFiles + " stored, " + (m.files().size() - storedFiles) + " referenced), " + m.bundles().size()
                    + " bundles");
            out.println("  original " + Progress.size(m.originalSize()) + ", delta " + Progress.size(m.deltaSize())
                    + ", stored " + Progress.size(m.storedSize()) + " (" + m.compression().extension() + ")");
            out.println("  WAL " + m.startLsn() + " .. " + m.stopLsn() + " on timeline " + m.timeline().value()
                    + (m.fromStandby() ? ", from a standby" : ""));
            out.println("  page checksum errors: " + (m.dataChecksums() ? errors + (errors == 0 ? "" : " blocks in "
                    + bad.size() + " files") : "not checked (data checksums are off)"));
            for (ManifestFile f : bad) {
                out.println("    " + f.path() + ": blocks " + f.pageChecksumErrors());
            }
            out.println(String.format(Locale.ROOT, "  duration %.1f s", seconds));
        }

        /** Polls the catalog a few seconds for the verdict; prints what it knows. */
        private void awaitValidation(BackupLabelName label, boolean standby) {
            long deadline = System.nanoTime() + VALIDATION_WAIT_MS * 1_000_000;
            String status = null;
            List<String> reasons = List.of();
            while (System.nanoTime() < deadline) {
                try {
                    CatalogApi.Response r = api.getStanza(stanza);
                    if (r.status() == 200) {
                        for (CatalogBackup b : CatalogBackup.fromStanzaDocument(MAPPER.readTree(r.body()))) {
                            if (b.label().equals(label)) {
                                status = b.status();
                                reasons = b.reasons();
                            }
                        }
                    }
                } catch (IOException | RuntimeException e) {
                    break;
                }
                if ("valid".equals(status) || "invalid".equals(status) || (standby && "waiting-wal".equals(status))) {
                    break;
                }
                try {
                    Thread.sleep(500);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            if (status == null) {
                out.println("validation: not reported yet (see tidemark info)");
            } else {
                out.println("validation: " + status + (reasons.isEmpty() ? "" : ": " + String.join("; ", reasons)));
            }
            if (standby && !"valid".equals(status)) {
                out.println("  (from a standby: the primary archives the WAL up to the stop LSN; the backup becomes valid"
                        + " once it has)");
            }
        }

        private JsonNode stanzaDocument() {
            CatalogApi.Response r = api.getStanza(stanza);
            if (r.status() == 404) {
                throw new CommandFailure(ExitCodes.FAILED, "no stanza " + stanza + " in the catalog: run tidemark stanza-create");
            }
            if (r.status() != 200) {
                throw new CommandFailure(ExitCodes.FAILED, "GET /stanzas/" + stanza + ": HTTP " + r.status() + ": " + r.message());
            }
            try {
                return MAPPER.readTree(r.body());
            } catch (IOException e) {
                throw new CommandFailure(ExitCodes.FAILED, "GET /stanzas/" + stanza + " is not JSON: " + e.getMessage(), e);
            }
        }

        private BackupManifest manifest(BackupLabelName l) {
            Optional<ObjectStore.Fetched> o = store.get(StorageLayout.manifestKey(stanza, l));
            if (o.isEmpty()) {
                throw new CommandFailure(ExitCodes.FAILED, "the manifest of backup " + l + " is missing from the bucket");
            }
            try {
                return ManifestJson.read(o.get().data());
            } catch (ManifestException e) {
                throw new CommandFailure(ExitCodes.FAILED, "the manifest of backup " + l + " cannot be read: " + e.getMessage(), e);
            }
        }

        /** Start times of the prior backup and of every backup it references. */
        private Map<BackupLabelName, Instant> startTimes(BackupManifest prior) {
            Map<BackupLabelName, Instant> m = new HashMap<>();
            m.put(prior.label(), prior.startTime());
            for (BackupLabelName r : prior.references()) {
                m.put(r, manifest(r).startTime());
            }
            return m;
        }

        private Optional<String> storedSha(String key) {
            return store.head(key).map(h -> h.metadata().get("stored-sha256"));
        }

        private interface IoFunction<T> {
            T apply(SourceFile f) throws IOException;
        }

        private <T> Map<SafeRelativePath, T> parallel(List<SourceFile> files, IoFunction<T> fn) {
            Map<SafeRelativePath, T> result = new HashMap<>();
            if (files.isEmpty()) {
                return result;
            }
            ExecutorService pool = Executors.newFixedThreadPool(processMax, r -> Thread.ofPlatform().daemon().unstarted(r));
            try {
                Map<SafeRelativePath, Future<T>> futures = new HashMap<>();
                for (SourceFile f : files) {
                    futures.put(f.path(), pool.submit(() -> fn.apply(f)));
                }
                for (var e : futures.entrySet()) {
                    result.put(e.getKey(), e.getValue().get());
                }
                return result;
            } catch (ExecutionException e) {
                Throwable c = e.getCause();
                if (c instanceof RuntimeException r) {
                    throw r;
                }
                throw new UncheckedIOException(c instanceof IOException io ? io : new IOException(c));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CommandFailure(ExitCodes.FAILED, "interrupted");
            } finally {
                pool.shutdownNow();
            }
        }

        private Path pgdata() throws SQLException {
            Path p = pg.pgdata() != null ? pg.pgdata() : Path.of(show("data_directory"));
            if (!Files.isDirectory(p) || !Files.isReadable(p)) {
                throw new CommandFailure(ExitCodes.FAILED, "the data directory " + p + " is not readable by this user"
                        + " (run the backup as the PostgreSQL OS user, on the database host)");
            }
            if (!Files.isRegularFile(p.resolve("PG_VERSION"))) {
                throw new CommandFailure(ExitCodes.FAILED, p + " is not a PostgreSQL data directory (no PG_VERSION)");
            }
            return p;
        }

        private String show(String setting) throws SQLException {
            try (Statement s = connection.createStatement(); ResultSet r = s.executeQuery("show " + setting)) {
                r.next();
                return r.getString(1);
            }
        }

        private List<ManifestTablespace> tablespaces(List<DataDirWalker.Tablespace> links) throws SQLException {
            Map<Long, String> names = new HashMap<>();
            try (Statement s = connection.createStatement();
                 ResultSet r = s.executeQuery("select oid::bigint, spcname from pg_tablespace")) {
                while (r.next()) {
                    names.put(r.getLong(1), r.getString(2));
                }
            }
            List<ManifestTablespace> out = new ArrayList<>();
            for (DataDirWalker.Tablespace t : links) {
                out.add(new ManifestTablespace(t.oid(), names.get(t.oid()), t.location().toString()));
            }
            return out;
        }
    }

    /**
     * Creates the manifest, last: its arrival makes the cloud validate the backup. The same bytes
     * already there is success (an earlier attempt's); a different manifest is never replaced:
     * the command fails with the key and both checksums, and the cloud is told.
     */
    static void storeManifest(ObjectStore store, CatalogApi api, StanzaName stanza, BackupLabelName label, byte[] manifest) {
        if (CreateOnly.byBytes(store, StorageLayout.manifestKey(stanza, label), manifest,
                Map.of("sha256", CreateOnly.sha256(manifest))) instanceof CreateOnly.Result.Different d) {
            throw new CommandFailure(ExitCodes.FAILED, "backup " + label + " already has a different manifest;"
                    + " refusing to replace " + d.key() + " (the archive's sha256 " + d.existingSha256()
                    + ", this run's " + d.newSha256() + "): the backup that is there stays as the cloud validated"
                    + " it; run the backup again for a new label, and check the archive (tidemark verify); "
                    + ConflictReport.send(api, stanza, d));
        }
    }

    /** The spool directory for resume records: created private, used only when it is ours. */
    static boolean usableSpool(Path dir) {
        try {
            if (!Files.isDirectory(dir)) {
                Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            }
            return Files.getOwner(dir).getName().equals(System.getProperty("user.name"));
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    /** ", read again: 3 changed since, 1 modified within 2 s of its earlier read, ..." or "". */
    static String resumeReport(Map<BackupPlanner.ResumeCheck, Integer> why, int storedCopyDiffers) {
        List<String> parts = new ArrayList<>();
        int changed = why.getOrDefault(BackupPlanner.ResumeCheck.CHANGED, 0);
        int recent = why.getOrDefault(BackupPlanner.ResumeCheck.TOO_RECENT, 0);
        if (changed > 0) {
            parts.add(changed + " changed since");
        }
        if (recent > 0) {
            parts.add(recent + " modified within " + BackupPlanner.MTIME_MARGIN_SECONDS + " s of the earlier read");
        }
        int mates = why.getOrDefault(BackupPlanner.ResumeCheck.REUSABLE, 0);
        if (mates > 0) {
            parts.add(mates + " unchanged but stored in a bundle with such files");
        }
        if (storedCopyDiffers > 0) {
            parts.add(storedCopyDiffers + " whose stored copy is missing or not the one recorded");
        }
        return parts.isEmpty() ? "" : "; read again: " + String.join(", ", parts);
    }

    private static void closeQuietly(ResumeRecord r) {
        try {
            r.close();
        } catch (IOException ignored) {
            // the record is a cache
        }
    }

    /** Test hook: {@code TIDEMARK_TEST_INTERRUPT_AFTER_OBJECTS=N} makes the copy fail after N stored objects. */
    private int interruptAfter() {
        try {
            return Integer.parseInt(env.getOrDefault("TIDEMARK_TEST_INTERRUPT_AFTER_OBJECTS", "0"));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** {@code <host>:<pid>}: how the lease and the agent's jobs name this process to people. */
    public static String holder() {
        String host = HolderIdentity.hostname();
        return host.replaceAll("[^\\x21-\\x7E]", "_") + ":" + ProcessHandle.current().pid();
    }
}
