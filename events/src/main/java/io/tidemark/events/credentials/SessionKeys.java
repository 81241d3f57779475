package io.tidemark.events.credentials;

import java.time.Instant;
import java.util.Objects;

/**
 * Temporary credentials as a credentials endpoint hands them out: a key pair, its session token
 * (null for long-term keys) and when they stop working (null: not said).
 */
public record SessionKeys(String accessKeyId, String secretAccessKey, String sessionToken, Instant expiration) {
    public SessionKeys {
        Objects.requireNonNull(accessKeyId, "accessKeyId");
        Objects.requireNonNull(secretAccessKey, "secretAccessKey");
        if (accessKeyId.isBlank() || secretAccessKey.isBlank()) {
            throw new IllegalArgumentException("an access key id and a secret access key must not be blank");
        }
    }

    @Override
    public String toString() {
        return "SessionKeys[accessKeyId=" + accessKeyId + ", secretAccessKey=***, expiration=" + expiration + "]";
    }
}
