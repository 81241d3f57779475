package io.tidemark.events.plan;

import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.Compression;
import io.tidemark.events.paths.SafeRelativePath;

/**
 * One file to restore into the data directory: where its bytes are stored and how to check them.
 *
 * @param backup       the backup whose storage holds it
 * @param key          the S3 object: the file itself, or the bundle holding it
 * @param bundleOffset where the file's stored bytes start in the bundle (0 for a single object)
 * @param storedSize   stored (compressed) bytes to read from {@code bundleOffset}
 * @param storedSha256 SHA-256 of those stored bytes, lower-case hex
 * @param sha256       SHA-256 of the restored file, lower-case hex; for a file with blocks whose
 *                     backup wrote manifest format 3, its {@code BlockDigest} ({@link #digestByBlocks})
 * @param versionId    the S3 version of {@code key} the validator checked (null: the store keeps no
 *                     versions); presigned URLs read that version
 * @param blocks       for a file stored block by block: where each block is ({@code key} then holds
 *                     only the blocks {@code backup} stored)
 */
public record PlanFile(SafeRelativePath path, long size, String sha256, BackupLabelName backup, String key,
                       Compression compression, boolean bundled, long bundleOffset, long storedSize,
                       String storedSha256, String versionId, java.util.Optional<PlanBlocks> blocks) {
    /** A file stored whole. */
    public PlanFile(SafeRelativePath path, long size, String sha256, BackupLabelName backup, String key,
                    Compression compression, boolean bundled, long bundleOffset, long storedSize, String storedSha256,
                    String versionId) {
        this(path, size, sha256, backup, key, compression, bundled, bundleOffset, storedSize, storedSha256, versionId,
                java.util.Optional.empty());
    }

    public PlanFile(SafeRelativePath path, long size, String sha256, BackupLabelName backup, String key,
                    Compression compression, boolean bundled, long bundleOffset, long storedSize, String storedSha256) {
        this(path, size, sha256, backup, key, compression, bundled, bundleOffset, storedSize, storedSha256, null);
    }

    public PlanFile {
        PlanChecks.require(versionId == null || !versionId.isBlank(), path + ": blank versionId");
        PlanChecks.require(path != null && backup != null && key != null && compression != null, "plan file fields missing");
        PlanChecks.requireSha(sha256, path + ": sha256");
        PlanChecks.requireSha(storedSha256, path + ": storedSha256");
        PlanChecks.require(size >= 0 && storedSize >= 0 && bundleOffset >= 0, path + ": negative size or offset");
        PlanChecks.require(bundled || bundleOffset == 0, path + ": offset without a bundle");
        PlanChecks.require(blocks != null, path + ": blocks is missing (use Optional.empty())");
        blocks.ifPresent(b -> PlanChecks.require(!bundled && b.blocks().size() == (size + b.blockSize() - 1) / b.blockSize(),
                path + ": " + b.blocks().size() + " blocks of " + b.blockSize() + " do not cover " + size + " bytes"));
    }

    /**
     * Whether {@link #sha256} is the {@code BlockDigest} of {@link #blocks} (then a file whose every
     * block matched its SHA-256 is the file the plan names, without hashing it whole again); false
     * for a file without blocks or one whose backup recorded the whole content's SHA-256 (format 2).
     */
    public boolean digestByBlocks() {
        return blocks.isPresent() && io.tidemark.events.backup.BlockDigest.matches(sha256, size, blocks.get().blockSize(),
                blocks.get().blocks().stream().map(PlanBlocks.Block::sha256).toList());
    }
}
