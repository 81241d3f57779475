package io.tidemark.shim.archiveget;

import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.events.wal.WalSegmentSize;
import io.tidemark.shim.Command;
import io.tidemark.shim.cli.ExitCodes;
import io.tidemark.shim.config.CommonOptions;
import io.tidemark.shim.config.ShimConfig;
import io.tidemark.shim.storage.CredentialSource;
import io.tidemark.shim.storage.ObjectStore;
import io.tidemark.shim.storage.Stores;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import picocli.CommandLine;

/**
 * {@code tidemark archive-get-prefetch --config F --stanza S [--plan FILE] SEGMENT SEGMENT_BYTES}
 * (internal): the detached prefetcher archive-get starts; see {@link Prefetcher}. With
 * {@code --plan}, the restore plan archive-get was given: what it prefetches is verified against
 * it. Output goes to the spool's {@code prefetch.log}.
 *
 * <p>{@code archive-get-prefetch --config F --stanza S --pgdata DIR --standby-ask FILE}: started by
 * {@code bin/tidemark} for a standby's restore_command that found no prefetcher running (no plan),
 * instead of an archive-get JVM: the launcher has left its ask for {@code FILE} in the spool and
 * waits for this prefetcher's answer ({@link PrefetchSpool#asks}). The segment size is the stanza's
 * cached one; the window starts at FILE when it is a segment, else (a history file, PostgreSQL's
 * first ask) where recovery of DIR will start ({@link RecoveryStart}). When neither is known it
 * answers nothing and leaves: the launcher sees it gone and starts the archive-get JVM.
 */
@CommandLine.Command(name = "archive-get-prefetch", hidden = true, mixinStandardHelpOptions = true,
        versionProvider = io.tidemark.shim.cli.Version.class,
        description = "(internal) the detached WAL prefetcher archive-get starts")
public final class PrefetchCommand implements Command {
    private final Map<String, String> env;

    @CommandLine.Mixin
    private CommonOptions common = new CommonOptions();

    @CommandLine.Option(names = "--plan", paramLabel = "FILE", description = "the restore plan archive-get was given")
    private String planOption;

    @CommandLine.Option(names = "--restore-start",
            description = "started by a restore: begin a new generation, record SEGMENT as requested, log into the spool")
    private boolean restoreStart;

    @CommandLine.Option(names = "--leave-with", paramLabel = "PID",
            description = "leave once this process (the recovery that started the prefetcher) has ended")
    private Long leaveWith;

    @CommandLine.Option(names = "--standby-ask", paramLabel = "FILE",
            description = "started by the launcher for a standby's ask of FILE: size from the stanza cache, start from FILE or --pgdata")
    private String standbyAsk;

    @CommandLine.Parameters(index = "0", arity = "0..1", paramLabel = "SEGMENT", description = "the segment to prefetch after")
    private String after;

    @CommandLine.Parameters(index = "1", arity = "0..1", paramLabel = "SEGMENT_BYTES", description = "the WAL segment size in bytes")
    private long segmentBytes;

    public PrefetchCommand() {
        this(System.getenv());
    }

    public PrefetchCommand(Map<String, String> env) {
        this.env = env;
    }

