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

    record StoredObject(byte[] content, Map<String, String> metadata, Instant lastModified) {
        public StoredObject {
            metadata = Map.copyOf(metadata);
        }
    }
}
