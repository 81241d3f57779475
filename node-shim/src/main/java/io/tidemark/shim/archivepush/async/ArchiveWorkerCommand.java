package io.tidemark.shim.archivepush.async;

import io.tidemark.shim.Command;
import io.tidemark.shim.archivepush.WalPusher;
import io.tidemark.shim.cli.CommandFailure;
import io.tidemark.shim.cli.ExitCodes;
import io.tidemark.shim.cli.UsageException;
import io.tidemark.shim.config.CommonOptions;
import io.tidemark.shim.config.ShimConfig;
import io.tidemark.shim.pg.PgOptions;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import picocli.CommandLine;

/**
 * {@code tidemark archive-push-worker --pgdata DIR [--idle-exit SECONDS]}: runs the
 * {@link ArchiveWorker} in the foreground until it is idle that long (default 60 s; 0 = until
 * killed) or the server stops. archive-push starts it detached when none runs; an operator may
 * run it by hand (or under systemd) instead. Exit 0 when it ran or another worker already runs.
 */
@CommandLine.Command(name = "archive-push-worker", mixinStandardHelpOptions = true,
        versionProvider = io.tidemark.shim.cli.Version.class,
        description = {"The asynchronous archive-push worker in the foreground (archive-push starts one itself).",
                "Leaves after --idle-exit seconds without work, or when the server stops."})
public final class ArchiveWorkerCommand implements Command {
    static final Duration DEFAULT_IDLE = Duration.ofSeconds(60);
    private final Map<String, String> env;

    @CommandLine.Mixin
    private CommonOptions common = new CommonOptions();

    @CommandLine.Option(names = "--idle-exit", paramLabel = "SECONDS", description = "leave after this long idle (default 60; 0 = never)")
    private String idleExit;

    public ArchiveWorkerCommand() {
        this(System.getenv());
    }

    public ArchiveWorkerCommand(Map<String, String> env) {
        this.env = env;
    }

    @Override
    public int call(PrintStream out, PrintStream err) {
        ShimConfig config = ShimConfig.load(common, env);
        Path pgdata = PgOptions.from(common, env).pgdata();
        if (pgdata == null) {
            throw new UsageException("no data directory: give --pgdata DIR or set PGDATA");
        }
        if (!Files.isDirectory(pgdata.resolve("pg_wal"))) {
            throw new CommandFailure(ExitCodes.FAILED, pgdata + " is not a PostgreSQL data directory (no pg_wal)");
        }
        Duration idle = idle(idleExit);
        ArchiveSpool spool = ArchiveSpool.open(config.spoolDir(), config.stanza()).orElseThrow(() -> new CommandFailure(
                ExitCodes.FAILED, "the archive spool under " + config.spoolDir() + " cannot be used: its "
                + config.stanza() + "/archive directory must be a directory owned by " + System.getProperty("user.name")));
        ArchiveWorker worker = new ArchiveWorker(new WalPusher(config, env), pgdata.toAbsolutePath(), spool, err, idle,
                true);
        if (!worker.start()) {
            err.println("tidemark archive-push-worker: another worker already runs for stanza " + config.stanza()
                    + " (" + spool.dir() + ")");
            return ExitCodes.OK;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(worker::stop));
        try {
            worker.awaitExit();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            worker.stop();
        }
        return ExitCodes.OK;
    }

    static Duration idle(String v) {
        if (v == null) {
            return DEFAULT_IDLE;
        }
        try {
            long s = Long.parseLong(v);
            if (s >= 0) {
                return s == 0 ? null : Duration.ofSeconds(s);
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new UsageException("--idle-exit must be a number of seconds (0: never), got '" + v + "'");
    }
}
