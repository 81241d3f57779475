package io.tidemark.functions.catalog;

import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalFileName;
import io.tidemark.events.wal.WalSegmentName;
import java.util.Locale;

/**
 * Partition and sort keys of the catalog table. One partition per stanza:
 * <pre>
 * PK = STANZA#&lt;stanza&gt;
 * SK = META                                   the stanza (stanza-create)
 *      TIMELINE#&lt;TTTTTTTT&gt;                    per-timeline aggregate: ranges, counts, history
 *      WAL#&lt;TTTTTTTT&gt;#&lt;segno, 16 hex&gt;          one archived segment's summary
 *      PARTIAL#&lt;TTTTTTTT&gt;#&lt;segno, 16 hex&gt;      one .partial segment
 *      HISTORY#&lt;TTTTTTTT&gt;                     one timeline .history file
 *      BACKUPHIST#&lt;segment&gt;.&lt;offset&gt;.backup   one backup history file
 *      BACKUP#&lt;label&gt;                         one base backup, its validation status, acceptedAt
 *      WAIT#&lt;label&gt;                           a backup waiting for WAL or for an earlier backup
 *      LEASE#backup                             who runs a backup of the stanza now
 *      LEASE#stream                             which agent streams the stanza's WAL now
 *      WINDOW                                   the recovery window (small: written after every segment)
 *      WINDOW#backups                           the valid backups the window is made of (written by the validator)
 *      RESTOREPOINT#&lt;name&gt;#&lt;lsn, 16 hex&gt;        one named restore point (name target: one Query)
 *      COMMITTIME#&lt;TTTTTTTT&gt;#&lt;micros, 20 digits&gt;#&lt;segno&gt;  latest commit time of a segment (time target)
 *      XIDMAX#&lt;TTTTTTTT&gt;#&lt;xid, 10 digits&gt;#&lt;segno&gt;       highest xid ended in a segment (xid target)
 *      PLAN#&lt;id&gt;                              a signed restore plan (keys for URL renewal), TTL
 *      JOB#&lt;yyyyMMddTHHmmssZ-hex&gt;             one scheduled backup job (newest first: one Query), TTL
 *      EXPIRED#&lt;TTTTTTTT&gt;                     retention's expired-through watermark of a timeline
 *      VERIFY#&lt;id&gt;                            one verify run (state, counts), TTL
 *      VERIFY#&lt;id&gt;#B#&lt;nnnnnn&gt;                 one batch of a run: the objects it checks
 *      VERIFY#&lt;id&gt;#P#&lt;nnnnnn&gt;#&lt;nnnnnn&gt;        one problem a run found (batch, index)
 *      VERIFYLAST                               the newest finished verify run and the last clean one
 *      RETENTIONLAST                            the latest real retention run: expired, fulls held by the cap
 *      FUTUREWALTIMES                           WAL segments whose commit times were ahead of their arrival
 * </pre>
 * Sort keys of one kind sort by timeline then segment number (fixed-width upper-case hex), so a
 * key range is a WAL range.
 */
public final class Keys {

    public static final String META = "META";
    public static final String TIMELINE_PREFIX = "TIMELINE#";
    public static final String WAL_PREFIX = "WAL#";
    public static final String PARTIAL_PREFIX = "PARTIAL#";
    public static final String HISTORY_PREFIX = "HISTORY#";
    public static final String BACKUP_HISTORY_PREFIX = "BACKUPHIST#";
    public static final String BACKUP_PREFIX = "BACKUP#";
    public static final String WAIT_PREFIX = "WAIT#";
    public static final String BACKUP_LEASE = "LEASE#backup";
    /** The WAL stream's lease: one agent per stanza streams. */
    public static final String STREAM_LEASE = "LEASE#stream";
    public static final String WINDOW = "WINDOW";
    public static final String WINDOW_BACKUPS = "WINDOW#backups";
    public static final String RESTORE_POINT_PREFIX = "RESTOREPOINT#";
    public static final String COMMIT_TIME_PREFIX = "COMMITTIME#";
    public static final String XID_MAX_PREFIX = "XIDMAX#";
    public static final String PLAN_PREFIX = "PLAN#";
    public static final String JOB_PREFIX = "JOB#";
    public static final String EXPIRED_PREFIX = "EXPIRED#";
    public static final String VERIFY_PREFIX = "VERIFY#";
    public static final String VERIFY_LAST = "VERIFYLAST";
    /** What the latest real retention run did (expired, held back by the cap): {@code RetentionService}. */
    public static final String RETENTION_LAST = "RETENTIONLAST";
    /** WAL segments whose commit times were ahead of their arrival: the indexer's {@code FutureCommitTimes}. */
    public static final String FUTURE_WAL_TIMES = "FUTUREWALTIMES";
    /** Uploads refused because the catalog had accepted other content for their key: {@code RefusedUploads}. */
    public static final String REFUSED_PREFIX = "REFUSED#";
    /** One streamed WAL chunk (issue 17): {@code CHUNK#<TTTTTTTT>#<segno 16 hex>#<SSSSSSSS>-<EEEEEEEE>}. */
    public static final String CHUNK_PREFIX = "CHUNK#";
    /** What the streamed chunks of one segment make restorable: {@code STREAM#<TTTTTTTT>#<segno 16 hex>}. */
    public static final String STREAM_PREFIX = "STREAM#";

