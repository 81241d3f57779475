package io.tidemark.shim.restore;

import io.tidemark.shim.cli.Progress;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tidemark.events.backup.ManifestTablespace;
import io.tidemark.events.json.Json;
import io.tidemark.events.paths.SafeRelativePath;
import io.tidemark.events.plan.PlanFile;
import io.tidemark.events.plan.RecoveryRequest;
import io.tidemark.events.plan.RestorePlan;
import io.tidemark.events.plan.RestoreTarget;
import io.tidemark.events.plan.TargetAction;
import io.tidemark.events.plan.TimelineTarget;
import io.tidemark.events.sign.EcKeys;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.shim.Command;
import io.tidemark.shim.api.ApiException;
import io.tidemark.shim.api.CatalogApi;
import io.tidemark.shim.archiveget.AtomicFile;
import io.tidemark.shim.archiveget.PrefetchCommand;
import io.tidemark.shim.archiveget.PrefetchSpool;
import io.tidemark.shim.archiveget.WalPlan;
import io.tidemark.shim.cli.CommandFailure;
import io.tidemark.shim.cli.ExitCodes;
import io.tidemark.shim.cli.Trace;
import io.tidemark.shim.cli.UsageException;
import io.tidemark.shim.config.CommonOptions;
import io.tidemark.shim.config.ShimConfig;
import io.tidemark.shim.pg.PgOptions;
import io.tidemark.shim.spool.SpoolDirs;
import io.tidemark.shim.storage.CredentialSource;
import io.tidemark.shim.storage.Retry;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PublicKey;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import picocli.CommandLine;

