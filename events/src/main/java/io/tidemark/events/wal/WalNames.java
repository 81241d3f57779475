package io.tidemark.events.wal;

/** Small helpers shared by the WAL name types: upper-case hex as PostgreSQL writes it. */
public final class WalNames {
    private WalNames() {
    }

    public static String hex8(long v) {
        String s = Long.toHexString(v & 0xFFFFFFFFL).toUpperCase();
        return "00000000".substring(s.length()) + s;
    }

    /**
     * The value of an ASCII hex digit (either case), or -1. Unlike {@link Character#digit} this
     * refuses non-ASCII digits such as full-width or Arabic-Indic ones, which PostgreSQL never writes.
     */
    static int asciiHexDigit(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }

    static boolean isAsciiDigits(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }

    public static boolean isUpperHex(String s, int from, int to) {
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'))) {
                return false;
            }
        }
        return true;
    }
}
