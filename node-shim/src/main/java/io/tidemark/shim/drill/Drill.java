package io.tidemark.shim.drill;

import com.fasterxml.jackson.databind.JsonNode;
import io.tidemark.events.json.Json;
import io.tidemark.events.plan.PlanFile;
import io.tidemark.events.plan.RecoveryRequest;
import io.tidemark.events.plan.RestorePlan;
import io.tidemark.events.plan.RestoreTarget;
import io.tidemark.events.backup.ManifestTablespace;
import io.tidemark.events.wal.Lsn;
import io.tidemark.shim.api.CatalogApi;
import io.tidemark.shim.backup.BackupCommand;
import io.tidemark.shim.cli.CommandFailure;
import io.tidemark.shim.cli.Progress;
import io.tidemark.shim.cli.UsageException;
import io.tidemark.shim.config.ShimConfig;
import io.tidemark.shim.quickstart.Exec;
import io.tidemark.shim.quickstart.PgBinDir;
import io.tidemark.shim.restore.PinnedEnd;
import io.tidemark.shim.restore.PlanVerifier;
import io.tidemark.shim.restore.RestoreCommand;
import io.tidemark.shim.storage.CredentialSource;
import io.tidemark.shim.storage.Retry;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PublicKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One restore drill on this node (docs/drills.md): ask the planner for a plan, check the scratch
 * directory's free space, restore into it with {@code tidemark restore} (the same code, the same
 * checks), start the copy on a free port without archiving, wait for the target, check it, stop
 * it and remove the scratch directory. Nothing here touches the node's own cluster.
 */
