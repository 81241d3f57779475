package io.tidemark.functions.plan;

import java.time.Duration;

/** Presigns a GET of one object of the archive bucket (S3 in AWS and in local-cloud alike). */
@FunctionalInterface
public interface UrlSigner {
    String presignGet(String key, Duration ttl);
}
