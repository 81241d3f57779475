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

    @CommandLine.Parameters(index = "0", paramLabel = "SEGMENT", description = "the segment to prefetch after")
    private String after;

    @CommandLine.Parameters(index = "1", paramLabel = "SEGMENT_BYTES", description = "the WAL segment size in bytes")
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
        WalSegmentSize size = WalSegmentSize.ofBytes(segmentBytes);
        WalSegmentName start = WalSegmentName.parse(after, size);
        Optional<PrefetchSpool> spool = PrefetchSpool.open(config.spoolDir(), config.stanza());
        if (spool.isEmpty()) {
            err.println(Instant.now() + " prefetch spool under " + config.spoolDir() + " is not usable");
            return ExitCodes.FAILED;
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
        try (ObjectStore store = Stores.open(config, CredentialSource.of(config, env))) {
            new Prefetcher(config, store, spool.get(), size, Duration.ofSeconds(config.prefetchIdleSeconds()), err, plan)
                    .run(start);
        }
        return ExitCodes.OK;
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
     * It stays in PostgreSQL's process group, so that stopping the server stops it too.
     */
    public static final Starter DETACHED = new Starter() {
        @Override
        public void start(ShimConfig config, PrefetchSpool spool, WalSegmentName after, Optional<Path> plan) {
            if (spool.locked()) {
                return;
            }
            Optional<Process> p = launch(List.of(), config, after, plan, List.of(),
                    ProcessBuilder.Redirect.appendTo(spool.dir().resolve(PrefetchSpool.LOG).toFile()));
            if (p.isPresent()) {
                // the next asks wait for its first downloads rather than start JVMs while it starts
                List<WalSegmentName> first = new ArrayList<>();
                WalSegmentName n = after;
                for (int i = Prefetcher.window(config.prefetch(), config.prefetchSpoolMaxMb(), after.segmentSize()); i > 0; i--) {
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
