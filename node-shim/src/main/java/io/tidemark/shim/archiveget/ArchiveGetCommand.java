package io.tidemark.shim.archiveget;

import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StorageLayout;
import io.tidemark.events.plan.PlanWal;
import io.tidemark.events.wal.WalFileName;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.events.wal.WalSegmentSize;
import io.tidemark.shim.Command;
import io.tidemark.shim.api.StanzaCache;
import io.tidemark.shim.api.StanzaDoc;
import io.tidemark.shim.archivepush.ArchivePushCommand;
import io.tidemark.shim.cli.CommandFailure;
import io.tidemark.shim.cli.ExitCodes;
import io.tidemark.shim.cli.Trace;
import io.tidemark.shim.cli.UsageException;
import io.tidemark.shim.config.CommonOptions;
import io.tidemark.shim.config.ShimConfig;
import io.tidemark.shim.pg.PgOptions;
import io.tidemark.shim.storage.Codec;
import io.tidemark.shim.storage.CredentialSource;
import io.tidemark.shim.storage.ObjectStore;
import io.tidemark.shim.storage.CreateOnly;
import io.tidemark.shim.storage.StorageException;
import io.tidemark.shim.storage.Stores;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import picocli.CommandLine;

/**
 * {@code tidemark archive-get [--plan FILE] %f %p}: PostgreSQL's {@code restore_command}. Fetches
 * the WAL file, verifies it, and writes {@code %p} atomically.
 *
 * <p>With {@code --plan} (written by {@code tidemark restore}; see {@link WalPlan}) the signed
 * plan decides: a file it lists is fetched by its key and must match the plan's stored size and
 * SHA-256; a segment inside its WAL ranges must exist and match its object's SHA-256 metadata;
 * either one missing, unreadable or damaged prints ONE line and exits
 * {@link ExitCodes#ABORT_RECOVERY}, so PostgreSQL aborts recovery instead of promoting a cluster
 * short of its target. While S3 is unreachable (network, 5xx, throttling) it waits and retries,
 * up to {@code archive-get.outage-wait}, then aborts the same way. Names the plan does not need
 * (a newer timeline's history, the segment after the end) answer exit 1 quietly when absent;
 * every other failure with {@code --plan} (configuration, usage, an unwritable target, a damaged
 * object of any name) aborts recovery too.
 *
 * <p>Without a plan (a standby's restore_command): segments under the configured compression
 * first, then the other extensions, checked against the SHA-256 in the object's metadata. Exit 0:
 * written; 1, silently: not archived; 3: anything else, with one line on stderr (PostgreSQL
 * reads 3 as "not available" too: a standby asks again later).
 *
 * <p>Needs no catalog API: keys depend only on the file name (or come from the plan), so restores
 * work with S3 alone. The segment size comes from the plan, else from the cached stanza document.
 */
@CommandLine.Command(name = "archive-get", mixinStandardHelpOptions = true, versionProvider = io.tidemark.shim.cli.Version.class,
        description = {"restore_command: fetch, verify and write one WAL file.",
                "Exit 1 silently when it is not archived, 3 on errors, 200 (abort recovery) when a planned file is missing or damaged."})
public final class ArchiveGetCommand implements Command, io.tidemark.shim.cli.PlainLine.Bindable {
    private final Map<String, String> env;
    private final PrefetchCommand.Starter prefetch;

    public ArchiveGetCommand() {
        this(System.getenv());
    }

    public ArchiveGetCommand(Map<String, String> env) {
        this(env, PrefetchCommand.DETACHED);
    }

    /** @param prefetch how to start the prefetcher (tests run it in-process) */
    public ArchiveGetCommand(Map<String, String> env, PrefetchCommand.Starter prefetch) {
        this.env = env;
        this.prefetch = prefetch;
    }

    static final String TIMELINE_ONE_HISTORY = "00000001.history";
    /** {@code --plan FILE}: the signed restore plan restore left in the data directory ({@link WalPlan}). */
    public static final String PLAN = "plan";

    @CommandLine.Mixin
    private CommonOptions common = new CommonOptions();

    @CommandLine.Parameters(index = "0", paramLabel = "WAL_NAME", description = "the WAL file PostgreSQL asks for (%%f)")
    private String walName;

