package io.tidemark.events.wal.scan;

import static io.tidemark.events.wal.scan.LittleEndian.i64;
import static io.tidemark.events.wal.scan.LittleEndian.u16;
import static io.tidemark.events.wal.scan.LittleEndian.u32;

import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.WalSegmentName;

/**
 * Checks the page headers inside a piece of a WAL segment (a streamed chunk, bytes
 * {@code [start, start + length)} of the segment) without its records: each page that starts in
 * the piece must carry the magic of the stanza's PostgreSQL version, its own address in
 * {@code segment}, and a timeline not after the segment's; the first page also the stanza's system
 * identifier and segment size. What the records hold is the scanner's job once the piece joins
 * the bytes before it.
 *
 * <p>A segment ended by a switch record ({@code pg_switch_wal}, {@code archive_timeout}) holds only
 * zeros after it, without page headers, and the server streams those zeros as they are: from the
 * first all-zero page on, the piece must hold nothing but zeros (no WAL page follows them). The
 * scanner stops at the switch record, or at the zeros when no switch precedes them.
 */
public final class WalPages {
    private static final int SHORT_HEADER = 24;
    private static final int LONG_HEADER = 40;
    private static final int XLP_LONG_HEADER = 0x0002;
    private static final int XLP_ALL_FLAGS = 0x000F;

    private WalPages() {
    }

    /**
     * The first problem found, or null when every page header in the piece is what the stanza writes.
     *
     * @param raw      the piece's bytes
     * @param start    where the piece starts in the segment
     * @param pageSize the WAL page size (8192 unless the server was built otherwise)
     */
    public static String check(byte[] raw, long start, WalSegmentName segment, long systemIdentifier, int pgMajor,
                               int pageSize) {
        long segStart = segment.startLsn().value();
        long first = ((start + pageSize - 1) / pageSize) * pageSize;
        for (long page = first; page + SHORT_HEADER <= start + raw.length; page += pageSize) {
            int at = (int) (page - start);
            Lsn addr = Lsn.of(segStart + page);
            if (zeros(raw, at, Math.min(raw.length, at + pageSize))) {
                for (int i = at; i < raw.length; i++) {
                    if (raw[i] != 0) {
                        long bad = segStart + start + i;
                        return "page at " + addr + " is zeros, but " + Lsn.of(bad) + " after it is not: WAL never"
                                + " follows the zeros of a switched segment";
                    }
                }
                return null;
            }
            int magic = u16(raw, at);
            PgWalVersion v = PgWalVersion.ofMagic(magic);
            if (v == null || v.major() != pgMajor) {
                return String.format("page at %s has magic 0x%04X, not WAL of PostgreSQL %d", addr, magic, pgMajor);
            }
            int info = u16(raw, at + 2);
            if ((info & ~XLP_ALL_FLAGS) != 0 || ((info & XLP_LONG_HEADER) != 0) != (page == 0)) {
                return String.format("page at %s has invalid flags 0x%04X", addr, info);
            }
            long tli = u32(raw, at + 4);
            if (tli < 1 || tli > segment.timeline().value()) {
                return "page at " + addr + " has timeline " + tli + ", the segment is on timeline " + segment.timeline();
            }
            long pageAddr = i64(raw, at + 8);
            if (pageAddr != segStart + page) {
                return "page at " + addr + " says it is at " + Lsn.of(pageAddr) + ": not a page of " + segment;
            }
            if (page == 0 && at + LONG_HEADER <= raw.length) {
                long sys = i64(raw, at + 24);
                if (sys != systemIdentifier) {
                    return "WAL of system " + Long.toUnsignedString(sys) + ", the stanza is system "
                            + Long.toUnsignedString(systemIdentifier);
                }
                if (u32(raw, at + 32) != segment.segmentSize().bytes()) {
                    return "long header gives segment size " + u32(raw, at + 32) + ", the stanza's is "
                            + segment.segmentSize().bytes();
                }
            }
        }
        return null;
    }

    private static boolean zeros(byte[] raw, int from, int to) {
        for (int i = from; i < to; i++) {
            if (raw[i] != 0) {
                return false;
            }
        }
        return true;
    }
}
