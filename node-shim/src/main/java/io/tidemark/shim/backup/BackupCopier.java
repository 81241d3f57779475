package io.tidemark.shim.backup;

import io.tidemark.shim.cli.Progress;
import io.tidemark.events.backup.ManifestBundle;
import io.tidemark.events.backup.ManifestFile;
import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.layout.StorageLayout;
import io.tidemark.events.paths.SafeRelativePath;
import io.tidemark.shim.storage.CreateOnly;
import io.tidemark.shim.storage.ObjectStore;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Reads, compresses, hashes and uploads the files a backup stores, {@code processMax} objects at a
 * time, largest first: each single file as its own object, each bundle as one object holding its
 * files' compressed forms back to back. Every object is one conditional create ({@code If-None-Match:
 * *}) with user metadata {@code sha256} (of the original bytes), {@code stored-sha256} and
 * {@code raw-size}; a key that already holds the same stored bytes counts as stored, one that holds
 * other bytes is never replaced: the object goes to a spare bundle id instead. Each stored object
 * is noted in the {@link ResumeRecord} once S3 confirmed it, with the time its files were read.
 */
final class BackupCopier {
    private final ObjectStore store;
    private final StanzaName stanza;
    private final BackupLabelName label;
    private final Compression compression;
    private final FileCopier copier;
    private final ResumeRecord resume;
    private final Progress progress;
    private final int processMax;
    private final int interruptAfter;
    private final java.util.function.Supplier<String> stopReason;
    private final java.util.concurrent.atomic.AtomicInteger storedObjects = new java.util.concurrent.atomic.AtomicInteger();

    /** Bundle ids no run of this label planned: where an object goes whose key holds other bytes. */
    private final java.util.concurrent.atomic.AtomicInteger spareIds;

    private final ConcurrentLinkedQueue<ManifestFile> files = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<ManifestBundle> bundles = new ConcurrentLinkedQueue<>();

    BackupCopier(ObjectStore store, StanzaName stanza, BackupLabelName label, Compression compression, FileCopier copier,
                 ResumeRecord resume, Progress progress, int processMax, int interruptAfter,
                 java.util.function.Supplier<String> stopReason, int firstSpareId) {
        this.spareIds = new java.util.concurrent.atomic.AtomicInteger(firstSpareId);
        this.interruptAfter = interruptAfter;
        this.stopReason = stopReason;
        this.store = store;
        this.stanza = stanza;
        this.label = label;
        this.compression = compression;
        this.copier = copier;
        this.resume = resume;
        this.progress = progress;
        this.processMax = processMax;
    }

    /** What was stored. Files that vanished before they were read are not in it. */
    record Stored(List<ManifestFile> files, List<ManifestBundle> bundles) {
    }

