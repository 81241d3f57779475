package io.tidemark.events.plan;

import io.tidemark.events.layout.Compression;

/**
 * A WAL segment or timeline history file recovery will ask for ({@code restore_command}'s %f).
 *
 * @param name   the file name PostgreSQL asks for, e.g. {@code 000000010000000000000003} or {@code 00000002.history}
 * @param sha256    SHA-256 of the raw (decompressed) file, as the cloud computed it from the bytes it
 *                  accepted (never the object's metadata): the shim refuses any other content
 * @param versionId the S3 version of the object the catalog accepted (null: the store keeps no
 *                  versions); presigned URLs and archive-get read that version
 */
public record PlanWal(String name, String key, Compression compression, String sha256, long storedSize,
                      String versionId) {
    public PlanWal(String name, String key, Compression compression, String sha256, long storedSize) {
        this(name, key, compression, sha256, storedSize, null);
    }

    public PlanWal {
        PlanChecks.require(versionId == null || !versionId.isBlank(), name + ": blank versionId");
        PlanChecks.require(name != null && name.matches("[0-9A-F]{24}|[0-9A-F]{8}\\.history"),
                "not a WAL segment or history file name: '" + name + "'");
        PlanChecks.require(key != null && compression != null, name + ": key and compression are required");
        PlanChecks.requireSha(sha256, name + ": sha256");
        PlanChecks.require(storedSize >= 0, name + ": negative stored size");
    }
}
