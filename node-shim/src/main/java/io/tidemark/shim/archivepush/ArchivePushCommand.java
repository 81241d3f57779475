package io.tidemark.shim.archivepush;

import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StorageLayout;
import io.tidemark.events.wal.WalFileName;
import io.tidemark.shim.Command;
import io.tidemark.shim.api.ApiException;
import io.tidemark.shim.api.CatalogApi;
import io.tidemark.shim.api.StanzaCache;
import io.tidemark.shim.api.StanzaDoc;
import io.tidemark.shim.api.StanzaResolver;
import io.tidemark.shim.cli.Arguments;
import io.tidemark.shim.cli.CommandFailure;
import io.tidemark.shim.cli.ExitCodes;
import io.tidemark.shim.cli.Trace;
import io.tidemark.shim.config.CommonOptions;
import io.tidemark.shim.config.ShimConfig;
import io.tidemark.shim.pg.PgOptions;
import io.tidemark.shim.storage.Codec;
import io.tidemark.shim.storage.CredentialSource;
import io.tidemark.shim.storage.ObjectStore;
import io.tidemark.shim.storage.Retry;
import io.tidemark.shim.storage.SigV4;
import io.tidemark.shim.storage.StorageException;
import io.tidemark.shim.storage.Stores;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

/**
 * {@code tidemark archive-push %p}: PostgreSQL's {@code archive_command}. Checks the file
 * ({@link WalFileCheck}), compresses it, and creates its object with {@code If-None-Match: *};
 * exits 0 only once S3 has confirmed the object, or when the same content (by SHA-256 of the
 * raw bytes) is already there. Anything else exits 1 and PostgreSQL keeps the file and retries.
 * An S3 PUT is atomic: a failed push leaves no object, so nothing half-archived can look done.
 */
public final class ArchivePushCommand implements Command {
    /** User metadata on every WAL object: hex SHA-256 and size of the raw (uncompressed) bytes. */
    public static final String META_SHA256 = "sha256";
    public static final String META_RAW_SIZE = "raw-size";
    public static final String META_COMPRESSION = "compression";

    private final Map<String, String> env;

    public ArchivePushCommand() {
        this(System.getenv());
    }

    public ArchivePushCommand(Map<String, String> env) {
        this.env = env;
    }

    @Override
    public int run(List<String> args, PrintStream out, PrintStream err) {
        Trace.mark("main");
        Arguments a = Arguments.parse(args, CommonOptions.VALUED, Set.of());
        String given = a.requirePositionals(1, "the WAL file to archive (%p)").get(0);
        ShimConfig config = ShimConfig.load(a, env);
        PgOptions pg = PgOptions.from(a, env);
        Path file = resolve(given, pg.pgdata());
        String name = file.getFileName().toString();
        byte[] raw = read(file);
        Trace.mark("config and file read");
        CredentialSource credentials = CredentialSource.of(config, env);
        try {
            CatalogApi api = config.apiUrl()
                    .map(u -> new CatalogApi(u, config.apiRegion(), credentials, Retry.of(config.retries())))
                    .orElse(null);
            StanzaResolver stanzas = new StanzaResolver(new StanzaCache(config.spoolDir()), api);
            StanzaDoc stanza = stanzaDoc(stanzas, config);
            Trace.mark("stanza document");
            WalFileName wal = parseName(name, stanza);
            try {
                WalFileCheck.check(wal, raw, stanza);
            } catch (WalFileCheck.Refusal r) {
                if (!r.identity() || api == null) {
                    throw new CommandFailure(ExitCodes.FAILED, "refusing to archive " + file + ": " + r.getMessage());
                }
                // The cached document may be stale (stanza recreated): ask the API once more.
                stanza = stanzas.refresh(config.stanza()).orElseThrow(() -> unknownStanza(config));
                try {
                    WalFileCheck.check(wal, raw, stanza);
                } catch (WalFileCheck.Refusal again) {
                    throw new CommandFailure(ExitCodes.FAILED, "refusing to archive " + file + ": " + again.getMessage());
                }
            }
            Trace.mark("checked");
            push(config, credentials, wal, raw, err);
            Trace.mark("pushed");
            return ExitCodes.OK;
        } catch (StorageException | ApiException e) {
            throw new CommandFailure(ExitCodes.FAILED, "cannot archive " + name + ": " + e.getMessage(), e);
        }
    }