    @CommandLine.Parameters(index = "1", paramLabel = "DEST_PATH", description = "where to write it (%%p)")
    private String destPath;

    @CommandLine.Option(names = "--plan", paramLabel = "FILE",
            description = "the signed restore plan restore left in the data directory: a missing or damaged planned file aborts recovery")
    private String planOption;

    /** The file is not archived: exit 1 without a word. */
    static final class NotFound extends RuntimeException {
        NotFound() {
            super(null, null, false, false);
        }
    }

    /**
     * A bad command line is never the quiet "not archived" (1): exit 3, and with {@code --plan}
     * abort recovery (a status 1..125 would end it early, short of the target).
     */
    @Override
    public int usageError(String name, List<String> args, UsageException e, PrintStream err) {
        return failed(planned(args), e.getMessage(), err);
    }

    private static boolean planned(List<String> args) {
        return args.stream().anyMatch(s -> s.equals("--" + PLAN) || s.startsWith("--" + PLAN + "="));
    }

    private static int failed(boolean planned, String message, PrintStream err) {
        if (planned) {
            err.println("tidemark archive-get: ABORTING RECOVERY: " + message);
            return ExitCodes.ABORT_RECOVERY;
        }
        err.println("tidemark archive-get: " + message);
        return ExitCodes.GET_ERROR;
    }

    @Override
    public boolean bindOption(String name, String value) {
        if (name.equals("--" + PLAN)) {
            if (planOption != null) {
                return false;
            }
            planOption = value;
            return true;
        }
        return common.bindOption(name, value);
    }

    @Override
    public boolean bindArgument(int index, String value) {
        switch (index) {
            case 0 -> walName = value;
            case 1 -> destPath = value;
            default -> {
                return false;
            }
        }
        return true;
    }

    @Override
    public int arguments() {
        return 2;
    }

