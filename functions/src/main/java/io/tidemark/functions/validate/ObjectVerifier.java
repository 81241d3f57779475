package io.tidemark.functions.validate;

import io.tidemark.events.backup.BackupManifest;
import io.tidemark.events.backup.ManifestBundle;
import io.tidemark.events.backup.ManifestFile;
import io.tidemark.events.layout.StorageLayout;
import io.tidemark.functions.catalog.ObjectStore;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Downloads and hashes every object a backup stores itself (single files and bundles), a bounded
 * number at a time, and says what differs from the manifest: missing objects, sizes, SHA-256 of
 * the stored bytes, and, inside each bundle, the SHA-256 of every file's slice. Metadata is never
 * trusted: an object changed after upload through the S3 API still carries the old metadata.
 *
 * <p>Storage errors other than "no such object" are not a verdict on the backup: they propagate
 * and fail the invocation (retried), never make it invalid.
 */
final class ObjectVerifier {

    private static final int BUFFER = 256 * 1024;

    private final ObjectStore objects;
    private final int parallelism;

    ObjectVerifier(ObjectStore objects, int parallelism) {
        if (parallelism < 1) {
            throw new IllegalArgumentException("parallelism must be at least 1: " + parallelism);
        }
        this.objects = objects;
        this.parallelism = parallelism;
    }

    /** Every problem with the objects {@code m} stores itself, in manifest order (files, then bundles). */
    List<String> verify(BackupManifest m) {
        List<Callable<List<String>>> tasks = new ArrayList<>();
        for (ManifestFile f : m.files()) {
            if (!f.reference().equals(m.label()) || f.isBundled()) {
                continue;
            }
            if (!StorageLayout.isKeySafe(f.path())) {
                tasks.add(() -> List.of("file " + f.path() + ": its path cannot be part of an S3 key, so it must be"
                        + " bundled, but the manifest stores it as a single object"));
                continue;
            }
            String key = StorageLayout.backupFileKey(m.stanza(), m.label(), f.path(), m.compression());
            tasks.add(() -> verifyObject("file " + f.path(), key, f.storedSize(), f.storedSha256(), List.of()));
        }
        for (ManifestBundle b : m.bundles()) {
            String key = StorageLayout.bundleKey(m.stanza(), m.label(), b.id(), m.compression());
            List<ManifestFile> slices = m.files().stream()
                    .filter(f -> f.reference().equals(m.label()) && f.bundle().isPresent()
                            && f.bundle().getAsInt() == b.id())
                    .sorted(Comparator.comparingLong(ManifestFile::bundleOffset))
                    .toList();
            tasks.add(() -> verifyObject("bundle " + b.id(), key, b.storedSize(), b.storedSha256(), slices));
        }
        if (tasks.isEmpty()) {
            return List.of();
        }
        AtomicInteger n = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(parallelism, tasks.size()), r -> {
            Thread t = new Thread(r, "tidemark-verify-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<List<String>>> results = pool.invokeAll(tasks);
            List<String> reasons = new ArrayList<>();
            for (Future<List<String>> r : results) {
                reasons.addAll(r.get());
            }
            return reasons;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while verifying backup objects", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException("verifying backup objects failed: " + e.getCause(), e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    /** One stored object: its size and hash, and the hash of each slice (bundled files, sorted by offset). */
    private List<String> verifyObject(String what, String key, long expectedSize, String expectedSha,
                                      List<ManifestFile> slices) {
        Optional<InputStream> opened = objects.open(key);
        if (opened.isEmpty()) {
            return List.of(what + ": " + key + " is missing");
        }
        MessageDigest whole = sha256();
        int count = slices.size();
        MessageDigest[] digests = new MessageDigest[count];
        long size = 0;
        try (InputStream in = opened.get()) {
            byte[] buf = new byte[BUFFER];
            int first = 0; // slices before this one ended before the current position
            for (int r; (r = in.read(buf)) > 0; ) {
                whole.update(buf, 0, r);
                long chunkStart = size;
                long chunkEnd = size + r;
                for (int i = first; i < count; i++) {
                    ManifestFile s = slices.get(i);
                    long start = s.bundleOffset();
                    long end = start + s.storedSize();
                    if (start >= chunkEnd) {
                        break; // sorted by offset: the rest start later
                    }
                    if (end <= chunkStart) {
                        if (i == first) {
                            first++;
                        }
                        continue;
                    }
                    long from = Math.max(start, chunkStart);
                    long to = Math.min(end, chunkEnd);
                    if (digests[i] == null) {
                        digests[i] = sha256();
                    }
                    digests[i].update(buf, (int) (from - chunkStart), (int) (to - from));
                }
                size = chunkEnd;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + key + " failed: " + e.getMessage(), e);
        }
        List<String> reasons = new ArrayList<>();
        String actual = HexFormat.of().formatHex(whole.digest());
        if (size != expectedSize) {
            reasons.add(what + ": " + key + " has " + size + " bytes, the manifest says " + expectedSize);
        } else if (!actual.equals(expectedSha)) {
            reasons.add(what + ": " + key + " has SHA-256 " + actual + ", the manifest says " + expectedSha);
        }
        for (int i = 0; i < count; i++) {
            ManifestFile s = slices.get(i);
            long end = s.bundleOffset() + s.storedSize();
            if (end > size) {
                reasons.add("file " + s.path() + " in " + what + ": bytes " + s.bundleOffset() + ".." + end
                        + " lie beyond the end of " + key + " (" + size + " bytes)");
                continue;
            }
            MessageDigest d = digests[i] == null ? sha256() : digests[i];
            String sliceSha = HexFormat.of().formatHex(d.digest());
            if (!sliceSha.equals(s.storedSha256())) {
                reasons.add("file " + s.path() + " in " + what + " at offset " + s.bundleOffset() + ": SHA-256 "
                        + sliceSha + ", the manifest says " + s.storedSha256());
            }
        }
        return reasons;
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static String sha256Hex(byte[] bytes) {
        return HexFormat.of().formatHex(sha256().digest(bytes));
    }
}
