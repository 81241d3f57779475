package io.tidemark.functions.plan;

import io.tidemark.events.wal.Lsn;

/**
 * Where recovery stops, as proven for one backup: the last path segment recovery reads, and for
 * {@code latest} the start of the last complete record of the contiguous WAL (null: none known),
 * which the plan pins as an inclusive LSN target.
 */
record Stop(long lastSegment, String why, Lsn pin) {
    Stop(long lastSegment, String why) {
        this(lastSegment, why, null);
    }
}
