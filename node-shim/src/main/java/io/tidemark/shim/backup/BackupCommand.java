package io.tidemark.shim.backup;

import io.tidemark.events.backup.BackupManifest;
import io.tidemark.events.backup.ManifestException;
import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.layout.StorageLayout;
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
import io.tidemark.shim.spool.SpoolDirs;
import io.tidemark.shim.storage.CreateOnly;
import io.tidemark.shim.storage.CredentialSource;
import io.tidemark.shim.storage.ObjectStore;
import io.tidemark.shim.storage.Retry;
import io.tidemark.shim.storage.StorageException;
import io.tidemark.shim.storage.Stores;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine;

/**
 * {@code tidemark backup [--type full|diff|incr] [--from-standby] [--process-max N] [--checksum-delta]}:
 * a base backup of the running cluster straight to S3, validated by the cloud once its manifest
 * (uploaded last) arrives. See docs/backup.md.
 *
 * <p>This class holds the command line and what it opens (configuration, PostgreSQL connection,
 * object store, catalog API); {@link BackupRun} is the backup itself, step by step.
 */
@CommandLine.Command(name = "backup", mixinStandardHelpOptions = true, versionProvider = io.tidemark.shim.cli.Version.class,
        description = {"Base backup straight to S3 (default incr; full when no valid full exists).",
                "A standby skips unless --from-standby."})
public final class BackupCommand implements Command {
    static final int DEFAULT_PROCESS_MAX = 2;

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
            return new BackupRun(config, pg, api, store, c, facts, type, processMax, checksumDelta, terminal,
                    interruptAfter(), onUploaded, out, err).execute();
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

    /**
     * The stanza's spool directory for resume records: created private, used when it is ours or,
     * run as root, the data directory's owner's ({@link SpoolDirs#createStanzaDir}: root never
     * takes PostgreSQL's user's spool, whose archive-push needs it; the record root writes there
     * is given to that user, and no link there is followed).
     */
    static boolean usableSpool(Path dir, Optional<Path> pgdata) {
        try {
            if (!Files.isDirectory(dir.getParent())) {
                Files.createDirectories(dir.getParent(), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            }
            SpoolDirs.createStanzaDir(dir, pgdata);
            return SpoolDirs.usableStanzaDir(dir, pgdata);
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    /** ", read again: 3 changed since, 1 modified within 2 s of its earlier read, ..." or "". */
    static String resumeReport(Map<BackupPlanner.ResumeCheck, Integer> why, int storedCopyDiffers) {
        return ResumeReuse.report(why, storedCopyDiffers);
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
