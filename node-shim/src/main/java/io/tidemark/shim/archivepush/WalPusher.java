package io.tidemark.shim.archivepush;

import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StorageLayout;
import io.tidemark.events.wal.WalFileName;
import io.tidemark.shim.api.ApiException;
import io.tidemark.shim.api.CatalogApi;
import io.tidemark.shim.api.ConflictReport;
import io.tidemark.shim.api.StanzaCache;
import io.tidemark.shim.api.StanzaDoc;
import io.tidemark.shim.api.StanzaResolver;
import io.tidemark.shim.cli.CommandFailure;
import io.tidemark.shim.cli.ExitCodes;
import io.tidemark.shim.cli.Trace;
import io.tidemark.shim.config.ShimConfig;
import io.tidemark.shim.storage.Codec;
import io.tidemark.shim.storage.CreateOnly;
import io.tidemark.shim.storage.CredentialSource;
import io.tidemark.shim.storage.ObjectStore;
import io.tidemark.shim.storage.Retry;
import io.tidemark.shim.storage.StorageException;
import io.tidemark.shim.storage.Stores;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Future;

/**
 * One WAL file from disk to S3, with every check archive-push makes ({@link WalFileCheck}):
 * read, check against the stanza document, compress, SHA-256, create the object with
 * {@code If-None-Match: *}, and on a conflict compare checksums. Shared by the synchronous
 * {@code archive-push} (one file per JVM) and the asynchronous worker (many files, several
 * threads: the stanza document, the credential source and the store are built once and shared;
 * the source hands out the keys of the moment for each request, so the worker outlives sessions).
 * Every failure is a {@link CommandFailure} whose message says which file and why.
 */
public final class WalPusher implements AutoCloseable {
    /** What happened to a file that is now archived; {@code sha256} of its raw bytes (the async .ok records it). */
    public record Pushed(WalFileName wal, String key, boolean alreadyThere, long rawBytes, String sha256) {
    }

    /** Files from this size on are compressed and hashed while they are checked. */
    static final int EARLY_FROM = 1 << 20;

    private final ShimConfig config;
    private final CredentialSource credentials;
    private final CatalogApi api;
    private final StanzaResolver stanzas;
    private volatile StanzaDoc stanza;
    private ObjectStore store;

    public WalPusher(ShimConfig config, Map<String, String> env) {
        this.config = config;
        this.credentials = CredentialSource.of(config, env);
        this.api = config.apiUrl()
                .map(u -> new CatalogApi(u, config.apiRegion(), credentials, Retry.of(config.retries()), config.apiKey()))
                .orElse(null);
        this.stanzas = new StanzaResolver(new StanzaCache(config.spoolDir()), api);
    }

    public ShimConfig config() {
        return config;
    }

    /**
     * Archives {@code file}; returns once S3 confirmed it (or holds the same content).
     *
     * @throws CommandFailure the file is refused, unreadable, or S3/the API failed
     */
    public Pushed push(Path file) {
        String name = file.getFileName().toString();
        int size = sizeOf(file);
        // Segments (not the small history and backup-history files) are read, compressed and
        // hashed on other threads while this one gets the stanza document and checks the file:
        // on a cold JVM each of these steps is mostly page faults or native work, and they add
        // up when done in a row. The work done for a file that is then refused is dropped.
        Future<byte[]> reading;
        EncodedSegment early = null;
        if (size >= EARLY_FROM) {
            reading = Background.start("tidemark-read", () -> read(file, size));
            early = EncodedSegment.start(config.compression(), config.compressLevel(), size, reading);
        } else {
            reading = Background.done(read(file, size));
        }
        try {
            StanzaDoc doc = stanzaDoc();
            Trace.mark("stanza document");
            byte[] raw = Background.await(reading, "reading " + file);
            Trace.mark("file read");
            WalFileName wal = parseName(name, doc);
            try {
                WalFileCheck.check(wal, raw, doc);
            } catch (WalFileCheck.Refusal r) {
                if (!r.identity() || api == null) {
                    throw new CommandFailure(ExitCodes.FAILED, "refusing to archive " + file + ": " + r.getMessage());
                }
                // The cached document may be stale (stanza recreated): ask the API once more.
                doc = stanzas.refresh(config.stanza()).orElseThrow(this::unknownStanza);
                stanza = doc;
                try {
                    WalFileCheck.check(wal, raw, doc);
                } catch (WalFileCheck.Refusal again) {
                    throw new CommandFailure(ExitCodes.FAILED, "refusing to archive " + file + ": " + again.getMessage());
                }
            }
            Trace.mark("checked");
            Compression compression = StorageLayout.compressionFor(wal, config.compression());
            EncodedSegment encoded = early != null && early.compression() == compression
                    ? early : EncodedSegment.start(compression, config.compressLevel(), raw);
            Pushed p = upload(wal, raw, encoded);
            Trace.mark("pushed");
            return p;
        } catch (StorageException | ApiException e) {
            throw new CommandFailure(ExitCodes.FAILED, "cannot archive " + name + ": " + e.getMessage(), e);
        }
    }