    @Override
    public int call(PrintStream out, PrintStream err) {
        ShimConfig config = ShimConfig.load(common, env);
        Optional<PrefetchSpool> spool = PrefetchSpool.open(config.spoolDir(), config.stanza());
        if (spool.isEmpty()) {
            err.println(Instant.now() + " prefetch spool under " + config.spoolDir() + " is not usable");
            return ExitCodes.FAILED;
        }
        WalSegmentSize size;
        WalSegmentName start;
        if (standbyAsk != null) {
            Optional<WalSegmentName> s = standbyStart(config, spool.get(), err);
            if (s.isEmpty()) {
                return answerOnly(config, spool.get(), err);
            }
            start = s.get();
            size = start.segmentSize();
        } else if (after != null && segmentBytes > 0) {
            size = WalSegmentSize.ofBytes(segmentBytes);
            start = WalSegmentName.parse(after, size);
        } else {
            throw new io.tidemark.shim.cli.UsageException("SEGMENT and SEGMENT_BYTES are required without --standby-ask");
        }
        if (restoreStart) {
            // what a restore does before starting its prefetcher, done here when the restore runs
            // as root for another user's data directory: the spool is that user's (RestoreCommand)
            try {
                err = new PrintStream(new java.io.FileOutputStream(spool.get().dir().resolve(PrefetchSpool.LOG).toFile(), true),
                        true, java.nio.charset.StandardCharsets.UTF_8);
            } catch (IOException e) {
                // keep the given output
            }
            spool.get().newGeneration();
            if (!spool.get().waitUnlocked(Duration.ofSeconds(5))) {
                err.println(Instant.now() + " not prefetching: an earlier prefetcher did not leave within 5 s");
                return ExitCodes.FAILED;
            }
            spool.get().noteRequested(start);
        }
        Optional<WalPlan> plan;
        try {
            plan = WalPlan.loadIfNamed(Optional.ofNullable(planOption).map(Path::of), config);
        } catch (AbortRecovery e) {
            err.println(Instant.now() + " not prefetching: " + e.getMessage());
            return ExitCodes.FAILED;
        }
        java.util.function.BooleanSupplier stop = () -> false;
        if (leaveWith != null) {
            Optional<ProcessHandle> recovery = ProcessHandle.of(leaveWith);
            if (recovery.isEmpty()) {
                return ExitCodes.OK; // ended before this prefetcher started: nobody to serve
            }
            PrintStream log = err;
            stop = new java.util.function.BooleanSupplier() {
                private long checkedAt;

                @Override
                public boolean getAsBoolean() {
                    long now = System.nanoTime();
                    if (now - checkedAt < RECOVERY_CHECK_NS) {
                        return false;
                    }
                    checkedAt = now;
                    if (recovery.get().isAlive()) {
                        return false;
                    }
                    log.println(Instant.now() + " the recovery process " + leaveWith + " that started this prefetcher has ended: leaving");
                    return true;
                }
            };
        }
        try (ObjectStore store = Stores.open(config, CredentialSource.of(config, env))) {
            Prefetcher prefetcher = new Prefetcher(config, store, spool.get(), size,
                    Duration.ofSeconds(config.prefetchIdleSeconds()), err, plan);
            prefetcher.run(start, stop);
            // what this prefetcher cost the machine, beside PostgreSQL's replay (bench/standby-catchup-bench.sh sums it)
            err.println(Instant.now() + " left: " + prefetcher.fetched.get() + " segments fetched, CPU "
                    + ProcessHandle.current().info().totalCpuDuration().map(d -> d.toMillis() + " ms").orElse("unknown"));
        }
        return ExitCodes.OK;
    }

    /**
     * Where a prefetcher the launcher started for {@link #standbyAsk} begins: after the asked segment's
     * predecessor (the ask itself fetches the segment), or for a history file after the segment
     * before the one recovery of {@code --pgdata} starts from. Empty (logged) when the stanza's segment
     * size is not cached or a history ask's start is unknown: then it leaves, and the launcher's
     * call goes to the archive-get JVM.
     */
    private Optional<WalSegmentName> standbyStart(ShimConfig config, PrefetchSpool spool, PrintStream err) {
        Optional<WalSegmentSize> size = cachedSize(config);
        if (size.isEmpty()) {
            err.println(Instant.now() + " not prefetching for the ask of " + standbyAsk + ": the stanza's segment size is not cached");
            return Optional.empty();
        }
        io.tidemark.events.wal.WalFileName name;
        try {
            name = io.tidemark.events.wal.WalFileName.parse(standbyAsk, size.get());
        } catch (IllegalArgumentException e) {
            err.println(Instant.now() + " not prefetching for the ask of " + standbyAsk + ": " + e.getMessage());
            return Optional.empty();
        }
        Optional<WalSegmentName> first;
        if (name instanceof io.tidemark.events.wal.WalFileName.Segment seg) {
            first = Optional.of(seg.segment());
        } else {
            Path pgdata = io.tidemark.shim.pg.PgOptions.from(common, env).pgdata();
            first = RecoveryStart.of(pgdata != null ? pgdata : Path.of("").toAbsolutePath(), size.get());
            if (first.isEmpty()) {
                // in archive recovery already (backup_label renamed, pg_control says so): the segment
                // this recovery asked for last, when the spool remembers one
                return spool.requested(size.get());
            }
        }
        WalSegmentName after = first.get().segmentNumber() == 0 ? first.get() : first.get().previous();
        // what an earlier recovery asked last is not where this one begins (the launcher wrote a segment's)
        if (!(name instanceof io.tidemark.events.wal.WalFileName.Segment)) {
            spool.noteRequested(after);
        }
        return Optional.of(after);
    }

