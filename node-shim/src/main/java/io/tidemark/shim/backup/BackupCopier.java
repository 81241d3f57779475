package io.tidemark.shim.backup;

import io.tidemark.events.backup.ManifestBundle;
import io.tidemark.events.backup.ManifestFile;
import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.layout.StorageLayout;
import io.tidemark.shim.storage.ObjectStore;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
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
 * files' compressed forms back to back. Every object is one PUT with user metadata {@code sha256}
 * (of the original bytes), {@code stored-sha256} and {@code raw-size}; each stored object is noted
 * in the {@link ResumeRecord} once S3 confirmed it.
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

    private final ConcurrentLinkedQueue<ManifestFile> files = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<ManifestBundle> bundles = new ConcurrentLinkedQueue<>();

    BackupCopier(ObjectStore store, StanzaName stanza, BackupLabelName label, Compression compression, FileCopier copier,
                 ResumeRecord resume, Progress progress, int processMax, int interruptAfter,
                 java.util.function.Supplier<String> stopReason) {
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
        return new Stored(List.copyOf(files), List.copyOf(bundles));
    }

    private void single(SourceFile f) {
        try {
            checkStop();
            Optional<FileCopier.Copy> c = copier.copy(f);
            if (c.isEmpty()) {
                progress.fileDone(f.size());
                return;
            }
            FileCopier.Copy copy = c.get();
            store.put(StorageLayout.backupFileKey(stanza, label, f.path(), compression), copy.stored(),
                    metadata(copy.sha256(), copy.storedSha256(), copy.size()));
            ManifestFile mf = new ManifestFile(f.path(), copy.size(), copy.sha256(), f.mtime(), label, OptionalInt.empty(), 0,
                    copy.stored().length, copy.storedSha256(), copy.pageChecksumErrors());
            files.add(mf);
            resume.storedFile(mf);
            progress.fileDone(f.size());
            interruptForTest();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot back up " + f.path() + ": " + e.getMessage(), e);
        }
    }

    private void bundle(BackupPlanner.Bundle b) {
        try {
            checkStop();
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
                byte[] body = out.toByteArray();
                String storedSha = FileCopier.hex(FileCopier.sha256().digest(body));
                // A bundle's "sha256" is the SHA-256 of its files' SHA-256s (hex) in order: its identity
                // as original content; each file's own checksum is in the manifest.
                store.put(StorageLayout.bundleKey(stanza, label, b.id(), compression), body,
                        metadata(FileCopier.hex(raw.digest()), storedSha, in.stream().mapToLong(ManifestFile::size).sum()));
                ManifestBundle mb = new ManifestBundle(b.id(), body.length, storedSha);
                bundles.add(mb);
                files.addAll(in);
                resume.storedBundle(mb, in);
                interruptForTest();
            }
            for (SourceFile f : b.files()) {
                progress.fileDone(f.size());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot back up bundle " + b.id() + ": " + e.getMessage(), e);
        }
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

    static Map<String, String> metadata(String sha256, String storedSha256, long rawSize) {
        return Map.of("sha256", sha256, "stored-sha256", storedSha256, "raw-size", String.valueOf(rawSize));
    }
}