    private Pushed upload(WalFileName wal, byte[] raw, EncodedSegment encoded) {
        Compression compression = encoded.compression();
        String key = StorageLayout.walKey(config.stanza(), wal, compression);
        byte[] body = encoded.body();
        Trace.mark("compressed " + raw.length + " -> " + body.length);
        String sha = encoded.sha256();
        Trace.mark("sha256");
        Map<String, String> meta = Map.of(ArchivePushCommand.META_SHA256, sha,
                ArchivePushCommand.META_RAW_SIZE, String.valueOf(raw.length),
                ArchivePushCommand.META_COMPRESSION, compression.extension());
        CreateOnly.Result r = CreateOnly.byMetadata(store(), key, body, meta, ArchivePushCommand.META_SHA256, sha);
        return switch (r) {
            case CreateOnly.Result.Created c -> new Pushed(wal, key, false, raw.length, sha);
            case CreateOnly.Result.Identical i -> new Pushed(wal, key, true, raw.length, sha);
            case CreateOnly.Result.Different d -> throw new CommandFailure(ExitCodes.FAILED, conflictMessage(wal, d)
                    + "; " + ConflictReport.send(api, config.stanza(), d));
        };
    }

    /**
     * One line: what, where, both checksums, and what to do. The object is never replaced: the
     * archive keeps what it accepted first (docs/node-shim.md, "Conflicts").
     */
    static String conflictMessage(WalFileName wal, CreateOnly.Result.Different d) {
        return wal.fileName() + " is already archived with different content; refusing to replace " + d.key()
                + " (the archive's sha256 " + d.existingSha256() + ", this file's " + d.newSha256() + "): if another"
                + " cluster archives into this stanza, give each its own stanza; otherwise keep both copies and"
                + " check the archive (tidemark verify) before anything else";
    }

    private synchronized ObjectStore store() {
        if (store == null) {
            store = Stores.open(config, credentials);
        }
        return store;
    }

    private StanzaDoc stanzaDoc() {
        StanzaDoc d = stanza;
        if (d != null) {
            return d;
        }
        Optional<StanzaDoc> cached = stanzas.cache().read(config.stanza());
        if (cached.isPresent()) {
            d = cached.get();
        } else if (config.apiUrl().isEmpty()) {
            throw new CommandFailure(ExitCodes.FAILED, "configuration " + config.file() + ": api.url is not set and no"
                    + " stanza document is cached in " + stanzas.cache().file(config.stanza()));
        } else {
            d = stanzas.refresh(config.stanza()).orElseThrow(this::unknownStanza);
        }
        stanza = d;
        return d;
    }

    private CommandFailure unknownStanza() {
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

    private static int sizeOf(Path file) {
        try {
            long size = Files.size(file);
            if (size > Codec.MAX_RAW) {
                throw new CommandFailure(ExitCodes.FAILED, file + " has " + size + " bytes, more than any WAL file");
            }
            return (int) size;
        } catch (NoSuchFileException e) {
            throw new CommandFailure(ExitCodes.FAILED, file + ": no such file");
        } catch (IOException e) {
            throw new CommandFailure(ExitCodes.FAILED, "cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private static byte[] read(Path file, int size) {
        try {
            return readChunked(file, size);
        } catch (java.io.FileNotFoundException e) {
            throw new CommandFailure(ExitCodes.FAILED, file + ": " + e.getMessage());
        } catch (IOException e) {
            throw new CommandFailure(ExitCodes.FAILED, "cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * The whole file, read 1 MB at a time into one array of its size. {@code Files.readAllBytes}
     * and NIO streams read through a temporary native buffer as large as the file (or the chunk)
     * and copy; a cold JVM pays page faults on all that fresh memory: about 15 ms more for a 16 MB
     * segment (docs/startup.md).
     */
    private static byte[] readChunked(Path file, int size) throws IOException {
        byte[] data = new byte[size];
        try (java.io.InputStream in = new java.io.FileInputStream(file.toFile())) {
            int off = 0;
            while (off < size) {
                int n = in.read(data, off, Math.min(1 << 20, size - off));
                if (n < 0) {
                    throw new IOException("the file shrank while being read (" + off + " of " + size + " bytes)");
                }
                off += n;
            }
            if (in.read() >= 0) {
                throw new IOException("the file grew while being read (more than " + size + " bytes)");
            }
        }
        return data;
    }

    @Override
    public synchronized void close() {
        if (store != null) {
            store.close();
            store = null;
        }
    }
}
