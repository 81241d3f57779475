package io.tidemark.shim.storage;

/**
 * When and how the node uploads an object in parts: S3 takes at most 5 GiB in one PUT, and a part
 * of at least 5 MiB (but the last), at most 10,000 parts. Objects larger than {@code threshold}
 * go in parts of {@code partSize} (grown when the object would need more than 10,000),
 * {@code parallel} of them at a time per store.
 *
 * <p>Configured by {@code s3.multipart-threshold}, {@code s3.multipart-part-size} and
 * {@code s3.multipart-process} (docs/configuration.md).
 */
public record Multipart(long threshold, long partSize, int parallel) {
    public static final long MIB = 1L << 20;
    /** S3's smallest part (all but the last). */
    public static final long MIN_PART = 5 * MIB;
    /** S3's largest part, and its largest single PUT. */
    public static final long MAX_PART = 5L << 30;
    /** S3's most parts in one upload. */
    public static final int MAX_PARTS = 10_000;
    /** Well below the 5 GiB limit: a failed part is retried alone, and parts go in parallel. */
    public static final Multipart DEFAULT = new Multipart(256 * MIB, 64 * MIB, 4);

    public Multipart {
        if (partSize < MIN_PART || partSize > MAX_PART) {
            throw new IllegalArgumentException("the part size must be from 5 MiB to 5 GiB, got " + partSize + " bytes");
        }
        if (threshold < partSize || threshold > MAX_PART) {
            throw new IllegalArgumentException("the multipart threshold must be from the part size (" + partSize
                    + " bytes) to 5 GiB, got " + threshold + " bytes");
        }
        if (parallel < 1 || parallel > 32) {
            throw new IllegalArgumentException("parallel part uploads must be 1 to 32, got " + parallel);
        }
    }

    /** Whether an object of {@code size} bytes goes in parts. */
    public boolean applies(long size) {
        return size > threshold;
    }

    /** The part size for an object of {@code size} bytes: the configured one, grown to keep within 10,000 parts. */
    public long partSizeFor(long size) {
        long atLeast = (size + MAX_PARTS - 1) / MAX_PARTS;
        return Math.max(partSize, atLeast);
    }
}
