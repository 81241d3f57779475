package io.tidemark.shim.support;

import io.tidemark.testkit.wal.SyntheticWal;

/** Synthetic 1 MB PostgreSQL 15 segments of one cluster, for archive tests. */
public final class Segments {
    public static final long SYSID = 7_300_000_000_000_000_001L;
    public static final int SIZE = 1 << 20;

    private Segments() {
    }

    /** Segment {@code 00000001000000000000000N} for N = 5 + index, with {@code commits} commits. */
    public static byte[] segment(int index, int commits) {
        SyntheticWal w = new SyntheticWal(SyntheticWal.PG15, SIZE, 8192, 1, 5 + index, SYSID);
        for (int i = 0; i < commits; i++) {
            w.commit(100 + i, 1_790_000_000_000_000L + i);
        }
        w.switchSegment();
        return w.segment(0);
    }

    public static String name(int index) {
        return String.format("0000000100000000%08X", 5 + index);
    }
}
