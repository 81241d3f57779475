package io.tidemark.events.wal;

/**
 * The WAL segment size of a cluster ({@code initdb --wal-segsize}): a power of two from
 * 1 MB to 1 GB. It decides how an LSN maps to a segment number and how segment numbers
 * are split into the "log" and "seg" halves of a file name.
 */
public record WalSegmentSize(int bytes) {

    public static final int MIN_BYTES = 1 << 20;
    public static final int MAX_BYTES = 1 << 30;
    public static final WalSegmentSize DEFAULT = new WalSegmentSize(16 << 20);

    public WalSegmentSize {
        if (bytes < MIN_BYTES || bytes > MAX_BYTES || Integer.bitCount(bytes) != 1) {
            throw new IllegalArgumentException(
                    "WAL segment size must be a power of two between 1 MB and 1 GB, got " + bytes + " bytes");
        }
    }

    public static WalSegmentSize ofBytes(long bytes) {
        if (bytes > Integer.MAX_VALUE || bytes < 0) {
            throw new IllegalArgumentException(
                    "WAL segment size must be a power of two between 1 MB and 1 GB, got " + bytes + " bytes");
        }
        return new WalSegmentSize((int) bytes);
    }

    public static WalSegmentSize ofMegabytes(int mb) {
        return ofBytes((long) mb << 20);
    }

    /** How many segments share one "log" value (the middle 8 hex digits of a name). */
    public long segmentsPerLogId() {
        return 0x1_0000_0000L / bytes;
    }

    public long segmentNumberOf(Lsn lsn) {
        return Long.divideUnsigned(lsn.value(), bytes);
    }

    public long offsetInSegment(Lsn lsn) {
        return Long.remainderUnsigned(lsn.value(), bytes);
    }

    public Lsn segmentStart(long segmentNumber) {
        return Lsn.of(segmentNumber * bytes);
    }

    public long megabytes() {
        return bytes >> 20;
    }

    @Override
    public String toString() {
        return megabytes() + "MB";
    }
}
