package io.tidemark.events.backup;

import io.tidemark.events.layout.BackupLabelName;
import java.util.List;

/**
 * Where every block of a large file is stored, so that a differential or incremental backup
 * stores only the blocks that changed (PostgreSQL 15 keeps no WAL summaries, so the map is ours).
 *
 * <p>The file is cut into blocks of {@code blockSize} bytes (the last one may be shorter). Each
 * block is compressed on its own; the blocks a backup stores for a file are laid back to back in
 * that backup's object of the file ({@code StorageLayout.backupFileKey} of the block's
 * {@link Block#reference()}), in block order. A block that did not change keeps the entry of the
 * backup that stored it, so a restore reads every block from the backup that holds it and checks
 * it against {@link Block#sha256()}.
 *
 * @param blockSize bytes per block, a power of two chosen by file size ({@link #blockSizeFor})
 */
public record BlockMap(int blockSize, List<Block> blocks) {
    /** Files smaller than this are stored whole, without a map. */
    public static final long MIN_FILE_SIZE = 1L << 20;
    /** Smallest block: 16 PostgreSQL pages. */
    public static final int MIN_BLOCK = 128 * 1024;
    /** Largest block: bounds the memory one block costs while it is compressed. */
    public static final int MAX_BLOCK = 16 << 20;
    /** Blocks per map the size rule aims at: a 1 GB relation segment gets 1 MB blocks. */
    public static final int TARGET_BLOCKS = 1024;

    /**
     * One block.
     *
     * @param reference  the backup whose object of this file holds the block
     * @param offset     where its stored (compressed) bytes start in that object
     * @param storedSize stored bytes
     * @param sha256     SHA-256 of the block's original bytes, lower-case hex
     */
    public record Block(BackupLabelName reference, long offset, long storedSize, String sha256) {
        public Block {
            ManifestFile.require(reference != null, "block reference is missing");
            ManifestFile.require(offset >= 0 && storedSize >= 0, "block has a negative offset or stored size");
            ManifestFile.requireSha(sha256, "block sha256");
        }
    }

    public BlockMap {
        ManifestFile.require(blockSize >= MIN_BLOCK && blockSize <= MAX_BLOCK && Integer.bitCount(blockSize) == 1,
                "block size " + blockSize + " is not a power of two from " + MIN_BLOCK + " to " + MAX_BLOCK);
        blocks = List.copyOf(blocks);
    }

    /** The block size for a file of {@code size} bytes: about {@link #TARGET_BLOCKS} blocks, within the bounds. */
    public static int blockSizeFor(long size) {
        long per = Math.max(1, (size + TARGET_BLOCKS - 1) / TARGET_BLOCKS);
        long pow = Long.highestOneBit(per);
        if (pow < per) {
            pow <<= 1;
        }
        return (int) Math.max(MIN_BLOCK, Math.min(MAX_BLOCK, pow));
    }

    /** How many blocks a file of {@code size} bytes has with {@code blockSize}. */
    public static int blockCount(long size, int blockSize) {
        return (int) ((size + blockSize - 1) / blockSize);
    }

    /** Bytes of block {@code index} of a file of {@code size} bytes. */
    public long length(int index, long size) {
        return Math.min(blockSize, size - (long) index * blockSize);
    }

    /** The blocks {@code label} stores itself, in block order (they lie back to back in its object). */
    public List<Block> storedBy(BackupLabelName label) {
        return blocks.stream().filter(b -> b.reference().equals(label)).toList();
    }
}
