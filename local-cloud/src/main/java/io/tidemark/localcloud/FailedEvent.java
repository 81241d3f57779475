package io.tidemark.localcloud;

/** An S3 event that a function still failed on after its last attempt (and that was dropped). */
public record FailedEvent(String function, String key, String eventName, int attempts, Throwable lastError) {
}
