package io.tidemark.shim.archiveget;

import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StorageLayout;
import io.tidemark.events.wal.WalFileName;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.events.wal.WalSegmentSize;
import io.tidemark.shim.Command;
import io.tidemark.shim.api.StanzaCache;
import io.tidemark.shim.api.StanzaDoc;
import io.tidemark.shim.archivepush.ArchivePushCommand;
import io.tidemark.shim.cli.Arguments;
import io.tidemark.shim.cli.CommandFailure;
import io.tidemark.shim.cli.ExitCodes;
import io.tidemark.shim.cli.UsageException;
import io.tidemark.shim.config.CommonOptions;
import io.tidemark.shim.config.ShimConfig;
import io.tidemark.shim.pg.PgOptions;
import io.tidemark.shim.storage.Codec;
import io.tidemark.shim.storage.CredentialSource;
import io.tidemark.shim.storage.ObjectStore;
import io.tidemark.shim.storage.SigV4;
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

/**
 * {@code tidemark archive-get %f %p}: PostgreSQL's {@code restore_command}. Fetches the WAL file
 * (segments under the configured compression first, then the other extensions), checks the
 * SHA-256 of the decompressed bytes against the object's metadata, and writes {@code %p}
 * atomically. Exit 0: written; 1, silently: not archived (PostgreSQL asks for files that do not
 * exist, such as the next timeline's history); 3: anything else, with one line on stderr.
 *
 * <p>Needs no catalog API: keys depend only on the file name, so restores work with S3 alone.
 * The segment size only validates the name; the cached stanza document gives it when present.
 * Prefetching (a later issue) will reuse {@link #fetch} and {@link AtomicFile}.
 */
public final class ArchiveGetCommand implements Command {
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

    /** The file is not archived: exit 1 without a word. */
    static final class NotFound extends RuntimeException {
        NotFound() {
            super(null, null, false, false);
        }
    }

    @Override
    public int run(List<String> args, PrintStream out, PrintStream err) {
        try {
            Arguments a = Arguments.parse(args, CommonOptions.VALUED, Set.of());
            List<String> pos = a.requirePositionals(2, "the WAL file name and the destination path (%f %p)");
            ShimConfig config = ShimConfig.load(a, env);
            PgOptions pg = PgOptions.from(a, env);
            Path target = resolve(pos.get(1), pg.pgdata());
            WalSegmentSize size = new StanzaCache(config.spoolDir()).read(config.stanza())
                    .map(StanzaDoc::walSegmentSize).orElse(WalSegmentSize.ofBytes(WalSegmentSize.MIN_BYTES));
            if (pos.get(0).equals(TIMELINE_ONE_HISTORY)) {
                throw new NotFound(); // PostgreSQL asks for the parent's history at promotion; timeline 1 has none
            }
            WalFileName name;
            try {
                name = WalFileName.parse(pos.get(0), size);
            } catch (IllegalArgumentException e) {
                throw new CommandFailure(ExitCodes.GET_ERROR, e.getMessage());
            }
            Optional<PrefetchSpool> spool = Optional.empty();
            if (config.prefetch() > 0 && name instanceof WalFileName.Segment seg) {
                spool = PrefetchSpool.open(config.spoolDir(), config.stanza());
                if (spool.isPresent()) {
                    spool.get().noteRequested(seg.segment());
                    if (served(spool.get(), seg.segment(), target)) {
                        startPrefetch(config, spool.get(), seg.segment(), target.toFile().length());
                        return ExitCodes.OK;
                    }
                }
            }
            byte[] raw;
            try (ObjectStore store = Stores.open(config, CredentialSource.of(config, env))) {
                raw = fetch(store, config, name).orElseThrow(NotFound::new);
            }
            try {
                AtomicFile.write(target, raw);
            } catch (IOException e) {
                throw new CommandFailure(ExitCodes.GET_ERROR, "cannot write " + target + ": " + e.getMessage(), e);
            }
            if (spool.isPresent()) {
                WalSegmentName seg = ((WalFileName.Segment) name).segment();
                spool.get().cleanup(seg);
                startPrefetch(config, spool.get(), seg, raw.length);
            }
            return ExitCodes.OK;
        } catch (NotFound e) {
            return ExitCodes.FAILED;
        } catch (StorageException e) {
            err.println("tidemark archive-get: " + e.getMessage());
            return ExitCodes.GET_ERROR;
        } catch (UsageException | CommandFailure e) {
            err.println("tidemark archive-get: " + e.getMessage());
            return ExitCodes.GET_ERROR;
        }
    }

    /** Moves a verified prefetched copy into place; false (fetch it from S3) when there is none or it cannot be moved. */
    private static boolean served(PrefetchSpool spool, WalSegmentName seg, Path target) {
        try {
            return spool.takeInto(seg, target);
        } catch (IOException e) {
            return false;
        }
    }

    private void startPrefetch(ShimConfig config, PrefetchSpool spool, WalSegmentName seg, long segmentBytes) {
        try {
            WalSegmentName real = WalSegmentName.parse(seg.toString(), WalSegmentSize.ofBytes(segmentBytes));
            prefetch.start(config, spool, real);
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

    private static List<Compression> order(WalFileName name, Compression preferred) {
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
        try {
            raw = Codec.decompress(c, f.data());
        } catch (IOException e) {
            throw new CommandFailure(ExitCodes.GET_ERROR, key + " is damaged: " + e.getMessage());
        }
        String actual = SigV4.hex(SigV4.sha256(raw));
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
