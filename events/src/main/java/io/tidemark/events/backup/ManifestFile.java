package io.tidemark.events.backup;

import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.paths.SafeRelativePath;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * One file of a backup, relative to the data directory (tablespace files under
 * {@code pg_tblspc/<oid>/}).
 *
 * @param size               bytes of the file as read from PostgreSQL's data directory
 * @param sha256             SHA-256 of those bytes, lower-case hex; for a file with a block map stored
 *                           by a backup of format 3 its {@link BlockDigest} (over its blocks' SHA-256)
 * @param mtime              modification time at backup, used to decide whether a later
 *                           incremental can reference this copy instead of storing a new one
 * @param reference          the backup whose storage holds the copy: this backup, or an earlier
 *                           one of the same full's chain
 * @param bundle             the bundle holding the copy, or empty when it is a single object
 * @param bundleOffset       where the stored bytes start inside the bundle (0 when not bundled)
 * @param storedSize         bytes as stored (after compression)
 * @param storedSha256       SHA-256 of the stored bytes, lower-case hex: for a single object, S3's
 *                           checksum of that object, so it can be checked without a download
 * @param pageChecksumErrors block numbers whose data checksum failed when the file was read
 * @param blocks             the block map of a large file stored block by block (format 2); then
 *                           {@code reference}'s object holds only the blocks that backup stored
 *                           (back to back, {@code storedSize} bytes in all), the others are read
 *                           from the backups the map names
 */
public record ManifestFile(SafeRelativePath path, long size, String sha256, Instant mtime,
                           BackupLabelName reference, OptionalInt bundle, long bundleOffset,
                           long storedSize, String storedSha256, List<Long> pageChecksumErrors,
                           Optional<BlockMap> blocks) {

    /** A file stored whole (no block map). */
    public ManifestFile(SafeRelativePath path, long size, String sha256, Instant mtime, BackupLabelName reference,
                        OptionalInt bundle, long bundleOffset, long storedSize, String storedSha256,
                        List<Long> pageChecksumErrors) {
        this(path, size, sha256, mtime, reference, bundle, bundleOffset, storedSize, storedSha256, pageChecksumErrors,
                Optional.empty());
    }

    public ManifestFile {
        require(path != null, "file path is missing");
        require(size >= 0, path + ": negative size " + size);
        requireSha(sha256, path + ": sha256");
        require(mtime != null, path + ": mtime is missing");
        require(reference != null, path + ": reference is missing");
        require(bundle != null, path + ": bundle is missing (use OptionalInt.empty())");
        require(bundle.isEmpty() || bundle.getAsInt() >= 0, path + ": negative bundle id");
        require(bundleOffset >= 0 && (bundle.isPresent() || bundleOffset == 0), path + ": invalid bundle offset " + bundleOffset);
        require(storedSize >= 0, path + ": negative stored size");
        requireSha(storedSha256, path + ": storedSha256");
        pageChecksumErrors = List.copyOf(pageChecksumErrors);
        for (long block : pageChecksumErrors) {
            require(block >= 0, path + ": negative block number in pageChecksumErrors");
        }
        require(blocks != null, path + ": blocks is missing (use Optional.empty())");
        if (blocks.isPresent()) {
            checkBlocks(path, size, reference, bundle, storedSize, blocks.get());
        }
    }

    /**
     * A block map must cover the file exactly; no block may come from a backup newer than the
     * file's own; the blocks the file's backup stores itself lie back to back from offset 0 and
     * fill its object.
     */
    private static void checkBlocks(SafeRelativePath path, long size, BackupLabelName reference, OptionalInt bundle,
                                    long storedSize, BlockMap map) {
        require(bundle.isEmpty(), path + ": a file with a block map is never bundled");
        int expected = BlockMap.blockCount(size, map.blockSize());
        require(map.blocks().size() == expected, path + ": block map has " + map.blocks().size() + " blocks, a file of "
                + size + " bytes has " + expected + " of " + map.blockSize());
        long next = 0;
        for (int i = 0; i < map.blocks().size(); i++) {
            BlockMap.Block b = map.blocks().get(i);
            require(b.reference().fullStart().equals(reference.fullStart()) && b.reference().compareTo(reference) <= 0,
                    path + ": block " + i + " is in " + b.reference() + ", not in " + reference + " or an earlier backup of its chain");
            if (b.reference().equals(reference)) {
                require(b.offset() == next, path + ": block " + i + " starts at " + b.offset() + " in " + reference
                        + "'s object, expected " + next + " (its blocks lie back to back)");
                next += b.storedSize();
            }
        }
        require(next == storedSize, path + ": the blocks " + reference + " stores add up to " + next
                + " bytes, the file's stored size is " + storedSize);
    }

    public boolean hasBlocks() {
        return blocks.isPresent();
    }

    public boolean isBundled() {
        return bundle.isPresent();
    }

    /**
     * Whether {@link #sha256} is the {@link BlockDigest} of {@link #blocks} (manifest format 3);
     * false for a file without blocks or one whose backup recorded the whole content's SHA-256
     * (format 2), the two told apart by value as {@link BlockDigest} explains.
     */
    public boolean digestByBlocks() {
        return blocks.isPresent() && sha256.equals(BlockDigest.of(size, blocks.get()));
    }

    static void requireSha(String hex, String what) {
        if (hex == null || hex.length() != 64 || !hex.chars().allMatch(c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            throw new ManifestException(what + " must be 64 lower-case hex digits, got '" + hex + "'");
        }
    }

    static void require(boolean ok, String message) {
        if (!ok) {
            throw new ManifestException(message);
        }
    }
}
