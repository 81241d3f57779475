package io.tidemark.shim.stream;

import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.WalSegmentName;
import java.util.Objects;

/**
 * WAL bytes {@code [start, start + data.length)} of {@code segment} as the server streamed them
 * (offsets within the segment): what one chunk object holds. Never empty, never past the segment.
 */
public record Chunk(WalSegmentName segment, long start, byte[] data) {
    public Chunk {
        Objects.requireNonNull(segment, "segment");
        Objects.requireNonNull(data, "data");
        if (start < 0 || data.length == 0 || start + data.length > segment.segmentSize().bytes()) {
            throw new IllegalArgumentException("chunk [" + start + ", " + (start + data.length) + ") of " + segment
                    + " is not a non-empty range within the segment");
        }
    }

    public long end() {
        return start + data.length;
    }

    public Lsn startLsn() {
        return segment.startLsn().plus(start);
    }

    public Lsn endLsn() {
        return segment.startLsn().plus(end());
    }

    @Override
    public String toString() {
        return segment + " [" + Long.toHexString(start).toUpperCase(java.util.Locale.ROOT) + ", "
                + Long.toHexString(end()).toUpperCase(java.util.Locale.ROOT) + ") " + startLsn() + ".." + endLsn();
    }
}
