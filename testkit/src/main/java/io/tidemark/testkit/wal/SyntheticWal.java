package io.tidemark.testkit.wal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Writes WAL byte for byte the way PostgreSQL lays it out (page headers, 8-byte aligned records,
 * CRC-32C, continuation records across pages and segments, switch records), for unit tests that
 * need exact control: damage at a chosen byte, a record across a chosen boundary, an
 * overwritten continuation. Real WAL from real clusters is the other half of the tests.
 *
 * <p>The stream starts at a segment boundary; {@link #segment(int)} returns the n-th segment.
 */
public final class SyntheticWal {
    public static final int PG13 = 0xD106;
    public static final int PG15 = 0xD110;
    public static final int PG17 = 0xD116;

    private static final int SHORT_HEADER = 24;
    private static final int LONG_HEADER = 40;
    private static final long PG_EPOCH_MICROS = 946_684_800_000_000L;

    private final int magic;
    private final int segSize;
    private final int pageSize;
    private final long tli;
    private final long sysid;
    private final long startSegNo;
    private final List<byte[]> segments = new ArrayList<>();
    private long pos;           // stream offset of the next byte to write
    private long lastRecordLsn; // xl_prev for the next record
    private final List<Long> recordLsns = new ArrayList<>();

    public SyntheticWal(int magic, int segSize, int pageSize, long tli, long startSegNo, long sysid) {
        this.magic = magic;
        this.segSize = segSize;
        this.pageSize = pageSize;
        this.tli = tli;
        this.sysid = sysid;
        this.startSegNo = startSegNo;
    }

    public static SyntheticWal pg15OneMb() {
        return new SyntheticWal(PG15, 1 << 20, 8192, 1, 5, 7_300_000_000_000_000_001L);
    }

    /** Starts the stream in the middle of a record of which {@code remaining} bytes are left. */
    public SyntheticWal continuationOfPreviousSegment(int remaining) {
        if (pos != 0) {
            throw new IllegalStateException("only at the very start");
        }
        int written = 0;
        while (written < remaining) {
            if (pos % pageSize == 0) {
                writePageHeader(pos, remaining - written, false);
                pos += headerSize(pos);
            }
            int chunk = (int) Math.min(remaining - written, pageSize - (pos % pageSize));
            byte[] filler = new byte[chunk];
            Arrays.fill(filler, (byte) 0x5A);
            put(pos, filler);
            pos += chunk;
            written += chunk;
        }
        pos = align(pos);
        lastRecordLsn = lsn(0) - 64; // some record in the previous segment
        return this;
    }

    public long commit(long xid, long unixMicros) {
        return record(1, 0x00, xid, le8(unixMicros - PG_EPOCH_MICROS));
    }

    public long abort(long xid, long unixMicros) {
        return record(1, 0x20, xid, le8(unixMicros - PG_EPOCH_MICROS));
    }

    /**
     * COMMIT PREPARED as PostgreSQL writes it: header xid 0, body with xinfo flags for dbinfo,
     * subtransactions and relfile locators before the prepared xid, so a decoder must skip them.
     */
    public long commitPrepared(long preparedXid, long unixMicros, int subxacts, int rels) {
        return prepared(0x30, preparedXid, unixMicros, subxacts, rels);
    }

    public long abortPrepared(long preparedXid, long unixMicros, int subxacts, int rels) {
        return prepared(0x40, preparedXid, unixMicros, subxacts, rels);
    }

    private long prepared(int op, long preparedXid, long unixMicros, int subxacts, int rels) {
        ByteBuffer b = ByteBuffer.allocate(8 + 4 + 8 + 4 + 4 * subxacts + 4 + 12 * rels + 4 + 8).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(unixMicros - PG_EPOCH_MICROS);
        b.putInt(1 | (subxacts > 0 ? 2 : 0) | (rels > 0 ? 4 : 0) | 16); // dbinfo, subxacts, relfiles, twophase
        b.putInt(5).putInt(1663);
        if (subxacts > 0) {
            b.putInt(subxacts);
            for (int i = 0; i < subxacts; i++) {
                b.putInt((int) preparedXid + 1 + i);
            }
        }
        if (rels > 0) {
            b.putInt(rels);
            for (int i = 0; i < rels; i++) {
                b.putInt(1663).putInt(5).putInt(16384 + i);
            }
        }
        b.putInt((int) preparedXid);
        return record(1, op | 0x80, 0, Arrays.copyOf(b.array(), b.position()));
    }

    public long restorePoint(String name, long unixMicros) {
        ByteBuffer b = ByteBuffer.allocate(8 + 64).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(unixMicros - PG_EPOCH_MICROS);
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        b.put(n, 0, Math.min(n.length, 63));
        return record(0, 0x70, 0, b.array());
    }

    /** An online checkpoint record (88-byte body); the time is Unix seconds, as pg_time_t is. */
    public long checkpoint(long redoLsn, long unixSeconds) {
        ByteBuffer b = ByteBuffer.allocate(88).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(0, redoLsn).putInt(8, (int) tli).putInt(12, (int) tli).putLong(64, unixSeconds);
        return record(0, 0x10, 0, b.array());
    }

    /** A generic record (logical message rmgr) whose main data has {@code size} bytes. */
    public long message(int size) {
        byte[] body = new byte[size];
        for (int i = 0; i < size; i++) {
            body[i] = (byte) (i * 31 + 7);
        }
        return record(21, 0x00, 0, body);
    }

    /** A record with one block reference carrying a full-page image and block data, plus main data. */
    public long withPageImage(int imageLength, int blockData, int mainData) {
        ByteBuffer h = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        h.put((byte) 0).put((byte) (0x10 | 0x20)).putShort((short) blockData);     // id 0, image + data
        h.putShort((short) imageLength).putShort((short) 0).put((byte) 0x02);       // image header (PG15 APPLY)
        h.putInt(1663).putInt(5).putInt(16384).putInt(42);                          // relfile locator, block
        byte[] headers = Arrays.copyOf(h.array(), h.position());
        byte[] payload = new byte[imageLength + blockData];
        Arrays.fill(payload, (byte) 0x33);
        byte[] main = new byte[mainData];
        Arrays.fill(main, (byte) 0x44);
        return rawRecord(10, 0x00, 0, concat(headers, mainDataHeader(mainData), payload, main));
    }

    /** Fills with generic records until fewer than {@code leave} bytes are left in the current segment. */
    public int fillSegmentUntil(int leave, int recordSize) {
        int n = 0;
        long segEnd = (pos / segSize + 1) * (long) segSize;
        while (segEnd - pos > leave + recordSize + 64) {
            message(recordSize);
            n++;
        }
        return n;
    }

    /** XLOG_SWITCH, then the rest of the segment as PostgreSQL leaves it: page headers and zeros. */
    public long switchSegment() {
        long at = rawRecord(0, 0x40, 0, new byte[0]);
        long segEnd = ((pos - 1) / segSize + 1) * (long) segSize;
        long page = ((pos + pageSize - 1) / pageSize) * (long) pageSize;
        for (; page < segEnd; page += pageSize) {
            writePageHeader(page, 0, false);
        }
        pos = segEnd;
        return at;
    }

    /** The record at the current position is begun but abandoned, then overwritten (as after a crash). */
    public long abandonedThenOverwritten(int abandonedSize, long unixMicros) {
        // Write the abandoned record's first part only: up to the end of the current page.
        long recStart = pos % pageSize == 0 ? pos + headerSize(pos) : pos;
        if (pos % pageSize == 0) {
            writePageHeader(pos, 0, false);
        }
        long pageEnd = (recStart / pageSize + 1) * (long) pageSize;
        byte[] rec = buildRecord(21, 0, 0, concat(mainDataHeader(abandonedSize), new byte[abandonedSize]), lastRecordLsn);
        put(recStart, Arrays.copyOf(rec, (int) (pageEnd - recStart)));
        long abandonedLsn = lsn(recStart);
        pos = pageEnd;
        // The next page says "overwritten", and starts with the overwrite record.
        writePageHeader(pos, 0, true);
        pos += headerSize(pos);
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(abandonedLsn).putLong(unixMicros - PG_EPOCH_MICROS);
        return rawRecord(0, 0xD0, 0, concat(mainDataHeader(16), b.array()));
    }

    /** Marks every page after the write position in the current segment as left over from an older segment. */
    public SyntheticWal recycledTail(long olderSegNo) {
        long segEnd = (pos / segSize + 1) * (long) segSize;
        long page = ((pos + pageSize - 1) / pageSize) * (long) pageSize;
        for (; page < segEnd; page += pageSize) {
            long stale = olderSegNo * segSize + page % segSize;
            byte[] h = new byte[SHORT_HEADER];
            ByteBuffer.wrap(h).order(ByteOrder.LITTLE_ENDIAN).putShort(0, (short) magic).putInt(4, (int) tli).putLong(8, stale);
            put(page, h);
            byte[] junk = new byte[64];
            Arrays.fill(junk, (byte) 0x77);
            put(page + SHORT_HEADER, junk);
        }
        return this;
    }

    public byte[] segment(int index) {
        while (segments.size() <= index) {
            segments.add(new byte[segSize]);
        }
        return segments.get(index);
    }

    public String segmentName(int index) {
        long segNo = startSegNo + index;
        long perLog = 0x1_0000_0000L / segSize;
        return String.format("%08X%08X%08X", tli, segNo / perLog, segNo % perLog);
    }

    public List<Long> recordLsns() {
        return recordLsns;
    }

    public long position() {
        return lsn(pos);
    }

    public long lsn(long streamOffset) {
        return startSegNo * segSize + streamOffset;
    }

    private long record(int rmid, int info, long xid, byte[] mainData) {
        return rawRecord(rmid, info, xid, concat(mainDataHeader(mainData.length), mainData));
    }

    private static byte[] mainDataHeader(int length) {
        if (length == 0) {
            return new byte[0];
        }
        if (length <= 255) {
            return new byte[] {(byte) 255, (byte) length};
        }
        return ByteBuffer.allocate(5).order(ByteOrder.LITTLE_ENDIAN).put((byte) 254).putInt(length).array();
    }

    private long rawRecord(int rmid, int info, long xid, byte[] body) {
        if (pos % pageSize == 0) {
            writePageHeader(pos, 0, false);
            pos += headerSize(pos);
        }
        long recLsn = lsn(pos);
        byte[] rec = buildRecord(rmid, info, xid, body, lastRecordLsn);
        int written = 0;
        while (written < rec.length) {
            if (pos % pageSize == 0) {
                writePageHeader(pos, rec.length - written, false);
                pos += headerSize(pos);
            }
            int chunk = (int) Math.min(rec.length - written, pageSize - (pos % pageSize));
            put(pos, Arrays.copyOfRange(rec, written, written + chunk));
            pos += chunk;
            written += chunk;
        }
        pos = align(pos);
        lastRecordLsn = recLsn;
        recordLsns.add(recLsn);
        return recLsn;
    }

    private static byte[] buildRecord(int rmid, int info, long xid, byte[] body, long prev) {
        byte[] rec = new byte[24 + body.length];
        ByteBuffer b = ByteBuffer.wrap(rec).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, rec.length).putInt(4, (int) xid).putLong(8, prev);
        rec[16] = (byte) info;
        rec[17] = (byte) rmid;
        System.arraycopy(body, 0, rec, 24, body.length);
        CRC32C crc = new CRC32C();
        crc.update(rec, 24, body.length);
        crc.update(rec, 0, 20);
        b.putInt(20, (int) crc.getValue());
        return rec;
    }

    private void writePageHeader(long streamOffset, long remaining, boolean overwrite) {
        boolean segStart = streamOffset % segSize == 0;
        byte[] h = new byte[segStart ? LONG_HEADER : SHORT_HEADER];
        ByteBuffer b = ByteBuffer.wrap(h).order(ByteOrder.LITTLE_ENDIAN);
        int info = (remaining > 0 ? 0x0001 : 0) | (segStart ? 0x0002 : 0) | (overwrite ? 0x0008 : 0);
        b.putShort(0, (short) magic).putShort(2, (short) info).putInt(4, (int) tli).putLong(8, lsn(streamOffset))
                .putInt(16, (int) remaining);
        if (segStart) {
            b.putLong(24, sysid).putInt(32, segSize).putInt(36, pageSize);
        }
        put(streamOffset, h);
    }

    private int headerSize(long streamOffset) {
        return streamOffset % segSize == 0 ? LONG_HEADER : SHORT_HEADER;
    }

    private void put(long streamOffset, byte[] bytes) {
        int seg = (int) (streamOffset / segSize);
        int off = (int) (streamOffset % segSize);
        System.arraycopy(bytes, 0, segment(seg), off, bytes.length);
    }

    private static long align(long p) {
        return (p + 7) & ~7L;
    }

    private static byte[] le8(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    }

    private static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int o = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, o, p.length);
            o += p.length;
        }
        return out;
    }
}
