package io.tidemark.events.backup;

/**
 * One stored object holding many small files back to back (each compressed on its own), so a
 * database with thousands of small relations is not thousands of PUTs.
 */
public record ManifestBundle(int id, long storedSize, String storedSha256) {
    public ManifestBundle {
        ManifestFile.require(id >= 0, "bundle id must not be negative: " + id);
        ManifestFile.require(storedSize >= 0, "bundle " + id + ": negative stored size");
        ManifestFile.requireSha(storedSha256, "bundle " + id + ": storedSha256");
    }
}
