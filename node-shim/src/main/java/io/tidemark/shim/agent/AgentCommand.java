package io.tidemark.shim.agent;

import io.tidemark.shim.Command;
import io.tidemark.shim.api.CatalogApi;
import io.tidemark.shim.archiveget.HostedPrefetcher;
import io.tidemark.shim.archiveget.PrefetchSpool;
import io.tidemark.shim.storage.Stores;
import io.tidemark.shim.archivepush.WalPusher;
import io.tidemark.shim.archivepush.async.ArchiveSpool;
import io.tidemark.shim.archivepush.async.ArchiveWorker;
import io.tidemark.shim.backup.BackupCommand;
import io.tidemark.shim.cli.CommandFailure;
import io.tidemark.shim.cli.ExitCodes;
import io.tidemark.shim.cli.UsageException;
import io.tidemark.shim.config.CommonOptions;
import io.tidemark.shim.config.ShimConfig;
import io.tidemark.shim.drill.Drill;
import io.tidemark.shim.drill.DrillCommand;
import io.tidemark.shim.drill.DrillSettings;
import io.tidemark.shim.drill.FreeSpace;
import io.tidemark.shim.pg.PgOptions;
import io.tidemark.shim.storage.CredentialSource;
import io.tidemark.shim.storage.Retry;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import picocli.CommandLine;
import java.util.Optional;

/**
 * {@code tidemark agent [--queue-url URL] [--metrics-port N] [--metrics-address A]}: the long-running
 * process on every node of a stanza. It runs a list of {@link AgentService}s, each on its own
 * thread, until SIGTERM (or Ctrl-C):
 * <ul>
 *   <li>the job loop ({@link JobLoop}): backup jobs from the stanza's queue, run by the primary only;</li>
 *   <li>the metrics server ({@link MetricsServer}): Prometheus text on port 9854 by default;</li>
 *   <li>the asynchronous archive worker ({@link ArchiveWorkerService}), with {@code --pgdata};</li>
 *   <li>on a standby, the archive-get prefetcher ({@link PrefetchService}).</li>
 *   <li>with {@code stream.enabled=true}, the WAL stream ({@link StreamService}): WAL to S3 as it is written.</li>
 * </ul>
 * Jobs come from the SQS queue given by {@code --queue-url} (AWS), else from the local cloud's queue
 * through {@code api.url}. See docs/agent.md.
 */
@CommandLine.Command(name = "agent", mixinStandardHelpOptions = true, versionProvider = io.tidemark.shim.cli.Version.class,
        description = {"Run the stanza's scheduled backups and serve Prometheus metrics (long-running).",
                "Backups run on the primary; replicas leave them."})
public final class AgentCommand implements Command {

    public static final int DEFAULT_METRICS_PORT = 9854;
    static final String DEFAULT_METRICS_ADDRESS = "127.0.0.1";
    /** How long SIGTERM waits for the services to end (a backup in progress is reported failed after it). */
    static final long STOP_GRACE_MS = 20_000;

    private final Map<String, String> env;

    @CommandLine.Mixin
    private CommonOptions common = new CommonOptions();

    @CommandLine.Option(names = "--queue-url", paramLabel = "URL", description = "the stanza's SQS job queue (else the local cloud's queue)")
    private String queueUrl;

    @CommandLine.Option(names = "--metrics-port", paramLabel = "N", description = "Prometheus metrics port (default 9854)")
    private String metricsPort;

    @CommandLine.Option(names = "--metrics-address", paramLabel = "A", description = "address the metrics server binds (default 127.0.0.1)")
    private String metricsAddress = DEFAULT_METRICS_ADDRESS;

    public AgentCommand() {
        this(System.getenv());
    }

    public AgentCommand(Map<String, String> env) {
        this.env = env;
    }

