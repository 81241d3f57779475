package io.tidemark.shim.backup;

import com.fasterxml.jackson.databind.JsonNode;
import io.tidemark.events.backup.BackupLabel;
import io.tidemark.events.backup.BackupManifest;
import io.tidemark.events.backup.ManifestBundle;
import io.tidemark.events.backup.ManifestFile;
import io.tidemark.events.backup.ManifestJson;
import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.layout.StorageLayout;
import io.tidemark.events.paths.SafeRelativePath;
import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.WalSegmentSize;
import io.tidemark.shim.api.CatalogApi;
import io.tidemark.shim.cli.CommandFailure;
import io.tidemark.shim.cli.ExitCodes;
import io.tidemark.shim.cli.Progress;
import io.tidemark.shim.config.ShimConfig;
import io.tidemark.shim.spool.SpoolDirs;
import io.tidemark.shim.pg.PgConnector;
import io.tidemark.shim.pg.PgOptions;
import io.tidemark.shim.storage.ObjectStore;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * One backup run, step by step: the stanza checked against this cluster, the type and label
 * chosen (resuming an interrupted run of the same label), the lease taken; then the backup
 * session started, the data directory walked, the incremental decision ({@link ChangedFiles}),
 * what an interrupted run stored reused ({@link ResumeReuse}), the copy ({@link BackupCopier}),
 * the session stopped, the manifest assembled and stored last, the summary and the cloud's
 * verdict ({@link BackupCatalog}).
 */
final class BackupRun {
    /** Without a terminal (logs), a progress line this often. */
    static final long PROGRESS_PLAIN_MS = 5_000;

    private final ShimConfig config;
    private final CatalogApi api;
    private final ObjectStore store;
    private final Connection connection;
    private final PgConnector.ClusterFacts facts;
    private final Optional<BackupLabelName.Type> requested;
    private final int processMax;
    private final boolean checksumDelta;
    private final boolean terminal;
    private final int interruptAfter;
    private final Consumer<BackupManifest> onUploaded;
    private final PrintStream out;
    private final PrintStream err;
    private final StanzaName stanza;
    private final BackupCatalog catalog;
    private final ClusterQueries cluster;

    BackupRun(ShimConfig config, PgOptions pg, CatalogApi api, ObjectStore store, Connection connection,
              PgConnector.ClusterFacts facts, Optional<BackupLabelName.Type> requested, int processMax, boolean checksumDelta,
              boolean terminal, int interruptAfter, Consumer<BackupManifest> onUploaded, PrintStream out, PrintStream err) {
        this.config = config;
        this.api = api;
        this.store = store;
        this.connection = connection;
        this.facts = facts;
        this.requested = requested;
        this.processMax = processMax;
        this.checksumDelta = checksumDelta;
        this.terminal = terminal;
        this.interruptAfter = interruptAfter;
        this.onUploaded = onUploaded;
        this.out = out;
        this.err = err;
        this.stanza = config.stanza();
        this.catalog = new BackupCatalog(api, store, stanza);
        this.cluster = new ClusterQueries(pg, connection);
    }

