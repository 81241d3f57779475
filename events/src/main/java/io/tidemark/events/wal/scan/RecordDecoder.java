package io.tidemark.events.wal.scan;

import static io.tidemark.events.wal.scan.LittleEndian.i32;
import static io.tidemark.events.wal.scan.LittleEndian.i64;
import static io.tidemark.events.wal.scan.LittleEndian.u16;
import static io.tidemark.events.wal.scan.LittleEndian.u32;
import static io.tidemark.events.wal.scan.LittleEndian.u8;

import io.tidemark.events.wal.Lsn;
import java.nio.charset.StandardCharsets;

/**
 * Decodes the body of one complete, CRC-verified record: walks the block references to find
 * the main data (always last), then reads the few record types a recovery window needs.
 * Every read is bounds-checked against the record; a malformed body yields an error text.
 */
final class RecordDecoder {
    static final int HEADER_SIZE = 24;

    static final int RM_XLOG = 0;
    static final int RM_XACT = 1;

    // XLOG rmgr info codes (pg_control.h)
    static final int XLOG_CHECKPOINT_SHUTDOWN = 0x00;
    static final int XLOG_CHECKPOINT_ONLINE = 0x10;
    static final int XLOG_SWITCH = 0x40;
    static final int XLOG_BACKUP_END = 0x50;
    static final int XLOG_RESTORE_POINT = 0x70;
    static final int XLOG_END_OF_RECOVERY = 0x90;
    static final int XLOG_OVERWRITE_CONTRECORD = 0xD0;

    // Transaction rmgr info codes (xact.h)
    private static final int XACT_OPMASK = 0x70;
    private static final int XACT_HAS_INFO = 0x80;
    private static final int XACT_COMMIT = 0x00;
    private static final int XACT_ABORT = 0x20;
    private static final int XACT_COMMIT_PREPARED = 0x30;
    private static final int XACT_ABORT_PREPARED = 0x40;

    private static final int XINFO_HAS_DBINFO = 1;
    private static final int XINFO_HAS_SUBXACTS = 1 << 1;
    private static final int XINFO_HAS_RELFILES = 1 << 2;
    private static final int XINFO_HAS_INVALS = 1 << 3;
    private static final int XINFO_HAS_TWOPHASE = 1 << 4;
    private static final int XINFO_HAS_DROPPED_STATS = 1 << 8;

    private static final int RELFILE_LOCATOR_SIZE = 12;
    private static final int INVAL_MESSAGE_SIZE = 16;
    private static final int STATS_ITEM_SIZE = 12;
    private static final int RESTORE_POINT_NAME_MAX = 64;

    // Block reference header ids and flags (xlogrecord.h)
    private static final int MAX_BLOCK_ID = 32;
    private static final int ID_TOPLEVEL_XID = 252;
    private static final int ID_ORIGIN = 253;
    private static final int ID_DATA_LONG = 254;
    private static final int ID_DATA_SHORT = 255;
    private static final int BKPBLOCK_HAS_IMAGE = 0x10;
    private static final int BKPBLOCK_HAS_DATA = 0x20;
    private static final int BKPBLOCK_SAME_REL = 0x80;
    private static final int BKPIMAGE_HAS_HOLE = 0x01;

    private final PgWalVersion version;

    RecordDecoder(PgWalVersion version) {
        this.version = version;
    }

    /**
     * Decodes the record at {@code rec[off .. off+totLen)} and adds what it means to {@code out}.
     * Returns null when the record is well formed, else why it is not.
     */
    String decode(byte[] rec, int off, int totLen, Lsn lsn, SummaryBuilder out) {
        int end = off + totLen;
        int p = off + HEADER_SIZE;
        long payload = 0; // bytes of block images, block data and main data announced by the headers
        int mainLength = 0;
        int images = 0;
        boolean sawMain = false;
        while (p < end - payload && !sawMain) {
            int id = u8(rec, p++);
            if (id == ID_DATA_SHORT) {
                if (p + 1 > end) {
                    return "record ends inside its main-data header";
                }
                mainLength = u8(rec, p);
                p += 1;
                sawMain = true;
            } else if (id == ID_DATA_LONG) {
                if (p + 4 > end) {
                    return "record ends inside its main-data header";
                }
                long len = u32(rec, p);
                if (len > totLen) {
                    return "main data length " + len + " exceeds the record length " + totLen;
                }
                mainLength = (int) len;
                p += 4;
                sawMain = true;
            } else if (id == ID_ORIGIN) {
                p += 2;
            } else if (id == ID_TOPLEVEL_XID) {
                p += 4;
            } else if (id <= MAX_BLOCK_ID) {
                if (p + 3 > end) {
                    return "record ends inside block reference " + id;
                }
                int forkFlags = u8(rec, p);
                int dataLength = u16(rec, p + 1);
                p += 3;
                if ((forkFlags & BKPBLOCK_HAS_DATA) == 0 && dataLength != 0) {
                    return "block reference " + id + " has data length " + dataLength + " but no data flag";
                }
                payload += dataLength;
                if ((forkFlags & BKPBLOCK_HAS_IMAGE) != 0) {
                    if (p + 5 > end) {
                        return "record ends inside the image header of block " + id;
                    }
                    int imageLength = u16(rec, p);
                    int bimgInfo = u8(rec, p + 4);
                    p += 5;
                    if ((bimgInfo & BKPIMAGE_HAS_HOLE) != 0 && version.imageCompressed(bimgInfo)) {
                        p += 2;
                    }
                    payload += imageLength;
                    images++;
                }
                if ((forkFlags & BKPBLOCK_SAME_REL) == 0) {
                    p += RELFILE_LOCATOR_SIZE;
                }
                p += 4; // block number
            } else {
                return "invalid block reference id " + id;
            }
        }
        payload += mainLength;
        if (p > end || (long) (end - p) != payload) {
            return "block headers announce " + payload + " payload bytes but " + (end - p) + " remain";
        }
        out.fullPageImages += images;

        int rmid = u8(rec, off + 17);
        int info = u8(rec, off + 16) & 0xF0;
        int main = end - mainLength;
        if (rmid == RM_XACT) {
            return decodeTransaction(rec, main, mainLength, info, u32(rec, off + 4), lsn, out);
        }
        if (rmid == RM_XLOG) {
            return decodeXlog(rec, main, mainLength, info, lsn, out);
        }
        return null;
    }

