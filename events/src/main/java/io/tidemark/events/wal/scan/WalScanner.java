package io.tidemark.events.wal.scan;

import static io.tidemark.events.wal.scan.LittleEndian.i64;
import static io.tidemark.events.wal.scan.LittleEndian.u16;
import static io.tidemark.events.wal.scan.LittleEndian.u32;
import static io.tidemark.events.wal.scan.LittleEndian.u8;

import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.events.wal.WalSegmentSize;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * Walks the pages and records of one WAL segment (PostgreSQL 13-17) and summarises it.
 *
 * <p>Guarantees: it never throws on bad data (every problem becomes a {@link StopReason} and a
 * detail text), never reads outside the arrays it is given, and always terminates: each step
 * moves forward by at least one aligned record slot or one page.
 *
 * <p>Layout it relies on: the file is a sequence of pages (8 kB by default, size in the long
 * header); the first page has a long header (system identifier, segment size, page size), the
 * others a short one. Records are 8-byte aligned, start with a 24-byte header whose CRC-32C
 * covers the body and then the header up to the CRC field, and may run across page boundaries
 * (the next page then says how many bytes of the record remain) and across the segment end.
 */
public final class WalScanner {

    private static final int SHORT_HEADER = 24;
    private static final int LONG_HEADER = 40;
    private static final int XLP_FIRST_IS_CONTRECORD = 0x0001;
    private static final int XLP_LONG_HEADER = 0x0002;
    private static final int XLP_FIRST_IS_OVERWRITE_CONTRECORD = 0x0008;
    private static final int XLP_ALL_FLAGS = 0x000F;
    /** PostgreSQL refuses to write larger records (XLogRecordMaxSize, 1020 MB). */
    private static final long MAX_RECORD = 1020L * 1024 * 1024;

    private final byte[] data;
    private final int length;
    private final byte[] next;
    private final String fileName;
    private final SummaryBuilder out = new SummaryBuilder();
    private final CRC32C crc = new CRC32C();
    private byte[] scratch = new byte[16 * 1024];

    private PgWalVersion version;
    private RecordDecoder decoder;
    private int segSize;
    private int pageSize;
    private long segStart;
    private long lastPageTli;

    private WalScanner(byte[] data, int length, String fileName, byte[] next) {
        this.data = data;
        this.length = Math.min(length, data.length);
        this.fileName = fileName;
        this.next = next;
    }

    /** Scans a whole segment whose name is taken from its first page header. */
    public static WalSegmentSummary scan(byte[] segment) {
        return scan(segment, segment.length, null, null);
    }

    /**
     * Scans {@code segment[0..length)}.
     *
     * @param fileName    the segment's file name, checked against the page header; may be null
     * @param nextSegment the following segment, used only to finish a record that starts in this
     *                    one and ends in the next; may be null
     */
    public static WalSegmentSummary scan(byte[] segment, int length, String fileName, byte[] nextSegment) {
        return new WalScanner(segment, length, fileName, nextSegment).run();
    }

    /**
     * Scans {@code segment[0..length)} from {@code from}, the start of a record (the end of the last
     * complete record an earlier scan of the same, growing segment found, as streamed WAL grows):
     * only the page header at offset 0 (the long header) and the bytes from {@code from} on are
     * read, so a segment that grows chunk by chunk is not read again from its start. The back link
     * of the first record is not checked (its predecessor is not read). {@code from} 0 is
     * {@link #scan(byte[], int, String, byte[])}.
     */
    public static WalSegmentSummary scanFrom(byte[] segment, int length, String fileName, int from) {
        WalScanner s = new WalScanner(segment, length, fileName, null);
        if (from <= LONG_HEADER) {
            return s.run();
        }
        String problem = s.readFirstPage();
        if (problem != null) {
            return s.out.stop(StopReason.NOT_WAL, Lsn.INVALID, problem);
        }
        return s.walkRecords(align(from));
    }

    /**
     * Reads only the first page's long header: PostgreSQL version, page and segment size, system
     * identifier, and the segment it names (checked against {@code fileName} when given). For
     * checks that need the file's identity and not its records (archive-push): stops with
     * {@link StopReason#NOT_WAL} and the problem, or with {@link StopReason#TRUNCATED} where the
     * records would start.
     */
    public static WalSegmentSummary scanHeader(byte[] segment, String fileName) {
        WalScanner s = new WalScanner(segment, segment.length, fileName, null);
        String problem = s.readFirstPage();
        if (problem != null) {
            return s.out.stop(StopReason.NOT_WAL, Lsn.INVALID, problem);
        }
        return s.out.stop(StopReason.TRUNCATED, s.lsnAt(LONG_HEADER), "only the first page header was read");
    }