    @Override
    public int call(PrintStream out, PrintStream err) {
        int port = Optional.ofNullable(metricsPort).map(AgentCommand::port).orElse(DEFAULT_METRICS_PORT);
        String address = metricsAddress;
        ShimConfig config = ShimConfig.load(common, env);
        PgOptions pg = PgOptions.from(common, env);
        Supplier<CatalogApi> api = () -> new CatalogApi(config.requireApiUrl(), config.apiRegion(),
                CredentialSource.of(config, env), Retry.of(config.retries()), config.apiKey());
        // The backup gets the agent's own options: the same configuration file, stanza and PostgreSQL.
        List<String> backupArgs = new ArrayList<>(common.argumentsWithoutStanza());
        backupArgs.addAll(List.of("--stanza", config.stanza().value()));

        AgentCounters counters = new AgentCounters();
        String holder = BackupCommand.holder();
        JobSource source = Optional.ofNullable(queueUrl).<JobSource>map(u -> new SqsJobSource(config, env, u))
                .orElseGet(() -> new LocalQueueSource(api.get(), config.stanza()));
        DrillSettings drillSettings = DrillSettings.load(config.file());
        DrillSettings.Run drillRun = drillSettings.run();
        JobLoop jobs = new JobLoop(source, api, config.stanza(), pg, new BackupRunner(env, backupArgs),
                new DrillRunner(env, backupArgs), drillRun, holder, counters, out, Clock.systemUTC());
        cleanUpDeadDrill(config, drillSettings, env, jobs, out, err);
        StanzaSnapshot snapshot = new StanzaSnapshot(api, config.stanza(), pg, env, Clock.systemUTC());
        io.tidemark.shim.stream.StreamSettings streaming = io.tidemark.shim.stream.StreamSettings.load(config.file());
        io.tidemark.shim.stream.StreamCounters streamCounters = streaming.enabled()
                ? new io.tidemark.shim.stream.StreamCounters() : null;
        MetricsServer metrics;
        try {
            metrics = new MetricsServer(address, port, new AgentMetrics(config.stanza().value(),
                    catalogErrorsTo(snapshot, err), counters, Clock.systemUTC()::instant, streamCounters));
        } catch (IOException e) {
            throw new CommandFailure(ExitCodes.FAILED, "cannot serve metrics on " + address + ":" + port + ": "
                    + e.getMessage() + " (another agent running? choose --metrics-port)", e);
        }
        List<AgentService> services = new ArrayList<>(List.of(jobs, metrics));
        String archiving = "";
        if (config.asyncPush().enabled() && pg.pgdata() == null) {
            // asynchronous archiving is the default: without a data directory the agent leaves the
            // worker to archive-push, which starts a detached one for the cluster that calls it
            archiving = "; no archive-push worker (no --pgdata: archive-push starts its own)";
        } else if (config.asyncPush().enabled()) {
            ArchiveSpool spool = ArchiveSpool.open(config.spoolDir(), config.stanza()).orElseThrow(() ->
                    new CommandFailure(ExitCodes.FAILED, "the archive spool under " + config.spoolDir()
                            + " is not usable (not a directory owned by this user?)"));
            services.add(new ArchiveWorkerService(new ArchiveWorker(new WalPusher(config, env), pg.pgdata(), spool, out,
                    null, false), out));
            archiving = "; archive-push worker for " + pg.pgdata().resolve("pg_wal");
        }
        String streamLine = "; WAL streaming off (stream.enabled)";
        if (streaming.enabled()) {
            io.tidemark.shim.stream.WalStreamer streamer = StreamWiring.streamer(config, env, pg, api, streaming,
                    streamCounters, holder, out, err);
            services.add(new StreamService(streamer));
            streamLine = "; streaming WAL from slot " + streamer.slot() + " every " + streaming.interval().toMillis() + " ms";
        }
        String prefetching = "";
        if (ShimConfig.agentPrefetch(config.file()) && config.prefetch() > 0) {
            Optional<PrefetchSpool> prefetchSpool = PrefetchSpool.open(config.spoolDir(), config.stanza());
            if (prefetchSpool.isEmpty()) {
                prefetching = "; no archive-get prefetcher (the prefetch spool under " + config.spoolDir()
                        + " is not this user's: run the agent as the user PostgreSQL runs as)";
            } else {
                // on a standby: archive-get finds it running (docs/restore.md); on a primary it waits
                services.add(new PrefetchService(cluster -> new HostedPrefetcher(config,
                        Stores.open(config, CredentialSource.of(config, env)), prefetchSpool.get(), cluster, out,
                        Clock.systemUTC()), pg));
                prefetching = "; archive-get prefetcher while PostgreSQL is in recovery";
            }
        }
        out.println("tidemark agent: stanza " + config.stanza() + " as " + holder + "; jobs from " + source.describe()
                + streamLine
                + "; metrics on " + metrics.url() + archiving + prefetching + "; scheduled drills: " + switch (drillRun) {
                    case NEVER -> "never (drill.run)";
                    case REPLICA -> "on a replica only (drill.run)";
                    case ANY -> "on any node (drill.run)";
                });
        out.flush();
        return runUntilStopped(services, jobs, source, out, err);
    }