public final class Drill {
    private static final DateTimeFormatter ID_TIME = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);
    private static final long POLL_MS = 200;

    /**
     * What to drill and how.
     *
     * @param random present: the target is a point of the window drawn with it ({@link RandomTarget}),
     *     {@code request} is ignored
     */
    public record Options(RecoveryRequest request, Path scratch, String owner, String dbUser, Duration recoveryTimeout,
                          Duration amcheckTimeout, boolean amcheck, Optional<String> jobId,
                          Optional<java.util.random.RandomGenerator> random) {
    }

    private final ShimConfig config;
    private final DrillSettings settings;
    private final Map<String, String> env;
    private final Clock clock;
    private final FreeSpace freeSpace;
    private final PrintStream out;
    private final PrintStream err;

    public Drill(ShimConfig config, DrillSettings settings, Map<String, String> env, Clock clock, FreeSpace freeSpace,
                 PrintStream out, PrintStream err) {
        this.config = config;
        this.settings = settings;
        this.env = env;
        this.clock = clock;
        this.freeSpace = freeSpace;
        this.out = out;
        this.err = err;
    }

    /** A new drill id: the start time first, so that the newest drills are one descending query. */
    public static String newId(Instant at) {
        return ID_TIME.format(at) + "-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
    }

    /** Collects the times and checks while the drill runs. */
    private final class Run {
        final String id;
        final Instant startedAt;
        final long t0 = System.nanoTime();
        final List<DrillCheck> checks = new ArrayList<>();
        String target;
        Optional<String> backup = Optional.empty();
        long bytes;
        OptionalLong files = OptionalLong.empty();
        OptionalLong consistent = OptionalLong.empty();
        OptionalLong promoted = OptionalLong.empty();

        Run(String id, Instant startedAt, String target) {
            this.id = id;
            this.startedAt = startedAt;
            this.target = target;
        }

        long elapsedMs() {
            return (System.nanoTime() - t0) / 1_000_000;
        }

        void add(DrillCheck c) {
            checks.add(c);
            out.println("  check " + c);
        }

        DrillResult result() {
            return new DrillResult(id, BackupCommand.holder(), startedAt, target, backup, bytes, files, consistent, promoted,
                    checks);
        }
    }

    /** Runs the drill to its end; every failure is a failed check of the result, never an exception. */
    public DrillResult run(Options o) {
        Instant started = clock.instant();
        Run run = new Run(newId(started), started, o.random().isPresent() ? "random" : describe(o.request()));
        out.println("drill " + run.id + " of stanza " + config.stanza() + ": target " + run.target + ", scratch " + o.scratch());
        // first: a drill killed there (kill -9, a reboot) holds a server and disk space, and its
        // record is owed
        try {
            ScratchMarker.cleanLeftover(o.scratch()).ifPresent(this::recordInterrupted);
        } catch (IOException | RuntimeException e) {
            run.add(DrillCheck.failed("scratch", "cannot clean up the scratch directory " + o.scratch() + ": " + e.getMessage()));
            return run.result();
        }
        RecoveryRequest request = o.request();
        if (o.random().isPresent()) {
            Optional<RecoveryRequest> drawn = drawTarget(o.random().get(), run);
            if (drawn.isEmpty()) {
                return run.result();
            }
            request = drawn.get();
        }
        Optional<Prepared> prepared = prepare(o, request, run);
        if (prepared.isEmpty()) {
            return run.result();
        }
        Prepared p = prepared.get();
        ScratchCluster cluster = null;
        try {
            if (!restore(o, p, run)) {
                return run.result();
            }
            cluster = new ScratchCluster(p.bin(), Exec.asOwner(o.owner()), o.scratch(), p.port(), o.dbUser());
            recover(o, p, cluster, run);
            return run.result();
        } finally {
            cleanUp(o.scratch(), cluster, run);
        }
    }

    /** The plan, verified, and everything decided before the first write. */
    private record Prepared(RestorePlan plan, String answer, Path bin, int port, long required) {
    }

    /**
     * A random point of the window the catalog shows now, on its timeline, then promote; empty
     * when there is none to draw from (the failed check {@code plan}).
     */
    private Optional<RecoveryRequest> drawTarget(java.util.random.RandomGenerator random, Run run) {
        RandomTarget t;
        try {
            CatalogApi.Response r = api().getStanza(config.stanza());
            if (r.status() != 200) {
                run.add(DrillCheck.failed("plan", "cannot read the recovery window to draw a random target from: GET /stanzas/"
                        + config.stanza() + ": HTTP " + r.status() + ": " + r.message()));
                return Optional.empty();
            }
            t = RandomTarget.pick(Json.mapper().readTree(r.body()).path("window"), random);
        } catch (IOException | RuntimeException e) {
            run.add(DrillCheck.failed("plan", "cannot draw a random target: " + e.getMessage()));
            return Optional.empty();
        }
        run.target = "random: time " + t.time() + " on timeline " + t.timeline();
        run.add(DrillCheck.passed("window", t.describe()));
        return Optional.of(new RecoveryRequest(new RestoreTarget.AtTime(t.time()), false,
                new io.tidemark.events.plan.TimelineTarget.Numbered(io.tidemark.events.wal.TimelineId.of(t.timeline())),
                io.tidemark.events.plan.TargetAction.parse("promote")));
    }

    private Optional<Prepared> prepare(Options o, RecoveryRequest request, Run run) {
        String answer;
        RestorePlan plan;
        try {
            PublicKey key = RestoreCommand.publicKey(config);
            CatalogApi.Response r = api().postRestorePlan(config.stanza(), RestoreCommand.requestBody(request, Optional.empty()));
            if (r.status() != 201 && r.status() != 200) {
                run.add(DrillCheck.failed("plan", "the planner refused the drill's target " + run.target + ": HTTP " + r.status()
                        + ": " + r.message()));
                return Optional.empty();
            }
            answer = r.body();
            JsonNode envelope = Json.mapper().readTree(answer).get("plan");
            if (envelope == null) {
                run.add(DrillCheck.failed("plan", "the planner's answer has no plan"));
                return Optional.empty();
            }
            plan = PlanVerifier.verify(envelope, key, config.stanza(), clock.instant());
        } catch (IOException | RuntimeException e) {
            run.add(DrillCheck.failed("plan", "cannot get a verified restore plan: " + e.getMessage()));
            return Optional.empty();
        }
        run.target = (o.random().isPresent() ? "random: " : "") + PinnedEnd.describe(plan);
        run.backup = Optional.of(plan.backupLabel().toString());
        run.bytes = plan.files().stream().mapToLong(PlanFile::size).sum();
        int major = plan.pgVersionNum() / 10000;
        Optional<Path> bin = PgBinDir.find(major);
        if (bin.isEmpty()) {
            run.add(DrillCheck.failed("postgres", "no PostgreSQL " + major + " binaries (pg_ctl, postgres) in TIDEMARK_PG_BINDIR,"
                    + " /usr/lib/postgresql/" + major + "/bin or PATH: this node cannot run the drill"));
            return Optional.empty();
        }
        // WAL: recovery keeps restored segments in pg_wal until a restartpoint recycles them, so
        // the listed segments are the bound; the files are exact
        long wal = (long) plan.wal().size() * plan.walSegmentSize().bytes();
        long required = run.bytes + wal;
        long free;
        try {
            free = freeSpace.usableBytes(o.scratch());
        } catch (IOException e) {
            run.add(DrillCheck.failed("space", "cannot tell the free space for " + o.scratch() + ": " + e.getMessage()));
            return Optional.empty();
        }
        if (required > free) {
            run.add(DrillCheck.failed("space", "not enough free space for the scratch directory " + o.scratch() + ": the drill"
                    + " needs " + required + " bytes (" + Progress.size(required) + ": backup files " + run.bytes + " + WAL "
                    + wal + " for " + plan.wal().size() + " segments), the file system has " + free + " bytes ("
                    + Progress.size(free) + ") free; nothing was written"));
            return Optional.empty();
        }
        int port = ScratchCluster.freePort();
        Optional<String> socket = ScratchCluster.socketPathProblem(o.scratch(), port);
        if (socket.isPresent()) {
            run.add(DrillCheck.failed("scratch", socket.get()));
            return Optional.empty();
        }
        out.println("  plan " + plan.planId() + ": backup " + plan.backupLabel() + ", " + plan.files().size() + " files, "
                + Progress.size(run.bytes) + "; needs " + Progress.size(required) + ", " + Progress.size(free) + " free");
        return Optional.of(new Prepared(plan, answer, bin.get(), port, required));
    }

    /** Lays out the scratch directory and restores into it; false when it failed (recorded). */
    private boolean restore(Options o, Prepared p, Run run) {
        Path scratch = o.scratch();
        Path pgdata = ScratchCluster.pgdata(scratch);
        Path conf;
        try {
            ScratchMarker.claim(scratch, new ScratchMarker(run.id, o.jobId(), ProcessHandle.current().pid(),
                    run.startedAt, p.bin(), o.owner()));
            Path planFile = scratch.resolve("plan.json");
            Files.writeString(planFile, p.answer(), StandardCharsets.UTF_8);
            Files.setPosixFilePermissions(planFile, PosixFilePermissions.fromString("rw-------"));
            conf = scratchConfig(config.file(), scratch);
        } catch (IOException | IllegalStateException e) {
            run.add(DrillCheck.failed("scratch", "cannot prepare the scratch directory " + scratch + ": " + e.getMessage()));
            return false;
        }
        List<String> args = new ArrayList<>(List.of("--config", conf.toString(), "--stanza", config.stanza().value(),
                "--pgdata", pgdata.toString(), "--plan-file", scratch.resolve("plan.json").toString()));
        for (ManifestTablespace t : p.plan().tablespaces()) {
            args.addAll(List.of("--tablespace-map", t.oid() + "=" + scratch.resolve("tablespaces").resolve(Long.toString(t.oid()))));
        }
        // the drill starts the server itself; run as root it hands the files to the owner first,
        // and restore then starts no prefetcher of root's (the owner's archive-get starts one)
        RestoreCommand restore = new RestoreCommand(env, clock, 250, 5, io.tidemark.shim.archiveget.PrefetchCommand.DETACHED)
                .startedByCaller();
        int code;
        String why = null;
        try {
            code = restore.run(args, out, err);
        } catch (CommandFailure | UsageException e) {
            code = -1;
            why = e.getMessage();
        }
        if (code != 0) {
            run.add(DrillCheck.failed("restore", why == null ? "tidemark restore exited " + code + " (see its output above)"
                    : why.lines().findFirst().orElse(why)));
            return false;
        }
        run.files = OptionalLong.of(run.elapsedMs());
        run.add(DrillCheck.passed("restore", "backup " + p.plan().backupLabel() + " restored (" + Progress.size(run.bytes)
                + ") in " + seconds(run.files.getAsLong()) + "; " + p.plan().wal().size() + " WAL segments to replay"));
        return true;
    }

    /**
     * The configuration the drill restores with and its server's restore_command reads: the
     * node's, with {@code spool.dir} in the scratch directory (the last value wins, for the JVM
     * and the launcher alike). The node's spool is the node's user's: with the agent run as root
     * and the server as postgres, postgres's archive-get could not use it, so every WAL file was
     * a JVM of its own, about 15-20 s each at load 50 (47-70 s from files restored to consistent
     * for 3 segments in AgentE2eTest); in a spool of its own the first ask starts the plan's
     * prefetcher and the launcher serves the rest. It also keeps the drill's plan-bound
     * prefetcher from replacing a standby's in the node's spool. The file is mode 600 (it may
     * hold static keys) and goes with the scratch directory, handed to the owner with it.
     */
    static Path scratchConfig(Path nodeConfig, Path scratch) throws IOException {
        Path spool = scratch.resolve("spool");
        Files.createDirectories(spool);
        Files.setPosixFilePermissions(spool, PosixFilePermissions.fromString("rwx------"));
        if (spool.toString().contains("\\") || spool.toString().contains("\n")) {
            throw new IOException("the scratch directory " + scratch + " cannot be written as spool.dir");
        }
        Path conf = scratch.resolve("tidemark.conf");
        String text = Files.readString(nodeConfig, StandardCharsets.UTF_8);
        Files.writeString(conf, "", StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(conf, PosixFilePermissions.fromString("rw-------"));
        Files.writeString(conf, text + (text.endsWith("\n") || text.isEmpty() ? "" : "\n")
                + "# tidemark drill: WAL fetched ahead into the scratch directory, not the node's spool\n"
                + "spool.dir = " + spool + "\n", StandardCharsets.UTF_8);
        return conf;
    }

    /** Starts the copy, waits for consistency and promotion, runs the checks. */
    private void recover(Options o, Prepared p, ScratchCluster cluster, Run run) {
        try {
            cluster.configure(p.plan().pgVersionNum() / 10000);
            if (Exec.asOwner(o.owner()).runAsUser() != null) {
                // run as root: the restored files are root's; PostgreSQL runs as the owner
                Exec.Result r = Exec.asOwner(null).run(Path.of("/"), Map.of(), List.of("chown", "-R", o.owner() + ":",
                        o.scratch().toString()), 600);
                if (r.code() != 0) {
                    run.add(DrillCheck.failed("postgres", "cannot hand " + o.scratch() + " to " + o.owner() + ": " + r.both()));
                    return;
                }
            }
            out.println("  starting PostgreSQL " + p.plan().pgVersionNum() / 10000 + " on port " + cluster.port()
                    + " (socket only, archive_mode off); server log " + cluster.log());
            cluster.start();
        } catch (IOException | RuntimeException e) {
            run.add(DrillCheck.failed("postgres", "cannot start the restored cluster: " + e.getMessage()));
            return;
        }
        Optional<ScratchCluster.State> end = await(o, cluster, run);
        if (end.isEmpty()) {
            return;
        }
        run.add(targetCheck(p.plan(), end.get().replayed()));
        DrillChecks checks = new DrillChecks(cluster, out);
        run.add(checks.connections());
        if (o.amcheck()) {
            run.add(checks.amcheck(o.amcheckTimeout()));
        } else {
            run.add(DrillCheck.skipped("amcheck", "switched off (--no-amcheck)"));
        }
        for (DrillSettings.Query q : settings.queries()) {
            run.add(checks.query(q));
        }
    }

    /** Polls until promoted (the state then), the server died or the time ran out (a failed check, empty). */
    private Optional<ScratchCluster.State> await(Options o, ScratchCluster cluster, Run run) {
        long deadline = System.nanoTime() + o.recoveryTimeout().toNanos();
        long noPidBy = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        Long pid = null;
        while (true) {
            if (pid == null) {
                pid = cluster.postmasterPid().orElse(null);
            }
            boolean alive = pid != null && cluster.alive(pid);
            if (!alive && (pid != null || System.nanoTime() > noPidBy || logSaysDown(cluster))) {
                List<String> lines = cluster.tellingLogLines(8);
                lines.forEach(l -> err.println("    " + l));
                run.add(DrillCheck.failed("target", "the restored server stopped before recovery ended (target " + run.target
                        + "); server log: " + String.join(" | ", lines)));
                return Optional.empty();
            }
            if (alive) {
                Optional<ScratchCluster.State> s = cluster.state();
                if (s.isPresent()) {
                    if (run.consistent.isEmpty()) {
                        run.consistent = OptionalLong.of(run.elapsedMs());
                        out.println("  consistent: connections accepted after " + seconds(run.consistent.getAsLong()));
                    }
                    if (!s.get().inRecovery()) {
                        run.promoted = OptionalLong.of(run.elapsedMs());
                        out.println("  promoted at LSN " + s.get().replayed() + " after " + seconds(run.promoted.getAsLong())
                                + " (the RTO)");
                        return s;
                    }
                }
            }
            if (System.nanoTime() > deadline) {
                run.add(DrillCheck.failed("target", "recovery did not end within " + o.recoveryTimeout().toSeconds() + " s"));
                return Optional.empty();
            }
            try {
                Thread.sleep(POLL_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                run.add(DrillCheck.failed("target", "the drill was interrupted while recovery ran"));
                return Optional.empty();
            }
        }
    }

    private static boolean logSaysDown(ScratchCluster cluster) {
        try {
            return Files.readString(cluster.log(), StandardCharsets.UTF_8).contains("database system is shut down");
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * The target is reached: promoted (PostgreSQL 13 and later refuse to end recovery before a
     * time, xid, name or immediate target) and, for {@code latest} pinned and inclusive LSN
     * targets, replay past the target record.
     */
    static DrillCheck targetCheck(RestorePlan plan, Lsn replayed) {
        Optional<Lsn> pin = PinnedEnd.of(plan);
        if (pin.isEmpty() && plan.request().target() instanceof RestoreTarget.AtLsn l && !plan.request().exclusive()) {
            pin = Optional.of(l.lsn());
        }
        if (pin.isPresent() && (replayed == null || !replayed.isAfter(pin.get()))) {
            return DrillCheck.failed("target", "replay ended at " + replayed + ", before the record at " + pin.get()
                    + " the plan promises");
        }
        return DrillCheck.passed("target", "promoted at LSN " + replayed + ", target " + PinnedEnd.describe(plan) + " reached");
    }

    /** Stops the copy and removes the scratch directory, whatever happened; a leftover is a failed check. */
    private void cleanUp(Path scratch, ScratchCluster cluster, Run run) {
        if (cluster != null && !cluster.stop()) {
            run.add(DrillCheck.failed("cleanup", "the restored server in " + scratch + " did not stop; stop it with pg_ctl -D "
                    + ScratchCluster.pgdata(scratch) + " -m immediate stop"));
            return;
        }
        try {
            ScratchMarker.remove(scratch);
        } catch (IOException e) {
            run.add(DrillCheck.failed("cleanup", "cannot remove the scratch directory " + scratch + ": " + e.getMessage()));
        }
    }

    /** A drill that was killed before it finished: recorded as failed, with what its clean-up found. */
    private void recordInterrupted(ScratchMarker.Leftover left) {
        recordInterrupted(left, "the drill was interrupted before it finished (its process " + left.marker().pid()
                + " is gone); " + left.what());
    }

    /**
     * At the agent's start: a drill the agent ran when it died (kill -9, a crash, a reboot) left its
     * marker in the scratch directory: its server is stopped, the directory removed and the drill
     * recorded as failed, saying so. Empty when there was none.
     *
     * @throws IOException, IllegalStateException as {@link ScratchMarker#cleanLeftover}: the directory could not be cleaned
     */
    public Optional<ScratchMarker.Leftover> cleanUpAfterAgent(Path scratch) throws IOException {
        Optional<ScratchMarker.Leftover> left = ScratchMarker.cleanLeftover(scratch);
        left.ifPresent(l -> recordInterrupted(l, "agent died during the drill: the agent (process " + l.marker().pid()
                + ") was gone before the drill finished" + l.marker().jobId().map(j -> " (job " + j + ")").orElse("")
                + "; its next start found it: " + l.what()));
        return left;
    }

    private void recordInterrupted(ScratchMarker.Leftover left, String message) {
        out.println("  note: " + left.what());
        ScratchMarker m = left.marker();
        DrillResult r = new DrillResult(m.drillId(), BackupCommand.holder(), m.startedAt(), "unknown (interrupted)",
                Optional.empty(), 0, OptionalLong.empty(), OptionalLong.empty(), OptionalLong.empty(),
                List.of(DrillCheck.failed("interrupted", message)));
        Optional<String> why = record(r);
        out.println(why.map(w -> "  note: the interrupted drill " + m.drillId() + " could not be recorded: " + w)
                .orElse("  note: the interrupted drill " + m.drillId() + " is recorded as failed"));
    }

    /** Records the drill in the catalog ({@code POST /stanzas/{stanza}/drills}); why not, when it was not. */
    public Optional<String> record(DrillResult r) {
        try {
            CatalogApi.Response resp = api().reportDrill(config.stanza(), r.toJson().toString());
            return resp.status() == 201 || resp.status() == 200 ? Optional.empty()
                    : Optional.of("HTTP " + resp.status() + ": " + resp.message());
        } catch (RuntimeException e) {
            return Optional.of(e.getMessage());
        }
    }

    static String describe(RecoveryRequest r) {
        RestoreTarget t = r.target();
        return t.type() + (t.value() == null ? "" : " " + t.value());
    }

    static String seconds(long ms) {
        return String.format(java.util.Locale.ROOT, "%.1f s", ms / 1000.0);
    }

    private CatalogApi api() {
        return new CatalogApi(config.requireApiUrl(), config.apiRegion(), CredentialSource.of(config, env),
                Retry.of(config.retries()), config.apiKey());
    }
}
