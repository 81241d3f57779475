package io.tidemark.shim.backup;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * PostgreSQL's data page checksum (32 interleaved FNV-1a-style hashes over the page, the block
 * number folded in, reduced to 1..65535), for verifying relation files while they are backed up.
 *
 * <p>A page is only judged when it can be: an all-zero page is a valid new page, and a page whose
 * LSN is at or after the backup's start LSN is being changed during the backup and will be
 * rewritten from WAL on restore (full-page writes), so a mismatch there proves nothing.
 */
public final class PageChecksums {
    public static final int PAGE_SIZE = 8192;
    /** Blocks per 1 GB relation segment file (RELSEG_SIZE with 8 kB pages). */
    public static final long BLOCKS_PER_SEGMENT = 131072;

    private static final int N_SUMS = 32;
    private static final int FNV_PRIME = 16777619;
    private static final int[] BASE_OFFSETS = {
        0x5B1F36E9, 0xB8525960, 0x02AB50AA, 0x1DE66D2A, 0x79FF467A, 0x9BB9F8A3, 0x217E7CD2, 0x83E13D2C,
        0xF8D4474F, 0xE39EB970, 0x42C6AE16, 0x993216FA, 0x7B093B5D, 0x98DAFF3C, 0xF718902A, 0x0B1C9CDB,
        0xE58F764B, 0x187636BC, 0x5D7B3BB1, 0xE73DE7DE, 0x92BEC979, 0xCCA6C0B2, 0x304A0979, 0x85AA43D4,
        0x783125BB, 0x6CA8EAA2, 0xE407EAC6, 0x4B5CFC3E, 0x9FBF8C76, 0x15CA20BE, 0xF2CA9FD3, 0x959BD756,
    };
    private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle SHORT = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);

    /** Relation data files: {@code <relfilenode>[_fsm|_vm|_init][.<segment>]}. */
    private static final Pattern RELATION_FILE = Pattern.compile("[0-9]+(_(fsm|vm|init))?(\\.[0-9]+)?");

    private PageChecksums() {
    }

    /** Whether a data-directory path (relative, '/'-separated) is a relation file whose pages carry checksums. */
    public static boolean isRelationFile(String relativePath) {
        String[] parts = relativePath.split("/");
        String name = parts[parts.length - 1];
        if (!RELATION_FILE.matcher(name).matches()) {
            return false;
        }
        return (parts.length == 3 && parts[0].equals("base"))
                || (parts.length == 2 && parts[0].equals("global"))
                || (parts.length == 5 && parts[0].equals("pg_tblspc"));
    }

    /** The 1 GB segment number in a relation file name ({@code 16384.2} is segment 2). */
    public static long segmentOf(String fileName) {
        int dot = fileName.lastIndexOf('.');
        return dot < 0 ? 0 : Long.parseLong(fileName.substring(dot + 1));
    }

    /** The checksum PostgreSQL would store for {@code page[off .. off+8192)} as block {@code blockNumber}. */
    public static int compute(byte[] page, int off, long blockNumber) {
        int[] sums = BASE_OFFSETS.clone();
        int rows = PAGE_SIZE / (4 * N_SUMS);
        for (int i = 0; i < rows; i++) {
            int base = off + i * 4 * N_SUMS;
            for (int j = 0; j < N_SUMS; j++) {
                int value = (int) INT.get(page, base + 4 * j);
                if (i == 0 && (j == 2)) {
                    value &= 0xFFFF0000; // pd_checksum (bytes 8-9) counts as zero
                }
                int tmp = sums[j] ^ value;
                sums[j] = tmp * FNV_PRIME ^ (tmp >>> 17);
            }
        }
        for (int round = 0; round < 2; round++) {
            for (int j = 0; j < N_SUMS; j++) {
                int tmp = sums[j];
                sums[j] = tmp * FNV_PRIME ^ (tmp >>> 17);
            }
        }
        int result = 0;
        for (int s : sums) {
            result ^= s;
        }
        result ^= (int) blockNumber;
        return (int) (Integer.toUnsignedLong(result) % 65535) + 1;
    }

    /**
     * Checks every whole page in {@code data[0..length)}, the bytes of relation segment
     * {@code segment} read from its start; returns the block numbers that fail.
     *
     * @param backupStartLsn pages whose LSN is at or after this are skipped (changing during the backup)
     */
    public static List<Long> verify(byte[] data, int length, long segment, long backupStartLsn) {
        List<Long> failures = new ArrayList<>();
        for (int off = 0; off + PAGE_SIZE <= length; off += PAGE_SIZE) {
            long block = segment * BLOCKS_PER_SEGMENT + off / PAGE_SIZE;
            if (!pageIsValid(data, off, block, backupStartLsn)) {
                failures.add(block);
            }
        }
        return failures;
    }

    /**
     * Like {@link #verify(byte[], int, long, long)} for a chunk of a relation file that starts at
     * block {@code firstBlock} (the file's segment times {@link #BLOCKS_PER_SEGMENT}, plus the chunk's
     * offset in pages); returns the block numbers that fail.
     */
    public static List<Long> verifyFrom(byte[] data, int length, long firstBlock, long backupStartLsn) {
        List<Long> failures = new ArrayList<>();
        for (int off = 0; off + PAGE_SIZE <= length; off += PAGE_SIZE) {
            long block = firstBlock + off / PAGE_SIZE;
            if (!pageIsValid(data, off, block, backupStartLsn)) {
                failures.add(block);
            }
        }
        return failures;
    }

    static boolean pageIsValid(byte[] data, int off, long block, long backupStartLsn) {
        int upper = (short) SHORT.get(data, off + 14) & 0xFFFF;
        if (upper == 0) {
            // PageIsNew: valid only if the whole page is zero
            for (int i = off; i < off + PAGE_SIZE; i += 4) {
                if ((int) INT.get(data, i) != 0) {
                    return false;
                }
            }
            return true;
        }
        long pageLsn = (((int) INT.get(data, off) & 0xFFFFFFFFL) << 32) | ((int) INT.get(data, off + 4) & 0xFFFFFFFFL);
        if (Long.compareUnsigned(pageLsn, backupStartLsn) >= 0) {
            return true;
        }
        int stored = (short) SHORT.get(data, off + 8) & 0xFFFF;
        return stored == compute(data, off, block);
    }
}