    /**
     * A drill this node's agent was running when it died (kill -9, a crash, a reboot) left its server
     * running in the scratch directory and its job {@code running}: the server is stopped, the
     * directory removed (only one with a drill's marker), the drill recorded as failed and its job
     * reported failed, before any new job is taken. A clean-up that fails is said and does not stop
     * the agent (the next drill on that directory tries again).
     */
    static void cleanUpDeadDrill(ShimConfig config, DrillSettings settings, Map<String, String> env, JobLoop jobs,
                                 PrintStream out, PrintStream err) {
        java.nio.file.Path scratch = settings.scratch().orElseGet(() -> DrillCommand.defaultScratch(config));
        PrintStream log = new PrintStream(new BackupRunner.Tee(new java.io.ByteArrayOutputStream(), out,
                "tidemark agent: "), true, java.nio.charset.StandardCharsets.UTF_8);
        Drill drill = new Drill(config, settings, env, Clock.systemUTC(), FreeSpace.FILE_STORE, log, log);
        try {
            drill.cleanUpAfterAgent(scratch).ifPresent(left -> left.marker().jobId().ifPresent(job ->
                    jobs.settleDeadDrill(job, left.marker().pid(), "agent died during the drill: the agent (process "
                            + left.marker().pid() + ") was gone before drill " + left.marker().drillId()
                            + " finished; its next start found it: " + left.what())));
        } catch (IOException | RuntimeException e) {
            err.println("tidemark agent: cannot clean up the drill scratch directory " + scratch + ": " + e.getMessage());
        }
        log.flush();
    }

    /** The snapshot the metrics read, telling {@code err} when the catalog cannot be read (once per new error). */
    private static java.util.function.Supplier<StanzaSnapshot.Read> catalogErrorsTo(StanzaSnapshot snapshot,
                                                                                    PrintStream err) {
        AtomicReference<String> told = new AtomicReference<>();
        return () -> {
            StanzaSnapshot.Read r = snapshot.get();
            String was = told.getAndSet(r.error());
            if (r.error() != null && !r.error().equals(was)) {
                err.println("tidemark agent: metrics: cannot read the stanza from the catalog"
                        + " (tidemark_catalog_up 0): " + r.error());
                err.flush();
            }
            return r;
        };
    }

    private static int runUntilStopped(List<AgentService> services, JobLoop jobs, JobSource source, PrintStream out,
                                       PrintStream err) {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> threads = new ArrayList<>();
        for (AgentService s : services) {
            Thread t = new Thread(() -> {
                try {
                    s.run();
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                    err.println("tidemark agent: " + s.name() + " failed: " + e);
                    services.forEach(AgentService::stop);
                }
            }, "tidemark-agent-" + s.name());
            threads.add(t);
        }
        Thread hook = new Thread(() -> {
            out.println("tidemark agent: stopping");
            services.forEach(AgentService::stop);
            join(threads, STOP_GRACE_MS);
            jobs.abandonRunning("the agent was stopped while the backup ran; the next backup resumes what it uploaded");
            source.close();
            out.println("tidemark agent: stopped");
            out.flush();
        }, "tidemark-agent-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        threads.forEach(Thread::start);
        join(threads, Long.MAX_VALUE);
        if (failure.get() != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // already shutting down
            }
            source.close();
            return ExitCodes.FAILED;
        }
        return ExitCodes.OK;
    }

    private static void join(List<Thread> threads, long maxMs) {
        long deadline = maxMs == Long.MAX_VALUE ? Long.MAX_VALUE : System.currentTimeMillis() + maxMs;
        for (Thread t : threads) {
            try {
                long left = deadline == Long.MAX_VALUE ? 0 : Math.max(1, deadline - System.currentTimeMillis());
                t.join(left);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    static int port(String v) {
        try {
            int p = Integer.parseInt(v);
            if (p >= 0 && p <= 65535) {
                return p;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new UsageException("--metrics-port must be a port number 0-65535 (0: any free port), got '" + v + "'");
    }
}