    private WalSegmentSummary run() {
        String problem = readFirstPage();
        if (problem != null) {
            return out.stop(StopReason.NOT_WAL, Lsn.INVALID, problem);
        }
        // Where the first record starts: after the long header, past the tail of a record that
        // began in the previous segment (its bytes are counted there, not here).
        long pos = LONG_HEADER;
        int info = u16(data, 2);
        if ((info & XLP_FIRST_IS_CONTRECORD) != 0 && (info & XLP_FIRST_IS_OVERWRITE_CONTRECORD) == 0) {
            long remaining = u32(data, 16);
            while (remaining > 0) {
                long onPage = Math.min(remaining, pageSize - (pos % pageSize));
                out.skippedLeadingBytes += onPage;
                remaining -= onPage;
                pos += onPage;
                if (remaining > 0) {
                    String pageProblem = checkPage(data, (int) pos, false);
                    if (pageProblem != null) {
                        return stopAtPage(pos, pageProblem);
                    }
                    int pinfo = u16(data, (int) pos + 2);
                    if ((pinfo & XLP_FIRST_IS_CONTRECORD) == 0 || u32(data, (int) pos + 16) != remaining) {
                        return out.stop(StopReason.INVALID_RECORD, lsnAt(pos),
                                "continuation of the previous segment's last record is inconsistent at " + lsnAt(pos));
                    }
                    pos += SHORT_HEADER;
                }
            }
            pos = align(pos);
        }
        return walkRecords(pos);
    }

    /** Validates the long header of the first page and sets up the segment geometry. */
    private String readFirstPage() {
        if (length < LONG_HEADER) {
            return "only " + length + " bytes: too short to be a WAL segment";
        }
        int magic = u16(data, 0);
        version = PgWalVersion.ofMagic(magic);
        out.version = version;
        if (version == null) {
            return String.format("unknown page magic 0x%04X: not WAL written by PostgreSQL 13-17", magic);
        }
        int info = u16(data, 2);
        if ((info & XLP_LONG_HEADER) == 0 || (info & ~XLP_ALL_FLAGS) != 0) {
            return String.format("first page has flags 0x%04X, not the long header that starts every segment", info);
        }
        long seg = u32(data, 32);
        long blk = u32(data, 36);
        if (seg < WalSegmentSize.MIN_BYTES || seg > WalSegmentSize.MAX_BYTES || Long.bitCount(seg) != 1) {
            return "long header gives segment size " + seg + ", which PostgreSQL never writes";
        }
        if (blk < 1024 || blk > 65536 || Long.bitCount(blk) != 1 || blk > seg) {
            return "long header gives WAL page size " + blk + ", which PostgreSQL never writes";
        }
        segSize = (int) seg;
        pageSize = (int) blk;
        decoder = new RecordDecoder(version);
        out.pageSize = pageSize;
        out.systemIdentifier = i64(data, 24);
        out.pageTimeline = u32(data, 4);
        lastPageTli = out.pageTimeline;
        segStart = i64(data, 8);
        if (Long.remainderUnsigned(segStart, segSize) != 0) {
            return "first page address " + Lsn.of(segStart) + " is not the start of a segment";
        }
        WalSegmentSize size = WalSegmentSize.ofBytes(seg);
        long segNo = Long.divideUnsigned(segStart, segSize);
        if (out.pageTimeline < 1 || out.pageTimeline > 0xFFFFFFFFL) {
            return "first page has timeline 0";
        }
        if (fileName != null) {
            WalSegmentName named;
            try {
                named = WalSegmentName.parse(fileName.length() >= 24 ? fileName.substring(0, 24) : fileName, size);
            } catch (IllegalArgumentException e) {
                return e.getMessage();
            }
            if (named.segmentNumber() != segNo) {
                return "file is named " + fileName + " but its header says it is segment "
                        + WalSegmentName.of(named.timeline(), segNo, size).logAndSeg();
            }
            if (named.timeline().value() < out.pageTimeline) {
                return "file is named for timeline " + named.timeline() + " but its pages are from timeline " + out.pageTimeline;
            }
            out.segment = named;
        } else {
            out.segment = WalSegmentName.of(TimelineId.of(out.pageTimeline), segNo, size);
        }
        return null;
    }

