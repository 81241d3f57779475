package io.tidemark.events.plan;

/**
 * WAL segments of one timeline that recovery needs, from {@code first} through {@code last}
 * inclusive: the plan promises that every one of them is archived, whether or not its
 * {@code wal} list names it (the planner caps that list, so a long recovery reads later segments
 * with only the catalog's word). archive-get treats a missing segment of a range as damage to
 * the restore, never as "not archived".
 *
 * @param first the first segment name, e.g. {@code 000000010000000000000003}
 * @param last  the last segment name, on the same timeline, not before {@code first}
 */
public record PlanWalRange(String first, String last) {
    public PlanWalRange {
        PlanChecks.require(first != null && first.matches("[0-9A-F]{24}") && last != null && last.matches("[0-9A-F]{24}"),
                "WAL range needs two segment names, got '" + first + "', '" + last + "'");
        PlanChecks.require(first.substring(0, 8).equals(last.substring(0, 8)),
                "WAL range " + first + ".." + last + " spans two timelines");
        PlanChecks.require(first.compareTo(last) <= 0, "WAL range " + first + ".." + last + " ends before it starts");
    }

    /** Whether {@code segment} (a 24-hex-digit name) lies in this range: same timeline, between first and last. */
    public boolean holds(String segment) {
        // same timeline and fixed-width upper-case hex: name order is segment order
        return segment.length() == 24 && segment.startsWith(first.substring(0, 8))
                && segment.compareTo(first) >= 0 && segment.compareTo(last) <= 0;
    }
}
