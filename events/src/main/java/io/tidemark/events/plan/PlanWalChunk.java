package io.tidemark.events.plan;

import io.tidemark.events.layout.Compression;

/**
 * One streamed chunk of a segment the plan assembles ({@link PlanWal#chunks()}): the bytes
 * {@code [start, end)} of the segment, stored at {@code key} (version {@code versionId} when the
 * store keeps versions), compressed as {@code compression} says. archive-get checks each chunk
 * against {@code sha256} (of its raw bytes, as the cloud computed it when it indexed the chunk)
 * before it places the bytes at their offset, so a damaged chunk is named, never replayed.
 */
public record PlanWalChunk(String key, String versionId, Compression compression, long start, long end, String sha256,
                           long storedSize) {
    public PlanWalChunk {
        PlanChecks.require(key != null && compression != null, "chunk: key and compression are required");
        PlanChecks.require(versionId == null || !versionId.isBlank(), key + ": blank versionId");
        PlanChecks.require(start >= 0 && end > start, key + ": chunk range [" + start + ", " + end + ") is empty or negative");
        PlanChecks.requireSha(sha256, key + ": sha256");
        PlanChecks.require(storedSize >= 0, key + ": negative stored size");
    }

    public long length() {
        return end - start;
    }
}
