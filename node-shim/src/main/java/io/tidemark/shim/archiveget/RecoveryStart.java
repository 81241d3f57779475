package io.tidemark.shim.archiveget;

import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.events.wal.WalSegmentSize;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The WAL segment a PostgreSQL that is starting will replay first, read from its data directory
 * before it asks for it: {@code backup_label}'s start segment (a base backup's first start), else
 * the redo location of the last checkpoint in {@code global/pg_control} (a standby restarted after
 * a clean shutdown). archive-get uses it to start the prefetcher at PostgreSQL's first ask, the
 * history file of the next timeline, rather than at its second, the first segment (issue 19: that
 * second ask was a JVM of ~1 s, docs/benchmarks.md, standby catch-up).
 *
 * <p>Only a hint for where to prefetch: a wrong or missing answer costs downloads, never
 * correctness (what the prefetcher spools is verified from the archive under its own name,
 * and recovery asks by name). So pg_control is read without its CRC, and a directory in archive
 * recovery already (its state says so: PostgreSQL asks for history files again at promotion, long
 * after its start) gives no answer.
 */
final class RecoveryStart {
    static final String BACKUP_LABEL = "backup_label";
    static final String PG_CONTROL = "global/pg_control";
    private static final Pattern START = Pattern.compile("^START WAL LOCATION: [0-9A-F]+/[0-9A-F]+ \\(file ([0-9A-F]{24})\\)$",
            Pattern.MULTILINE);
    /** pg_control_version of PostgreSQL 11 to 17, whose layout is read below. */
    private static final int MIN_CONTROL_VERSION = 1100;
    private static final int MAX_CONTROL_VERSION = 1799;
    /** DBState's DB_IN_ARCHIVE_RECOVERY (pg_control.h). */
    private static final int IN_ARCHIVE_RECOVERY = 5;
    /** Offsets in ControlFileData: pg_control_version, state, checkPointCopy.redo, checkPointCopy.ThisTimeLineID. */
    private static final int VERSION_AT = 8;
    private static final int STATE_AT = 16;
    private static final int REDO_AT = 40;
    private static final int TIMELINE_AT = 48;

    private RecoveryStart() {
    }

    /** The first segment recovery of {@code pgdata} will read, when its files say so. */
    static Optional<WalSegmentName> of(Path pgdata, WalSegmentSize size) {
        try {
            Path label = pgdata.resolve(BACKUP_LABEL);
            if (Files.isRegularFile(label)) {
                Matcher m = START.matcher(Files.readString(label, java.nio.charset.StandardCharsets.US_ASCII));
                return m.find() ? Optional.of(WalSegmentName.parse(m.group(1), size)) : Optional.empty();
            }
            Path control = pgdata.resolve(PG_CONTROL);
            if (!Files.isRegularFile(control)) {
                return Optional.empty();
            }
            byte[] head = new byte[TIMELINE_AT + 4];
            try (var in = Files.newInputStream(control)) {
                if (in.readNBytes(head, 0, head.length) != head.length) {
                    return Optional.empty();
                }
            }
            ByteBuffer b = ByteBuffer.wrap(head).order(ByteOrder.nativeOrder());
            int version = b.getInt(VERSION_AT);
            if (version < MIN_CONTROL_VERSION || version > MAX_CONTROL_VERSION || b.getInt(STATE_AT) == IN_ARCHIVE_RECOVERY) {
                return Optional.empty();
            }
            Lsn redo = Lsn.of(b.getLong(REDO_AT));
            long timeline = Integer.toUnsignedLong(b.getInt(TIMELINE_AT));
            if (!redo.isValid() || timeline < 1) {
                return Optional.empty();
            }
            return Optional.of(WalSegmentName.containing(TimelineId.of(timeline), redo, size));
        } catch (IOException | RuntimeException e) {
            return Optional.empty(); // unreadable or not what we know: the first segment's ask starts the prefetcher
        }
    }
}
