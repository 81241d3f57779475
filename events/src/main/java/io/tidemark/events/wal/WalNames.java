package io.tidemark.events.wal;

/** Small helpers shared by the WAL name types: upper-case hex as PostgreSQL writes it. */
final class WalNames {
    private WalNames() {
    }

    static String hex8(long v) {
        String s = Long.toHexString(v & 0xFFFFFFFFL).toUpperCase();
        return "00000000".substring(s.length()) + s;
    }

    static boolean isUpperHex(String s, int from, int to) {
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'))) {
                return false;
            }
        }
        return true;
    }
}
