package io.tidemark.functions.retain;

import java.util.Locale;
import java.util.Map;

/**
 * How much of a stanza retention keeps: full backups by count or by age, and how many
 * differential backups (of the kept fulls) to keep. WAL follows the kept backups.
 */
public record RetentionPolicy(FullRetention full, int diff) {

    /** The defaults, the same as infra-cdk's {@code TidemarkConfig.DEFAULT_RETENTION}. */
    public static final RetentionPolicy DEFAULT = new RetentionPolicy(new FullRetention.ByCount(2), 6);

    static final int MAX = 9999;

    /** Which fulls to keep: a closed set of two rules. */
    public sealed interface FullRetention {
        int value();

        String type();

        /** Keep the newest {@code count} valid fulls. */
        record ByCount(int count) implements FullRetention {
            public ByCount {
                check("full", count);
            }

            @Override
            public int value() {
                return count;
            }

            @Override
            public String type() {
                return "count";
            }
        }

        /**
         * Keep what restores to any point of the last {@code days} days: the newest valid full whose
         * consistent point is at or before now - days, and everything after it.
         */
        record ByAge(int days) implements FullRetention {
            public ByAge {
                check("full", days);
            }

            @Override
            public int value() {
                return days;
            }

            @Override
            public String type() {
                return "time";
            }
        }
    }

    public RetentionPolicy {
        if (full == null) {
            throw new IllegalArgumentException("retention.full: missing");
        }
        // diff 0 keeps no differential by count (one a kept incremental needs is still kept).
        check("diff", diff, 0);
    }

    private static void check(String field, int n) {
        check(field, n, 1);
    }

    private static void check(String field, int n, int min) {
        if (n < min || n > MAX) {
            throw new IllegalArgumentException("retention." + field + ": must be between " + min + " and " + MAX
                    + ", got " + n);
        }
    }

    /**
     * The policy of a schedule's or an API caller's {@code retention} object:
     * {@code {"fullType": "count"|"time", "full": N, "diff": N}}; absent fields take the defaults.
     *
     * @throws IllegalArgumentException naming the field and why it is wrong
     */
    public static RetentionPolicy fromMap(Map<?, ?> m) {
        for (Object k : m.keySet()) {
            if (!"fullType".equals(k) && !"full".equals(k) && !"diff".equals(k)) {
                throw new IllegalArgumentException("retention." + k + ": unknown field (expected fullType, full, diff)");
            }
        }
        Object type = m.get("fullType");
        String fullType = type == null ? "count" : text("fullType", type).toLowerCase(Locale.ROOT);
        int full = m.containsKey("full") ? number("full", m.get("full")) : DEFAULT.full().value();
        int diff = m.containsKey("diff") ? number("diff", m.get("diff")) : DEFAULT.diff();
        FullRetention f = switch (fullType) {
            case "count" -> new FullRetention.ByCount(full);
            case "time" -> new FullRetention.ByAge(full);
            default -> throw new IllegalArgumentException(
                    "retention.fullType: must be \"count\" or \"time\", got \"" + fullType + "\"");
        };
        return new RetentionPolicy(f, diff);
    }

    public Map<String, Object> toMap() {
        return Map.of("fullType", full.type(), "full", (long) full.value(), "diff", (long) diff);
    }

    @Override
    public String toString() {
        return full.type() + " " + full.value() + (full instanceof FullRetention.ByAge ? " days" : "") + ", diff " + diff;
    }

    private static String text(String field, Object v) {
        if (v instanceof String s) {
            return s;
        }
        throw new IllegalArgumentException("retention." + field + ": must be a string, got " + v);
    }

    private static int number(String field, Object v) {
        if (v instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue()) && Math.abs(n.doubleValue()) <= MAX * 10.0) {
            int i = n.intValue();
            check(field, i, field.equals("diff") ? 0 : 1);
            return i;
        }
        throw new IllegalArgumentException("retention." + field + ": must be a whole number, got " + v);
    }
}