    private String decodeTransaction(byte[] b, int p, int len, int info, long headerXid, Lsn lsn, SummaryBuilder out) {
        int op = info & XACT_OPMASK;
        TransactionEnd.Kind kind = switch (op) {
            case XACT_COMMIT -> TransactionEnd.Kind.COMMIT;
            case XACT_ABORT -> TransactionEnd.Kind.ABORT;
            case XACT_COMMIT_PREPARED -> TransactionEnd.Kind.COMMIT_PREPARED;
            case XACT_ABORT_PREPARED -> TransactionEnd.Kind.ABORT_PREPARED;
            default -> null;
        };
        if (kind == null) {
            return null; // prepare, assignment, invalidations: nothing a window needs
        }
        int end = p + len;
        if (len < 8) {
            return "transaction record too short for its timestamp";
        }
        long xactTime = i64(b, p);
        p += 8;
        long xinfo = 0;
        if ((info & XACT_HAS_INFO) != 0) {
            if (p + 4 > end) {
                return "transaction record ends inside xinfo";
            }
            xinfo = u32(b, p);
            p += 4;
        }
        long xid = headerXid;
        if ((xinfo & XINFO_HAS_TWOPHASE) != 0) {
            // The prepared xid sits behind the variable-length arrays: skip them in order.
            if ((xinfo & XINFO_HAS_DBINFO) != 0) {
                p += 8;
            }
            if ((xinfo & XINFO_HAS_SUBXACTS) != 0) {
                p = skipArray(b, p, end, 4);
            }
            if ((xinfo & XINFO_HAS_RELFILES) != 0) {
                p = skipArray(b, p, end, RELFILE_LOCATOR_SIZE);
            }
            if ((xinfo & XINFO_HAS_DROPPED_STATS) != 0 && version.hasDroppedStats()) {
                p = skipArray(b, p, end, STATS_ITEM_SIZE);
            }
            if ((xinfo & XINFO_HAS_INVALS) != 0 && kind.isCommit()) {
                p = skipArray(b, p, end, INVAL_MESSAGE_SIZE);
            }
            if (p < 0 || p + 4 > end) {
                return "transaction record ends before its two-phase xid";
            }
            xid = u32(b, p);
        }
        out.transactionEnd(new TransactionEnd(kind, xid, PgTime.fromTimestampTz(xactTime), lsn));
        return null;
    }

    /** Skips an {@code int count} followed by count items; -1 when it runs past {@code end}. */
    private static int skipArray(byte[] b, int p, int end, int itemSize) {
        if (p < 0 || p + 4 > end) {
            return -1;
        }
        int count = i32(b, p);
        long next = (long) p + 4 + (long) count * itemSize;
        if (count < 0 || next > end) {
            return -1;
        }
        return (int) next;
    }

    private String decodeXlog(byte[] b, int p, int len, int info, Lsn lsn, SummaryBuilder out) {
        switch (info) {
            case XLOG_CHECKPOINT_SHUTDOWN, XLOG_CHECKPOINT_ONLINE -> {
                if (len < 72) {
                    return "checkpoint record too short: " + len + " bytes";
                }
                out.checkpoints.add(new Checkpoint(lsn, Lsn.of(i64(b, p)), PgTime.fromPgTime(i64(b, p + 64)),
                        u32(b, p + 8), info == XLOG_CHECKPOINT_SHUTDOWN));
            }
            case XLOG_RESTORE_POINT -> {
                if (len < 8 + RESTORE_POINT_NAME_MAX) {
                    return "restore point record too short: " + len + " bytes";
                }
                int nameStart = p + 8;
                int nameEnd = nameStart;
                while (nameEnd < nameStart + RESTORE_POINT_NAME_MAX && b[nameEnd] != 0) {
                    nameEnd++;
                }
                String name = new String(b, nameStart, nameEnd - nameStart, StandardCharsets.UTF_8);
                out.restorePoints.add(new RestorePoint(name, PgTime.fromTimestampTz(i64(b, p)), lsn));
            }
            case XLOG_END_OF_RECOVERY -> {
                if (len < 16) {
                    return "end-of-recovery record too short: " + len + " bytes";
                }
                out.endsOfRecovery.add(new EndOfRecovery(lsn, PgTime.fromTimestampTz(i64(b, p)),
                        u32(b, p + 8), u32(b, p + 12)));
            }
            case XLOG_BACKUP_END -> {
                if (len < 8) {
                    return "backup-end record too short: " + len + " bytes";
                }
                out.backupEnds.add(new BackupEnd(lsn, Lsn.of(i64(b, p))));
            }
            case XLOG_OVERWRITE_CONTRECORD -> {
                if (len < 16) {
                    return "overwrite-contrecord record too short: " + len + " bytes";
                }
                out.overwrittenContrecords.add(new OverwrittenContrecord(lsn, Lsn.of(i64(b, p)),
                        PgTime.fromTimestampTz(i64(b, p + 8))));
            }
            default -> {
                // other XLOG records (FPIs, parameter changes, nextoid...) carry nothing a window needs
            }
        }
        return null;
    }
}
