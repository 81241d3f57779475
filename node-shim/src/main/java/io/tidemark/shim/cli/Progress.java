package io.tidemark.shim.cli;

import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * The one progress display of long commands (backup's copy, restore's download and its object
 * check): items and bytes done of the total, rate and ETA. On a terminal one line with a bar,
 * redrawn with {@code \r} every second and ended with a newline by {@link #close()}; otherwise a
 * plain line every {@code plainEveryMs}, so that logs stay readable.
 */
public final class Progress implements AutoCloseable {
    static final long BAR_INTERVAL_MS = 1_000;
    static final int BAR_WIDTH = 24;

    private final String items;
    private final boolean withBytes;
    private final long totalItems;
    private final long totalBytes;
    private final AtomicLong done = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private final PrintStream out;
    private final boolean terminal;
    private final LongSupplier clock;
    private final long startNanos;
    private final Thread ticker;
    private volatile boolean closed;
    private boolean started;

    private Progress(String items, boolean withBytes, long totalItems, long totalBytes, PrintStream out, boolean terminal,
                     long plainEveryMs, LongSupplier nanoClock) {
        this.items = items;
        this.withBytes = withBytes;
        this.totalItems = totalItems;
        this.totalBytes = totalBytes;
        this.out = out;
        this.terminal = terminal;
        this.clock = nanoClock;
        this.startNanos = nanoClock.getAsLong();
        long interval = terminal ? BAR_INTERVAL_MS : plainEveryMs;
        this.ticker = Thread.ofPlatform().daemon().name("tidemark-progress").unstarted(() -> {
            while (!closed) {
                try {
                    Thread.sleep(interval);
                } catch (InterruptedException e) {
                    return;
                }
                if (!closed) {
                    print(false);
                }
            }
        });
    }

    /** Files and their bytes (backup, restore). */
    public static Progress ofFiles(long totalFiles, long totalBytes, PrintStream out, boolean terminal, long plainEveryMs,
                                   LongSupplier nanoClock) {
        return new Progress("files", true, totalFiles, totalBytes, out, terminal, plainEveryMs, nanoClock);
    }

    /** A count of {@code what} only, e.g. restore's check of every planned object. */
    public static Progress counting(long total, String what, PrintStream out, boolean terminal, long plainEveryMs) {
        return new Progress(what, false, total, 0, out, terminal, plainEveryMs, System::nanoTime);
    }

    /** Whether standard output is a terminal (JDK 22+: Console.isTerminal; before: a console exists). */
    public static boolean stdoutIsTerminal() {
        java.io.Console c = System.console();
        if (c == null) {
            return false;
        }
        try {
            return (Boolean) java.io.Console.class.getMethod("isTerminal").invoke(c);
        } catch (ReflectiveOperationException e) {
            return true;
        }
    }

    public Progress start() {
        started = true;
        ticker.start();
        return this;
    }

    /** One item done, of {@code size} bytes. */
    public void done(long size) {
        done.incrementAndGet();
        bytes.addAndGet(size);
    }

    public long items() {
        return done.get();
    }

    public long bytes() {
        return bytes.get();
    }

    public long elapsedNanos() {
        return clock.getAsLong() - startNanos;
    }

    public double seconds() {
        return elapsedNanos() / 1e9;
    }

    private synchronized void print(boolean last) {
        String line = withBytes ? format(done.get(), totalItems, bytes.get(), totalBytes, elapsedNanos(), terminal)
                : formatCount(done.get(), totalItems, items, terminal);
        if (terminal) {
            out.print("\r" + line + (last ? "\n" : ""));
        } else {
            out.println(line);
        }
        out.flush();
    }

    /** One line of files and bytes; with {@code bar}, a bar in front (the terminal form), else "progress:". */
    public static String format(long filesDone, long filesTotal, long bytesDone, long bytesTotal, long elapsedNanos,
                                boolean bar) {
        double seconds = elapsedNanos / 1e9;
        double rate = seconds > 0 ? bytesDone / seconds : 0;
        double fraction = bytesTotal > 0 ? Math.min(1.0, (double) bytesDone / bytesTotal)
                : filesTotal > 0 ? (double) filesDone / filesTotal : 1.0;
        String eta = rate > 0 && bytesTotal > bytesDone ? duration((long) Math.ceil((bytesTotal - bytesDone) / rate))
                : bytesDone >= bytesTotal ? "0:00" : "?";
        return head(fraction, bar) + String.format(Locale.ROOT, " %d/%d files, %s/%s, %s/s, ETA %s", filesDone, filesTotal,
                size(bytesDone), size(bytesTotal), size((long) rate), eta);
    }

    /** One line of a count only. */
    static String formatCount(long done, long total, String what, boolean bar) {
        double fraction = total > 0 ? Math.min(1.0, (double) done / total) : 1.0;
        return head(fraction, bar) + " " + done + "/" + total + " " + what;
    }

    /** The terminal form's bar and percent alone, e.g. {@code [######..................]  25%} (verify's polled runs). */
    public static String bar(long done, long total) {
        return head(total > 0 ? Math.min(1.0, (double) done / total) : 1.0, true);
    }

    private static String head(double fraction, boolean bar) {
        StringBuilder sb = new StringBuilder();
        if (bar) {
            int filled = (int) Math.round(fraction * BAR_WIDTH);
            sb.append('[').append("#".repeat(filled)).append(".".repeat(BAR_WIDTH - filled)).append("] ");
        } else {
            sb.append("progress: ");
        }
        return sb.append(String.format(Locale.ROOT, "%3d%%", (int) Math.floor(fraction * 100))).toString();
    }

    /** Sizes for people: B, kB, MB, GB (powers of 1024, one decimal above kB). */
    public static String size(long bytes) {
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
    public static String duration(long seconds) {
        long h = seconds / 3600;
        long m = seconds % 3600 / 60;
        long s = seconds % 60;
        return h > 0 ? String.format(Locale.ROOT, "%d:%02d:%02d", h, m, s) : String.format(Locale.ROOT, "%d:%02d", m, s);
    }

    /** Stops the ticker; on a terminal the final figures are drawn and the line ended. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (started) {
            ticker.interrupt();
            try {
                ticker.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (terminal) {
            print(true);
        }
    }
}
