package io.tidemark.shim.storage;

import java.util.Map;
import java.util.Optional;

/**
 * The few S3 operations the node shim needs, behind one interface so that the built-in SigV4
 * client ({@link HttpObjectStore}, fast to start) and the AWS SDK ({@link SdkObjectStore}) are
 * interchangeable. Keys come from {@code StorageLayout}; metadata names are the part after
 * {@code x-amz-meta-}, lower case.
 */
public interface ObjectStore extends AutoCloseable {

    /** What a conditional create did. */
    enum PutOutcome { CREATED, ALREADY_EXISTS }

    /** An object's size and user metadata. */
    record Head(long size, Map<String, String> metadata) {
    }

    /** An object's bytes (as stored) and user metadata. */
    record Fetched(byte[] data, Map<String, String> metadata) {
    }

    /**
     * The only write there is: the node never replaces an object (the bucket policy refuses a
     * node's PUT without {@code If-None-Match}; docs/security.md). {@link CreateOnly} says what an
     * existing object means.
     *
     * <p>Creates {@code key} unless it exists ({@code If-None-Match: *}), with the body's CRC-32C as
     * S3 additional checksum (verified by S3); returns only after S3 confirmed.
     */
    PutOutcome putIfAbsent(String key, byte[] body, Map<String, String> metadata);

    /**
     * As {@link #putIfAbsent(String, byte[], Map)}, the body read from {@code body} (a spooled
     * large object: the client streams it, and can read it again for a retry).
     */
    default PutOutcome putIfAbsent(String key, java.nio.file.Path body, Map<String, String> metadata) {
        try {
            return putIfAbsent(key, java.nio.file.Files.readAllBytes(body), metadata);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot read " + body + ": " + e.getMessage(), e);
        }
    }

    Optional<Head> head(String key);

    /**
     * The keys under {@code prefix} (every page of the listing), in S3's order (UTF-8 binary). The
     * node may list only its own stanza's prefix (the node policy's {@code ListOwnStanza}).
     */
    default java.util.List<String> list(String prefix) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " cannot list keys");
    }

    Optional<Fetched> get(String key);

    /**
     * Version {@code versionId} of {@code key} (null: the current object); empty when there is no such
     * version. A restore plan names the version the cloud accepted: a later upload of the key is
     * not read.
     */
    default Optional<Fetched> get(String key, String versionId) {
        if (versionId == null) {
            return get(key);
        }
        throw new UnsupportedOperationException(getClass().getSimpleName() + " cannot read object versions");
    }

    /**
     * An object's bytes as stored, as a stream the caller reads and closes (a download never held
     * whole in memory), with its stored length (-1 when unknown) and user metadata. A read that
     * fails (connection lost, timeout) throws an {@link java.io.IOException}.
     */
    record Opened(java.io.InputStream body, long length, Map<String, String> metadata, Runnable abort)
            implements AutoCloseable {
        /** Closes the stream; after a read that ended early, {@link #abort} first (no draining of the rest). */
        @Override
        public void close() throws java.io.IOException {
            body.close();
        }
    }

    /**
     * Version {@code versionId} of {@code key} (null: the current object) as a stream; empty when
     * there is no such object or version. This default reads it whole ({@link #get(String, String)}).
     */
    default Optional<Opened> open(String key, String versionId) {
        return get(key, versionId).map(f -> new Opened(new java.io.ByteArrayInputStream(f.data()), f.data().length,
                f.metadata(), () -> { }));
    }

    @Override
    default void close() {
    }
}
