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
 *      BACKUP#&lt;label&gt;                         one base backup and its validation status
 *      WAIT#&lt;label&gt;                           a backup waiting for WAL or for an earlier backup
 *      LEASE#backup                             who runs a backup of the stanza now
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

    private Keys() {
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

    private static String timelineAndNumber(WalSegmentName segment) {
        return segment.timeline().hex() + "#" + String.format(Locale.ROOT, "%016X", segment.segmentNumber());
    }
}