    private static void push(ShimConfig config, CredentialSource credentials, WalFileName wal, byte[] raw,
                             PrintStream err) {
        Compression compression = StorageLayout.compressionFor(wal, config.compression());
        String key = StorageLayout.walKey(config.stanza(), wal, compression);
        // SHA-256 (Java) and compression (native zstd) run side by side: on a cold JVM they are
        // the two dearest steps, and they need different cores.
        FutureTask<String> hashing = new FutureTask<>(() -> SigV4.hex(SigV4.sha256(raw)));
        Thread hasher = new Thread(hashing, "tidemark-sha256");
        hasher.setDaemon(true);
        hasher.start();
        byte[] body = Codec.compress(compression, config.compressLevel(), raw);
        Trace.mark("compressed " + raw.length + " -> " + body.length);
        String sha;
        try {
            sha = hashing.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CommandFailure(ExitCodes.FAILED, "interrupted");
        } catch (ExecutionException e) {
            throw new IllegalStateException("SHA-256 failed", e.getCause());
        }
        Trace.mark("sha256");
        Map<String, String> meta = Map.of(META_SHA256, sha, META_RAW_SIZE, String.valueOf(raw.length),
                META_COMPRESSION, compression.extension());
        try (ObjectStore store = Stores.open(config, credentials)) {
            for (int attempt = 0; ; attempt++) {
                if (store.putIfAbsent(key, body, meta) == ObjectStore.PutOutcome.CREATED) {
                    return;
                }
                Optional<ObjectStore.Head> existing = store.head(key);
                if (existing.isEmpty()) {
                    if (attempt < 2) {
                        continue; // removed between our PUT and HEAD: create it again
                    }
                    throw new CommandFailure(ExitCodes.FAILED, key + " keeps appearing and disappearing; not archived");
                }
                String theirs = existing.get().metadata().get(META_SHA256);
                if (sha.equals(theirs)) {
                    err.println("tidemark archive-push: " + wal.fileName() + " is already archived with the same content ("
                            + key + ")");
                    return;
                }
                throw new CommandFailure(ExitCodes.FAILED, wal.fileName() + " is already archived with different content;"
                        + " refusing to overwrite (" + key + " has sha256 " + (theirs == null ? "unknown" : theirs)
                        + ", this file " + sha + ")");
            }
        }
    }

    private static StanzaDoc stanzaDoc(StanzaResolver stanzas, ShimConfig config) {
        Optional<StanzaDoc> cached = stanzas.cache().read(config.stanza());
        if (cached.isPresent()) {
            return cached.get();
        }
        if (config.apiUrl().isEmpty()) {
            throw new CommandFailure(ExitCodes.FAILED, "configuration " + config.file() + ": api.url is not set and no"
                    + " stanza document is cached in " + stanzas.cache().file(config.stanza()));
        }
        return stanzas.refresh(config.stanza()).orElseThrow(() -> unknownStanza(config));
    }

    private static CommandFailure unknownStanza(ShimConfig config) {
        return new CommandFailure(ExitCodes.FAILED, "stanza " + config.stanza()
                + " does not exist in the catalog: run tidemark stanza-create on the primary first");
    }

    private static WalFileName parseName(String name, StanzaDoc stanza) {
        try {
            return WalFileName.parse(name, stanza.walSegmentSize());
        } catch (IllegalArgumentException e) {
            throw new CommandFailure(ExitCodes.FAILED, "refusing to archive " + name + ": " + e.getMessage());
        }
    }

    /** {@code %p} is relative to the data directory (PostgreSQL's working directory). */
    static Path resolve(String given, Path pgdata) {
        Path p = Path.of(given);
        if (!p.isAbsolute() && pgdata != null) {
            p = pgdata.resolve(p);
        }
        return p.toAbsolutePath();
    }

    private static byte[] read(Path file) {
        try {
            long size = Files.size(file);
            if (size > Codec.MAX_RAW) {
                throw new CommandFailure(ExitCodes.FAILED, file + " has " + size + " bytes, more than any WAL file");
            }
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new CommandFailure(ExitCodes.FAILED, file + ": no such file");
        } catch (IOException e) {
            throw new CommandFailure(ExitCodes.FAILED, "cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}