    /**
     * A history ask whose recovery's start is not known: the asks waiting in the spool are answered
     * (from a look at the archive begun now), nothing is prefetched, and the process leaves; the
     * history file found stays in the spool (verified; archived history files never change) for the
     * launcher to copy. Without the stanza's cached segment size nothing is answered: the launcher
     * sees this process gone and starts the archive-get JVM.
     */
    private int answerOnly(ShimConfig config, PrefetchSpool spool, PrintStream err) {
        Optional<WalSegmentSize> size = cachedSize(config);
        Optional<FileChannel> lock = size.isPresent() ? spool.tryLock() : Optional.empty();
        if (lock.isEmpty()) {
            return ExitCodes.FAILED;
        }
        try (FileChannel held = lock.get(); ObjectStore store = Stores.open(config, CredentialSource.of(config, env))) {
            new Prefetcher(config, store, spool, size.get(), Duration.ZERO, err, Optional.empty()).answerPending();
        } catch (IOException e) {
            err.println(Instant.now() + " answering the ask of " + standbyAsk + " failed: " + e.getMessage());
            return ExitCodes.FAILED;
        }
        return ExitCodes.OK;
    }

    /** The stanza's segment size from its document cached in the spool (written by stanza-create and archive-push). */
    private static Optional<WalSegmentSize> cachedSize(ShimConfig config) {
        return new io.tidemark.shim.api.StanzaCache(config.spoolDir()).read(config.stanza())
                .map(io.tidemark.shim.api.StanzaDoc::walSegmentSize);
    }

    /** How often a prefetcher started with {@code --leave-with} looks whether that process still runs. */
    private static final long RECOVERY_CHECK_NS = 200_000_000L;

