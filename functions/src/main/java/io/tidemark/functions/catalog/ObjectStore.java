package io.tidemark.functions.catalog;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.time.Instant;
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

    /** Writes (replaces) an object. */
    void put(String key, byte[] content, String contentType, Map<String, String> metadata);

    /** User metadata name of the raw (uncompressed) content's SHA-256, lower-case hex. */
    String SHA256 = "sha256";

    record ObjectInfo(long size, Map<String, String> metadata, Instant lastModified) {
        public ObjectInfo {
            metadata = Map.copyOf(metadata);
        }
    }

    record StoredObject(byte[] content, Map<String, String> metadata, Instant lastModified) {
        public StoredObject {
            metadata = Map.copyOf(metadata);
        }
    }
}