    int execute() throws SQLException {
        long t0 = System.nanoTime();
        JsonNode doc = catalog.stanzaDocument();
        String sysid = doc.path("systemIdentifier").asText();
        if (!sysid.equals(facts.systemIdentifierText())) {
            throw new CommandFailure(ExitCodes.FAILED, "stanza " + stanza + " belongs to database system " + sysid
                    + ", this cluster is " + facts.systemIdentifierText());
        }
        BackupSelection sel = BackupSelection.select(requested, CatalogBackup.fromStanzaDocument(doc));
        sel.note().ifPresent(n -> out.println(n));

        Path stanzaSpool = config.spoolDir().resolve(stanza.value());
        Path resumeFile = ResumeRecord.fileFor(stanzaSpool);
        Optional<Path> dataDir;
        try {
            dataDir = Optional.of(cluster.pgdata());
        } catch (CommandFailure unreadable) {
            dataDir = Optional.empty(); // reported where the backup reads it
        }
        boolean spoolOk = BackupCommand.usableSpool(stanzaSpool, dataDir);
        Optional<ResumeRecord.Previous> previous = spoolOk ? ResumeRecord.read(resumeFile) : Optional.empty();
        BackupLabelName label;
        if (previous.isPresent() && previous.get().type().equals(BackupCommand.typeName(sel.type()))
                && previous.get().prior().equals(sel.prior())
                && store.head(StorageLayout.manifestKey(stanza, previous.get().label())).isEmpty()) {
            label = previous.get().label();
        } else {
            label = sel.label(Instant.now());
            previous = Optional.empty();
        }

        String holder = BackupCommand.holder();
        try (BackupLease lease = BackupLease.acquire(api, stanza, holder, HolderIdentity.current(), label,
                config.backupLeaseTtl(), err)) {
            return backup(sel, label, previous, resumeFile, lease, t0);
        }
    }

    private int backup(BackupSelection sel, BackupLabelName label, Optional<ResumeRecord.Previous> previous,
                       Path resumeFile, BackupLease lease, long t0) throws SQLException {
        Optional<BackupManifest> prior = sel.prior().map(catalog::manifest);
        Map<BackupLabelName, Instant> startTimes = prior.map(catalog::startTimes).orElse(Map.of());
        Path pgdata = cluster.pgdata();
        boolean dataChecksums = "on".equals(cluster.show("data_checksums"));
        WalSegmentSize segmentSize = WalSegmentSize.ofBytes(facts.walSegmentSize());
        Compression compression = config.compression();

        out.println("backup " + label + " (" + BackupCommand.typeName(sel.type()) + (sel.prior().isPresent() ? ", prior "
                + sel.prior().get() : "") + ") of " + pgdata + (facts.inRecovery() ? " from this standby" : "")
                + ", " + processMax + " process" + (processMax == 1 ? "" : "es"));

        Instant startTime = Instant.now();
        long tStart = System.nanoTime();
        PgBackupSession session = new PgBackupSession(connection, facts.pgVersionNum());
        Lsn startLsn = session.start(label.toString());
        long tCopy = System.nanoTime();

        DataDirWalker.Result walk = DataDirWalker.walk(pgdata);
        walk.skipped().forEach(s -> err.println("tidemark backup: warning: skipped " + s));

        ChangedFiles changed = ChangedFiles.sort(walk.files(), prior, startTimes, checksumDelta, processMax);
        List<SourceFile> toStore = changed.toStore();
        // Resume: what an interrupted run of this label stored, if the file and the object still match.
        ResumeReuse resumed = previous.isPresent() ? ResumeReuse.check(previous.get(), toStore, store, stanza, label,
                compression, processMax, out) : ResumeReuse.none();
        int nextBundleId = resumed.nextBundleId();

        List<SourceFile> singles = new ArrayList<>();
        List<SourceFile> small = new ArrayList<>();
        for (SourceFile f : toStore) {
            (BackupPlanner.bundled(f) ? small : singles).add(f);
        }
        List<BackupPlanner.Bundle> bundles = BackupPlanner.bundle(small, nextBundleId, BackupPlanner.BUNDLE_MAX);

        long totalBytes = toStore.stream().mapToLong(SourceFile::size).sum();
        FileCopier copier = new FileCopier(compression, config.compressLevel(), dataChecksums, startLsn.value());
        boolean recordOk = BackupCommand.usableSpool(resumeFile.getParent(), Optional.of(pgdata));
        ResumeRecord record = openRecord(resumeFile, label, sel, previous.isPresent(), recordOk);
        if (recordOk) {
            try {
                // run as root in PostgreSQL's user's stanza spool: the record is that user's too
                SpoolDirs.giveToDataDirOwner(resumeFile, Optional.of(pgdata));
            } catch (IOException e) {
                err.println("tidemark backup: warning: cannot give the resume record " + resumeFile + " to the data"
                        + " directory's owner: " + e.getMessage());
            }
        }
        int firstSpareId = nextBundleId + bundles.size();
        BackupCopier copierRun;
        java.util.concurrent.ExecutorService blockWorkers = java.util.concurrent.Executors.newFixedThreadPool(processMax,
                r -> Thread.ofPlatform().daemon().name("tidemark-backup-blocks").unstarted(r));
        BlockFileCopier blockCopier = new BlockFileCopier(compression, config.compressLevel(), dataChecksums, startLsn.value(),
                blockWorkers, processMax, recordOk ? resumeFile.getParent() : null);
        try (Progress progress = Progress.ofFiles(toStore.size(), totalBytes, err, terminal, PROGRESS_PLAIN_MS, System::nanoTime).start()) {
            record.plannedBundles(firstSpareId);
            copierRun = new BackupCopier(store, stanza, label, compression, copier, record, progress, processMax,
                    interruptAfter, () -> lease.lost() == null ? null : "the backup lease was lost: "
                    + lease.lost(), firstSpareId);
            // large files: their blocks hashed and compressed by processMax workers of their own
            copierRun.withBlocks(blockCopier, changed.priorFiles());
            copierRun.run(singles, bundles);
        } catch (IOException e) {
            closeQuietly(record);
            throw new CommandFailure(ExitCodes.FAILED, e.getMessage() + "; running the backup again resumes it", e);
        } finally {
            blockWorkers.shutdownNow();
            blockCopier.close();
        }

        long tStop = System.nanoTime();
        PgBackupSession.Stop stop = session.stop();
        Instant stopTime = Instant.now();
        long tManifest = System.nanoTime();
        BackupLabel parsedLabel = BackupLabel.parse(stop.labelFile(), segmentSize);

        // backup_label and tablespace_map as pg_backup_stop returned them, as files of the backup.
        List<ManifestFile> files = new ArrayList<>(changed.referenced());
        files.addAll(resumed.reused());
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
        List<ManifestBundle> allBundles = new ArrayList<>(resumed.reusedBundles());
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
                cluster.tablespaces(walk.tablespaces()), dirs, allBundles, files);

