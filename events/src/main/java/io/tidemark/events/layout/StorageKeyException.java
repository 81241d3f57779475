package io.tidemark.events.layout;

/**
 * A key that is not one Tidemark writes. S3-triggered functions catch this to log and drop
 * the event instead of retrying it: the key will never become valid.
 */
public final class StorageKeyException extends IllegalArgumentException {
    private final String key;

    public StorageKeyException(String key, String reason) {
        super("not a Tidemark key '" + printable(key) + "': " + reason);
        this.key = key;
    }

    public StorageKeyException(String key, String reason, Throwable cause) {
        this(key, reason);
        initCause(cause);
    }

    /** The key as received (may hold characters that are unsafe to print raw). */
    public String key() {
        return key;
    }

    private static String printable(String key) {
        if (key == null) {
            return "null";
        }
        StringBuilder sb = new StringBuilder();
        String head = key.length() > 300 ? key.substring(0, 300) : key;
        head.codePoints().forEach(cp -> {
            if (cp < 0x20 || cp >= 0x7F) {
                sb.append(cp <= 0xFFFF ? String.format("\\u%04X", cp) : String.format("\\U%08X", cp));
            } else {
                sb.appendCodePoint(cp);
            }
        });
        return key.length() > head.length() ? sb + "..." : sb.toString();
    }
}