    private WalSegmentSummary walkRecords(long startPos) {
        long pos = startPos;
        long prevLsn = 0; // 0 = unknown: the first record's back link points into the previous segment
        while (true) {
            if (pos % pageSize == 0) {
                if (pos >= segSize) {
                    return out.stop(StopReason.END_OF_SEGMENT, lsnAt(pos), null);
                }
                String pageProblem = checkPage(data, (int) pos, false);
                if (pageProblem != null) {
                    return stopAtPage(pos, pageProblem);
                }
                int pinfo = u16(data, (int) pos + 2);
                if ((pinfo & XLP_FIRST_IS_CONTRECORD) != 0) {
                    return out.stop(StopReason.INVALID_RECORD, lsnAt(pos),
                            "page at " + lsnAt(pos) + " continues a record, but the previous record had ended");
                }
                pos += SHORT_HEADER;
            }
            if (pos + 4 > length) {
                return out.stop(StopReason.TRUNCATED, lsnAt(pos), truncatedText(pos));
            }
            int p = (int) pos;
            long totLen = u32(data, p);
            Lsn recLsn = lsnAt(pos);
            if (totLen == 0) {
                return out.stop(StopReason.END_OF_WAL, recLsn, "zeroed space where the next record would start: end of WAL");
            }
            if (totLen < RecordDecoder.HEADER_SIZE || totLen > MAX_RECORD) {
                return out.stop(StopReason.INVALID_RECORD, recLsn, "record at " + recLsn + " has invalid length " + totLen);
            }
            long pageEnd = (pos / pageSize + 1) * pageSize;
            byte[] rec;
            int recOff;
            if (pos + totLen <= pageEnd) {
                if (pos + totLen > length) {
                    return out.stop(StopReason.TRUNCATED, recLsn, truncatedText(pos + totLen));
                }
                rec = data;
                recOff = p;
            } else {
                Assembly a = assemble(pos, (int) totLen);
                if (a.stop != null) {
                    return a.stop;
                }
                if (a.overwrittenAt >= 0) {
                    // The record we were reading was abandoned by recovery; the page that should
                    // have continued it starts fresh with the record that overwrote it.
                    pos = a.overwrittenAt;
                    prevLsn = 0;
                    continue;
                }
                rec = scratch;
                recOff = 0;
            }
            String headerProblem = checkHeader(rec, recOff, prevLsn, recLsn);
            if (headerProblem != null) {
                return out.stop(StopReason.INVALID_RECORD, recLsn, headerProblem);
            }
            crc.reset();
            crc.update(rec, recOff + RecordDecoder.HEADER_SIZE, (int) totLen - RecordDecoder.HEADER_SIZE);
            crc.update(rec, recOff, 20);
            long expected = u32(rec, recOff + 20);
            if (crc.getValue() != expected) {
                return out.stop(StopReason.BAD_CRC, recLsn, String.format(
                        "record at %s fails its CRC-32C check (stored %08X, computed %08X)", recLsn, expected, crc.getValue()));
            }
            String bodyProblem = decoder.decode(rec, recOff, (int) totLen, recLsn, out);
            if (bodyProblem != null) {
                return out.stop(StopReason.INVALID_RECORD, recLsn, "record at " + recLsn + ": " + bodyProblem);
            }
            out.records++;
            if (out.firstRecordLsn == null) {
                out.firstRecordLsn = recLsn;
            }
            out.lastRecordLsn = recLsn;
            long endPos = endPosition(pos, totLen);
            out.endLsn = lsnAt(endPos);
            prevLsn = recLsn.value();
            if (isSwitch(rec, recOff)) {
                return stopAfterSwitch(recLsn, endPos);
            }
            if (endPos > segSize) {
                // Finished with the help of the next segment: this segment's walk is over.
                return out.stop(StopReason.END_OF_SEGMENT, out.endLsn, null);
            }
            pos = align(endPos);
        }
    }

    private record Assembly(WalSegmentSummary stop, long overwrittenAt) {
        static final Assembly DONE = new Assembly(null, -1);
    }