        if (lease.lost() != null) {
            closeQuietly(record);
            throw new CommandFailure(ExitCodes.FAILED, "the backup lease was lost (" + lease.lost()
                    + "); the manifest was not uploaded");
        }
        try {
            BackupCommand.storeManifest(store, api, stanza, label, ManifestJson.write(manifest));
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
        catalog.awaitValidation(label, facts.inRecovery(), out);
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
                return ResumeRecord.open(file, label, BackupCommand.typeName(sel.type()), sel.prior(), append);
            } catch (IOException e) {
                err.println("tidemark backup: warning: cannot write the resume record " + file + " (" + e.getMessage()
                        + "): an interrupted backup will start over");
            }
        } else {
            err.println("tidemark backup: warning: the spool " + file.getParent() + " is not usable by this user:"
                    + " an interrupted backup will start over");
        }
        try {
            return ResumeRecord.open(Files.createTempFile("tidemark-resume", ".jsonl"), label,
                    BackupCommand.typeName(sel.type()), sel.prior(), false);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void summary(BackupManifest m, long t0) {
        long errors = m.files().stream().mapToLong(f -> f.pageChecksumErrors().size()).sum();
        List<ManifestFile> bad = m.files().stream().filter(f -> !f.pageChecksumErrors().isEmpty()).toList();
        double seconds = (System.nanoTime() - t0) / 1e9;
        long storedFiles = m.files().stream().filter(f -> f.reference().equals(m.label())).count();
        out.println("backup " + m.label() + " (" + BackupCommand.typeName(m.type()) + ") complete: " + m.files().size()
                + " files (" + storedFiles + " stored, " + (m.files().size() - storedFiles) + " referenced), "
                + m.bundles().size() + " bundles");
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

    private static void closeQuietly(ResumeRecord r) {
        try {
            r.close();
        } catch (IOException ignored) {
            // the record is a cache
        }
    }
}
