package io.tidemark.events.backup;

import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.paths.SafeRelativePath;
import java.time.Instant;
import java.util.List;
import java.util.OptionalInt;

/**
 * One file of a backup, relative to the data directory (tablespace files under
 * {@code pg_tblspc/<oid>/}).
 *
 * @param size               bytes of the file as read from PostgreSQL's data directory
 * @param sha256             SHA-256 of those bytes, lower-case hex
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
 */
public record ManifestFile(SafeRelativePath path, long size, String sha256, Instant mtime,
                           BackupLabelName reference, OptionalInt bundle, long bundleOffset,
                           long storedSize, String storedSha256, List<Long> pageChecksumErrors) {

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
    }

    public boolean isBundled() {
        return bundle.isPresent();
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
