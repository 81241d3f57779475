package io.tidemark.shim.storage;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;

/**
 * Writes an object the node can never take back: {@code If-None-Match: *}, and when the key
 * exists, a comparison that tells an identical re-push (success: an earlier attempt got there
 * first) from different content (a conflict the caller refuses or, for a resumed backup, routes
 * to a key never used). Nothing here replaces an object; docs/security.md.
 */
public final class CreateOnly {

    /** What creating {@code key} found. */
    public sealed interface Result {
        /** The object did not exist and now holds this body. */
        record Created() implements Result {
        }

        /** The object existed with the same content. */
        record Identical() implements Result {
        }

        /**
         * The object exists with other content.
         *
         * @param existingSha256 the SHA-256 the existing object carries (or of its bytes), or
         *                       {@code unknown} when it carries none
         */
        record Different(String key, String existingSha256, String newSha256) implements Result {
        }
    }

    private CreateOnly() {
    }

    /**
     * Creates {@code key}; an existing object is the same when its user metadata
     * {@code checksumMeta} equals {@code sha256} (the checksum this body is described by), as for
     * WAL ({@code sha256} of the original bytes) and backup objects ({@code stored-sha256}).
     */
    public static Result byMetadata(ObjectStore store, String key, byte[] body, Map<String, String> metadata,
                                    String checksumMeta, String sha256) {
        return byMetadata(store, key, () -> store.putIfAbsent(key, body, metadata), checksumMeta, sha256);
    }

    /** As above, the body streamed from a spooled file. */
    public static Result byMetadata(ObjectStore store, String key, java.nio.file.Path body, Map<String, String> metadata,
                                    String checksumMeta, String sha256) {
        return byMetadata(store, key, () -> store.putIfAbsent(key, body, metadata), checksumMeta, sha256);
    }

    private static Result byMetadata(ObjectStore store, String key, java.util.function.Supplier<ObjectStore.PutOutcome> put,
                                     String checksumMeta, String sha256) {
        for (int attempt = 0; ; attempt++) {
            if (put.get() == ObjectStore.PutOutcome.CREATED) {
                return new Result.Created();
            }
            Optional<ObjectStore.Head> existing = store.head(key);
            if (existing.isEmpty()) {
                if (attempt < 2) {
                    continue; // removed between our PUT and HEAD: create it again
                }
                throw new StorageException(key + " keeps appearing and disappearing; not written", null, false);
            }
            String theirs = existing.get().metadata().get(checksumMeta);
            return sha256.equals(theirs) ? new Result.Identical()
                    : new Result.Different(key, theirs == null ? "unknown" : theirs, sha256);
        }
    }

    /**
     * Creates {@code key}; an existing object is the same when its bytes are (for small objects
     * whose whole content is their identity, such as a backup's manifest).
     */
    public static Result byBytes(ObjectStore store, String key, byte[] body, Map<String, String> metadata) {
        String ours = sha256(body);
        for (int attempt = 0; ; attempt++) {
            if (store.putIfAbsent(key, body, metadata) == ObjectStore.PutOutcome.CREATED) {
                return new Result.Created();
            }
            Optional<ObjectStore.Fetched> existing = store.get(key);
            if (existing.isEmpty()) {
                if (attempt < 2) {
                    continue;
                }
                throw new StorageException(key + " keeps appearing and disappearing; not written", null, false);
            }
            String theirs = sha256(existing.get().data());
            return ours.equals(theirs) ? new Result.Identical() : new Result.Different(key, theirs, ours);
        }
    }

    /** Lower-case hex SHA-256. */
    public static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
