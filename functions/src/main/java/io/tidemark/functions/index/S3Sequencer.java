package io.tidemark.functions.index;

import java.util.Locale;

/**
 * Orders S3 event sequencers. S3 gives every PUT and DELETE of a key a sequencer, a hexadecimal
 * string that grows with each later event of the same key; events arrive in any order, so the
 * sequencer (not the arrival, not the event time) says which came last. Values of different
 * lengths are compared after padding the shorter one with zeros on the right, as S3 documents.
 * Only sequencers of one key are comparable.
 */
final class S3Sequencer {

    private S3Sequencer() {
    }

    /** Negative, zero or positive as {@code a} is earlier than, the same as, or later than {@code b}. */
    static int compare(String a, String b) {
        String x = a.toUpperCase(Locale.ROOT);
        String y = b.toUpperCase(Locale.ROOT);
        int n = Math.max(x.length(), y.length());
        return pad(x, n).compareTo(pad(y, n));
    }

    /** The later of two sequencers; null when both are unknown. */
    static String max(String a, String b) {
        if (a == null) {
            return b;
        }
        if (b == null) {
            return a;
        }
        return compare(a, b) >= 0 ? a : b;
    }

    private static String pad(String s, int length) {
        return s.length() >= length ? s : s + "0".repeat(length - s.length());
    }
}
