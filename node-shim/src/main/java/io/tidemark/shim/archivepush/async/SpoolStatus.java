package io.tidemark.shim.archivepush.async;

import java.time.Instant;

/** Where one WAL file stands in the archive spool. */
public sealed interface SpoolStatus {
    /** Nothing recorded yet: not pushed, or not tried. */
    record Pending() implements SpoolStatus {
    }

    /** Archived ({@code <file>.ok}); {@code dropped} when queue-max let it go without pushing it. */
    record Done(boolean dropped) implements SpoolStatus {
    }

    /** The last attempt failed ({@code <file>.error}); the worker tries again later. */
    record Failed(String message, Instant at) implements SpoolStatus {
    }
}