    /**
     * Copies a record that crosses page (and possibly segment) boundaries into {@link #scratch},
     * checking every continuation page header on the way.
     */
    private Assembly assemble(long pos, int totLen) {
        Lsn recLsn = lsnAt(pos);
        long pageEnd = (pos / pageSize + 1) * pageSize;
        int first = (int) (pageEnd - pos);
        if (pageEnd > length) {
            return new Assembly(out.stop(StopReason.TRUNCATED, recLsn, truncatedText(pageEnd)), -1);
        }
        ensureScratch(first);
        System.arraycopy(data, (int) pos, scratch, 0, first);
        int have = first;
        long page = pageEnd;
        while (have < totLen) {
            byte[] buf;
            int local;
            if (page < segSize) {
                buf = data;
                local = (int) page;
                if (local + SHORT_HEADER > length) {
                    return new Assembly(out.stop(StopReason.TRUNCATED, recLsn, truncatedText(page + SHORT_HEADER)), -1);
                }
            } else {
                if (next == null) {
                    out.continuesAt = recLsn;
                    return new Assembly(out.stop(StopReason.END_OF_SEGMENT, lsnAt(segSize),
                            "the record at " + recLsn + " continues in the next segment"), -1);
                }
                buf = next;
                local = (int) (page - segSize);
                if (local + SHORT_HEADER > next.length) {
                    out.continuesAt = recLsn;
                    return new Assembly(out.stop(StopReason.END_OF_SEGMENT, lsnAt(segSize),
                            "the record at " + recLsn + " continues past the end of the supplied next segment"), -1);
                }
            }
            String pageProblem = checkPage(buf, local, page >= segSize);
            if (pageProblem != null) {
                if (page >= segSize) {
                    out.continuesAt = recLsn;
                    return new Assembly(out.stop(StopReason.END_OF_SEGMENT, lsnAt(segSize),
                            "the record at " + recLsn + " continues in the next segment, which is not valid: " + pageProblem), -1);
                }
                return new Assembly(stopAtPage(page, pageProblem), -1);
            }
            int pinfo = u16(buf, local + 2);
            if ((pinfo & XLP_FIRST_IS_OVERWRITE_CONTRECORD) != 0) {
                if (page < segSize) {
                    return new Assembly(null, page + SHORT_HEADER);
                }
                // Abandoned by recovery in the next segment: the record never completes anywhere.
                return new Assembly(out.stop(StopReason.END_OF_SEGMENT, lsnAt(segSize),
                        "the record at " + recLsn + " was abandoned: the next segment overwrites its continuation"), -1);
            }
            long remLen = u32(buf, local + 16);
            if ((pinfo & XLP_FIRST_IS_CONTRECORD) == 0 || remLen != totLen - have) {
                return new Assembly(out.stop(StopReason.INVALID_RECORD, recLsn, String.format(
                        "record at %s (%d bytes) is not continued correctly on the page at %s (flags 0x%04X, %d bytes remaining, expected %d)",
                        recLsn, totLen, lsnAt(page), pinfo, remLen, totLen - have)), -1);
            }
            int header = (pinfo & XLP_LONG_HEADER) != 0 ? LONG_HEADER : SHORT_HEADER;
            int chunk = (int) Math.min(totLen - have, pageSize - header);
            int limit = buf == data ? length : buf.length;
            if (local + header + chunk > limit) {
                if (buf == data) {
                    return new Assembly(out.stop(StopReason.TRUNCATED, recLsn, truncatedText(page + header + chunk)), -1);
                }
                out.continuesAt = recLsn;
                return new Assembly(out.stop(StopReason.END_OF_SEGMENT, lsnAt(segSize),
                        "the record at " + recLsn + " continues past the end of the supplied next segment"), -1);
            }
            ensureScratch(have + chunk);
            System.arraycopy(buf, local + header, scratch, have, chunk);
            have += chunk;
            page += pageSize;
        }
        return Assembly.DONE;
    }

    /**
     * Checks a page header at {@code buf[local]}; {@code inNext} marks the first pages of the
     * following segment, whose addresses continue this segment's.
     */
    private String checkPage(byte[] buf, int local, boolean inNext) {
        int limit = buf == data ? length : buf.length;
        if (local + SHORT_HEADER > limit) {
            return "TRUNCATED";
        }
        long expectedAddr = segStart + (inNext ? segSize + local : local);
        int magic = u16(buf, local);
        int info = u16(buf, local + 2);
        long addr = i64(buf, local + 8);
        if (magic == 0 && info == 0 && addr == 0) {
            return "ZEROED";
        }
        if (magic != version.magic()) {
            return String.format("page at %s has magic 0x%04X, expected 0x%04X", Lsn.of(expectedAddr), magic, version.magic());
        }
        if ((info & ~XLP_ALL_FLAGS) != 0) {
            return String.format("page at %s has invalid flags 0x%04X", Lsn.of(expectedAddr), info);
        }
        if (addr != expectedAddr) {
            return "ADDRESS:" + Lsn.of(addr);
        }
        boolean segmentStart = inNext && local == 0;
        if (((info & XLP_LONG_HEADER) != 0) != segmentStart) {
            return String.format("page at %s has flags 0x%04X: long header %s", Lsn.of(expectedAddr), info,
                    segmentStart ? "missing" : "where none belongs");
        }
        if (segmentStart && (i64(buf, 24) != out.systemIdentifier || u32(buf, 32) != segSize || u32(buf, 36) != pageSize)) {
            return "next segment belongs to another cluster or has another geometry";
        }
        long tli = u32(buf, local + 4);
        if (tli < lastPageTli) {
            return "page at " + Lsn.of(expectedAddr) + " has timeline " + tli + " after pages of timeline " + lastPageTli;
        }
        lastPageTli = tli;
        return null;
    }

