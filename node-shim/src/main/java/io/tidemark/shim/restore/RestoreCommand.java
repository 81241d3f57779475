package io.tidemark.shim.restore;

import io.tidemark.shim.cli.Progress;
import com.fasterxml.jackson.databind.JsonNode;
import io.tidemark.events.plan.RecoveryRequest;
import io.tidemark.events.plan.RestorePlan;
import io.tidemark.events.plan.RestoreTarget;
import io.tidemark.events.plan.TargetAction;
import io.tidemark.events.plan.TimelineTarget;
import io.tidemark.events.sign.EcKeys;
import io.tidemark.shim.Command;
import io.tidemark.shim.archiveget.PrefetchCommand;
import io.tidemark.shim.archiveget.WalPlan;
import io.tidemark.shim.cli.CommandFailure;
import io.tidemark.shim.cli.ExitCodes;
import io.tidemark.shim.cli.Trace;
import io.tidemark.shim.cli.UsageException;
import io.tidemark.shim.config.CommonOptions;
import io.tidemark.shim.config.ShimConfig;
import io.tidemark.shim.pg.PgOptions;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.security.PublicKey;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import picocli.CommandLine;

/**
 * {@code tidemark restore}: asks the planner for a signed plan (or reads a saved one), verifies
 * it, proves every path safe, then restores the data directory from presigned URLs and writes
 * the recovery configuration. See docs/restore.md for the order of checks and what is written.
 *
 * <p>This class holds the command line and the order of the steps ({@link #call}, then
 * {@code execute}); each step is a class of this package: {@link PlanSource}, {@link PlanVerifier},
 * {@link PlanPaths}, {@link SavedPlan}, {@link PlanPrecheck}, {@link DataDirTree},
 * {@link RestorePrefetch}, {@link FileDownloads}, {@link RecoveryFiles}, then {@link RestoreWait}
 * with --wait.
 */
@CommandLine.Command(name = "restore", mixinStandardHelpOptions = true, versionProvider = io.tidemark.shim.cli.Version.class,
        sortOptions = false,
        description = {"Restore the data directory from a signed restore plan.",
                "No target: latest. Writes the recovery configuration; --wait starts PostgreSQL and waits for the target."})
public final class RestoreCommand implements Command {
    /** Files of a backup that restore never writes from the file list: its own, or those a running or recovering server owns. */
    static final Set<String> NOT_RESTORED = Set.of("postmaster.pid", "postmaster.opts", "recovery.signal", "standby.signal",
            "recovery.conf", "backup_label", "tablespace_map", WalPlan.FILE_NAME);
    static final String PG_CONTROL = "global/pg_control";

    private final Map<String, String> env;
    private final Clock clock;
    private final long firstRetryPauseMs;
    private final long progressEverySeconds;
    private final PrefetchCommand.Starter prefetch;
    @CommandLine.Mixin
    private CommonOptions common = new CommonOptions();

    /** At most one target, declared: picocli refuses a second one ("... are mutually exclusive"). */
    @CommandLine.ArgGroup(exclusive = true, multiplicity = "0..1", heading = "Recovery target (at most one; none: latest)%n")
    private Target target;

    static final class Target {
        @CommandLine.Option(names = "--target-time", paramLabel = "TIME", required = true,
                description = "a time stamp with zone, e.g. '2026-11-21 07:00:00+00'")
        String time;

        @CommandLine.Option(names = "--target-xid", paramLabel = "XID", required = true, description = "a transaction id")
        String xid;

        @CommandLine.Option(names = "--target-lsn", paramLabel = "LSN", required = true, description = "a WAL position X/X")
        String lsn;

        @CommandLine.Option(names = "--target-name", paramLabel = "NAME", required = true, description = "a restore point's name")
        String name;

        @CommandLine.Option(names = "--target-immediate", required = true, description = "the end of the backup (consistency)")
        boolean immediate;

        RestoreTarget toTarget() {
            if (immediate) {
                return RestoreTarget.of("immediate", null);
            }
            if (time != null) {
                return RestoreTarget.of("time", time);
            }
            if (xid != null) {
                return RestoreTarget.of("xid", xid);
            }
            if (lsn != null) {
                return RestoreTarget.of("lsn", lsn);
            }
            return RestoreTarget.of("name", name);
        }
    }

    @CommandLine.Option(names = "--target-exclusive", description = "stop just before the target, not after it")
    private boolean targetExclusive;

    @CommandLine.Option(names = "--target-timeline", paramLabel = "latest|current|N", description = "timeline to follow (default latest)")
    private String targetTimeline = "latest";

    @CommandLine.Option(names = "--target-action", paramLabel = "promote|pause|shutdown", description = "at the target (default promote)")
    private String targetAction = "promote";

    @CommandLine.Option(names = "--backup", paramLabel = "LABEL", description = "restore from this backup")
    private String backup;

