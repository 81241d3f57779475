package io.tidemark.shim.archivepush.async;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;

/**
 * How an idle {@link ArchiveWorker} waits for work: on file events in {@code pg_wal/archive_status}
 * (PostgreSQL creates {@code <file>.ready} there before it runs archive_command; inotify on Linux),
 * so it wakes as soon as a file is ready and costs nothing while none is. When the directory
 * cannot be watched it sleeps instead, and the caller bounds every wait, so an event that never
 * comes only delays a file, never loses it.
 */
final class ReadyWatch implements AutoCloseable {
    private final WatchService service;
    private WatchKey key;

    private ReadyWatch(WatchService service, WatchKey key) {
        this.service = service;
        this.key = key;
    }

    /** Watches {@code archiveStatus}; without events (a note in {@code log}) when it cannot. */
    static ReadyWatch open(Path archiveStatus, PrintStream log) {
        WatchService s = null;
        try {
            s = FileSystems.getDefault().newWatchService();
            WatchKey k = archiveStatus.register(s, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY,
                    StandardWatchEventKinds.ENTRY_DELETE);
            return new ReadyWatch(s, k);
        } catch (IOException | UnsupportedOperationException e) {
            log.println(Instant.now() + " cannot watch " + archiveStatus + " (" + e.getMessage() + "): an idle worker looks"
                    + " every " + ArchiveWorker.IDLE_TICK.toMillis() + " ms instead");
            if (s != null) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // not watching anyway
                }
            }
            return new ReadyWatch(null, null);
        }
    }

    /** Forgets the events so far (the caller is about to look at the directory itself). */
    void drain() {
        if (service == null) {
            return;
        }
        WatchKey k;
        while ((k = service.poll()) != null) {
            k.pollEvents();
            rearm(k);
        }
    }

    /** Returns when something changed in the directory, or after {@code max}. */
    void await(Duration max) throws InterruptedException {
        long ms = Math.max(1, max.toMillis());
        if (service == null || key == null) {
            Thread.sleep(ms);
            return;
        }
        try {
            WatchKey k = service.poll(ms, TimeUnit.MILLISECONDS);
            if (k != null) {
                k.pollEvents();
                rearm(k);
            }
        } catch (ClosedWatchServiceException e) {
            Thread.sleep(ms);
        }
    }

    /** A key that cannot be re-armed (the directory went away) leaves only the bounded sleeps. */
    private void rearm(WatchKey k) {
        if (!k.reset()) {
            key = null;
        }
    }

    @Override
    public void close() {
        if (service != null) {
            try {
                service.close();
            } catch (IOException ignored) {
                // leaving
            }
        }
    }
}
