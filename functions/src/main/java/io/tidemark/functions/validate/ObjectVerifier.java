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
 * <p>Used by the validator (every object of a new backup) and by {@code verify} (the same check,
 * later, split into batches: {@link #storedParts} numbers the objects, {@link #verifyParts} checks
 * a slice of them). Each finding is an {@link ObjectProblem} naming the key, what the manifest
 * expects and what was found; the validator keeps only its message.
 *
 * <p>Storage errors other than "no such object" are not a verdict on the backup: they propagate
 * and fail the invocation (retried), never make it invalid.
 */
public final class ObjectVerifier {

    private static final int BUFFER = 256 * 1024;

    private final ObjectStore objects;
    private final int parallelism;

    /** One object a backup stores itself: a single file or a bundle (with its files' slices, sorted by offset). */
    public record StoredPart(String what, String key, long storedSize, String storedSha256, List<ManifestFile> slices) {
        public StoredPart {
            slices = List.copyOf(slices);
        }
    }

    /**
     * What is wrong with one stored object.
     *
     * @param kind     {@link Kind#MISSING}, {@link Kind#SIZE}, {@link Kind#SHA256}, or {@link Kind#SLICE}
     *                 (a bundled file's bytes: beyond the end or a different hash)
     * @param message  the whole sentence, as the validator records it
     */
    public record ObjectProblem(String key, Kind kind, String expected, String found, String message) {
    }

    /** The closed set of findings about one object. */
    public enum Kind { MISSING, SIZE, SHA256, SLICE }

    public ObjectVerifier(ObjectStore objects, int parallelism) {
        if (parallelism < 1) {
            throw new IllegalArgumentException("parallelism must be at least 1: " + parallelism);
        }
        this.objects = objects;
        this.parallelism = parallelism;
    }

    /**
     * What the validator learned about a backup's own objects: every problem, in manifest order, and
     * the S3 version id of each object it read (by key; none when the store keeps no versions).
     */
    record Checked(List<String> reasons, java.util.Map<String, String> versions) {
    }

    /** Every problem with the objects {@code m} stores itself, in manifest order (files, then bundles). */
    List<String> verify(BackupManifest m) {
        return check(m).reasons();
    }

    /** As {@link #verify}, with the version id of every object read: the versions plans of this backup name. */
    Checked check(BackupManifest m) {
        List<String> reasons = new ArrayList<>();
        for (ManifestFile f : m.files()) {
            if (f.reference().equals(m.label()) && !f.isBundled() && !StorageLayout.isKeySafe(f.path())) {
                reasons.add("file " + f.path() + ": its path cannot be part of an S3 key, so it must be"
                        + " bundled, but the manifest stores it as a single object");
            }
        }
        java.util.Map<String, String> versions = new java.util.concurrent.ConcurrentHashMap<>();
        List<StoredPart> parts = storedParts(m);
        List<Callable<List<ObjectProblem>>> tasks = new ArrayList<>();
        for (StoredPart p : parts) {
            tasks.add(() -> verifyObject(p, versions));
        }
        for (ObjectProblem p : inParallel(tasks)) {
            reasons.add(p.message());
        }
        return new Checked(reasons, new java.util.TreeMap<>(versions));
    }

    /**
     * The objects {@code m} stores itself, in a fixed order (single files in manifest order, then
     * bundles): a batch of {@code verify} names a range of this list. Files whose path cannot be a
     * key are left out (the validator reports them).
     */
    public static List<StoredPart> storedParts(BackupManifest m) {
        List<StoredPart> parts = new ArrayList<>();
        for (ManifestFile f : m.files()) {
            if (!f.reference().equals(m.label()) || f.isBundled() || !StorageLayout.isKeySafe(f.path())) {
                continue;
            }
            String key = StorageLayout.backupFileKey(m.stanza(), m.label(), f.path(), m.compression());
            parts.add(new StoredPart("file " + f.path(), key, f.storedSize(), f.storedSha256(), List.of()));
        }
        for (ManifestBundle b : m.bundles()) {
            String key = StorageLayout.bundleKey(m.stanza(), m.label(), b.id(), m.compression());
            List<ManifestFile> slices = m.files().stream()
                    .filter(f -> f.reference().equals(m.label()) && f.bundle().isPresent()
                            && f.bundle().getAsInt() == b.id())
                    .sorted(Comparator.comparingLong(ManifestFile::bundleOffset))
                    .toList();
            parts.add(new StoredPart("bundle " + b.id(), key, b.storedSize(), b.storedSha256(), slices));
        }
        return parts;
    }

    /** Downloads and checks {@code parts}, a bounded number at a time; the problems in the order of {@code parts}. */
    public List<ObjectProblem> verifyParts(List<StoredPart> parts) {
        List<Callable<List<ObjectProblem>>> tasks = new ArrayList<>();
        for (StoredPart p : parts) {
            tasks.add(() -> verifyObject(p, new java.util.HashMap<>()));
        }
        return inParallel(tasks);
    }

    /**
     * Runs {@code tasks} on at most {@code parallelism} threads and concatenates their results in
     * task order. A task's unchecked exception is rethrown as is (a storage error fails the caller).
     */
    public <T> List<T> inParallel(List<Callable<List<T>>> tasks) {
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
            List<Future<List<T>>> results = pool.invokeAll(tasks);
            List<T> out = new ArrayList<>();
            for (Future<List<T>> r : results) {
                out.addAll(r.get());
            }
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while verifying objects", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException("verifying objects failed: " + e.getCause(), e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * One stored object: its size and hash, and the hash of each slice (bundled files, sorted by
     * offset); the version read goes into {@code versions} (when the store keeps versions).
     */
    private List<ObjectProblem> verifyObject(StoredPart part, java.util.Map<String, String> versions) {
        String what = part.what();
        String key = part.key();
        long expectedSize = part.storedSize();
        String expectedSha = part.storedSha256();
        List<ManifestFile> slices = part.slices();
        Optional<ObjectStore.OpenedObject> opened = objects.openVersion(key);
        if (opened.isEmpty()) {
            return List.of(new ObjectProblem(key, Kind.MISSING, expectedSize + " bytes, SHA-256 " + expectedSha,
                    "no such object", what + ": " + key + " is missing"));
        }
        MessageDigest whole = sha256();
        int count = slices.size();
        MessageDigest[] digests = new MessageDigest[count];
        long size = 0;
        if (opened.get().versionId() != null) {
            versions.put(key, opened.get().versionId());
        }
        try (InputStream in = opened.get().content()) {
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
        List<ObjectProblem> reasons = new ArrayList<>();
        String actual = HexFormat.of().formatHex(whole.digest());
        if (size != expectedSize) {
            reasons.add(new ObjectProblem(key, Kind.SIZE, expectedSize + " bytes", size + " bytes",
                    what + ": " + key + " has " + size + " bytes, the manifest says " + expectedSize));
        } else if (!actual.equals(expectedSha)) {
            reasons.add(new ObjectProblem(key, Kind.SHA256, "SHA-256 " + expectedSha, "SHA-256 " + actual,
                    what + ": " + key + " has SHA-256 " + actual + ", the manifest says " + expectedSha));
        }
        for (int i = 0; i < count; i++) {
            ManifestFile s = slices.get(i);
            long end = s.bundleOffset() + s.storedSize();
            if (end > size) {
                reasons.add(new ObjectProblem(key, Kind.SLICE, "file " + s.path() + " at bytes " + s.bundleOffset()
                        + ".." + end, size + " bytes", "file " + s.path() + " in " + what + ": bytes "
                        + s.bundleOffset() + ".." + end + " lie beyond the end of " + key + " (" + size + " bytes)"));
                continue;
            }
            MessageDigest d = digests[i] == null ? sha256() : digests[i];
            String sliceSha = HexFormat.of().formatHex(d.digest());
            if (!sliceSha.equals(s.storedSha256())) {
                reasons.add(new ObjectProblem(key, Kind.SLICE, "file " + s.path() + " at offset " + s.bundleOffset()
                        + ": SHA-256 " + s.storedSha256(), "SHA-256 " + sliceSha, "file " + s.path() + " in " + what
                        + " at offset " + s.bundleOffset() + ": SHA-256 " + sliceSha + ", the manifest says "
                        + s.storedSha256()));
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
