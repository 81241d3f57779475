package io.tidemark.shim.drill;

import io.tidemark.events.plan.RecoveryRequest;
import io.tidemark.events.plan.RestoreTarget;
import io.tidemark.events.plan.TargetAction;
import io.tidemark.events.plan.TimelineTarget;
import io.tidemark.shim.Command;
import io.tidemark.shim.cli.ExitCodes;
import io.tidemark.shim.cli.UsageException;
import io.tidemark.shim.config.CommonOptions;
import io.tidemark.shim.config.ShimConfig;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine;

/**
 * {@code tidemark drill --now}: one restore drill on this node, in the foreground (docs/drills.md).
 * Exit 0 when every check passed; 1 naming the checks that failed.
 */
@CommandLine.Command(name = "drill", mixinStandardHelpOptions = true, versionProvider = io.tidemark.shim.cli.Version.class,
        sortOptions = false, description = {"Restore the latest backup (or a point) into a scratch directory, start it,"
        + " check it, measure the time to promotion (RTO), remove it."})
public final class DrillCommand implements Command {
    private final Map<String, String> env;
    private final Clock clock;
    private final FreeSpace freeSpace;
    private final java.util.function.BiConsumer<DrillResult, Optional<String>> finished;

    @CommandLine.Mixin
    private CommonOptions common = new CommonOptions();

    @CommandLine.Option(names = "--now", required = true, description = "run a drill now, in the foreground")
    private boolean now;

    @CommandLine.Option(names = "--target-time", paramLabel = "TIME", description = "restore to this time (default: latest)")
    private String targetTime;

    @CommandLine.Option(names = "--target", paramLabel = "latest|random",
            description = "latest, or a random point of the recovery window (default: drill.target, else latest)")
    private String target;

    @CommandLine.Option(names = "--random-seed", paramLabel = "N",
            description = "with a random target: draw it with this seed (the same window and seed give the same point)")
    private Long randomSeed;

    @CommandLine.Option(names = "--scratch", paramLabel = "DIR",
            description = "scratch directory (else drill.scratch, else $TMPDIR/tidemark-drill-STANZA); removed afterwards")
    private Path scratch;

    @CommandLine.Option(names = "--owner", paramLabel = "USER", description = "run as root: the user PostgreSQL runs as (default postgres)")
    private String owner = "postgres";

    @CommandLine.Option(names = "--db-user", paramLabel = "USER", description = "the database user the checks connect as (default: --owner)")
    private String dbUser;

    @CommandLine.Option(names = "--timeout", paramLabel = "S", description = "seconds recovery may take (default 3600)")
    private long timeoutSeconds = 3600;

    @CommandLine.Option(names = "--amcheck-timeout", paramLabel = "S", description = "seconds amcheck may take in all (default 600)")
    private long amcheckSeconds = 600;

    @CommandLine.Option(names = "--no-amcheck", description = "skip amcheck")
    private boolean noAmcheck;

    // The agent's scheduled drill: the job it runs for, kept in the scratch marker.
    @CommandLine.Option(names = "--job-id", paramLabel = "ID", hidden = true)
    private String jobId;

    public DrillCommand() {
        this(System.getenv(), Clock.systemUTC(), FreeSpace.FILE_STORE);
    }

    /** @param freeSpace where the free-space check asks (tests give a small one) */
    public DrillCommand(Map<String, String> env, Clock clock, FreeSpace freeSpace) {
        this(env, clock, freeSpace, (r, notRecorded) -> { });
    }

    /**
     * @param finished told the drill's result and why the catalog did not record it (empty: recorded): the agent's
     *     scheduled drill reports its job from it instead of parsing the output
     */
    public DrillCommand(Map<String, String> env, Clock clock, FreeSpace freeSpace,
                        java.util.function.BiConsumer<DrillResult, Optional<String>> finished) {
        this.env = env;
        this.clock = clock;
        this.freeSpace = freeSpace;
        this.finished = finished;
    }

    @Override
    public int call(PrintStream out, PrintStream err) {
        if (timeoutSeconds < 1 || amcheckSeconds < 1) {
            throw new UsageException("--timeout and --amcheck-timeout take seconds (1 or more)");
        }
        if (!owner.matches("[A-Za-z_][A-Za-z0-9_.-]{0,31}")) {
            throw new UsageException("--owner takes a user name, got '" + owner + "'");
        }
        if (targetTime != null && target != null) {
            throw new UsageException("--target-time and --target exclude each other");
        }
        DrillSettings.Target aim;
        try {
            aim = target == null ? null : DrillSettings.Target.parse("--target", target);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        RecoveryRequest request;
        try {
            RestoreTarget t = targetTime == null ? RestoreTarget.of("latest", null) : RestoreTarget.of("time", targetTime);
            request = new RecoveryRequest(t, false, TimelineTarget.parse("latest"), TargetAction.parse("promote"));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        ShimConfig config = ShimConfig.load(common, env);
        DrillSettings settings = DrillSettings.load(config.file());
        if (aim == null) {
            aim = targetTime == null ? settings.target() : DrillSettings.Target.LATEST;
        }
        if (randomSeed != null && aim != DrillSettings.Target.RANDOM) {
            throw new UsageException("--random-seed is for a random target (--target random or drill.target=random)");
        }
        Optional<java.util.random.RandomGenerator> random = aim == DrillSettings.Target.RANDOM
                ? Optional.of(randomSeed == null ? new java.security.SecureRandom() : new java.util.SplittableRandom(randomSeed))
                : Optional.empty();
        Path dir = Optional.ofNullable(scratch).or(settings::scratch).orElseGet(() -> defaultScratch(config));
        if (!dir.isAbsolute()) {
            dir = dir.toAbsolutePath();
        }
        Drill.Options o = new Drill.Options(request, dir.normalize(), owner, dbUser == null ? owner : dbUser,
                Duration.ofSeconds(timeoutSeconds), Duration.ofSeconds(amcheckSeconds), !noAmcheck, Optional.ofNullable(jobId), random);
        Drill drill = new Drill(config, settings, env, clock, freeSpace, out, err);
        DrillResult r = drill.run(o);
        int code = DrillReport.print(r, out, err);
        java.util.Optional<String> notRecorded = drill.record(r);
        finished.accept(r, notRecorded);
        if (notRecorded.isPresent()) {
            err.println("drill " + r.drillId() + " NOT RECORDED in the catalog: " + notRecorded.get());
            return ExitCodes.FAILED;
        }
        out.println("recorded in the catalog: GET /stanzas/" + config.stanza() + "/drills lists it; tidemark info shows the last");
        return code;
    }

    /** Where a drill works unless told (--scratch, drill.scratch): also where the agent looks for one it died in. */
    public static Path defaultScratch(ShimConfig config) {
        return Path.of(System.getProperty("java.io.tmpdir"), "tidemark-drill-" + config.stanza().value());
    }
}