    /**
     * The process whose end a detached prefetcher leaves with: this process's group leader, which
     * for restore_command is PostgreSQL's startup process (PostgreSQL puts each of its children in a
     * session and group of its own, and restore_command's processes stay in it). Empty when this
     * process leads its group itself (run by hand from a shell), the leader is gone, or /proc cannot say.
     */
    static Optional<Long> groupLeader() {
        try {
            String stat = Files.readString(Path.of("/proc/self/stat"));
            // after the command name in parentheses: state, ppid, pgrp
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long pgrp = Long.parseLong(f[2]);
            // a group outlives its leader: a dead one (a shell without job control) is nobody to follow
            return pgrp > 1 && pgrp != ProcessHandle.current().pid() && ProcessHandle.of(pgrp).isPresent()
                    ? Optional.of(pgrp) : Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** {@code setsid} (util-linux), when installed: a detached prefetcher runs in a session of its own. */
    private static Optional<String> setsid() {
        for (String d : List.of("/usr/bin", "/bin")) {
            Path p = Path.of(d, "setsid");
            if (Files.isExecutable(p)) {
                return Optional.of(p.toString());
            }
        }
        return Optional.empty();
    }

    /** How archive-get starts a prefetcher. */
    public interface Starter {
        /** @param plan the restore plan file archive-get was given with {@code --plan}, if any */
        void start(ShimConfig config, PrefetchSpool spool, WalSegmentName after, Optional<Path> plan);

        /**
         * Starts a prefetcher as {@code user} for a restore run as root into that user's data
         * directory: it opens that user's spool itself ({@code --restore-start}). False when it
         * cannot be started (then the first archive-get starts one).
         */
        default boolean startAs(String user, ShimConfig config, WalSegmentName after, Path plan) {
            return false;
        }
    }

    /**
     * Starts {@code archive-get-prefetch} as a separate process with this JVM and class path, its
     * input from /dev/null and its output appended to the spool's log, and does not wait for it.
     *
     * <p>In a session of its own ({@code setsid}), leaving once the recovery process that started
     * it has ended ({@code --leave-with}: PostgreSQL's startup process, this process's group
     * leader), as when it stayed in that process group and PostgreSQL's stop signalled it. Why a
     * session: Linux schedules each session as one group (autogroup, on by default), so in
     * PostgreSQL's startup session the prefetcher and replay shared one share of the CPU, while
     * pgBackRest's asynchronous archive-get detaches its worker into a session of its own (a share
     * of its own): on a shared machine, 100 x 16 MB caught up in 37.3 s against pgBackRest's 14.6 s
     * at load 12, each prefetcher step several times slower than at load 3-6 (docs/benchmarks.md,
     * standby catch-up). Without {@code setsid} or a group leader to follow: in the group, as before.
     */
    public static final Starter DETACHED = new Starter() {
        @Override
        public void start(ShimConfig config, PrefetchSpool spool, WalSegmentName after, Optional<Path> plan) {
            // Not while one holds the lock, nor while one is starting (PrefetchSpool.starting): the
            // launcher's start for a standby's first ask is a JVM of a second or more before it
            // locks; a second one started meanwhile could win the lock, the first would leave, and
            // the call waiting for its answer went to a JVM too (seen once in PrefetchAskCloudTest:
            // both racing calls went to JVMs, under load).
            if (spool.locked() || spool.starting()) {
                return;
            }
            Optional<Long> leader = groupLeader();
            Optional<String> setsid = leader.isPresent() ? setsid() : Optional.empty();
            Optional<Process> p = launch(setsid.map(List::of).orElse(List.of()), config, after, plan,
                    setsid.isPresent() ? List.of("--leave-with", Long.toString(leader.get())) : List.of(),
                    ProcessBuilder.Redirect.appendTo(spool.dir().resolve(PrefetchSpool.LOG).toFile()));
            if (p.isPresent()) {
                // the next asks wait for its first downloads rather than start JVMs while it starts
                List<WalSegmentName> first = new ArrayList<>();
                WalSegmentName n = after;
                for (int i = Prefetcher.window(config.prefetch(), config.prefetchSpoolMaxMb(after.segmentSize()), after.segmentSize()); i > 0; i--) {
                    n = n.next();
                    first.add(n);
                }
                spool.noteStarting(p.get().pid(), first);
            }
        }

        @Override
        public boolean startAs(String user, ShimConfig config, WalSegmentName after, Path plan) {
            // runuser keeps the environment (credentials a configuration may name) and needs no password
            return launch(List.of("runuser", "-u", user, "--"), config, after, Optional.of(plan), List.of("--restore-start"),
                    ProcessBuilder.Redirect.DISCARD).isPresent();
        }
    };

    /**
     * Starts {@code archive-get-prefetch} with this JVM and class path, its input from /dev/null,
     * and does not wait for it. It stays in the starter's process group, so that stopping
     * PostgreSQL (archive-get's parent) stops it too.
     */
    private static Optional<Process> launch(List<String> prefix, ShimConfig config, WalSegmentName after, Optional<Path> plan,
                                  List<String> options, ProcessBuilder.Redirect output) {
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // The default (tiered, C2) compiler: the prefetcher runs for the whole recovery, and C1 alone
        // has none of the AES-GCM, SHA and CRC intrinsics that TLS, checksums and zstd frames use.
        List<String> cmd = new ArrayList<>(prefix);
        String classPath = System.getProperty("java.class.path");
        cmd.addAll(List.of(java, "-XX:+UseSerialGC", "-Xmx768m"));
        // C2 only for the digest and cipher kernels (bin/lib/copy-jit.json, as for backup and restore),
        // C1 for the rest: a restore's prefetcher lives for a few segments, and C2 compiling its
        // start-up, HTTP and JSON code was most of its CPU (docs/testing.md, "Where a class's CPU goes").
        String launcher = System.getProperty("tidemark.launcher");
        if (launcher != null) {
            cmd.addAll(io.tidemark.shim.cli.CopyJitFlags.of(Path.of(launcher).resolveSibling("lib")));
        }
        String zstd = System.getProperty("ZstdNativePath");
        if (zstd != null) {
            cmd.add("-DZstdNativePath=" + zstd); // the launcher's extracted library: no extraction to /tmp
        }
        // No AOT cache (archive-get's, tidemark-get.aot): it was trained with C1 alone, and a JVM
        // started with it ran SHA-256 at 60-100 MB/s instead of ~1 GB/s (its compiled code never
        // got the SHA intrinsic; measured 2026-12-07, docs/benchmarks.md): 240 ms of every 16 MB
        // segment's download, against the second or so the cache saves at the start.
        cmd.addAll(List.of("--enable-native-access=ALL-UNNAMED", "-cp", classPath, "io.tidemark.shim.Main"));
        cmd.addAll(List.of("archive-get-prefetch",
                "--config", config.file().toAbsolutePath().toString(), "--stanza", config.stanza().value()));
        cmd.addAll(options);
        plan.ifPresent(f -> cmd.addAll(List.of("--plan", f.toAbsolutePath().toString())));
        cmd.addAll(List.of(after.toString(), Long.toString(after.segmentSize().bytes())));
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(output)
                .redirectErrorStream(true);
        try {
            return Optional.of(pb.start());
        } catch (IOException e) {
            return Optional.empty(); // no prefetch; archive-get itself has succeeded
        }
    }
}
