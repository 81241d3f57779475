package io.tidemark.shim.archivepush.async;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * {@code archive-push.queue-max}: how much ready but unpushed WAL may wait before the worker
 * gives up on the oldest of it. Only WAL segments (and {@code .partial} files) are ever dropped,
 * never history or backup history files (small, and a restore across a timeline or from a backup
 * cannot do without them), and never a file a push is already under way for.
 */
final class QueueLimit {
    private QueueLimit() {
    }

    /**
     * The files to drop, oldest first, so that what is left waiting is at most {@code max} bytes.
     *
     * @param waiting  files not archived yet, in archiving order
     * @param inFlight names being pushed right now (counted as waiting, never dropped)
     */
    static List<ReadyQueue.ReadyFile> toDrop(List<ReadyQueue.ReadyFile> waiting, Set<String> inFlight, long max) {
        long total = 0;
        for (ReadyQueue.ReadyFile f : waiting) {
            total += f.bytes();
        }
        List<ReadyQueue.ReadyFile> drop = new ArrayList<>();
        for (ReadyQueue.ReadyFile f : waiting) {
            if (total <= max) {
                break;
            }
            if (inFlight.contains(f.name()) || f.name().endsWith(".history") || f.name().endsWith(".backup")) {
                continue;
            }
            drop.add(f);
            total -= f.bytes();
        }
        return drop;
    }
}
