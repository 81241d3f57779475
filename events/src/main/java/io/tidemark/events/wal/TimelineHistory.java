package io.tidemark.events.wal;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The content of a timeline {@code .history} file: how the file's own timeline descends from
 * its ancestors, and at which LSN each ancestor was left.
 *
 * <p>File format (one line per ancestor, oldest first, as PostgreSQL writes it at promotion or
 * at the end of a PITR): {@code <parentTLI>\t<switchpoint X/X>\t<reason>}. Lines that are blank
 * or whose first non-blank character is {@code #} are ignored. PostgreSQL reads each line with
 * {@code sscanf("%u\t%X/%X")}, where a tab in the format matches any run of white space; this
 * parser is as tolerant: fields may be separated by any mix of spaces and tabs, lines may end in
 * CRLF, and the LSN halves may use either case. It is stricter on corruption PostgreSQL would
 * silently truncate (signs, more than 8 hex digits per half, text glued to the LSN).
 *
 * <p>Invariants, each refused with a message naming the line: at least one entry (timeline 1
 * has no file: use {@link #initial()}); parent timelines strictly increasing and all below the
 * file's own timeline (PostgreSQL refuses the same, and nothing more); switch points valid (not
 * 0/0: PostgreSQL never writes it and would read it as "no end"). Switch points need not increase:
 * a point-in-time recovery that follows timeline 2 to a target lying before timeline 2's own
 * branch point ends on timeline 1's WAL, yet PostgreSQL names its recovery target timeline (2) as
 * the parent, so the new file reads {@code 1 0/5000000} then {@code 2 0/3000000}. PostgreSQL
 * accepts that file (its reader checks only the timeline IDs), so we must too.
 *
 * <p>Semantics, as PostgreSQL's {@code tliOfPointInHistory}, which searches the entries newest
 * first: entry {@code i} nominally covers {@code [switchPoint(i-1), switchPoint(i))} (the first
 * starts at 0/0) and the file's own timeline everything from the last switch point on; an LSN
 * belongs to the newest timeline whose range holds it. So entry {@code i} owns
 * {@code [switchPoint(i-1), min(switchPoint(j), j >= i))}: {@link #owned()}. An entry whose range is
 * empty (timeline 2 above) owns no LSN: no WAL, backup or target can come from it on this
 * history, although it stays an ancestor in the file.
 *
 * @param timeline the timeline this history belongs to (the file's name, {@code TTTTTTTT.history})
 * @param entries  its ancestors, oldest first
 */
public record TimelineHistory(TimelineId timeline, List<Entry> entries) {

    /**
     * One line: the timeline that was current until {@code switchPoint}, and why it was left.
     * The reason is free text (stripped of surrounding blanks, no line breaks); it is kept for
     * operators and written back, never interpreted.
     */
    public record Entry(TimelineId parent, Lsn switchPoint, String reason) {
        public Entry {
            Objects.requireNonNull(parent, "parent timeline");
            Objects.requireNonNull(switchPoint, "switch point");
            reason = reason == null ? "" : reason.strip();
            if (!switchPoint.isValid()) {
                throw new IllegalArgumentException("switch point 0/0 is not a WAL position (parent timeline " + parent + ")");
            }
            if (reason.indexOf('\n') >= 0 || reason.indexOf('\r') >= 0 || reason.indexOf('\0') >= 0) {
                throw new IllegalArgumentException("history reason must be one line without NUL: '" + reason + "'");
            }
        }
    }

    public TimelineHistory {
        Objects.requireNonNull(timeline, "timeline");
        entries = List.copyOf(entries);
        if (entries.isEmpty() && timeline.value() != 1) {
            throw new IllegalArgumentException("history of timeline " + timeline
                    + " has no entries: every timeline after 1 descends from a parent");
        }
        if (!entries.isEmpty() && timeline.value() == 1) {
            throw new IllegalArgumentException("timeline 1 has no ancestors, so it has no history entries");
        }
        for (int i = 0; i < entries.size(); i++) {
            Entry e = entries.get(i);
            if (e.parent().compareTo(timeline) >= 0) {
                throw new IllegalArgumentException("history of timeline " + timeline + ": parent timeline "
                        + e.parent() + " is not below the child timeline " + timeline);
            }
            if (i > 0) {
                Entry prev = entries.get(i - 1);
                if (e.parent().compareTo(prev.parent()) <= 0) {
                    throw new IllegalArgumentException("history of timeline " + timeline
                            + ": parent timelines must be strictly increasing, got " + prev.parent() + " then " + e.parent());
                }
            }
        }
    }

    /** Timeline 1: no file, no ancestors, owns every LSN. */
    public static TimelineHistory initial() {
        return new TimelineHistory(TimelineId.FIRST, List.of());
    }

    public static TimelineHistory of(TimelineId timeline, List<Entry> entries) {
        return new TimelineHistory(timeline, entries);
    }

    /** Parses the bytes of {@code TTTTTTTT.history} (UTF-8; the reason may hold a restore point name). */
    public static TimelineHistory parse(TimelineId timeline, byte[] content) {
        return parse(timeline, new String(content, StandardCharsets.UTF_8));
    }

    /** Parses the text of the history file of {@code timeline}; see the class comment for the rules. */
    public static TimelineHistory parse(TimelineId timeline, String content) {
        Objects.requireNonNull(timeline, "timeline");
        Objects.requireNonNull(content, "history content");
        if (timeline.value() == 1) {
            throw new IllegalArgumentException("timeline 1 has no history file");
        }
        List<Entry> entries = new ArrayList<>();
        String[] lines = content.split("\n", -1);
        for (int n = 0; n < lines.length; n++) {
            String line = lines[n];
            int p = skipBlanks(line, 0);
            if (p == line.length() || line.charAt(p) == '#') {
                continue;
            }
            entries.add(parseLine(timeline, line, n + 1));
        }
        if (entries.isEmpty()) {
            throw new IllegalArgumentException("history file of timeline " + timeline
                    + " has no entries (empty or only comments)");
        }
        try {
            return new TimelineHistory(timeline, entries);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid history file of timeline " + timeline + ": " + e.getMessage(), e);
        }
    }

    private static Entry parseLine(TimelineId timeline, String line, int lineNo) {
        String where = "history file of timeline " + timeline + ", line " + lineNo + " '" + line.strip() + "': ";
        int p = skipBlanks(line, 0);
        int tliEnd = p;
        while (tliEnd < line.length() && line.charAt(tliEnd) >= '0' && line.charAt(tliEnd) <= '9') {
            tliEnd++;
        }
        if (tliEnd == p) {
            throw new IllegalArgumentException(where + "expected a numeric parent timeline ID");
        }
        if (tliEnd < line.length() && !isBlank(line.charAt(tliEnd))) {
            throw new IllegalArgumentException(where + "expected white space after the parent timeline ID");
        }
        TimelineId parent;
        try {
            parent = TimelineId.parseDecimal(line.substring(p, tliEnd));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + e.getMessage(), e);
        }
        p = skipBlanks(line, tliEnd);
        int hiEnd = skipHex(line, p);
        if (hiEnd == p || hiEnd >= line.length() || line.charAt(hiEnd) != '/') {
            throw new IllegalArgumentException(where + "expected a switch point location X/X after the parent timeline");
        }
        int loStart = skipBlanks(line, hiEnd + 1);
        int loEnd = skipHex(line, loStart);
        if (loEnd < line.length() && !isBlank(line.charAt(loEnd))) {
            throw new IllegalArgumentException(where + "unexpected text right after the switch point");
        }
        Lsn switchPoint;
        try {
            switchPoint = Lsn.parse(line.substring(p, hiEnd + 1) + line.substring(loStart, loEnd));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + e.getMessage(), e);
        }
        try {
            return new Entry(parent, switchPoint, line.substring(loEnd));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + e.getMessage(), e);
        }
    }

    /** The file as PostgreSQL writes it: {@code parent TAB X/X TAB reason LF} per entry. Comments are not kept. */
    public String format() {
        StringBuilder sb = new StringBuilder();
        for (Entry e : entries) {
            sb.append(e.parent().value()).append('\t').append(e.switchPoint()).append('\t').append(e.reason()).append('\n');
        }
        return sb.toString();
    }

    public byte[] toBytes() {
        return format().getBytes(StandardCharsets.UTF_8);
    }

    /** The file name PostgreSQL archives this history under. */
    public WalFileName.History fileName() {
        return new WalFileName.History(timeline);
    }

    /** The history PostgreSQL would write when this timeline is left at {@code switchPoint} for {@code child}. */
    public TimelineHistory child(TimelineId child, Lsn switchPoint, String reason) {
        List<Entry> next = new ArrayList<>(entries);
        next.add(new Entry(timeline, switchPoint, reason));
        return new TimelineHistory(child, next);
    }

    /** The switch points, oldest first: where each ancestor was left. */
    public List<Lsn> switchPoints() {
        return entries.stream().map(Entry::switchPoint).toList();
    }

    /** The ancestors, oldest first (not including this history's own timeline). */
    public List<TimelineId> ancestors() {
        return entries.stream().map(Entry::parent).toList();
    }

    public boolean isAncestor(TimelineId other) {
        return entries.stream().anyMatch(e -> e.parent().equals(other));
    }

    /** This timeline or one of its ancestors: WAL of {@code other} may be part of this history. */
    public boolean includes(TimelineId other) {
        return timeline.equals(other) || isAncestor(other);
    }

    /**
     * The LSNs {@code [from, to)} a timeline owns on this history ({@code to} null: the file's own
     * timeline, open-ended; {@code from} 0/0: from the start).
     */
    public record Owned(TimelineId timeline, Lsn from, Lsn to) {
        public boolean holds(Lsn lsn) {
            return !lsn.isBefore(from) && (to == null || lsn.isBefore(to));
        }
    }

    /**
     * The timelines that own LSNs on this history and what each owns, oldest first; the ranges
     * are disjoint, ascending and together cover every LSN. An entry whose range is empty (a
     * later switch point at or below its start) is left out: see the class comment.
     */
    public List<Owned> owned() {
        int n = entries.size();
        Lsn[] ends = new Lsn[n];
        Lsn min = null;
        for (int i = n - 1; i >= 0; i--) {
            Lsn sp = entries.get(i).switchPoint();
            min = min == null || sp.isBefore(min) ? sp : min;
            ends[i] = min;
        }
        List<Owned> out = new ArrayList<>(n + 1);
        Lsn from = Lsn.INVALID;
        for (int i = 0; i < n; i++) {
            if (from.isBefore(ends[i])) {
                out.add(new Owned(entries.get(i).parent(), from, ends[i]));
            }
            from = entries.get(i).switchPoint();
        }
        out.add(new Owned(timeline, from, null));
        return out;
    }

    /** Whether {@code tli} owns at least one LSN on this history (this timeline always does). */
    public boolean owns(TimelineId tli) {
        return owned().stream().anyMatch(o -> o.timeline().equals(tli));
    }

    /** The timeline whose WAL holds {@code lsn} when following this history ({@code tliOfPointInHistory}). */
    public TimelineId timelineAt(Lsn lsn) {
        Objects.requireNonNull(lsn, "lsn");
        for (Owned o : owned()) {
            if (o.holds(lsn)) {
                return o.timeline();
            }
        }
        throw new IllegalStateException("history of timeline " + timeline + " does not cover " + lsn);
    }

    /**
     * Where this history left {@code ancestor}, as the file says ({@code tliSwitchPoint}): the
     * next timeline takes over from this LSN. When a later switch point is lower, the ancestor
     * owns less than this (see {@link #owned()}). Throws if it is not an ancestor.
     */
    public Lsn branchPoint(TimelineId ancestor) {
        for (Entry e : entries) {
            if (e.parent().equals(ancestor)) {
                return e.switchPoint();
            }
        }
        throw new IllegalArgumentException("timeline " + ancestor + " is not an ancestor of timeline " + timeline
                + " (ancestors: " + ancestors() + ")");
    }

    /**
     * The LSN from which {@code tli} is the current timeline in this history as the file says:
     * 0/0 for the oldest one (its range may be empty, see {@link #owned()}).
     */
    public Lsn startOf(TimelineId tli) {
        Lsn start = Lsn.INVALID;
        for (Entry e : entries) {
            if (e.parent().equals(tli)) {
                return start;
            }
            start = e.switchPoint();
        }
        if (tli.equals(timeline)) {
            return start;
        }
        throw new IllegalArgumentException("timeline " + tli + " is not part of the history of timeline " + timeline);
    }

    private static int skipBlanks(String s, int from) {
        int p = from;
        while (p < s.length() && isBlank(s.charAt(p))) {
            p++;
        }
        return p;
    }

    private static int skipHex(String s, int from) {
        int p = from;
        while (p < s.length() && WalNames.asciiHexDigit(s.charAt(p)) >= 0) {
            p++;
        }
        return p;
    }

    /** C's isspace in the C locale: what PostgreSQL's parser skips. */
    private static boolean isBlank(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\u000B' || c == '\f';
    }
}
