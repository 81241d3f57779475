package io.tidemark.events.wal;

/**
 * A PostgreSQL log sequence number: an unsigned 64-bit byte position in the WAL stream,
 * written {@code X/X} (high and low 32 bits in hex), as {@code pg_current_wal_lsn()} prints it.
 *
 * <p>The value is unsigned: comparisons use {@link Long#compareUnsigned}. {@link #INVALID}
 * (0/0) is the "no position" value PostgreSQL uses in control data and records.
 */
public record Lsn(long value) implements Comparable<Lsn> {

    public static final Lsn INVALID = new Lsn(0);
    public static final Lsn MAX = new Lsn(-1L);

    public static Lsn of(long value) {
        return new Lsn(value);
    }

    /**
     * Parses {@code X/X}: 1 to 8 ASCII hex digits on each side of the slash, case-insensitive,
     * nothing else (no sign, no spaces), like PostgreSQL's {@code pg_lsn} input function.
     */
    public static Lsn parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("LSN is missing");
        }
        int slash = text.indexOf('/');
        if (slash < 1 || slash != text.lastIndexOf('/') || slash == text.length() - 1) {
            throw new IllegalArgumentException("not an LSN (expected X/X in hex): '" + text + "'");
        }
        long high = parseHalf(text, 0, slash);
        long low = parseHalf(text, slash + 1, text.length());
        return new Lsn((high << 32) | low);
    }

    private static long parseHalf(String text, int from, int to) {
        if (to - from > 8) {
            throw new IllegalArgumentException("not an LSN (more than 8 hex digits in a half): '" + text + "'");
        }
        long v = 0;
        for (int i = from; i < to; i++) {
            int d = WalNames.asciiHexDigit(text.charAt(i));
            if (d < 0) {
                throw new IllegalArgumentException("not an LSN (non-hex character): '" + text + "'");
            }
            v = (v << 4) | d;
        }
        return v;
    }

    public boolean isValid() {
        return value != 0;
    }

    /** This position moved forward by {@code bytes}; refuses to wrap past the end of the 64-bit space. */
    public Lsn plus(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("cannot add a negative byte count: " + bytes);
        }
        long sum = value + bytes;
        if (Long.compareUnsigned(sum, value) < 0) {
            throw new ArithmeticException("LSN overflow: " + this + " + " + bytes);
        }
        return new Lsn(sum);
    }

    /** Bytes from {@code other} to this position; refuses when {@code other} is later. */
    public long minus(Lsn other) {
        if (compareTo(other) < 0) {
            throw new IllegalArgumentException(other + " is after " + this);
        }
        long diff = value - other.value;
        if (diff < 0) {
            throw new ArithmeticException("distance does not fit in a signed long: " + other + " .. " + this);
        }
        return diff;
    }

    public boolean isBefore(Lsn other) {
        return compareTo(other) < 0;
    }

    public boolean isAfter(Lsn other) {
        return compareTo(other) > 0;
    }

    @Override
    public int compareTo(Lsn other) {
        return Long.compareUnsigned(value, other.value);
    }

    public static Lsn max(Lsn a, Lsn b) {
        return a.compareTo(b) >= 0 ? a : b;
    }

    public static Lsn min(Lsn a, Lsn b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    @Override
    public String toString() {
        return Long.toHexString(value >>> 32).toUpperCase() + "/" + Long.toHexString(value & 0xFFFFFFFFL).toUpperCase();
    }
}