    @Override
    public int call(PrintStream out, PrintStream err) {
        // with a plan, no failure may read as "not available" (1..125): PostgreSQL would end recovery early
        boolean planned = planOption != null;
        Trace.mark("main");
        try {
            ShimConfig config = ShimConfig.load(common, env);
            PgOptions pg = PgOptions.from(common, env);
            Path target = resolve(destPath, pg.pgdata());
            if (walName.equals(TIMELINE_ONE_HISTORY)) {
                throw new NotFound(); // PostgreSQL asks for the parent's history at promotion; timeline 1 has none
            }
            Optional<Path> planFile = Optional.ofNullable(planOption).map(f -> resolve(f, pg.pgdata()));
            Optional<WalPlan> plan = WalPlan.loadIfNamed(planFile, config);
            Optional<WalSegmentSize> cachedSize = plan.isPresent() ? Optional.empty()
                    : new StanzaCache(config.spoolDir()).read(config.stanza()).map(StanzaDoc::walSegmentSize);
            WalSegmentSize size = plan.isPresent() ? plan.get().segmentSize()
                    : cachedSize.orElse(WalSegmentSize.ofBytes(WalSegmentSize.MIN_BYTES));
            WalFileName name;
            try {
                name = WalFileName.parse(walName, size);
            } catch (IllegalArgumentException e) {
                throw new CommandFailure(ExitCodes.GET_ERROR, e.getMessage());
            }
            if (config.prefetch() > 0 && plan.isEmpty() && cachedSize.isPresent() && name instanceof WalFileName.History) {
                startAtRecoveryStart(config, size, pg.pgdata());
            }
            Optional<PrefetchSpool> spool = Optional.empty();
            Optional<String> planId = plan.map(WalPlan::id);
            // the spool was another plan's (another restore's recovery of this stanza): its prefetcher
            // is told to leave, and this recovery's own starts once it has
            boolean replaced = false;
            if (config.prefetch() > 0 && name instanceof WalFileName.Segment seg) {
                spool = PrefetchSpool.open(config.spoolDir(), config.stanza());
                if (spool.isPresent()) {
                    replaced = planId.isPresent() && spool.get().leaveToPlan(planId.get());
                    spool.get().noteRequested(seg.segment());
                    if (served(spool.get(), seg.segment(), target, planId)) {
                        spool.get().noteServed(seg.segment(), target);
                        startPrefetch(config, spool.get(), seg.segment(), target.toFile().length(), planFile);
                        return ExitCodes.OK;
                    }
                }
            }
            // A standby's first ask (no plan, the segment size known from the stanza's cached
            // document): the prefetcher starts now, while this JVM fetches the segment itself, not
            // after. Its start (a JVM, the S3 client, TLS) took 4-6 s at load 39 and PostgreSQL's next
            // call waited for it (docs/benchmarks.md, standby catch-up). Without the cached size the
            // size is the fetched file's, so the prefetcher starts afterwards as before.
            boolean started = false;
            if (spool.isPresent() && plan.isEmpty() && cachedSize.isPresent()) {
                startPrefetch(config, spool.get(), ((WalFileName.Segment) name).segment(), size.bytes(), planFile);
                started = true;
            }
            byte[] raw;
            try (ObjectStore store = Stores.open(config, CredentialSource.of(config, env))) {
                raw = (plan.isPresent() ? fetchPlanned(store, config, plan.get(), name, err)
                        : fetch(store, config, name)).orElseThrow(NotFound::new);
            }
            try {
                AtomicFile.write(target, raw);
                Trace.mark("written");
            } catch (IOException e) {
                throw new CommandFailure(ExitCodes.GET_ERROR, "cannot write " + target + ": " + e.getMessage(), e);
            }
            if (spool.isPresent()) {
                WalSegmentName seg = ((WalFileName.Segment) name).segment();
                spool.get().cleanup(seg);
                spool.get().noteServed(seg, target);
                if (replaced) {
                    // the other plan's prefetcher leaves within a tick; else the next ask starts ours
                    spool.get().waitUnlocked(java.time.Duration.ofSeconds(2));
                }
                if (!started) {
                    startPrefetch(config, spool.get(), seg, raw.length, planFile);
                }
            }
            return ExitCodes.OK;
        } catch (NotFound e) {
            return ExitCodes.FAILED;
        } catch (AbortRecovery e) {
            err.println("tidemark archive-get: ABORTING RECOVERY: " + e.getMessage());
            return ExitCodes.ABORT_RECOVERY;
        } catch (StorageException | UsageException | CommandFailure e) {
            return failed(planned, e.getMessage(), err);
        }
    }

