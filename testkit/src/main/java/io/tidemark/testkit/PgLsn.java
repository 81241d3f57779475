package io.tidemark.testkit;

/**
 * LSN text as PostgreSQL tools print it ({@code 0/176FEB8}, {@code 0/0176FEB8}) to and from the
 * unsigned 64-bit value. The testkit cannot use the events module's {@code Lsn} (events tests
 * depend on the testkit), so it keeps LSNs as longs; wrap them with {@code Lsn.of(long)}.
 */
public final class PgLsn {

    private PgLsn() {
    }

    public static long parse(String text) {
        int slash = text.indexOf('/');
        if (slash < 1 || slash == text.length() - 1) {
            throw new IllegalArgumentException("not an LSN: '" + text + "'");
        }
        long high = Long.parseLong(text.substring(0, slash), 16);
        long low = Long.parseLong(text.substring(slash + 1), 16);
        if (high > 0xFFFF_FFFFL || low > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("not an LSN (half wider than 32 bits): '" + text + "'");
        }
        return (high << 32) | low;
    }

    /** {@code X/X} without zero padding, as {@code pg_current_wal_lsn()} prints it. */
    public static String format(long lsn) {
        return Long.toHexString(lsn >>> 32).toUpperCase() + "/" + Long.toHexString(lsn & 0xFFFF_FFFFL).toUpperCase();
    }
}
