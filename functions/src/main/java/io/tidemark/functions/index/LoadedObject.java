package io.tidemark.functions.index;

import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.Decompression;
import io.tidemark.functions.catalog.ObjectStore;
import java.io.IOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Optional;

/**
 * An archived object, fetched, decompressed and checked against its {@code sha256} metadata.
 * {@link #problem()} is null when the raw content is intact; otherwise it says why the object
 * cannot be trusted ({@link #raw()} is then null when it could not even be decompressed).
 */
public record LoadedObject(String key, Compression compression, long storedSize, byte[] raw, String sha256,
        String problem, Instant lastModified, String versionId) {

    public boolean ok() {
        return problem == null;
    }

    /**
     * Loads {@code key}; empty when the object does not exist.
     *
     * @param exactSize the raw size the content must have (a WAL segment), or -1
     */
    public static Optional<LoadedObject> load(ObjectStore store, String key, Compression compression, int maxBytes,
            int exactSize) {
        return load(store, key, null, compression, maxBytes, exactSize);
    }

    /**
     * Loads version {@code versionId} of {@code key} (null: the current one); empty when it does not
     * exist. {@link #sha256()} is always the hash of the bytes read (null only when they do not
     * decompress), never the object's metadata: a metadata that disagrees is a {@link #problem()}.
     */
    public static Optional<LoadedObject> load(ObjectStore store, String key, String versionId, Compression compression,
            int maxBytes, int exactSize) {
        Optional<ObjectStore.StoredObject> o = store.get(key, versionId);
        if (o.isEmpty()) {
            return Optional.empty();
        }
        ObjectStore.StoredObject stored = o.get();
        byte[] content = stored.content();
        byte[] raw;
        try {
            raw = Decompression.decompress(compression, content, maxBytes);
        } catch (IOException e) {
            return Optional.of(new LoadedObject(key, compression, content.length, null, null,
                    "cannot decompress (" + compression.extension() + "): " + e.getMessage(), stored.lastModified(),
                    version(stored, versionId)));
        }
        String actual = sha256(raw);
        String expected = stored.metadata().get(ObjectStore.SHA256);
        String problem = null;
        if (expected == null || expected.isBlank()) {
            problem = "no sha256 metadata: the content cannot be verified";
        } else if (!expected.strip().toLowerCase(Locale.ROOT).equals(actual)) {
            problem = "sha256 mismatch: metadata says " + expected.strip() + ", content is " + actual;
        } else if (exactSize >= 0 && raw.length != exactSize) {
            problem = "content is " + raw.length + " bytes, a segment is " + exactSize;
        }
        return Optional.of(new LoadedObject(key, compression, content.length, raw, actual, problem,
                stored.lastModified(), version(stored, versionId)));
    }

    /** The version read: what S3 said it returned, else the one asked for. */
    private static String version(ObjectStore.StoredObject stored, String asked) {
        return stored.versionId() != null ? stored.versionId() : ObjectStore.versionOrNull(asked);
    }

    static String sha256(byte[] bytes) {
        return sha256(bytes, 0, bytes.length);
    }

    /** The hex SHA-256 of {@code bytes[from, to)}: a streamed chunk's range of its archived segment. */
    static String sha256(byte[] bytes, int from, int to) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            d.update(bytes, from, to - from);
            return HexFormat.of().formatHex(d.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
