package io.tidemark.events.backup;

import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.events.wal.WalSegmentSize;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A {@code backup_label} file as returned by {@code pg_backup_stop()} (PostgreSQL 15+),
 * {@code pg_stop_backup()} (13-14) or written by {@code pg_basebackup}; also reads the
 * {@code <segment>.<offset>.backup} history file PostgreSQL archives, which has the same lines
 * plus {@code STOP ...} ones.
 *
 * <p>Lines (PostgreSQL's {@code build_backup_content}, in this order):
 * <pre>
 * START WAL LOCATION: 0/2000028 (file 000000010000000000000002)
 * STOP WAL LOCATION: 0/2000100 (file 000000010000000000000002)   -- history file only
 * CHECKPOINT LOCATION: 0/2000060
 * BACKUP METHOD: streamed                                         -- "pg_start_backup" for exclusive backups before 15
 * BACKUP FROM: primary                                            -- or standby
 * START TIME: 2024-01-02 03:04:05 UTC                             -- log_timezone, %Z: abbreviation or +03 style
 * LABEL: nightly
 * START TIMELINE: 1
 * STOP TIME: ... / STOP TIMELINE: ...                             -- history file only
 * INCREMENTAL FROM LSN: 0/1000028 / INCREMENTAL FROM TLI: 1       -- PostgreSQL 17 incremental backups
 * </pre>
 *
 * <p>{@code START WAL LOCATION} (with its file name) and {@code CHECKPOINT LOCATION} are
 * required: PostgreSQL refuses to recover from a label without them. Other known lines are
 * optional; a known line appearing twice is an error; unknown lines are kept in
 * {@link #extraLines()} (a newer PostgreSQL may add some) and written back by {@link #format()}.
 * The timeline in the file name must equal {@code START TIMELINE} (PostgreSQL checks the same);
 * given a {@link WalSegmentSize}, the whole file name must be the segment holding the LSN.
 */
public record BackupLabel(
        Lsn startLsn,
        String startWalFile,
        Lsn checkpointLsn,
        Optional<String> backupMethod,
        Optional<Source> backupFrom,
        Optional<BackupTimestamp> startTime,
        Optional<String> label,
        Optional<TimelineId> startTimeline,
        Optional<Lsn> stopLsn,
        Optional<String> stopWalFile,
        Optional<BackupTimestamp> stopTime,
        Optional<TimelineId> stopTimeline,
        Optional<Lsn> incrementalFromLsn,
        Optional<TimelineId> incrementalFromTimeline,
        List<String> extraLines) {

    static final String START_WAL = "START WAL LOCATION";
    static final String STOP_WAL = "STOP WAL LOCATION";
    static final String CHECKPOINT = "CHECKPOINT LOCATION";
    static final String METHOD = "BACKUP METHOD";
    static final String FROM = "BACKUP FROM";
    static final String START_TIME = "START TIME";
    static final String LABEL = "LABEL";
    static final String START_TLI = "START TIMELINE";
    static final String STOP_TIME = "STOP TIME";
    static final String STOP_TLI = "STOP TIMELINE";
    static final String INCR_LSN = "INCREMENTAL FROM LSN";
    static final String INCR_TLI = "INCREMENTAL FROM TLI";

    /** {@code BACKUP FROM}: where {@code pg_backup_start} ran. */
    public enum Source {
        PRIMARY("primary"), STANDBY("standby");

        private final String text;

        Source(String text) {
            this.text = text;
        }

        public String text() {
            return text;
        }

        public static Source parse(String text) {
            for (Source s : values()) {
                if (s.text.equals(text)) {
                    return s;
                }
            }
            throw new IllegalArgumentException("BACKUP FROM must be 'primary' or 'standby', got '" + text + "'");
        }
    }

    public BackupLabel {
        Objects.requireNonNull(startLsn, "start LSN");
        Objects.requireNonNull(checkpointLsn, "checkpoint LSN");
        requireSegmentName(START_WAL, startWalFile);
        stopWalFile.ifPresent(f -> requireSegmentName(STOP_WAL, f));
        if (stopLsn.isPresent() != stopWalFile.isPresent()) {
            throw new IllegalArgumentException("STOP WAL LOCATION needs both the LSN and the file name");
        }
        if (incrementalFromLsn.isPresent() != incrementalFromTimeline.isPresent()) {
            throw new IllegalArgumentException(
                    "INCREMENTAL FROM LSN and INCREMENTAL FROM TLI must appear together (PostgreSQL 17 writes both)");
        }
        TimelineId fileTli = TimelineId.parseHex(startWalFile.substring(0, 8));
        startTimeline.ifPresent(t -> {
            if (!t.equals(fileTli)) {
                throw new IllegalArgumentException("START TIMELINE is " + t + " but the start WAL file " + startWalFile
                        + " is on timeline " + fileTli);
            }
        });
        if (stopWalFile.isPresent() && stopTimeline.isPresent()) {
            TimelineId stopFileTli = TimelineId.parseHex(stopWalFile.get().substring(0, 8));
            if (!stopTimeline.get().equals(stopFileTli)) {
                throw new IllegalArgumentException("STOP TIMELINE is " + stopTimeline.get() + " but the stop WAL file "
                        + stopWalFile.get() + " is on timeline " + stopFileTli);
            }
        }
        label.ifPresent(l -> {
            if (l.indexOf('\n') >= 0 || l.indexOf('\r') >= 0) {
                throw new IllegalArgumentException("LABEL must be one line");
            }
        });
        extraLines = List.copyOf(extraLines);
        for (String l : extraLines) {
            if (l.indexOf('\n') >= 0 || l.isBlank()) {
                throw new IllegalArgumentException("extra lines must be single, non-blank lines: '" + l + "'");
            }
        }
    }

    private static void requireSegmentName(String what, String name) {
        if (!WalSegmentName.looksLikeSegment(name)) {
            throw new IllegalArgumentException(what + ": '" + name
                    + "' is not a WAL segment file name (24 upper-case hex digits)");
        }
    }

    /** Parses without checking file names against a segment size (only their timeline). */
    public static BackupLabel parse(String content) {
        return parse(content, null);
    }

    public static BackupLabel parse(byte[] content, WalSegmentSize size) {
        return parse(new String(content, StandardCharsets.UTF_8), size);
    }

    /**
     * Parses and, when {@code size} is not null, checks that each {@code (file ...)} is the
     * segment that holds its LSN on its timeline.
     */
    public static BackupLabel parse(String content, WalSegmentSize size) {
        Objects.requireNonNull(content, "backup_label content");
        Builder b = new Builder();
        Set<String> seen = new HashSet<>();
        String[] lines = content.split("\n", -1);
        for (int n = 0; n < lines.length; n++) {
            String line = lines[n].endsWith("\r") ? lines[n].substring(0, lines[n].length() - 1) : lines[n];
            if (line.isBlank()) {
                continue;
            }
            int colon = line.indexOf(':');
            String key = colon < 0 ? null : line.substring(0, colon);
            if (key == null || !Builder.KNOWN.contains(key)) {
                b.extra.add(line);
                continue;
            }
            if (!seen.add(key)) {
                throw new IllegalArgumentException("backup_label line " + (n + 1) + ": duplicate " + key + " line");
            }
            String value = line.substring(colon + 1);
            if (value.startsWith(" ")) {
                value = value.substring(1);
            }
            try {
                b.accept(key, value);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("backup_label line " + (n + 1) + " '" + line + "': " + e.getMessage(), e);
            }
        }
        if (b.startLsn == null) {
            throw new IllegalArgumentException("backup_label has no START WAL LOCATION line");
        }
        if (b.checkpointLsn == null) {
            throw new IllegalArgumentException("backup_label has no CHECKPOINT LOCATION line");
        }
        BackupLabel result = b.build();
        if (size != null) {
            result.checkFileNames(size);
        }
        return result;
    }

    /** Throws unless each file name in the label is the segment holding its LSN with {@code size} segments. */
    public BackupLabel checkFileNames(WalSegmentSize size) {
        String expected = startSegment(size).toString();
        if (!expected.equals(startWalFile)) {
            throw new IllegalArgumentException("START WAL LOCATION " + startLsn + " is in segment " + expected
                    + " with " + size + " segments, but the label names " + startWalFile);
        }
        if (stopLsn.isPresent()) {
            TimelineId stopTli = TimelineId.parseHex(stopWalFile.get().substring(0, 8));
            String stopExpected = WalSegmentName.containing(stopTli, stopLsn.get(), size).toString();
            if (!stopExpected.equals(stopWalFile.get())) {
                throw new IllegalArgumentException("STOP WAL LOCATION " + stopLsn.get() + " is in segment " + stopExpected
                        + " with " + size + " segments, but the label names " + stopWalFile.get());
            }
        }
        return this;
    }

    /** The timeline the backup started on: {@code START TIMELINE}, or the start file's timeline. */
    public TimelineId timeline() {
        return startTimeline.orElseGet(() -> TimelineId.parseHex(startWalFile.substring(0, 8)));
    }

    /** The first segment a restore of this backup needs. */
    public WalSegmentName startSegment(WalSegmentSize size) {
        return WalSegmentName.containing(timeline(), startLsn, size);
    }

    public boolean isIncremental() {
        return incrementalFromLsn.isPresent();
    }

    public boolean isFromStandby() {
        return backupFrom.orElse(Source.PRIMARY) == Source.STANDBY;
    }

    /** The file in PostgreSQL's line order, each line ending in LF, extra lines last. */
    public String format() {
        StringBuilder sb = new StringBuilder();
        line(sb, START_WAL, startLsn + " (file " + startWalFile + ")");
        stopLsn.ifPresent(l -> line(sb, STOP_WAL, l + " (file " + stopWalFile.get() + ")"));
        line(sb, CHECKPOINT, checkpointLsn.toString());
        backupMethod.ifPresent(v -> line(sb, METHOD, v));
        backupFrom.ifPresent(v -> line(sb, FROM, v.text()));
        startTime.ifPresent(v -> line(sb, START_TIME, v.toString()));
        label.ifPresent(v -> line(sb, LABEL, v));
        startTimeline.ifPresent(v -> line(sb, START_TLI, v.toString()));
        stopTime.ifPresent(v -> line(sb, STOP_TIME, v.toString()));
        stopTimeline.ifPresent(v -> line(sb, STOP_TLI, v.toString()));
        incrementalFromLsn.ifPresent(v -> line(sb, INCR_LSN, v.toString()));
        incrementalFromTimeline.ifPresent(v -> line(sb, INCR_TLI, v.toString()));
        extraLines.forEach(l -> sb.append(l).append('\n'));
        return sb.toString();
    }

    private static void line(StringBuilder sb, String key, String value) {
        sb.append(key).append(": ").append(value).append('\n');
    }

    /** Mutable collector for {@link #parse}; one field per known line. */
    private static final class Builder {
        static final Set<String> KNOWN = Set.of(START_WAL, STOP_WAL, CHECKPOINT, METHOD, FROM, START_TIME, LABEL,
                START_TLI, STOP_TIME, STOP_TLI, INCR_LSN, INCR_TLI);

        Lsn startLsn;
        String startFile;
        Lsn checkpointLsn;
        String method;
        Source from;
        BackupTimestamp startTime;
        String label;
        TimelineId startTli;
        Lsn stopLsn;
        String stopFile;
        BackupTimestamp stopTime;
        TimelineId stopTli;
        Lsn incrLsn;
        TimelineId incrTli;
        final List<String> extra = new ArrayList<>();

        void accept(String key, String value) {
            switch (key) {
                case START_WAL -> {
                    String[] lf = locationWithFile(value);
                    startLsn = Lsn.parse(lf[0]);
                    startFile = lf[1];
                }
                case STOP_WAL -> {
                    String[] lf = locationWithFile(value);
                    stopLsn = Lsn.parse(lf[0]);
                    stopFile = lf[1];
                }
                case CHECKPOINT -> checkpointLsn = Lsn.parse(value.strip());
                case METHOD -> method = value.strip();
                case FROM -> from = Source.parse(value.strip());
                case START_TIME -> startTime = BackupTimestamp.parse(value);
                case LABEL -> label = value;
                case START_TLI -> startTli = TimelineId.parseDecimal(value);
                case STOP_TIME -> stopTime = BackupTimestamp.parse(value);
                case STOP_TLI -> stopTli = TimelineId.parseDecimal(value);
                case INCR_LSN -> incrLsn = Lsn.parse(value.strip());
                case INCR_TLI -> incrTli = TimelineId.parseDecimal(value);
                default -> throw new IllegalStateException("unhandled key " + key);
            }
        }

        /** {@code X/X (file NAME)} into its two parts. */
        private static String[] locationWithFile(String value) {
            String v = value.strip();
            int open = v.indexOf(" (file ");
            if (open < 0 || !v.endsWith(")")) {
                throw new IllegalArgumentException("expected 'X/X (file <segment>)', got '" + value + "'");
            }
            return new String[] {v.substring(0, open), v.substring(open + 7, v.length() - 1)};
        }

        BackupLabel build() {
            return new BackupLabel(startLsn, startFile, checkpointLsn, Optional.ofNullable(method),
                    Optional.ofNullable(from), Optional.ofNullable(startTime), Optional.ofNullable(label),
                    Optional.ofNullable(startTli), Optional.ofNullable(stopLsn), Optional.ofNullable(stopFile),
                    Optional.ofNullable(stopTime), Optional.ofNullable(stopTli), Optional.ofNullable(incrLsn),
                    Optional.ofNullable(incrTli), extra);
        }
    }
}
