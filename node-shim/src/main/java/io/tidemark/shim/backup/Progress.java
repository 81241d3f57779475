package io.tidemark.shim.backup;

import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Progress of the copy: files and bytes done of the total, rate and ETA. On a terminal one line
 * redrawn with {@code \r} every second; otherwise a plain line every {@link #PLAIN_INTERVAL_MS}.
 */
final class Progress implements AutoCloseable {
    static final long PLAIN_INTERVAL_MS = 5_000;
    static final long BAR_INTERVAL_MS = 1_000;
    static final int BAR_WIDTH = 24;

    private final long totalFiles;
    private final long totalBytes;
    private final AtomicLong files = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private final PrintStream out;
    private final boolean terminal;
    private final LongSupplier clock;
    private final long startNanos;
    private final Thread ticker;
    private volatile boolean closed;

    Progress(long totalFiles, long totalBytes, PrintStream out, boolean terminal, LongSupplier nanoClock) {
        this.totalFiles = totalFiles;
        this.totalBytes = totalBytes;
        this.out = out;
        this.terminal = terminal;
        this.clock = nanoClock;
        this.startNanos = nanoClock.getAsLong();
        long interval = terminal ? BAR_INTERVAL_MS : PLAIN_INTERVAL_MS;
        this.ticker = Thread.ofPlatform().daemon().name("tidemark-progress").unstarted(() -> {
            while (!closed) {
                try {
                    Thread.sleep(interval);
                } catch (InterruptedException e) {
                    return;
                }
                if (!closed) {
                    print();
                }
            }
        });
    }

    Progress start() {
        ticker.start();
        return this;
    }

    void fileDone(long size) {
        files.incrementAndGet();
        bytes.addAndGet(size);
    }

    long elapsedNanos() {
        return clock.getAsLong() - startNanos;
    }

    private synchronized void print() {
        String line = format(files.get(), totalFiles, bytes.get(), totalBytes, elapsedNanos(), terminal);
        if (terminal) {
            out.print("\r" + line);
        } else {
            out.println(line);
        }
        out.flush();
    }

    /** One progress line; with {@code bar}, a bar in front (the terminal form). */
    static String format(long filesDone, long filesTotal, long bytesDone, long bytesTotal, long elapsedNanos, boolean bar) {
        double seconds = elapsedNanos / 1e9;
        double rate = seconds > 0 ? bytesDone / seconds : 0;
        double fraction = bytesTotal > 0 ? Math.min(1.0, (double) bytesDone / bytesTotal)
                : filesTotal > 0 ? (double) filesDone / filesTotal : 1.0;
        String eta = rate > 0 && bytesTotal > bytesDone ? duration((long) Math.ceil((bytesTotal - bytesDone) / rate))
                : bytesDone >= bytesTotal ? "0:00" : "?";
        StringBuilder sb = new StringBuilder();
        if (bar) {
            int filled = (int) Math.round(fraction * BAR_WIDTH);
            sb.append('[').append("#".repeat(filled)).append(".".repeat(BAR_WIDTH - filled)).append("] ");
        } else {
            sb.append("progress: ");
        }
        sb.append(String.format(Locale.ROOT, "%3d%% %d/%d files, %s/%s, %s/s, ETA %s", (int) Math.floor(fraction * 100),
                filesDone, filesTotal, size(bytesDone), size(bytesTotal), size((long) rate), eta));
        return sb.toString();
    }

    /** Sizes for people: B, kB, MB, GB (powers of 1024, one decimal above kB). */
    static String size(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        if (bytes < 1024 * 1024) {
            return String.format(Locale.ROOT, "%.1f kB", bytes / 1024.0);
        }
        if (bytes < 1024L * 1024 * 1024) {
            return String.format(Locale.ROOT, "%.1f MB", bytes / (1024.0 * 1024));
        }
        return String.format(Locale.ROOT, "%.2f GB", bytes / (1024.0 * 1024 * 1024));
    }

    /** {@code m:ss}, or {@code h:mm:ss} from an hour. */
    static String duration(long seconds) {
        long h = seconds / 3600;
        long m = seconds % 3600 / 60;
        long s = seconds % 60;
        return h > 0 ? String.format(Locale.ROOT, "%d:%02d:%02d", h, m, s) : String.format(Locale.ROOT, "%d:%02d", m, s);
    }

    @Override
    public void close() {
        closed = true;
        ticker.interrupt();
        if (terminal) {
            synchronized (this) {
                out.print("\r" + format(files.get(), totalFiles, bytes.get(), totalBytes, elapsedNanos(), true));
                out.println();
                out.flush();
            }
        }
    }
}
