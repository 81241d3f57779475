package io.tidemark.events.layout;

import java.time.DateTimeException;
import java.time.LocalDateTime;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The name of one backup in a stanza, pgBackRest style, so that operators read it the same way:
 * <ul>
 *   <li>full: {@code YYYYMMDD-HHMMSSF}, e.g. {@code 20240102-030405F}</li>
 *   <li>differential: {@code <full>_YYYYMMDD-HHMMSSD}, e.g. {@code 20240102-030405F_20240103-000000D}</li>
 *   <li>incremental: {@code <full>_YYYYMMDD-HHMMSSI}</li>
 * </ul>
 * Times are the backup's start, in UTC, whole seconds (the node shim makes them; pgBackRest uses
 * local time, which we avoid so names never repeat or go back across a DST change). A diff or
 * incr names the full it belongs to and must start strictly after it. The name says which full
 * a backup depends on; the exact prior backup of an incremental is in its manifest.
 *
 * <p>Ordering is the names' string order, as pgBackRest lists them: by full, the full first,
 * then its diffs and incrs by start time. It is chronological within one full's group, not
 * across groups (a diff taken after the next full still sorts with its own full).
 */
public record BackupLabelName(Type type, LocalDateTime fullStart, LocalDateTime start)
        implements Comparable<BackupLabelName> {

    private static final Pattern STAMP = Pattern.compile("([0-9]{4})([0-9]{2})([0-9]{2})-([0-9]{2})([0-9]{2})([0-9]{2})");
    private static final Pattern NAME = Pattern.compile(
            "(" + STAMP.pattern() + ")F(?:_(" + STAMP.pattern() + ")([DI]))?");

    public enum Type {
        FULL('F'), DIFF('D'), INCR('I');

        private final char letter;

        Type(char letter) {
            this.letter = letter;
        }

        public char letter() {
            return letter;
        }
    }

    public BackupLabelName {
        Objects.requireNonNull(type, "backup type");
        Objects.requireNonNull(fullStart, "full backup start");
        Objects.requireNonNull(start, "backup start");
        checkTime(fullStart);
        checkTime(start);
        if (type == Type.FULL && !start.equals(fullStart)) {
            throw new IllegalArgumentException("a full backup's start is its own full start: " + start + " vs " + fullStart);
        }
        if (type != Type.FULL && !start.isAfter(fullStart)) {
            throw new IllegalArgumentException("a " + type.name().toLowerCase() + " backup must start after its full ("
                    + stamp(fullStart) + "F), got " + stamp(start));
        }
    }

    private static void checkTime(LocalDateTime t) {
        if (t.getNano() != 0) {
            throw new IllegalArgumentException("backup label times have whole seconds, got " + t);
        }
        if (t.getYear() < 0 || t.getYear() > 9999) {
            throw new IllegalArgumentException("backup label years have 4 digits, got " + t.getYear());
        }
    }

    public static BackupLabelName full(LocalDateTime start) {
        return new BackupLabelName(Type.FULL, start, start);
    }

    /** A diff or incr of the full {@code full}. */
    public static BackupLabelName childOf(BackupLabelName full, Type type, LocalDateTime start) {
        if (type == Type.FULL) {
            throw new IllegalArgumentException("a full backup has no parent full");
        }
        return new BackupLabelName(type, full.fullStart, start);
    }

    public static BackupLabelName parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("backup label is missing");
        }
        Matcher m = NAME.matcher(text);
        if (!m.matches()) {
            throw new IllegalArgumentException("invalid backup label '" + text
                    + "': expected YYYYMMDD-HHMMSSF, or that followed by _YYYYMMDD-HHMMSSD or _YYYYMMDD-HHMMSSI");
        }
        LocalDateTime full = time(text, m.group(1));
        if (m.group(8) == null) {
            return full(full);
        }
        Type type = m.group(15).equals("D") ? Type.DIFF : Type.INCR;
        try {
            return new BackupLabelName(type, full, time(text, m.group(8)));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid backup label '" + text + "': " + e.getMessage(), e);
        }
    }

    private static LocalDateTime time(String text, String stamp) {
        Matcher m = STAMP.matcher(stamp);
        if (!m.matches()) {
            throw new IllegalStateException(stamp);
        }
        try {
            return LocalDateTime.of(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)),
                    Integer.parseInt(m.group(3)), Integer.parseInt(m.group(4)), Integer.parseInt(m.group(5)),
                    Integer.parseInt(m.group(6)));
        } catch (DateTimeException e) {
            throw new IllegalArgumentException("invalid backup label '" + text + "': '" + stamp
                    + "' is not a valid date and time (" + e.getMessage() + ")", e);
        }
    }

    private static String stamp(LocalDateTime t) {
        return String.format("%04d%02d%02d-%02d%02d%02d", t.getYear(), t.getMonthValue(), t.getDayOfMonth(),
                t.getHour(), t.getMinute(), t.getSecond());
    }

    public boolean isFull() {
        return type == Type.FULL;
    }

    /** The full backup this one belongs to (itself for a full). */
    public BackupLabelName full() {
        return isFull() ? this : full(fullStart);
    }

    @Override
    public int compareTo(BackupLabelName o) {
        return toString().compareTo(o.toString());
    }

    @Override
    public String toString() {
        String full = stamp(fullStart) + "F";
        return isFull() ? full : full + "_" + stamp(start) + type.letter;
    }
}