    private WalSegmentSummary stopAtPage(long pos, String problem) {
        Lsn at = lsnAt(pos);
        if (problem.equals("TRUNCATED")) {
            return out.stop(StopReason.TRUNCATED, at, truncatedText(pos + SHORT_HEADER));
        }
        if (problem.equals("ZEROED")) {
            return out.stop(StopReason.END_OF_WAL, at, "zeroed page at " + at + ": end of WAL");
        }
        if (problem.startsWith("ADDRESS:")) {
            return out.stop(StopReason.INVALID_PAGE_ADDRESS, at, "page at " + at + " carries address "
                    + problem.substring(8) + ": stale data from a recycled segment, end of WAL");
        }
        return out.stop(StopReason.BAD_PAGE_HEADER, at, problem);
    }

    private String checkHeader(byte[] rec, int off, long prevLsn, Lsn recLsn) {
        long xlPrev = i64(rec, off + 8);
        if (prevLsn != 0 && xlPrev != prevLsn) {
            return "record at " + recLsn + " links back to " + Lsn.of(xlPrev) + ", expected " + Lsn.of(prevLsn);
        }
        if (prevLsn == 0 && Long.compareUnsigned(xlPrev, recLsn.value()) >= 0) {
            return "record at " + recLsn + " links back to a later position " + Lsn.of(xlPrev);
        }
        return null;
    }

    private boolean isSwitch(byte[] rec, int off) {
        return u8(rec, off + 17) == RecordDecoder.RM_XLOG && (u8(rec, off + 16) & 0xF0) == RecordDecoder.XLOG_SWITCH;
    }

    /** After XLOG_SWITCH the rest of the segment holds only page headers and zeros; check that. */
    private WalSegmentSummary stopAfterSwitch(Lsn recLsn, long endPos) {
        long pos = endPos;
        while (pos < segSize) {
            if (pos >= length) {
                return out.stop(StopReason.SWITCH, recLsn, "segment switched at " + recLsn + "; file ends early at " + lsnAt(pos));
            }
            if (pos % pageSize == 0) {
                String problem = checkPage(data, (int) pos, false);
                if (problem != null && !problem.equals("ZEROED")) {
                    return out.stop(StopReason.SWITCH, recLsn,
                            "segment switched at " + recLsn + "; the tail is not clean: " + problem);
                }
                pos += SHORT_HEADER;
                continue;
            }
            int to = (int) Math.min(Math.min((pos / pageSize + 1) * pageSize, segSize), length);
            int nonZero = firstNonZero(data, (int) pos, to);
            if (nonZero >= 0) {
                return out.stop(StopReason.SWITCH, recLsn,
                        "segment switched at " + recLsn + "; non-zero byte in the tail at " + lsnAt(nonZero));
            }
            pos = to;
        }
        return out.stop(StopReason.SWITCH, recLsn, null);
    }

    private static int firstNonZero(byte[] b, int from, int to) {
        int mismatch = Arrays.mismatch(b, from, to, new byte[to - from], 0, to - from);
        return mismatch < 0 ? -1 : from + mismatch;
    }

    /** Where a record of {@code totLen} bytes starting at {@code pos} ends, counting the page headers it crosses. */
    private long endPosition(long pos, long totLen) {
        long pageEnd = (pos / pageSize + 1) * pageSize;
        long left = totLen - (pageEnd - pos);
        if (left <= 0) {
            return pos + totLen;
        }
        long p = pageEnd;
        while (true) {
            int header = (p % segSize == 0) ? LONG_HEADER : SHORT_HEADER;
            long usable = pageSize - header;
            if (left <= usable) {
                return p + header + left;
            }
            left -= usable;
            p += pageSize;
        }
    }

    private void ensureScratch(int size) {
        if (scratch.length < size) {
            scratch = Arrays.copyOf(scratch, Math.max(size, scratch.length * 2));
        }
    }

    private Lsn lsnAt(long pos) {
        return Lsn.of(segStart + pos);
    }

    private String truncatedText(long needed) {
        return "data ends at byte " + length + " of a " + segSize + "-byte segment (needed " + needed + ")";
    }

    private static long align(long pos) {
        return (pos + 7) & ~7L;
    }
}
