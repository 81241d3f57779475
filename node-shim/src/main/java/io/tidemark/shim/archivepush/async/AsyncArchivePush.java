package io.tidemark.shim.archivepush.async;

import io.tidemark.shim.archivepush.ArchivePushCommand;
import io.tidemark.shim.cli.CommandFailure;
import io.tidemark.shim.cli.ExitCodes;
import io.tidemark.shim.config.ShimConfig;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * archive-push with {@code archive-push.async=true}, once the launcher's fast path found no
 * {@code .ok} for the file: answers from the spool when it can (done: exit 0; an error recorded
 * since PostgreSQL's last call: exit 1 with that message, which is then forgotten so that the
 * next call waits for a new attempt), else makes sure a worker runs (starting a detached one
 * when none holds the lock) and waits up to {@code archive-push.timeout} for the file's outcome.
 * When no worker can be started, or none took the lock in {@link #WORKER_START}, it pushes the
 * file itself, synchronously, as archive-push without async would; so it does for a file
 * PostgreSQL has not marked ready ({@code archive_status/<file>.ready}), which no worker would see,
 * and while the stanza's worker follows another data directory ({@code worker.pid}: one stanza's
 * spool serves one cluster's worker, and a restored copy beside the original shares its
 * configuration), with a warning.
 */
public final class AsyncArchivePush {
    static final Duration WORKER_START = Duration.ofSeconds(15);
    private static final long POLL_MS = 10;

    /** How a worker is started (tests run one in-process). */
    public interface Starter {
        void start(ShimConfig config, ArchiveSpool spool, Path pgdata) throws IOException;
    }

    private final ShimConfig config;
    private final Map<String, String> env;
    private final Starter starter;

    public AsyncArchivePush(ShimConfig config, Map<String, String> env, Starter starter) {
        this.config = config;
        this.env = env;
        this.starter = starter;
    }

    /** @param file the absolute path of {@code %p} (its parent is pg_wal) */
    public int run(Path file, PrintStream err) {
        String name = file.getFileName().toString();
        Path pgWal = file.getParent();
        Optional<ArchiveSpool> opened = ArchiveSpool.isWalFile(name) && pgWal != null && pgWal.getParent() != null
                ? ArchiveSpool.open(config.spoolDir(), config.stanza()) : Optional.empty();
        if (opened.isEmpty()) {
            err.println("tidemark archive-push: warning: no usable archive spool for " + file + " under " + config.spoolDir()
                    + "; pushing synchronously");
            return pushHere(file, err);
        }
        ArchiveSpool spool = opened.get();
        Instant deadline = Instant.now().plusSeconds(config.asyncPush().timeoutSeconds());
        SpoolStatus s = spool.answer(file);
        if (answered(spool, name, s, err)) {
            return s instanceof SpoolStatus.Done ? ExitCodes.OK : ExitCodes.FAILED;
        }
        if (!java.nio.file.Files.exists(pgWal.resolve("archive_status").resolve(name + ".ready"))) {
            // not a file PostgreSQL is asking for (no .ready beside it, e.g. a copy pushed by
            // hand): no worker would ever see it, so it is pushed here
            return pushHere(file, err);
        }
        Path pgdata = pgWal.getParent();
        if (!ensureWorker(spool, pgdata, err)) {
            return pushHere(file, err);
        }
        while (Instant.now().isBefore(deadline)) {
            s = spool.answer(file);
            if (answered(spool, name, s, err)) {
                return s instanceof SpoolStatus.Done ? ExitCodes.OK : ExitCodes.FAILED;
            }
            if (!spool.locked() && !ensureWorker(spool, pgdata, err)) {
                return pushHere(file, err);
            }
            // Asked on every round, not once: the worker that holds the lock may change while this
            // call waits (the last one died, the other cluster's call started the next).
            Optional<Path> served = spool.workerPid().flatMap(ArchiveSpool.WorkerPid::pgdata);
            if (served.isPresent() && !sameDirectory(served.get(), pgdata)) {
                // the stanza's worker follows another cluster (a restored copy of this stanza beside
                // the original, sharing the configuration): it will never see this file
                err.println("tidemark archive-push: warning: the asynchronous worker of " + spool.dir() + " follows "
                        + served.get() + ", not " + pgdata + "; pushing " + name + " synchronously");
                return pushHere(file, err);
            }
            sleep(POLL_MS);
        }
        throw new CommandFailure(ExitCodes.FAILED, name + " was not archived within archive-push.timeout ("
                + config.asyncPush().timeoutSeconds() + " s) by the asynchronous worker; see "
                + spool.dir().resolve(ArchiveSpool.LOG));
    }

