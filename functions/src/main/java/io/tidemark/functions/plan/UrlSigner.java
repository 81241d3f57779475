package io.tidemark.functions.plan;

import java.time.Duration;

/** Presigns a GET of one object of the archive bucket (S3 in AWS and in local-cloud alike). */
@FunctionalInterface
public interface UrlSigner {
    String presignGet(String key, Duration ttl);

    /** URLs for many keys; implementations may share work between them. */
    default java.util.Map<String, String> presignAll(Iterable<String> keys, Duration ttl) {
        java.util.Map<String, String> out = new java.util.LinkedHashMap<>();
        for (String k : keys) {
            out.put(k, presignGet(k, ttl));
        }
        return out;
    }

    /**
     * URLs for many keys, and when the keys that signed them expire if they are session keys: a
     * URL stops working then, whatever its own lifetime says.
     */
    default Signed sign(Iterable<String> keys, Duration ttl) {
        return new Signed(presignAll(keys, ttl), java.util.Optional.empty());
    }

    /**
     * URLs for many objects, each for the version its key maps to (a null version: the current
     * object), by key: a URL that names a version reads that version, whatever was written since.
     */
    default Signed signVersions(java.util.Map<String, String> versionsByKey, Duration ttl) {
        if (versionsByKey.values().stream().anyMatch(java.util.Objects::nonNull)) {
            throw new UnsupportedOperationException(getClass().getSimpleName() + " cannot sign URLs of object versions");
        }
        return sign(versionsByKey.keySet(), ttl);
    }

    /** Presigned URLs by object key, and the signing keys' expiration when known. */
    record Signed(java.util.Map<String, String> urls, java.util.Optional<java.time.Instant> keysExpireAt) {
        /** The earlier of {@code requested} and the keys' expiration. */
        public java.time.Instant validUntil(java.time.Instant requested) {
            return keysExpireAt.filter(k -> k.isBefore(requested)).orElse(requested);
        }
    }
}
