package io.tidemark.functions.catalog;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The archive bucket as the domain sees it. Metadata names are lower case, without {@code x-amz-meta-}. */
public interface ObjectStore {

    /** The object's bytes and user metadata; empty when there is no such object. */
    Optional<StoredObject> get(String key);

    /**
     * One version of the object: {@code versionId} null reads the current one. Empty when there is no
     * such object (or version). A store without versioning has no other version to give.
     */
    default Optional<StoredObject> get(String key, String versionId) {
        if (versionId == null) {
            return get(key);
        }
        throw new UnsupportedOperationException("this store keeps no versions: cannot read version " + versionId
                + " of " + key);
    }

    /** The object's size and user metadata, without its bytes; empty when there is no such object. */
    Optional<ObjectInfo> head(String key);

    /**
     * The object's bytes as a stream (the caller closes it), for objects too large to hold in
     * memory; empty when there is no such object.
     */
    default Optional<InputStream> open(String key) {
        return get(key).map(o -> new ByteArrayInputStream(o.content()));
    }

    /**
     * As {@link #open(String)}, with the version id of what is being read (null when the store keeps
     * no versions): the validator records which version of each backup object it checked.
     */
    default Optional<OpenedObject> openVersion(String key) {
        return open(key).map(in -> new OpenedObject(in, null));
    }

    /** A stream of an object's bytes and the version it reads (null: the store keeps no versions). */
    record OpenedObject(InputStream content, String versionId) {
    }

    /**
     * An S3 version id as the domain keeps it: null for none (absent, blank, or S3's {@code "null"}
     * of an object written while the bucket was not versioned; reading without a version id then reads it).
     */
    static String versionOrNull(String versionId) {
        return versionId == null || versionId.isBlank() || "null".equals(versionId) ? null : versionId;
    }

    /**
     * Removes an object; removing one that is not there is not an error (retention re-runs after
     * a crash halfway). Only the retention function deletes.
     */
    void delete(String key);

    /** Every object whose key starts with {@code prefix}, in key order (paginated underneath). */
    List<ListedObject> list(String prefix);

    /**
     * The "directories" one level below {@code prefix} (which ends with '/'): the distinct key
     * prefixes up to and including the next '/' (S3's common prefixes with delimiter '/').
     */
    List<String> childPrefixes(String prefix);

    /** Writes (replaces) an object. */
    void put(String key, byte[] content, String contentType, Map<String, String> metadata);

    /** User metadata name of the raw (uncompressed) content's SHA-256, lower-case hex. */
    String SHA256 = "sha256";

    /**
     * @param retainUntil the Object Lock retention date of the object (null: none); the object
     *                    cannot be removed before it
     */
    record ObjectInfo(long size, Map<String, String> metadata, Instant lastModified, Instant retainUntil) {
        public ObjectInfo {
            metadata = Map.copyOf(metadata);
        }

        public ObjectInfo(long size, Map<String, String> metadata, Instant lastModified) {
            this(size, metadata, lastModified, null);
        }
    }

    record ListedObject(String key, long size, Instant lastModified) {
    }

    /** @param versionId the S3 version read (null: the store keeps no versions) */
    record StoredObject(byte[] content, Map<String, String> metadata, Instant lastModified, String versionId) {
        public StoredObject {
            metadata = Map.copyOf(metadata);
            versionId = versionOrNull(versionId);
        }

        public StoredObject(byte[] content, Map<String, String> metadata, Instant lastModified) {
            this(content, metadata, lastModified, null);
        }
    }
}