    /** Done, or an error to report (then forgotten, so that the next call waits for a new attempt). */
    private static boolean answered(ArchiveSpool spool, String name, SpoolStatus s, PrintStream err) {
        switch (s) {
            case SpoolStatus.Done d -> {
                if (d.dropped()) {
                    err.println("tidemark archive-push: WARNING: " + name + " was NOT archived: dropped by"
                            + " archive-push.queue-max (see " + spool.dir() + ")");
                }
                return true;
            }
            case SpoolStatus.Failed f -> {
                spool.clearError(name);
                throw new CommandFailure(ExitCodes.FAILED, "cannot archive " + name + " (asynchronous worker, "
                        + f.at() + "): " + f.message());
            }
            case SpoolStatus.Pending p -> {
                return false;
            }
        }
    }

    private static boolean sameDirectory(Path a, Path b) {
        try {
            return java.nio.file.Files.isSameFile(a, b);
        } catch (IOException e) {
            return a.toAbsolutePath().normalize().equals(b.toAbsolutePath().normalize());
        }
    }

    /** True once a worker holds the lock; false when none could be started. */
    private boolean ensureWorker(ArchiveSpool spool, Path pgdata, PrintStream err) {
        if (spool.locked()) {
            return true;
        }
        try {
            starter.start(config, spool, pgdata);
        } catch (IOException | RuntimeException e) {
            err.println("tidemark archive-push: warning: cannot start the asynchronous worker (" + e.getMessage()
                    + "); pushing synchronously");
            return false;
        }
        Instant until = Instant.now().plus(WORKER_START);
        while (Instant.now().isBefore(until)) {
            if (spool.locked()) {
                return true;
            }
            sleep(POLL_MS);
        }
        err.println("tidemark archive-push: warning: the asynchronous worker did not start within "
                + WORKER_START.toSeconds() + " s (see " + spool.dir().resolve(ArchiveSpool.LOG) + "); pushing synchronously");
        return false;
    }

    private int pushHere(Path file, PrintStream err) {
        return ArchivePushCommand.pushNow(config, env, file, err);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CommandFailure(ExitCodes.FAILED, "interrupted");
        }
    }

    /**
     * Starts {@code archive-push-worker} as a separate process with this JVM and class path
     * (default JIT: it runs long, and C2 hashes and compresses far faster than the launcher's
     * short-run C1), input from /dev/null, output appended to the spool's {@code worker.log},
     * and does not wait for it. It leaves by itself when idle or when the server stops.
     */
    public static final Starter DETACHED = (config, spool, pgdata) -> {
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> cmd = new ArrayList<>(List.of(java, "-XX:+UseSerialGC",
                // each push holds a segment, its compressed form and the read buffer
                "-Xmx" + (256 + 64 * config.asyncPush().process()) + "m", "--enable-native-access=ALL-UNNAMED"));
        String zstd = System.getProperty("ZstdNativePath");
        if (zstd != null) {
            cmd.add("-DZstdNativePath=" + zstd);
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.tidemark.shim.Main", "archive-push-worker",
                "--config", config.file().toAbsolutePath().toString(), "--stanza", config.stanza().value(),
                "--pgdata", pgdata.toAbsolutePath().toString()));
        new ProcessBuilder(cmd)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.appendTo(spool.dir().resolve(ArchiveSpool.LOG).toFile()))
                .redirectErrorStream(true)
                .start();
    };
}