/**
 * {@code tidemark restore}: asks the planner for a signed plan (or reads a saved one), verifies
 * it, proves every path safe, then restores the data directory from presigned URLs and writes
 * the recovery configuration. See docs/restore.md for the order of checks and what is written.
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
    private static final ObjectMapper MAPPER = Json.mapper();

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
            PlanResponse response = o.planFile().isPresent() ? readPlanFile(o.planFile().get())
                    : requestPlan(config, o, out);
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

    // ---------------------------------------------------------------- the plan

    public static String requestBody(RecoveryRequest r, Optional<String> backup) {
        ObjectNode o = MAPPER.createObjectNode();
        o.putObject("target").put("type", r.target().type()).put("value", r.target().value());
        o.put("exclusive", r.exclusive());
        o.put("timeline", r.timeline().text());
        o.put("action", r.action().text());
        if (backup.isPresent()) {
            o.put("backup", backup.get());
        } else {
            o.putNull("backup");
        }
        return o.toString();
    }

    private PlanResponse requestPlan(ShimConfig config, Options o, PrintStream out) {
        CatalogApi api = api(config);
        CatalogApi.Response r;
        try {
            r = api.postRestorePlan(config.stanza(), requestBody(o.request(), o.backup()));
        } catch (ApiException e) {
            throw new RestoreRefused("cannot ask for a restore plan: " + e.getMessage(), e);
        }
        if (r.status() == 422) {
            throw new RestoreRefused(unreachable(r.body(), r.message()));
        }
        if (r.status() != 201 && r.status() != 200) {
            throw new RestoreRefused("the planner refused the request: HTTP " + r.status() + ": " + r.message());
        }
        return parseResponse(r.body(), "the planner's answer");
    }

    /** The 422 answer for people: the planner's message and the nearest points it can reach. */
    static String unreachable(String body, String message) {
        StringBuilder sb = new StringBuilder("target not reachable: " + message);
        try {
            JsonNode n = MAPPER.readTree(body);
            JsonNode nearest = n.path("nearest");
            for (String side : List.of("before", "after")) {
                JsonNode p = nearest.path(side);
                if (!p.isMissingNode() && !p.isNull()) {
                    sb.append("\n  nearest reachable point ").append(side).append(": ").append(point(p));
                }
            }
            JsonNode w = n.path("window");
            if (!w.isMissingNode() && !w.isNull()) {
                sb.append("\n  recovery window: ").append(w.has("earliest") || w.has("latest")
                        ? point(w.path("earliest")) + " .. " + point(w.path("latest")) : w.toString());
            }
        } catch (IOException | RuntimeException e) {
            // the message alone
        }
        return sb.toString();
    }

    private static String point(JsonNode p) {
        if (!p.isObject()) {
            return p.asText();
        }
        List<String> parts = new ArrayList<>();
        for (String f : List.of("time", "lsn", "timeline", "xid", "name")) {
            if (p.hasNonNull(f)) {
                parts.add(f + " " + p.get(f).asText());
            }
        }
        return parts.isEmpty() ? p.toString() : String.join(", ", parts);
    }

    static PlanResponse parseResponse(String text, String source) {
        JsonNode n;
        try {
            n = MAPPER.readTree(text);
        } catch (IOException e) {
            throw new RestoreRefused(source + " is not JSON: " + e.getMessage());
        }
        if (n != null && n.has("plan")) {
            return new PlanResponse(n.get("plan"), PlanUrls.UrlSet.parse(n), text);
        }
        if (n != null && n.has("document")) {
            return new PlanResponse(n, new PlanUrls.UrlSet(Map.of(), null), text);
        }
        throw new RestoreRefused(source + " is neither a planner answer ({\"plan\": ..., \"urls\": ...}) nor a signed plan");
    }

    private static PlanResponse readPlanFile(Path f) {
        try {
            return parseResponse(Files.readString(f, StandardCharsets.UTF_8), "plan file " + f);
        } catch (NoSuchFileException e) {
            throw new RestoreRefused("plan file " + f + " does not exist");
        } catch (IOException e) {
            throw new RestoreRefused("cannot read plan file " + f + ": " + e.getMessage(), e);
        }
    }

    private CatalogApi api(ShimConfig config) {
        return new CatalogApi(config.requireApiUrl(), config.apiRegion(), CredentialSource.of(config, env),
                Retry.of(config.retries()), config.apiKey());
    }

    private PlanUrls.Renewer renewer(ShimConfig config) {
        return planId -> {
            if (config.apiUrl().isEmpty()) {
                throw new RestoreRefused("the download URLs of plan " + planId + " must be renewed, but api.url is not set in "
                        + config.file());
            }
            CatalogApi.Response r;
            try {
                r = api(config).restorePlanUrls(planId);
            } catch (ApiException e) {
                throw new RestoreRefused("cannot renew the download URLs: " + e.getMessage(), e);
            }
            if (r.status() == 410) {
                throw new RestoreRefused("restore plan " + planId + " has expired (HTTP 410): ask for a new plan");
            }
            if (r.status() != 200) {
                throw new RestoreRefused("cannot renew the download URLs of plan " + planId + ": HTTP " + r.status() + ": "
                        + r.message());
            }
            try {
                return PlanUrls.UrlSet.parse(MAPPER.readTree(r.body()));
            } catch (IOException e) {
                throw new RestoreRefused("renewed URLs are not JSON: " + e.getMessage(), e);
            }
        };
    }

    // ---------------------------------------------------------------- checks

    /** Every plan path mapped and proven safe; nothing is written yet. */
    record Prepared(RestoreLayout layout, List<Downloader.Item> files, List<RestoreLayout.InTree> directories,
                    List<RestoreLayout.TablespaceLink> links, List<String> notes) {
    }

    static Prepared prepare(RestorePlan plan, Path pgdata, Map<Long, Path> tsMap, boolean delta) {
        DataDirCheck.check(pgdata, plan, delta);
        RestoreLayout layout = RestoreLayout.of(pgdata, plan.tablespaces(), tsMap);
        refuseUnmappedTablespaces(plan, layout.pgdata(), tsMap);
        if (plan.tablespaceMap().isPresent()) {
            Set<Long> inMap = new TreeSet<>(RestoreLayout.mapOids(plan.tablespaceMap().get()));
            if (!inMap.equals(new TreeSet<>(layout.tablespaces().keySet()))) {
                throw new RestoreRefused("the plan's tablespace_map names tablespaces " + inMap + " but its tablespace list has "
                        + layout.tablespaces().keySet());
            }
        }
        List<String> notes = new ArrayList<>();
        Set<String> filePaths = new HashSet<>();
        for (PlanFile f : plan.files()) {
            filePaths.add(f.path().path());
        }
        List<Downloader.Item> files = new ArrayList<>();
        for (PlanFile f : plan.files()) {
            refuseFileAncestor(f.path(), filePaths);
            if (NOT_RESTORED.contains(f.path().path())) {
                if (f.path().path().equals("backup_label") && !f.sha256().equals(sha256(plan.backupLabelFile()))) {
                    notes.add("the backup's file list has a backup_label that differs from the plan's; the plan's is written");
                } else if (!f.path().path().equals("backup_label") && !f.path().path().equals("tablespace_map")) {
                    notes.add("not restoring " + f.path() + " (a file of the running server, not of the backup)");
                }
                continue;
            }
            RestoreLayout.Target t = layout.target(f.path());
            if (t instanceof RestoreLayout.TablespaceLink l) {
                throw new RestoreRefused("path " + f.path() + " is a file in the plan, but it is the link of tablespace "
                        + l.tablespace().oid());
            }
            layout.checkNoLinks(t);
            files.add(new Downloader.Item(f, ((RestoreLayout.InTree) t).file()));
        }
        List<RestoreLayout.InTree> dirs = new ArrayList<>();
        for (SafeRelativePath d : plan.directories()) {
            refuseFileAncestor(d, filePaths);
            if (filePaths.contains(d.path())) {
                throw new RestoreRefused("path " + d + " is listed both as a file and as a directory");
            }
            RestoreLayout.Target t = layout.target(d);
            layout.checkNoLinks(t);
            if (t instanceof RestoreLayout.InTree in) {
                dirs.add(in);
            }
        }
        List<RestoreLayout.TablespaceLink> links = new ArrayList<>();
        for (RestoreLayout.Tablespace ts : layout.tablespaces().values()) {
            RestoreLayout.Target t = layout.target(SafeRelativePath.of("pg_tblspc/" + ts.oid()));
            layout.checkNoLinks(t);
            links.add((RestoreLayout.TablespaceLink) t);
            if (!delta) {
                for (Path v : versionDirs(ts, files, dirs)) {
                    if (Files.exists(v, LinkOption.NOFOLLOW_LINKS) && (!Files.isDirectory(v, LinkOption.NOFOLLOW_LINKS)
                            || !DataDirCheck.isEmpty(v))) {
                        throw new RestoreRefused("tablespace " + ts.oid() + ": " + v + " is not empty: remove it, map the"
                                + " tablespace elsewhere with --tablespace-map " + ts.oid() + "=DIR, or use --delta");
                    }
                }
            }
        }
        return new Prepared(layout, files, dirs, links, notes);
    }

    /**
     * A tablespace location comes from the backup's manifest, which the source node wrote: a
     * compromised node can name any directory of the restore host there. So each location is
     * used only when the operator named it ({@code --tablespace-map}) or when this host is shown
     * to be the one the backup came from: PGDATA holds the same cluster (its pg_control's system
     * identifier is the plan's; only with {@code --delta}, as PGDATA must otherwise be empty) and
     * its {@code pg_tblspc/<oid>} link already points at that very location. Refused before
     * anything is written, naming every tablespace to map.
     */
    static void refuseUnmappedTablespaces(RestorePlan plan, Path pgdata, Map<Long, Path> tsMap) {
        boolean sameCluster = DataDirCheck.systemIdentifier(pgdata).map(plan.systemIdentifier()::equals).orElse(false);
        List<String> unmapped = new ArrayList<>();
        for (ManifestTablespace t : plan.tablespaces()) {
            if (tsMap.containsKey(t.oid()) || (sameCluster && linksTo(pgdata.resolve("pg_tblspc").resolve(Long.toString(t.oid())),
                    t.location()))) {
                continue;
            }
            unmapped.add("--tablespace-map " + t.oid() + "=DIR (tablespace " + t.name() + ", at " + t.location()
                    + " on the backup's host)");
        }
        if (!unmapped.isEmpty()) {
            throw new RestoreRefused("the backup has " + unmapped.size() + " tablespace(s) whose location comes from the"
                    + " backup's manifest, and this data directory does not show this host as the one that took it"
                    + " (same cluster with the same tablespace links, under --delta): name where each goes on this host: "
                    + String.join(", ", unmapped) + ". Nothing was written");
        }
    }

    private static boolean linksTo(Path link, String location) {
        try {
            return Files.isSymbolicLink(link) && Files.readSymbolicLink(link).equals(Path.of(location));
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private static void refuseFileAncestor(SafeRelativePath p, Set<String> filePaths) {
        String s = p.path();
        for (int i = s.indexOf('/'); i >= 0; i = s.indexOf('/', i + 1)) {
            if (filePaths.contains(s.substring(0, i))) {
                throw new RestoreRefused("path " + p + " lies below " + s.substring(0, i) + ", which the plan lists as a file");
            }
        }
    }

    /** The PG_<version>_<catalog> directories a tablespace's files and directories go to. */
    private static Set<Path> versionDirs(RestoreLayout.Tablespace ts, List<Downloader.Item> files, List<RestoreLayout.InTree> dirs) {
        Set<Path> out = new LinkedHashSet<>();
        List<Path> all = new ArrayList<>();
        files.forEach(i -> all.add(i.target()));
        dirs.forEach(d -> all.add(d.file()));
        for (Path p : all) {
            if (p.startsWith(ts.location()) && !p.equals(ts.location())) {
                out.add(ts.location().resolve(ts.location().relativize(p).getName(0).toString()));
            }
        }
        return out;
    }

    private static String sha256(String s) {
        return java.util.HexFormat.of().formatHex(Downloader.sha256().digest(s.getBytes(StandardCharsets.UTF_8)));
    }

    // ---------------------------------------------------------------- writing

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
            out.println("plan saved: " + savePlan(config, plan, response, out) + " (run it again with --plan-file)");
        }
        PlanUrls urls = new PlanUrls(plan.planId(), response.urls(), renewer(config), clock);
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
            layoutTree(p, o.delta());
            Trace.mark("directories");
            // now rather than after the files: its JVM start and first segments overlap the download
            // the plan archive-get and the prefetcher fetch WAL by: before the prefetcher starts
            Path planFile = RecoveryConfig.writePlan(pgdata, response.envelope());
            prefetching = !handedOver && startPrefetch(config, plan, pgdata, planFile);
            List<Downloader.Item> fetch = o.delta() ? deltaDecisions(p.files(), o.processMax(), progress) : p.files();
            kept = p.files().size() - fetch.size();
            progress.start();
            Downloader d = new Downloader(urls, o.processMax(), Math.max(config.retries(), 1), firstRetryPauseMs, progress)
                    .using(http);
            List<Downloader.Item> control = fetch.stream().filter(i -> i.file().path().path().equals(PG_CONTROL)).toList();
            List<Downloader.Item> version = fetch.stream().filter(i -> i.file().path().path().equals("PG_VERSION")).toList();
            List<Downloader.Item> others = fetch.stream().filter(i -> !i.file().path().path().equals(PG_CONTROL)
                    && !i.file().path().path().equals("PG_VERSION")).toList();
            // PG_VERSION first: PG_VERSION without pg_control is how a rerun recognises an interrupted restore
            d.run(Downloader.units(version));
            d.run(Downloader.units(others.stream().filter(i -> !BlockFiles.applies(i)).toList()));
            // files stored block by block: assembled from the blocks of every backup of the chain
            new BlockFiles(urls, http, o.processMax(), Math.max(config.retries(), 1), firstRetryPauseMs, progress)
                    .run(others.stream().filter(BlockFiles::applies).toList());
            // pg_control last: until it exists, a half-restored directory cannot be started
            d.run(Downloader.units(control));
            Trace.mark("files downloaded");
            commands = writeRecoveryFiles(config, plan, p, pgdata, o.keepConfigCommands());
            syncDirectories(p);
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
                ? "; prefetching WAL from " + firstSegment(plan) + " (for " + config.prefetchIdleSeconds()
                + " s unless recovery starts asking)" : ""));
        reportCommands(commands, o.keepConfigCommands(), out);
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

    /** The first segment recovery reads: the one holding the backup's start (redo) LSN. */
    private static WalSegmentName firstSegment(RestorePlan plan) {
        return WalSegmentName.containing(plan.backupTimeline(), plan.backupStartLsn(), plan.walSegmentSize());
    }

    /**
     * Starts the WAL prefetcher while the files download, so that the first segments are in the
     * spool when PostgreSQL starts and asks for them (otherwise the first ask would fetch one
     * segment in a fresh JVM, then start the prefetcher). Only when archive-get will find this spool usable: prefetching
     * is on, and this user owns PGDATA, as the user PostgreSQL runs as must; a restore run as root
     * for a postgres-owned cluster starts it as that user (its spool, the plan file given to it).
     */
    private boolean startPrefetch(ShimConfig config, RestorePlan plan, Path pgdata, Path planFile) {
        if (config.prefetch() <= 0) {
            return false;
        }
        try {
            String owner = Files.getOwner(pgdata).getName();
            if (!owner.equals(System.getProperty("user.name"))) {
                // root restoring for the user PostgreSQL runs as: that user's prefetcher, in that
                // user's spool, reading the plan file handed to that user
                WalSegmentName first = firstSegment(plan);
                if (!"root".equals(System.getProperty("user.name")) || first.segmentNumber() == 0) {
                    return false;
                }
                Files.setOwner(planFile, Files.getOwner(pgdata));
                return prefetch.startAs(owner, config, first.previous(), planFile);
            }
            Optional<PrefetchSpool> spool = PrefetchSpool.open(config.spoolDir(), config.stanza());
            if (spool.isEmpty()) {
                return false;
            }
            WalSegmentName first = firstSegment(plan);
            if (first.segmentNumber() == 0) {
                return false;
            }
            WalSegmentName before = first.previous();
            // a prefetcher left from an earlier restore (maybe another endpoint) leaves first
            spool.get().newGeneration();
            if (!spool.get().waitUnlocked(Duration.ofSeconds(5))) {
                return false;
            }
            spool.get().noteRequested(before);
            prefetch.start(config, spool.get(), before, Optional.of(planFile));
            return true;
        } catch (IOException | RuntimeException e) {
            return false; // archive-get starts it on the first ask
        }
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
    }

    /**
     * Saves the planner's answer (it holds presigned URLs: read access to the backup until they
     * expire) as {@code <spool.dir>/<stanza>/restore-plans/<planId>.json}, mode 600, in
     * directories that only this user can enter ({@link SpoolDirs#privateProblem}). A spool another
     * user made (as archive-push run by postgres makes its stanza's, when root restores), or one
     * reached through a symbolic link, is not used: the plan goes to this user's own default spool
     * ({@code $TMPDIR/tidemark-<user>}) instead, with a note; when that is not private either, the
     * restore is refused before anything is written.
     */
    static Path savePlan(ShimConfig config, RestorePlan plan, PlanResponse response, PrintStream out) {
        Optional<String> problem = planDirProblem(config.spoolDir(), config);
        Path spool = config.spoolDir();
        if (problem.isPresent()) {
            Path own = ShimConfig.defaultSpoolDir();
            Optional<String> again = own.equals(spool) ? problem : planDirProblem(own, config);
            if (again.isPresent()) {
                throw new RestoreRefused("cannot keep the restore plan privately: " + again.get() + " (or set spool.dir in "
                        + config.file() + "). Nothing was written");
            }
            out.println("note: not saving the plan under " + spool + ": " + problem.get() + "; saving it under " + own);
            spool = own;
        }
        Path f = spool.resolve(config.stanza().value()).resolve("restore-plans").resolve(plan.planId() + ".json");
        try {
            AtomicFile.write(f, response.text().getBytes(StandardCharsets.UTF_8));
            Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
            return f;
        } catch (IOException | UnsupportedOperationException e) {
            throw new RestoreRefused("cannot save the restore plan as " + f + ": " + e.getMessage() + ". Nothing was written", e);
        }
    }

    private static Optional<String> planDirProblem(Path spool, ShimConfig config) {
        Path stanzaDir = spool.resolve(config.stanza().value());
        try {
            return SpoolDirs.privateProblem(spool, List.of(stanzaDir, stanzaDir.resolve("restore-plans")));
        } catch (IOException | UnsupportedOperationException e) {
            return Optional.of("cannot use " + stanzaDir + ": " + e.getMessage());
        }
    }

    /** Creates PGDATA, cleans it (delta), then directories, tablespace locations and links. */
    private static void layoutTree(Prepared p, boolean delta) throws IOException {
        Path pgdata = p.layout().pgdata();
        mkdirs(pgdata);
        Files.setPosixFilePermissions(pgdata, PosixFilePermissions.fromString("rwx------"));
        if (delta) {
            // first: a directory without pg_control cannot be started half-restored
            Files.deleteIfExists(pgdata.resolve(PG_CONTROL));
            Set<Path> expected = new HashSet<>();
            p.files().forEach(i -> addWithParents(expected, i.target(), pgdata));
            p.directories().forEach(d -> addWithParents(expected, d.file(), d.root()));
            p.links().forEach(l -> addWithParents(expected, l.link(), pgdata));
            for (Path x : Delta.unexpected(pgdata, expected)) {
                Delta.deleteTree(x);
            }
            for (RestoreLayout.Tablespace ts : p.layout().tablespaces().values()) {
                p.files().forEach(i -> addWithParents(expected, i.target(), ts.location()));
                for (Path v : versionDirs(ts, p.files(), p.directories())) {
                    for (Path x : Delta.unexpected(v, expected)) {
                        Delta.deleteTree(x);
                    }
                }
            }
        }
        for (RestoreLayout.Tablespace ts : p.layout().tablespaces().values()) {
            mkdirs(ts.location());
        }
        for (RestoreLayout.InTree d : p.directories()) {
            mkdirsUnder(d.root(), d.file());
        }
        for (Downloader.Item i : p.files()) {
            Path root = i.target().startsWith(pgdata) ? pgdata : locationOf(p, i.target());
            mkdirsUnder(root, i.target().getParent());
        }
        for (RestoreLayout.TablespaceLink l : p.links()) {
            mkdirs(l.tablespace().location());
            mkdirsUnder(pgdata, l.link().getParent());
            if (Files.isSymbolicLink(l.link())) {
                if (Files.readSymbolicLink(l.link()).equals(l.tablespace().location())) {
                    continue;
                }
                Files.delete(l.link());
            } else if (Files.exists(l.link(), LinkOption.NOFOLLOW_LINKS)) {
                Delta.deleteTree(l.link());
            }
            Files.createSymbolicLink(l.link(), l.tablespace().location());
        }
    }

    private static Path locationOf(Prepared p, Path file) {
        for (RestoreLayout.Tablespace ts : p.layout().tablespaces().values()) {
            if (file.startsWith(ts.location())) {
                return ts.location();
            }
        }
        throw new RestoreRefused(file + " is neither in PGDATA nor in a tablespace");
    }

    private static void addWithParents(Set<Path> set, Path p, Path root) {
        for (Path x = p; x != null && x.startsWith(root) && !x.equals(root); x = x.getParent()) {
            set.add(x);
        }
    }

    private static void mkdirs(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
    }

    /** Creates {@code dir} below {@code root} one component at a time, refusing links on the way. */
    private static void mkdirsUnder(Path root, Path dir) throws IOException {
        Path cur = root;
        for (Path part : root.relativize(dir)) {
            cur = cur.resolve(part.toString());
            if (Files.isSymbolicLink(cur)) {
                throw new RestoreRefused(cur + " is a symbolic link; refusing to write through it");
            }
            if (Files.isRegularFile(cur, LinkOption.NOFOLLOW_LINKS)) {
                Files.delete(cur);
            }
            try {
                Files.createDirectory(cur, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            } catch (FileAlreadyExistsException e) {
                if (!Files.isDirectory(cur, LinkOption.NOFOLLOW_LINKS)) {
                    throw e;
                }
            }
        }
    }

    /** Delta: which files must be fetched, hashing the local ones in parallel. */
    private static List<Downloader.Item> deltaDecisions(List<Downloader.Item> files, int parallel, Progress progress)
            throws IOException {
        ExecutorService pool = Executors.newFixedThreadPool(parallel);
        try {
            List<Future<Delta.Decision>> fs = new ArrayList<>();
            for (Downloader.Item i : files) {
                fs.add(pool.submit(() -> Delta.decide(i.target(), i.file())));
            }
            List<Downloader.Item> fetch = new ArrayList<>();
            for (int k = 0; k < files.size(); k++) {
                Delta.Decision d;
                try {
                    d = fs.get(k).get();
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof IOException io) {
                        throw io;
                    }
                    throw e.getCause() instanceof RuntimeException re ? re : new RestoreRefused(e.getCause().toString());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new RestoreRefused("interrupted");
                }
                if (d == Delta.Decision.KEEP) {
                    progress.done(files.get(k).file().size());
                } else {
                    fetch.add(files.get(k));
                }
            }
            return fetch;
        } finally {
            pool.shutdownNow();
        }
    }

    /** The commands found in the restored configuration: disabled (the default), or kept as the operator asked. */
    private static void reportCommands(List<ConfigCommands.Found> commands, boolean keep, PrintStream out) {
        if (commands.isEmpty()) {
            return;
        }
        out.println(keep ? "  WARNING: kept " + commands.size() + " command setting(s) from the backup's configuration"
                + " (--keep-config-commands); the restored server runs them on this host:"
                : "  disabled " + commands.size() + " command setting(s) from the backup's configuration (commented out;"
                + " a compromised source could have set them; keep them with --keep-config-commands):");
        commands.forEach(c -> out.println("    " + c));
    }

    /** Writes backup_label, tablespace_map, the recovery settings and recovery.signal; returns the config commands found. */
    private List<ConfigCommands.Found> writeRecoveryFiles(ShimConfig config, RestorePlan plan, Prepared p, Path pgdata,
                                                          boolean keepCommands) throws IOException {
        List<Path> roots = new ArrayList<>(List.of(pgdata));
        p.layout().tablespaces().values().forEach(t -> roots.add(t.location()));
        // before the recovery block is appended: restore's own restore_command is never a finding
        List<ConfigCommands.Found> commands = ConfigCommands.disable(pgdata, roots, keepCommands);
        AtomicFile.write(pgdata.resolve("backup_label"), plan.backupLabelFile().getBytes(StandardCharsets.UTF_8));
        Path map = pgdata.resolve("tablespace_map");
        if (!p.layout().tablespaces().isEmpty()) {
            // the effective locations, so that PostgreSQL re-creates exactly the links restore made
            AtomicFile.write(map, p.layout().tablespaceMap().getBytes(StandardCharsets.UTF_8));
        } else {
            Files.deleteIfExists(map);
        }
        Path auto = pgdata.resolve("postgresql.auto.conf");
        String existing = Files.isRegularFile(auto, LinkOption.NOFOLLOW_LINKS)
                ? Files.readString(auto, StandardCharsets.UTF_8) : "";
        String restoreCommand = RecoveryConfig.restoreCommand(RecoveryConfig.launcher(env), config.file(), config.stanza(),
                WalPlan.fileIn(pgdata));
        AtomicFile.write(auto, RecoveryConfig.rewrite(existing, plan.recoverySettings(), restoreCommand,
                "Recovery settings written by tidemark restore (plan " + plan.planId() + ", backup " + plan.backupLabel() + ")")
                .getBytes(StandardCharsets.UTF_8));
        Files.deleteIfExists(pgdata.resolve("standby.signal"));
        AtomicFile.write(pgdata.resolve("recovery.signal"), new byte[0]);
        for (String f : List.of("backup_label", "tablespace_map", "postgresql.auto.conf", "recovery.signal", WalPlan.FILE_NAME)) {
            Path x = pgdata.resolve(f);
            if (Files.exists(x)) {
                Files.setPosixFilePermissions(x, PosixFilePermissions.fromString("rw-------"));
            }
        }
        return commands;
    }

    private static void syncDirectories(Prepared p) throws IOException {
        Set<Path> dirs = new HashSet<>();
        p.files().forEach(i -> dirs.add(i.target().getParent()));
        p.directories().forEach(d -> dirs.add(d.file()));
        dirs.add(p.layout().pgdata());
        dirs.add(p.layout().pgdata().resolve("pg_tblspc"));
        for (Path d : dirs) {
            if (Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)) {
                try (FileChannel ch = FileChannel.open(d, StandardOpenOption.READ)) {
                    ch.force(true);
                } catch (IOException e) {
                    // some file systems cannot sync a directory; the files are synced
                }
            }
        }
    }
}