    @CommandLine.Option(names = "--plan-file", paramLabel = "F", description = "a restore plan saved earlier instead of asking the planner")
    private Path planFileOption;

    @CommandLine.Option(names = "--delta", description = "restore into a non-empty data directory, rewriting only what differs")
    private boolean delta;

    @CommandLine.Option(names = "--process-max", paramLabel = "N", description = "parallel downloads (1 to 64, default 4)")
    private String processMaxOption = "4";

    @CommandLine.Option(names = "--tablespace-map", paramLabel = "OID=DIR", description = "restore tablespace OID to DIR (repeatable)")
    private List<String> tablespaceMapOptions = new ArrayList<>();

    @CommandLine.Option(names = "--keep-config-commands", description = "keep the commands in the backup's configuration (else commented out)")
    private boolean keepConfigCommands;

    @CommandLine.Option(names = "--wait", description = "start PostgreSQL, wait for the target, report the LSN and time reached")
    private boolean waitOption;

    @CommandLine.Option(names = "--wait-timeout", paramLabel = "S", description = "with --wait: seconds to wait (default 3600)")
    private String waitTimeout;

    @CommandLine.Option(names = "--owner", paramLabel = "USER", description = "with --wait as root: the user that runs PostgreSQL (default postgres)")
    private String owner;

    /** --wait: this command starts the server itself, so it does not tell people how to. */
    private boolean waiting;
    /** The caller starts the server itself after the restore ({@code tidemark drill}): as --wait, without waiting here. */
    private boolean startedByCaller;
    /** --wait run as root: PGDATA goes to another user, whose archive-get cannot use root's prefetch spool. */
    private boolean handedOver;

    public RestoreCommand() {
        this(System.getenv(), Clock.systemUTC(), 250, 5, PrefetchCommand.DETACHED);
    }

    /** Starts no prefetcher (tests that only check the files). */
    public RestoreCommand(Map<String, String> env, Clock clock, long firstRetryPauseMs, long progressEverySeconds) {
        this(env, clock, firstRetryPauseMs, progressEverySeconds, (config, spool, after, plan) -> { });
    }

    /** @param prefetch how to start the WAL prefetcher once the files are in place */
    public RestoreCommand(Map<String, String> env, Clock clock, long firstRetryPauseMs, long progressEverySeconds,
                          PrefetchCommand.Starter prefetch) {
        this.env = env;
        this.clock = clock;
        this.firstRetryPauseMs = firstRetryPauseMs;
        this.progressEverySeconds = progressEverySeconds;
        this.prefetch = prefetch;
    }

    /**
     * For a caller that starts the restored server itself (as postgres when run as root, after
     * handing the files over): no "start the cluster with" hint, and no prefetcher of this user's.
     */
    public RestoreCommand startedByCaller() {
        this.startedByCaller = true;
        return this;
    }

    /** What the command line asked for. */
    record Options(Path pgdata, RecoveryRequest request, Optional<String> backup, Optional<Path> planFile, boolean delta,
                   int processMax, Map<Long, Path> tablespaceMap, boolean keepConfigCommands) {
    }

    /** A planner answer: the signed envelope, the URLs, and the text as received. */
    record PlanResponse(JsonNode envelope, PlanUrls.UrlSet urls, String text) {
    }

    @Override
    public int call(PrintStream out, PrintStream err) {
        try {
            Options o = options();
            RestoreWait.Options wait = waitOptions();
            waiting = wait.enabled() || startedByCaller;
            handedOver = waiting && "root".equals(System.getProperty("user.name")) && !wait.owner().equals("root");
            ShimConfig config = ShimConfig.load(common, env);
            PublicKey key = publicKey(config);
            Trace.mark("options and config");
            PlanResponse response = o.planFile().isPresent() ? PlanSource.readFile(o.planFile().get())
                    : new PlanSource(config, env).request(o.request(), o.backup());
            Trace.mark("plan received");
            RestorePlan plan = PlanVerifier.verify(response.envelope(), key, config.stanza(), clock.instant());
            Trace.mark("plan verified");
            int code = execute(config, o, plan, response, out, err);
            if (code != ExitCodes.OK || !wait.enabled()) {
                return code;
            }
            List<Path> tablespaces = RestoreLayout.of(o.pgdata(), plan.tablespaces(), o.tablespaceMap()).tablespaces()
                    .values().stream().map(RestoreLayout.Tablespace::location).toList();
            return new RestoreWait(wait, clock).run(plan, o.pgdata(), tablespaces, out, err);
        } catch (RestoreRefused e) {
            throw new CommandFailure(ExitCodes.FAILED, e.getMessage(), e);
        }
    }

    /** The --wait options as given (checked by {@link RestoreWait.Options#of}). */
    RestoreWait.Options waitOptions() {
        return RestoreWait.Options.of(waitOption, waitTimeout, owner);
    }

