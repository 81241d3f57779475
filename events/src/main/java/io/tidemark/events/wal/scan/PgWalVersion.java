package io.tidemark.events.wal.scan;

/**
 * The PostgreSQL major versions whose WAL the scanner reads, each known by the page magic
 * ({@code XLOG_PAGE_MAGIC}) that every WAL page header starts with. The magic changes whenever
 * the WAL format changes, so it is how a segment says which server wrote it.
 */
public enum PgWalVersion {
    PG13(13, 0xD106),
    PG14(14, 0xD10D),
    PG15(15, 0xD110),
    PG16(16, 0xD113),
    PG17(17, 0xD116);

    private final int major;
    private final int magic;

    PgWalVersion(int major, int magic) {
        this.major = major;
        this.magic = magic;
    }

    public int major() {
        return major;
    }

    public int magic() {
        return magic;
    }

    /** The version that writes this magic, or null for anything else. */
    public static PgWalVersion ofMagic(int magic) {
        for (PgWalVersion v : values()) {
            if (v.magic == magic) {
                return v;
            }
        }
        return null;
    }

    /**
     * PostgreSQL 15 renumbered the full-page-image flags when it added LZ4 and zstd image
     * compression; the scanner needs the right ones to find where a record's data starts.
     */
    boolean imageCompressed(int bimgInfo) {
        if (major >= 15) {
            return (bimgInfo & (0x04 | 0x08 | 0x10)) != 0;
        }
        return (bimgInfo & 0x02) != 0;
    }

    /** Dropped-statistics items in commit/abort records exist from 15 on. */
    boolean hasDroppedStats() {
        return major >= 15;
    }
}