    Stored run(List<SourceFile> singles, List<BackupPlanner.Bundle> bundleList) throws IOException {
        record Unit(long size, Runnable work) {
        }
        List<Unit> units = new ArrayList<>();
        singles.forEach(f -> units.add(new Unit(f.size(), () -> single(f))));
        bundleList.forEach(b -> units.add(new Unit(b.size(), () -> bundle(b))));
        units.sort(Comparator.comparingLong(Unit::size).reversed());
        ExecutorService pool = Executors.newFixedThreadPool(processMax, r -> Thread.ofPlatform().daemon()
                .name("tidemark-backup-copy").unstarted(r));
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (Unit u : units) {
                futures.add(pool.submit(u.work()));
            }
            for (Future<?> f : futures) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    Throwable c = e.getCause();
                    if (c instanceof UncheckedIOException u) {
                        throw u.getCause();
                    }
                    if (c instanceof RuntimeException r) {
                        throw r;
                    }
                    throw new IOException(c);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted", e);
                }
            }
        } finally {
            pool.shutdownNow();
        }
        return stored();
    }

    /** Everything stored so far by this copier (also files stored after {@link #run}, such as backup_label). */
    Stored stored() {
        return new Stored(List.copyOf(files), List.copyOf(bundles));
    }

    /** Large files go block by block, keeping the unchanged blocks of {@code priorFiles} (the prior backup's entries). */
    BackupCopier withBlocks(BlockFileCopier blockCopier, Map<SafeRelativePath, ManifestFile> priorFiles) {
        this.blockCopier = blockCopier;
        this.priorFiles = Map.copyOf(priorFiles);
        return this;
    }

    private BlockFileCopier blockCopier;
    private Map<SafeRelativePath, ManifestFile> priorFiles = Map.of();

    private void single(SourceFile f) {
        if (blockCopier != null && BlockFileCopier.applies(f)) {
            blocks(f);
            return;
        }
        try {
            checkStop();
            Instant readAt = Instant.now();
            Optional<FileCopier.Copy> c = copier.copy(f);
            if (c.isEmpty()) {
                progress.done(f.size());
                return;
            }
            store(f.path(), f.mtime(), c.get(), readAt);
            progress.done(f.size());
            interruptForTest();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot back up " + f.path() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Stores one file as its own object, or, when its key already holds other bytes (an
     * interrupted run of this label stored an older read of it), in a bundle of its own under a
     * bundle id never used: no object is ever replaced, and the manifest names where it went.
     */
    ManifestFile store(SafeRelativePath path, Instant mtime, FileCopier.Copy copy, Instant readAt) throws IOException {
        String key = StorageLayout.backupFileKey(stanza, label, path, compression);
        CreateOnly.Result r = CreateOnly.byMetadata(store, key, copy.stored(),
                metadata(copy.sha256(), copy.storedSha256(), copy.size()), STORED_SHA256, copy.storedSha256());
        if (r instanceof CreateOnly.Result.Different) {
            ManifestFile mf = new ManifestFile(path, copy.size(), copy.sha256(), mtime, label, OptionalInt.of(0), 0,
                    copy.stored().length, copy.storedSha256(), copy.pageChecksumErrors());
            return putBundle(List.of(mf), copy.stored(), copy.sha256(), readAt, OptionalInt.empty()).get(0);
        }
        ManifestFile mf = new ManifestFile(path, copy.size(), copy.sha256(), mtime, label, OptionalInt.empty(), 0,
                copy.stored().length, copy.storedSha256(), copy.pageChecksumErrors());
        files.add(mf);
        resume.storedFile(mf, readAt);
        return mf;
    }

    /**
     * Stores the new blocks of a large file as its object, with the map naming where every block
     * is. When the key already holds other bytes (an interrupted run of this label stored an
     * earlier read), the file is read again and stored whole under a spare bundle id: a block
     * object cannot move into a bundle, and no object is ever replaced.
     */
    private void blocks(SourceFile f) {
        try {
            checkStop();
            Instant readAt = Instant.now();
            Optional<BlockFileCopier.BlockCopy> c = blockCopier.copy(f, priorFiles.get(f.path()), label);
            if (c.isEmpty()) {
                progress.done(f.size());
                return;
            }
            BlockFileCopier.BlockCopy copy = c.get();
            String key = StorageLayout.backupFileKey(stanza, label, f.path(), compression);
            Map<String, String> meta = metadata(copy.sha256(), copy.storedSha256(), copy.size());
            CreateOnly.Result r;
            try {
                r = copy.spooled() != null
                        ? CreateOnly.byMetadata(store, key, copy.spooled(), meta, STORED_SHA256, copy.storedSha256())
                        : CreateOnly.byMetadata(store, key, copy.stored(), meta, STORED_SHA256, copy.storedSha256());
            } finally {
                if (copy.spooled() != null) {
                    java.nio.file.Files.deleteIfExists(copy.spooled());
                }
            }
            if (r instanceof CreateOnly.Result.Different) {
                Optional<FileCopier.Copy> whole = copier.copy(f);
                if (whole.isPresent()) {
                    store(f.path(), f.mtime(), whole.get(), readAt);
                }
            } else {
                ManifestFile mf = new ManifestFile(f.path(), copy.size(), copy.sha256(), f.mtime(), label, OptionalInt.empty(),
                        0, copy.storedSize(), copy.storedSha256(), copy.pageChecksumErrors(), Optional.of(copy.map()));
                files.add(mf);
                resume.storedFile(mf, readAt);
            }
            progress.done(f.size());
            interruptForTest();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot back up " + f.path() + ": " + e.getMessage(), e);
        }
    }

    private void bundle(BackupPlanner.Bundle b) {
        try {
            checkStop();
            Instant readAt = Instant.now();
            ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.min(b.size() / 2 + 4096, 16 << 20));
            var raw = FileCopier.sha256();
            List<ManifestFile> in = new ArrayList<>();
            for (SourceFile f : b.files()) {
                Optional<FileCopier.Copy> c = copier.copy(f);
                if (c.isPresent()) {
                    FileCopier.Copy copy = c.get();
                    long offset = out.size();
                    out.write(copy.stored());
                    raw.update(copy.sha256().getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                    in.add(new ManifestFile(f.path(), copy.size(), copy.sha256(), f.mtime(), label, OptionalInt.of(b.id()),
                            offset, copy.stored().length, copy.storedSha256(), copy.pageChecksumErrors()));
                }
            }
            if (!in.isEmpty()) {
                // A bundle's "sha256" is the SHA-256 of its files' SHA-256s (hex) in order: its identity
                // as original content; each file's own checksum is in the manifest.
                putBundle(in, out.toByteArray(), FileCopier.hex(raw.digest()), readAt, OptionalInt.of(b.id()));
                interruptForTest();
            }
            for (SourceFile f : b.files()) {
                progress.done(f.size());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot back up bundle " + b.id() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Creates a bundle object under {@code planned} id, or under the next spare id while the key
     * holds other bytes (left by an interrupted run of this label): never replaced, never lost.
     */
    private List<ManifestFile> putBundle(List<ManifestFile> in, byte[] body, String rawSha, Instant readAt, OptionalInt planned)
            throws IOException {
        String storedSha = FileCopier.hex(FileCopier.sha256().digest(body));
        Map<String, String> meta = metadata(rawSha, storedSha, in.stream().mapToLong(ManifestFile::size).sum());
        int id = planned.isPresent() ? planned.getAsInt() : spareIds.getAndIncrement();
        for (int tries = 0; ; tries++) {
            CreateOnly.Result r = CreateOnly.byMetadata(store, StorageLayout.bundleKey(stanza, label, id, compression),
                    body, meta, STORED_SHA256, storedSha);
            if (!(r instanceof CreateOnly.Result.Different)) {
                break;
            }
            if (tries >= MAX_SPARE_TRIES) {
                throw new IOException("bundle keys " + planned + ".." + id + " of backup " + label + " all hold other"
                        + " content; start a new backup (remove " + resume.file() + ")");
            }
            id = spareIds.getAndIncrement();
        }
        final int bundleId = id;
        List<ManifestFile> placed = in.stream().map(f -> f.bundle().equals(OptionalInt.of(bundleId)) ? f
                : new ManifestFile(f.path(), f.size(), f.sha256(), f.mtime(), f.reference(), OptionalInt.of(bundleId),
                        f.bundleOffset(), f.storedSize(), f.storedSha256(), f.pageChecksumErrors())).toList();
        ManifestBundle mb = new ManifestBundle(bundleId, body.length, storedSha);
        bundles.add(mb);
        files.addAll(placed);
        resume.storedBundle(mb, placed, readAt);
        return placed;
    }

    /** Before each object: a backup that lost its lease stops rather than run on without one. */
    private void checkStop() throws IOException {
        String why = stopReason.get();
        if (why != null) {
            throw new IOException("stopped: " + why);
        }
    }

    /** The test hook {@code TIDEMARK_TEST_INTERRUPT_AFTER_OBJECTS}: fail like an interruption after that many objects. */
    private void interruptForTest() throws IOException {
        if (interruptAfter > 0 && storedObjects.incrementAndGet() >= interruptAfter) {
            throw new IOException("interrupted (test hook) after " + interruptAfter + " stored objects");
        }
    }

    /** The user metadata a backup object's stored bytes are compared by when its key exists. */
    static final String STORED_SHA256 = "stored-sha256";
    /** How many spare bundle ids one object tries before giving up (each is one 412 and one HEAD). */
    private static final int MAX_SPARE_TRIES = 64;

    static Map<String, String> metadata(String sha256, String storedSha256, long rawSize) {
        return Map.of("sha256", sha256, STORED_SHA256, storedSha256, "raw-size", String.valueOf(rawSize));
    }
}