    /**
     * Moves a verified prefetched copy into place, with a plan only one verified against that plan;
     * false (fetch it from S3) when there is none or it cannot be moved.
     */
    private static boolean served(PrefetchSpool spool, WalSegmentName seg, Path target, Optional<String> planId) {
        try {
            return spool.takeInto(seg, target, planId);
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * A standby's first ask, the next timeline's history file (no plan, the segment size known from
     * the stanza's cached document): the prefetcher starts now from the segment recovery will read
     * first ({@link RecoveryStart}), so that the first segment's ask is answered from the spool
     * rather than by a second JVM (issue 19: ~1 s of every catch-up's start, docs/benchmarks.md).
     * PostgreSQL runs restore_command in its data directory. Nothing is started when a prefetcher
     * runs already or the data directory does not say where recovery starts.
     */
    private void startAtRecoveryStart(ShimConfig config, WalSegmentSize size, Path pgdata) {
        Path dir = pgdata != null ? pgdata : Path.of("").toAbsolutePath();
        Optional<WalSegmentName> first = RecoveryStart.of(dir, size);
        if (first.isEmpty() || first.get().segmentNumber() == 0) {
            return;
        }
        Optional<PrefetchSpool> spool = PrefetchSpool.open(config.spoolDir(), config.stanza());
        if (spool.isEmpty() || spool.get().locked()) {
            return;
        }
        WalSegmentName after = first.get().previous();
        // what an earlier recovery asked last is not where this one begins
        spool.get().noteRequested(after);
        startPrefetch(config, spool.get(), after, size.bytes(), Optional.empty());
    }

    private void startPrefetch(ShimConfig config, PrefetchSpool spool, WalSegmentName seg, long segmentBytes,
                               Optional<Path> planFile) {
        try {
            WalSegmentName real = WalSegmentName.parse(seg.toString(), WalSegmentSize.ofBytes(segmentBytes));
            prefetch.start(config, spool, real, planFile);
        } catch (RuntimeException e) {
            // not a whole segment (size not a power of two): no prefetch, the file itself is served
        }
    }

    /** The verified raw bytes of {@code name}, or empty when no object holds it. */
    public static Optional<byte[]> fetch(ObjectStore store, ShimConfig config, WalFileName name) {
        for (Compression c : order(name, config.compression())) {
            String key = StorageLayout.walKey(config.stanza(), name, c);
            Optional<ObjectStore.Fetched> f = store.get(key);
            if (f.isPresent()) {
                return Optional.of(verify(key, c, f.get()));
            }
        }
        return Optional.empty();
    }

    /**
     * The verified raw bytes of {@code name} as the plan requires them; empty (not archived) only
     * for a name the plan does not need. Transient storage errors are waited out (see
     * {@link OutageWait}); anything else wrong with a file the plan needs is an {@link AbortRecovery}.
     */
    public static Optional<byte[]> fetchPlanned(ObjectStore store, ShimConfig config, WalPlan plan, WalFileName name,
                                                PrintStream log) {
        OutageWait wait = new OutageWait(java.time.Duration.ofSeconds(config.outageWaitSeconds()), log);
        String file = name.fileName();
        return switch (plan.need(file)) {
            case WalPlan.Listed l -> Optional.of(wait.patiently(file, true, () -> fetchListed(store, plan, l.wal(), name)));
            case WalPlan.Promised p -> Optional.of(wait.patiently(file, true, () -> {
                try {
                    return fetch(store, config, name).orElseThrow(() -> new AbortRecovery(file + " ("
                            + StorageLayout.walKey(config.stanza(), name, config.compression()) + ", any compression): missing"
                            + " from the archive; restore plan " + plan.plan().planId() + " needs every segment through "
                            + lastOfRanges(plan)));
                } catch (CommandFailure e) {
                    throw new AbortRecovery(file + ": " + e.getMessage());
                }
            }));
            case WalPlan.Unplanned u -> wait.patiently(file, false, () -> fetch(store, config, name));
        };
    }

    private static String lastOfRanges(WalPlan plan) {
        var r = plan.plan().walRanges();
        return r.isEmpty() ? "its end" : r.get(r.size() - 1).last();
    }

    /** {@code w} by its key, checked against the plan's stored size and SHA-256 (and a segment's size). */
    static byte[] fetchListed(ObjectStore store, WalPlan plan, PlanWal w, WalFileName name) {
        if (w.isAssembled()) {
            return assemble(store, plan, w);
        }
        String at = w.name() + " (" + w.key() + "): ";
        String needs = "; restore plan " + plan.plan().planId() + " lists it";
        // a segment holds exactly the stanza's segment size; other WAL files (history, .backup) any size
        boolean segment = name instanceof WalFileName.Segment;
        return fetchChecked(store, w.key(), w.versionId(), w.storedSize(), w.compression(), w.sha256(), at,
                w.versionId() == null ? "" : " (version " + w.versionId() + " and any other)", needs,
                n -> !segment || n == plan.segmentSize().bytes() ? null
                        : "it holds " + n + " bytes, not a " + plan.segmentSize() + " segment");
    }

    /**
     * One object a restore plan names, read and checked: the version the cloud accepted, when the
     * plan names one (a later upload of the key is not read; if that version is gone, the current
     * object serves only with the same bytes: the SHA-256 decides, never the object's metadata), its
     * stored size, that it decompresses, its length ({@code lengthProblem} says what is wrong with a
     * length, or null), and the SHA-256 the cloud computed from the bytes it accepted. Anything else
     * aborts recovery with {@code at}, what is wrong and {@code needs}.
     */
    private static byte[] fetchChecked(ObjectStore store, String key, String versionId, long storedSize,
                                       Compression compression, String sha256, String at, String missingDetail,
                                       String needs, java.util.function.IntFunction<String> lengthProblem) {
        Optional<ObjectStore.Fetched> pinned = store.get(key, versionId);
        ObjectStore.Fetched f = (pinned.isEmpty() && versionId != null ? store.get(key) : pinned)
                .orElseThrow(() -> new AbortRecovery(at + "missing from the archive" + missingDetail + needs));
        byte[] stored = f.data();
        if (storedSize > 0 && stored.length != storedSize) {
            throw new AbortRecovery(at + "damaged: the object is " + stored.length + " bytes, the plan says "
                    + storedSize + needs);
        }
        byte[] raw;
        try {
            raw = Codec.decompress(compression, stored);
        } catch (IOException | RuntimeException e) {
            throw new AbortRecovery(at + "damaged: it does not decompress (" + e.getMessage() + ")" + needs);
        }
        String wrongLength = lengthProblem.apply(raw.length);
        if (wrongLength != null) {
            throw new AbortRecovery(at + "damaged: " + wrongLength + needs);
        }
        String actual = CreateOnly.sha256(raw);
        if (!actual.equals(sha256)) {
            throw new AbortRecovery(at + "damaged: SHA-256 of its content is " + actual + ", the plan says "
                    + sha256 + needs);
        }
        return raw;
    }

    /**
     * A segment the plan assembles from streamed chunks (issue 17): each chunk fetched by its key and
     * version, checked against its stored size and SHA-256, and its bytes put at their offsets; the
     * rest of the segment stays zeros, where PostgreSQL finds the end of WAL. A chunk missing or
     * damaged aborts recovery naming it: a segment short of what the plan promised is never served.
     */
    static byte[] assemble(ObjectStore store, WalPlan plan, PlanWal w) {
        String needs = "; restore plan " + plan.plan().planId() + " assembles " + w.name() + " from it";
        int size = plan.segmentSize().bytes();
        byte[] segment = new byte[size];
        for (io.tidemark.events.plan.PlanWalChunk c : w.chunks()) {
            String at = w.name() + " chunk " + c.key() + ": ";
            if (c.end() > size) {
                throw new AbortRecovery(at + "ends at " + c.end() + ", beyond the " + size + "-byte segment" + needs);
            }
            byte[] raw = fetchChecked(store, c.key(), c.versionId(), c.storedSize(), c.compression(), c.sha256(), at,
                    "", needs, n -> n == c.length() ? null : "it holds " + n + " bytes, the plan says " + c.length());
            System.arraycopy(raw, 0, segment, (int) c.start(), raw.length);
        }
        if (!PlanWal.assemblyHash(w.chunks()).equals(w.sha256())) {
            throw new AbortRecovery(w.name() + ": the plan's chunk list does not match its SHA-256" + needs);
        }
        return segment;
    }

    static List<Compression> order(WalFileName name, Compression preferred) {
        if (name instanceof WalFileName.History) {
            return List.of(Compression.NONE);
        }
        List<Compression> order = new ArrayList<>(List.of(preferred));
        for (Compression c : Compression.values()) {
            if (c != preferred) {
                order.add(c);
            }
        }
        return order;
    }

    static byte[] verify(String key, Compression c, ObjectStore.Fetched f) {
        String expected = f.metadata().get(ArchivePushCommand.META_SHA256);
        if (expected == null) {
            throw new CommandFailure(ExitCodes.GET_ERROR, key + " has no sha256 metadata: not written by tidemark;"
                    + " refusing to restore it unverified");
        }
        byte[] raw;
        Trace.mark("fetched");
        try {
            raw = Codec.decompress(c, f.data());
        } catch (IOException e) {
            throw new CommandFailure(ExitCodes.GET_ERROR, key + " is damaged: " + e.getMessage());
        }
        Trace.mark("decompressed");
        String actual = CreateOnly.sha256(raw);
        Trace.mark("sha256");
        if (!actual.equals(expected)) {
            throw new CommandFailure(ExitCodes.GET_ERROR, key + " is damaged: SHA-256 of its content is " + actual
                    + ", archived as " + expected);
        }
        return raw;
    }

    static Path resolve(String given, Path pgdata) {
        Path p = Path.of(given);
        if (!p.isAbsolute() && pgdata != null) {
            p = pgdata.resolve(p);
        }
        return p.toAbsolutePath();
    }
}