    /** The values of every {@code --tablespace-map OID=DIR} (repeatable), checked. */
    static Map<Long, Path> tablespaceMap(List<String> values) {
        Map<Long, Path> map = new LinkedHashMap<>();
        for (String v : values) {
            int eq = v.indexOf('=');
            if (eq < 1 || !v.substring(0, eq).matches("[0-9]{1,10}") || eq == v.length() - 1) {
                throw new UsageException("--tablespace-map takes OID=DIR, got '" + v + "'");
            }
            Path dir = Path.of(v.substring(eq + 1));
            if (!dir.isAbsolute()) {
                throw new UsageException("--tablespace-map " + v + ": the directory must be absolute");
            }
            if (map.put(Long.parseLong(v.substring(0, eq)), dir) != null) {
                throw new UsageException("--tablespace-map given twice for OID " + v.substring(0, eq));
            }
        }
        return map;
    }

    Options options() {
        Map<Long, Path> tsMap = tablespaceMap(tablespaceMapOptions);
        Path pgdata = PgOptions.from(common, env).pgdata();
        if (pgdata == null) {
            throw new UsageException("no data directory: give --pgdata DIR or set PGDATA");
        }
        RecoveryRequest request;
        try {
            RestoreTarget t = target == null ? RestoreTarget.of("latest", null) : target.toTarget();
            request = new RecoveryRequest(t, targetExclusive, TimelineTarget.parse(targetTimeline),
                    TargetAction.parse(targetAction));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        int processMax;
        try {
            processMax = Integer.parseInt(processMaxOption);
        } catch (NumberFormatException e) {
            processMax = -1;
        }
        if (processMax < 1 || processMax > 64) {
            throw new UsageException("--process-max must be 1 to 64, got '" + processMaxOption + "'");
        }
        return new Options(pgdata.toAbsolutePath().normalize(), request, Optional.ofNullable(backup),
                Optional.ofNullable(planFileOption), delta, processMax, tsMap, keepConfigCommands);
    }

    public static PublicKey publicKey(ShimConfig config) {
        String text = config.planPublicKey().orElseThrow(() -> new CommandFailure(ExitCodes.FAILED, "configuration "
                + config.file() + ": plan.publicKey is not set; restore refuses plans it cannot verify (local-cloud writes"
                + " the key into tidemark.conf; on AWS it is the plan-signing KMS key's public key)"));
        try {
            return EcKeys.readPublic(text);
        } catch (IllegalArgumentException e) {
            throw new CommandFailure(ExitCodes.FAILED, "configuration " + config.file() + ": plan.publicKey: " + e.getMessage());
        }
    }


    // ---------------------------------------------------------------- the steps, in order

    /** The JSON the planner takes for a recovery request (also the drill's). */
    public static String requestBody(RecoveryRequest r, Optional<String> backup) {
        return PlanSource.requestBody(r, backup);
    }

    /** Every plan path mapped and proven safe; nothing is written yet. */
    record Prepared(RestoreLayout layout, List<Downloader.Item> files, List<RestoreLayout.InTree> directories,
                    List<RestoreLayout.TablespaceLink> links, List<String> notes) {
    }

    static Prepared prepare(RestorePlan plan, Path pgdata, Map<Long, Path> tsMap, boolean delta) {
        return PlanPaths.prepare(plan, pgdata, tsMap, delta);
    }

    /**
     * The restore of a verified plan, one step after the other: its paths proven safe
     * ({@link PlanPaths}), the planner's answer saved ({@link SavedPlan}), every object it reads
     * shown present ({@link PlanPrecheck}); only then is anything written: the directory tree
     * ({@link DataDirTree}), the WAL prefetcher started ({@link RestorePrefetch}), the files
     * ({@link FileDownloads}), the recovery files ({@link RecoveryFiles}), the directories synced.
     */
    private int execute(ShimConfig config, Options o, RestorePlan plan, PlanResponse response, PrintStream out,
                        PrintStream err) {
        Prepared p = prepare(plan, o.pgdata(), o.tablespaceMap(), o.delta());
        Path pgdata = p.layout().pgdata();
        long totalBytes = p.files().stream().mapToLong(i -> i.file().size()).sum();
        out.println("restore plan " + plan.planId() + ": backup " + plan.backupLabel()
                + (plan.chain().size() > 1 ? " (chain " + plan.chain() + ")" : "") + ", " + p.files().size() + " files, "
                + Progress.size(totalBytes) + ", target " + PinnedEnd.describe(plan) + ", timeline " + plan.timeline()
                + "; into " + pgdata + (o.delta() ? " (delta)" : ""));
        p.notes().forEach(n -> out.println("note: " + n));
        if (o.planFile().isEmpty()) {
            out.println("plan saved: " + SavedPlan.save(config, plan, response, out) + " (run it again with --plan-file)");
        }
        PlanUrls urls = new PlanUrls(plan.planId(), response.urls(), new PlanSource(config, env).renewer(), clock);
        // one HTTP client for the whole restore: the pre-check and the downloads reuse its connections
        java.net.http.HttpClient http = Downloader.httpClient(
                config.s3CaFile().map(io.tidemark.events.tls.PemTrust::sslContext).orElse(null));
        // before anything is written into PGDATA: every object the plan reads is there, with its size
        PlanPrecheck.require(plan, p.files(), urls, Math.max(config.retries(), 1), firstRetryPauseMs, http, out,
                Progress.stdoutIsTerminal(), progressEverySeconds);
        long started = System.nanoTime();
        int kept;
        boolean prefetching = false;
        List<ConfigCommands.Found> commands;
        Progress progress = Progress.ofFiles(p.files().size(), totalBytes, out, Progress.stdoutIsTerminal(),
                progressEverySeconds * 1000, System::nanoTime);
        try {
            DataDirTree.layOut(p, o.delta());
            Trace.mark("directories");
            // now rather than after the files: its JVM start and first segments overlap the download
            // the plan archive-get and the prefetcher fetch WAL by: before the prefetcher starts
            Path planFile = RecoveryConfig.writePlan(pgdata, response.envelope());
            prefetching = !handedOver && RestorePrefetch.start(prefetch, config, plan, pgdata, planFile);
            List<Downloader.Item> fetch = o.delta() ? FileDownloads.deltaDecisions(p.files(), o.processMax(), progress)
                    : p.files();
            kept = p.files().size() - fetch.size();
            progress.start();
            new FileDownloads(urls, http, o.processMax(), Math.max(config.retries(), 1), firstRetryPauseMs, progress)
                    .run(fetch);
            Trace.mark("files downloaded");
            commands = RecoveryFiles.write(env, config, plan, p, pgdata, o.keepConfigCommands());
            DataDirTree.sync(p);
        } catch (IOException | RuntimeException e) {
            progress.close();
            String why = e instanceof IOException ? e.getClass().getSimpleName() + ": " + e.getMessage() : e.getMessage();
            throw new CommandFailure(ExitCodes.FAILED, "restore FAILED: " + why + "\n  " + pgdata + " holds an incomplete"
                    + " restore (" + progress.items() + " of " + p.files().size() + " files written; no global/pg_control or"
                    + " recovery configuration until every file is verified): it cannot be started. Run the restore"
                    + " again, with --delta to keep the files already written.", e);
        }
        progress.close();
        double secs = (System.nanoTime() - started) / 1e9;
        out.printf(java.util.Locale.ROOT, "restore done: backup %s, %d files (%d downloaded, %d kept), %s in %.1f s"
                        + "%s%n", plan.backupLabel(), p.files().size(), p.files().size() - kept, kept, Progress.size(totalBytes),
                secs, urls.renewals() > 0 ? ", download URLs renewed " + urls.renewals() + " time(s)" : "");
        out.println("  target: " + PinnedEnd.describe(plan) + ", timeline " + plan.timeline() + " (asked: "
                + plan.request().timeline().text() + ")" + (plan.reachability().isEmpty() ? "" : "; " + plan.reachability()));
        out.println("  recovery.signal and postgresql.auto.conf written; restore_command uses "
                + RecoveryConfig.launcher(env) + " archive-get" + (prefetching
                ? "; prefetching WAL from " + RestorePrefetch.firstSegment(plan) + " (for " + config.prefetchIdleSeconds()
                + " s unless recovery starts asking)" : ""));
        RecoveryFiles.report(commands, o.keepConfigCommands(), out);
        if (waiting) {
            return ExitCodes.OK;
        }
        if ("root".equals(System.getProperty("user.name"))) {
            out.println("  note: running as root, the files belong to root: chown -R postgres: " + pgdata
                    + " before starting PostgreSQL");
        }
        out.println("start the cluster with:\n  pg_ctl -D " + RecoveryConfig.shellQuote(pgdata.toString()).replace("%%", "%")
                + " -l " + RecoveryConfig.shellQuote(pgdata.resolveSibling(pgdata.getFileName() + ".log").toString())
                .replace("%%", "%") + " start");
        return ExitCodes.OK;
    }

    static String describe(RecoveryRequest r) {
        String t = r.target().type() + (r.target().value() == null ? "" : " " + r.target().value());
        if (r.target() instanceof RestoreTarget.AtTime || r.target() instanceof RestoreTarget.AtXid
                || r.target() instanceof RestoreTarget.AtLsn) {
            t += r.exclusive() ? " (exclusive)" : " (inclusive)";
        }
        if (!(r.target() instanceof RestoreTarget.Latest)) {
            t += ", then " + r.action().text();
        }
        return t;
    }}
