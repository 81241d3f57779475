package io.tidemark.events.plan;

import io.tidemark.events.layout.BackupLabelName;
import java.util.List;

/**
 * How to assemble a file stored block by block (a manifest's {@code BlockMap}): every block from
 * the object of the backup that stores it, each checked against its SHA-256 before it is written.
 *
 * @param blockSize bytes per block (the last one may be shorter)
 */
public record PlanBlocks(int blockSize, List<Block> blocks) {
    /**
     * One block: {@code storedSize} compressed bytes at {@code offset} of {@code key} (the version
     * the validator checked, when the store keeps versions).
     */
    public record Block(BackupLabelName backup, String key, String versionId, long offset, long storedSize, String sha256) {
        public Block {
            PlanChecks.require(backup != null && key != null, "block backup and key are required");
            PlanChecks.require(versionId == null || !versionId.isBlank(), key + ": blank versionId");
            PlanChecks.require(offset >= 0 && storedSize >= 0, key + ": negative block offset or size");
            PlanChecks.requireSha(sha256, key + ": block sha256");
        }
    }

    public PlanBlocks {
        PlanChecks.require(blockSize > 0 && Integer.bitCount(blockSize) == 1, "block size " + blockSize + " is not a power of two");
        blocks = List.copyOf(blocks);
    }

    /** Bytes of block {@code index} of a file of {@code size} bytes. */
    public long length(int index, long size) {
        return Math.min(blockSize, size - (long) index * blockSize);
    }
}
