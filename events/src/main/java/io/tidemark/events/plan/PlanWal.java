package io.tidemark.events.plan;

import io.tidemark.events.layout.Compression;

/**
 * A WAL segment or timeline history file recovery will ask for ({@code restore_command}'s %f).
 *
 * @param name   the file name PostgreSQL asks for, e.g. {@code 000000010000000000000003} or {@code 00000002.history}
 * @param sha256 SHA-256 of the raw (decompressed) file, as archive-push recorded it
 */
public record PlanWal(String name, String key, Compression compression, String sha256, long storedSize) {
    public PlanWal {
        PlanChecks.require(name != null && name.matches("[0-9A-F]{24}|[0-9A-F]{8}\\.history"),
                "not a WAL segment or history file name: '" + name + "'");
        PlanChecks.require(key != null && compression != null, name + ": key and compression are required");
        PlanChecks.requireSha(sha256, name + ": sha256");
        PlanChecks.require(storedSize >= 0, name + ": negative stored size");
    }
}
