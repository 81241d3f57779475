package io.tidemark.events.plan;

import io.tidemark.events.layout.Compression;
import java.util.List;

/**
 * A WAL segment or timeline history file recovery will ask for ({@code restore_command}'s %f).
 *
 * @param name   the file name PostgreSQL asks for, e.g. {@code 000000010000000000000003} or {@code 00000002.history}
 * @param sha256    SHA-256 of the raw (decompressed) file, as the cloud computed it from the bytes it
 *                  accepted (never the object's metadata): the shim refuses any other content
 * @param versionId the S3 version of the object the catalog accepted (null: the store keeps no
 *                  versions); presigned URLs and archive-get read that version
 * @param chunks    empty for an archived file; for a segment known only from streamed chunks (issue
 *                  17), the chunks that assemble it, ascending and contiguous from offset 0: the
 *                  segment is their bytes at their offsets and zeros after the last, and
 *                  {@code sha256} is their {@link #assemblyHash}. {@code key},
 *                  {@code compression} and {@code storedSize} then describe the first chunk.
 */
public record PlanWal(String name, String key, Compression compression, String sha256, long storedSize,
                      String versionId, List<PlanWalChunk> chunks) {
    public PlanWal(String name, String key, Compression compression, String sha256, long storedSize) {
        this(name, key, compression, sha256, storedSize, null);
    }

    public PlanWal(String name, String key, Compression compression, String sha256, long storedSize, String versionId) {
        this(name, key, compression, sha256, storedSize, versionId, List.of());
    }

    /** A segment assembled from streamed chunks ({@code sha256}: their {@link #assemblyHash}). */
    public static PlanWal assembled(String name, List<PlanWalChunk> chunks) {
        PlanChecks.require(chunks != null && !chunks.isEmpty(), name + ": an assembled segment needs chunks");
        PlanWalChunk first = chunks.getFirst();
        return new PlanWal(name, first.key(), first.compression(), assemblyHash(chunks), first.storedSize(),
                first.versionId(), chunks);
    }

    /**
     * What an assembled segment's {@code sha256} is: the SHA-256 of one line per chunk,
     * {@code "<start> <end> <sha256>\n"} (the chunks' own hashes are of their raw bytes, each checked
     * on download; the rest of the segment is zeros). Binds the assembly to the chunks the cloud listed.
     */
    public static String assemblyHash(List<PlanWalChunk> chunks) {
        StringBuilder sb = new StringBuilder();
        for (PlanWalChunk c : chunks) {
            sb.append(c.start()).append(' ').append(c.end()).append(' ').append(c.sha256()).append('\n');
        }
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                    .digest(sb.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Whether the segment is assembled from streamed chunks rather than read from one archived object. */
    public boolean isAssembled() {
        return !chunks.isEmpty();
    }

    /** Where the assembled bytes end: the end of the last chunk (the rest of the segment is zeros). */
    public long assembledEnd() {
        return chunks.isEmpty() ? 0 : chunks.getLast().end();
    }

    public PlanWal {
        PlanChecks.require(versionId == null || !versionId.isBlank(), name + ": blank versionId");
        PlanChecks.require(name != null && name.matches("[0-9A-F]{24}|[0-9A-F]{8}\\.history"),
                "not a WAL segment or history file name: '" + name + "'");
        PlanChecks.require(key != null && compression != null, name + ": key and compression are required");
        PlanChecks.requireSha(sha256, name + ": sha256");
        PlanChecks.require(storedSize >= 0, name + ": negative stored size");
        chunks = chunks == null ? List.of() : List.copyOf(chunks);
        long at = 0;
        for (PlanWalChunk c : chunks) {
            PlanChecks.require(name.matches("[0-9A-F]{24}"), name + ": only a segment can be assembled from chunks");
            // contiguous from 0: a hole would be replayed as zeros, ending recovery short
            PlanChecks.require(c.start() <= at && c.end() > at, name + ": chunk " + c.key() + " [" + c.start() + ", "
                    + c.end() + ") does not continue the chunks before it, which end at " + at);
            at = c.end();
        }
        PlanChecks.require(chunks.isEmpty() || chunks.getFirst().start() == 0, name + ": assembled chunks must start at 0");
    }
}
