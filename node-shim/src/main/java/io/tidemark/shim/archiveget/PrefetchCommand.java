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
    }

    /**
     * Starts {@code archive-get-prefetch} as a separate process with this JVM and class path, its
     * input from /dev/null and its output appended to the spool's log, and does not wait for it.
     * It stays in PostgreSQL's process group, so that stopping the server stops it too.
     */
    public static final Starter DETACHED = (config, spool, after, plan) -> {
        if (spool.locked()) {
            return;
        }
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // The default (tiered, C2) compiler: the prefetcher runs for the whole recovery, and C1 alone
        // has none of the AES-GCM, SHA and CRC intrinsics that TLS, checksums and zstd frames use.
        List<String> cmd = new ArrayList<>(List.of(java, "-XX:+UseSerialGC", "-Xmx768m",
                "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), "io.tidemark.shim.Main", "archive-get-prefetch",
                "--config", config.file().toAbsolutePath().toString(), "--stanza", config.stanza().value()));
        plan.ifPresent(f -> cmd.addAll(List.of("--plan", f.toAbsolutePath().toString())));
        cmd.addAll(List.of(after.toString(), Long.toString(after.segmentSize().bytes())));
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.appendTo(spool.dir().resolve(PrefetchSpool.LOG).toFile()))
                .redirectErrorStream(true);
        try {
            pb.start();
        } catch (IOException e) {
            // no prefetch; archive-get itself has succeeded
        }
    };
}
