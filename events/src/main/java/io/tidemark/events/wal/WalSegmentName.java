package io.tidemark.events.wal;

/**
 * A WAL segment file name, {@code TTTTTTTTXXXXXXXXYYYYYYYY}: the timeline, then the segment
 * number split into a "log" half (segment number / segments per log id) and a "seg" half.
 * The split depends on the segment size, so the size is part of the value.
 */
public record WalSegmentName(TimelineId timeline, long segmentNumber, WalSegmentSize segmentSize)
        implements Comparable<WalSegmentName> {

    public static final int LENGTH = 24;

    public WalSegmentName {
        if (timeline == null || segmentSize == null) {
            throw new IllegalArgumentException("timeline and segment size are required");
        }
        if (segmentNumber < 0 || segmentNumber / segmentSize.segmentsPerLogId() > 0xFFFFFFFFL) {
            throw new IllegalArgumentException("segment number out of range: " + segmentNumber);
        }
    }

    public static WalSegmentName of(TimelineId timeline, long segmentNumber, WalSegmentSize size) {
        return new WalSegmentName(timeline, segmentNumber, size);
    }

    /** The segment on {@code timeline} that holds the byte at {@code lsn}. */
    public static WalSegmentName containing(TimelineId timeline, Lsn lsn, WalSegmentSize size) {
        return new WalSegmentName(timeline, size.segmentNumberOf(lsn), size);
    }

    /**
     * The segment that holds the record ending at {@code lsn}: for an LSN exactly on a segment
     * boundary that is the previous segment (as PostgreSQL's XLByteToPrevSeg).
     */
    public static WalSegmentName endingAt(TimelineId timeline, Lsn lsn, WalSegmentSize size) {
        if (!lsn.isValid()) {
            throw new IllegalArgumentException("no segment ends at 0/0");
        }
        return new WalSegmentName(timeline, size.segmentNumberOf(Lsn.of(lsn.value() - 1)), size);
    }

    public static boolean looksLikeSegment(String name) {
        return name != null && name.length() == LENGTH && WalNames.isUpperHex(name, 0, LENGTH);
    }

    public static WalSegmentName parse(String name, WalSegmentSize size) {
        if (!looksLikeSegment(name)) {
            throw new IllegalArgumentException(
                    "not a WAL segment name (expected 24 upper-case hex digits): '" + name + "'");
        }
        TimelineId tli = TimelineId.parseHex(name.substring(0, 8));
        long log = Long.parseLong(name.substring(8, 16), 16);
        long seg = Long.parseLong(name.substring(16, 24), 16);
        if (seg >= size.segmentsPerLogId()) {
            throw new IllegalArgumentException("'" + name + "' is not a valid name for " + size
                    + " segments (the last 8 digits must be below " + WalNames.hex8(size.segmentsPerLogId()) + ")");
        }
        return new WalSegmentName(tli, log * size.segmentsPerLogId() + seg, size);
    }

    public long logId() {
        return segmentNumber / segmentSize.segmentsPerLogId();
    }

    public long segInLog() {
        return segmentNumber % segmentSize.segmentsPerLogId();
    }

    public Lsn startLsn() {
        return segmentSize.segmentStart(segmentNumber);
    }

    /**
     * The first byte after this segment. The very last segment of the 64-bit LSN space has no
     * such byte (it would be 2^64): that one case throws instead of wrapping to 0/0.
     */
    public Lsn endLsn() {
        Lsn end = segmentSize.segmentStart(segmentNumber + 1);
        if (!end.isValid()) {
            throw new ArithmeticException("segment " + this + " ends at the end of the LSN space (2^64)");
        }
        return end;
    }

    public boolean contains(Lsn lsn) {
        return segmentSize.segmentNumberOf(lsn) == segmentNumber;
    }

    public WalSegmentName next() {
        return new WalSegmentName(timeline, segmentNumber + 1, segmentSize);
    }

    public WalSegmentName previous() {
        return new WalSegmentName(timeline, segmentNumber - 1, segmentSize);
    }

    public WalSegmentName onTimeline(TimelineId other) {
        return new WalSegmentName(other, segmentNumber, segmentSize);
    }

    /** The 8 hex digits after the timeline: the part shared by every timeline's copy of the segment. */
    public String logAndSeg() {
        return WalNames.hex8(logId()) + WalNames.hex8(segInLog());
    }

    /** The 16-digit directory PostgreSQL tools group segments by: timeline and log id. */
    public String timelineAndLog() {
        return timeline.hex() + WalNames.hex8(logId());
    }

    @Override
    public int compareTo(WalSegmentName o) {
        int c = timeline.compareTo(o.timeline);
        if (c != 0) {
            return c;
        }
        c = Long.compare(segmentNumber, o.segmentNumber);
        // Tie-break on size so that compareTo is consistent with equals (records compare all fields).
        return c != 0 ? c : Integer.compare(segmentSize.bytes(), o.segmentSize.bytes());
    }

    @Override
    public String toString() {
        return timeline.hex() + logAndSeg();
    }
}