    private Keys() {
    }

    /** The record of one refused upload ({@code identity}) for the item {@code sk}. */
    public static String refused(String sk, String identity) {
        return REFUSED_PREFIX + sk + "#" + identity;
    }

    public static String pk(StanzaName stanza) {
        return "STANZA#" + stanza.value();
    }

    public static String timeline(TimelineId timeline) {
        return TIMELINE_PREFIX + timeline.hex();
    }

    public static String wal(WalSegmentName segment) {
        return WAL_PREFIX + timelineAndNumber(segment);
    }

    /** All segments of one timeline. */
    public static String walPrefix(TimelineId timeline) {
        return WAL_PREFIX + timeline.hex() + "#";
    }

    public static String chunk(WalSegmentName segment, long start, long end) {
        return chunkPrefix(segment) + io.tidemark.events.wal.WalNames.hex8(start) + "-"
                + io.tidemark.events.wal.WalNames.hex8(end);
    }

    /** The chunks of one segment, ascending by start offset. */
    public static String chunkPrefix(WalSegmentName segment) {
        return CHUNK_PREFIX + timelineAndNumber(segment) + "#";
    }

    public static String stream(WalSegmentName segment) {
        return STREAM_PREFIX + timelineAndNumber(segment);
    }

    /** The streamed segments of one timeline. */
    public static String streamPrefix(TimelineId timeline) {
        return STREAM_PREFIX + timeline.hex() + "#";
    }

    public static String partial(WalSegmentName segment) {
        return PARTIAL_PREFIX + timelineAndNumber(segment);
    }

    public static String history(TimelineId timeline) {
        return HISTORY_PREFIX + timeline.hex();
    }

    public static String backupHistory(WalFileName.BackupHistory file) {
        return BACKUP_HISTORY_PREFIX + file.fileName();
    }

    public static String backup(BackupLabelName label) {
        return BACKUP_PREFIX + label;
    }

    public static String waiting(BackupLabelName label) {
        return WAIT_PREFIX + label;
    }

    /** Every restore point of that name (a name may hold '#': readers compare the {@code name} attribute). */
    public static String restorePointPrefix(String name) {
        return RESTORE_POINT_PREFIX + name + "#";
    }

    public static String restorePoint(String name, io.tidemark.events.wal.Lsn lsn) {
        return restorePointPrefix(name) + String.format(Locale.ROOT, "%016X", lsn.value());
    }

    public static String commitTimePrefix(TimelineId timeline) {
        return COMMIT_TIME_PREFIX + timeline.hex() + "#";
    }

    /** Sorts by time (epoch microseconds, zero-padded), then segment. */
    public static String commitTime(WalSegmentName segment, long epochMicros) {
        return commitTimePrefix(segment.timeline()) + micros(epochMicros) + "#"
                + String.format(Locale.ROOT, "%016X", segment.segmentNumber());
    }

    /** Microseconds since the epoch: PostgreSQL's timestamp precision. */
    public static long epochMicros(java.time.Instant t) {
        return Math.addExact(Math.multiplyExact(t.getEpochSecond(), 1_000_000L), t.getNano() / 1000);
    }

    public static String micros(long epochMicros) {
        return String.format(Locale.ROOT, "%020d", Math.max(0, epochMicros));
    }

    public static String xidMaxPrefix(TimelineId timeline) {
        return XID_MAX_PREFIX + timeline.hex() + "#";
    }

    public static String xidMax(WalSegmentName segment, long xid) {
        return xidMaxPrefix(segment.timeline()) + xid(xid) + "#"
                + String.format(Locale.ROOT, "%016X", segment.segmentNumber());
    }

    public static String xid(long xid) {
        return String.format(Locale.ROOT, "%010d", xid);
    }

    public static String plan(String id) {
        return PLAN_PREFIX + id;
    }

    public static String job(String id) {
        return JOB_PREFIX + id;
    }

    public static String verifyRun(String id) {
        return VERIFY_PREFIX + id;
    }

    public static String verifyBatch(String id, int batch) {
        return verifyRun(id) + String.format(Locale.ROOT, "#B#%06d", batch);
    }

    /** Every problem of a run, in batch order. */
    public static String verifyProblemPrefix(String id) {
        return verifyRun(id) + "#P#";
    }

    public static String verifyProblem(String id, int batch, int index) {
        return verifyProblemPrefix(id) + String.format(Locale.ROOT, "%06d#%06d", batch, index);
    }

    private static String timelineAndNumber(WalSegmentName segment) {
        return segment.timeline().hex() + "#" + String.format(Locale.ROOT, "%016X", segment.segmentNumber());
    }
}
