package io.tidemark.events.wal;

/**
 * A PostgreSQL timeline: an unsigned 32-bit number starting at 1. Written in WAL file names
 * as 8 upper-case hex digits, in history files and recovery settings as a decimal number.
 */
public record TimelineId(long value) implements Comparable<TimelineId> {

    public static final TimelineId FIRST = new TimelineId(1);

    public TimelineId {
        if (value < 1 || value > 0xFFFFFFFFL) {
            throw new IllegalArgumentException("timeline must be between 1 and 4294967295, got " + value);
        }
    }

    public static TimelineId of(long value) {
        return new TimelineId(value);
    }

    /** Parses the 8-hex-digit form used in WAL and history file names. */
    public static TimelineId parseHex(String hex) {
        if (hex == null || hex.length() != 8 || !WalNames.isUpperHex(hex, 0, 8)) {
            throw new IllegalArgumentException("timeline must be 8 upper-case hex digits, got '" + hex + "'");
        }
        return new TimelineId(Long.parseLong(hex, 16));
    }

    /**
     * Parses the decimal form used in history files and {@code recovery_target_timeline}:
     * ASCII digits only (surrounding whitespace tolerated), no sign, at most 10 digits.
     */
    public static TimelineId parseDecimal(String text) {
        String t = text == null ? "" : text.strip();
        if (!WalNames.isAsciiDigits(t) || t.length() > 10) {
            throw new IllegalArgumentException("timeline must be a decimal number, got '" + text + "'");
        }
        return new TimelineId(Long.parseLong(t));
    }

    public String hex() {
        return WalNames.hex8(value);
    }

    public TimelineId next() {
        return new TimelineId(value + 1);
    }

    @Override
    public int compareTo(TimelineId other) {
        return Long.compare(value, other.value);
    }

    @Override
    public String toString() {
        return Long.toString(value);
    }
}
