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
}
