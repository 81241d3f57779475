package io.tidemark.shim.restore;

import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Restore progress: files, bytes, MB/s and ETA. On a terminal one line redrawn every second; else
 * a plain line every {@code plainEverySeconds}, so that logs stay readable.
 */
final class Progress implements AutoCloseable {
    private final PrintStream out;
    private final boolean tty;
    private final long plainEveryMs;
    private final long totalFiles;
    private final long totalBytes;
    private final AtomicLong files = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private final long startNanos = System.nanoTime();
    private volatile boolean stop;
    private Thread thread;
    private final String counting; // null: files and bytes restored; else "<verb> n/N <what>"

    Progress(PrintStream out, boolean tty, long plainEverySeconds, long totalFiles, long totalBytes) {
        this(out, tty, plainEverySeconds, totalFiles, totalBytes, null);
    }

    /** Counts {@code total} things only, e.g. "checked 1200/10000 objects (12%)". */
    static Progress counting(PrintStream out, boolean tty, long plainEverySeconds, long total, String verb, String what) {
        return new Progress(out, tty, plainEverySeconds, total, 0, verb + " %d/%d " + what + " (%d%%)");
    }

    private Progress(PrintStream out, boolean tty, long plainEverySeconds, long totalFiles, long totalBytes, String counting) {
        this.counting = counting;
        this.out = out;
        this.tty = tty;
        this.plainEveryMs = plainEverySeconds * 1000;
        this.totalFiles = totalFiles;
        this.totalBytes = totalBytes;
    }

    /** Whether standard output is a terminal (JDK 22+: Console.isTerminal; before: a console exists). */
    static boolean stdoutIsTerminal() {
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

    Progress start() {
        thread = new Thread(() -> {
            long every = tty ? 1000 : plainEveryMs;
            while (!stop) {
                try {
                    Thread.sleep(every);
                } catch (InterruptedException e) {
                    return;
                }
                if (!stop) {
                    print(false);
                }
            }
        }, "tidemark-progress");
        thread.setDaemon(true);
        thread.start();
        return this;
    }

    void done(long fileBytes) {
        files.incrementAndGet();
        bytes.addAndGet(fileBytes);
    }

    long files() {
        return files.get();
    }

    long bytes() {
        return bytes.get();
    }

    double seconds() {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    String line() {
        if (counting != null) {
            long n = files.get();
            return String.format(Locale.ROOT, counting, n, totalFiles, totalFiles == 0 ? 100 : (int) (100 * n / totalFiles));
        }
        double s = Math.max(seconds(), 0.001);
        long b = bytes.get();
        double mbs = b / 1e6 / s;
        String eta = "";
        if (b > 0 && b < totalBytes) {
            long left = (long) ((totalBytes - b) / (b / s));
            eta = String.format(Locale.ROOT, ", ETA %d:%02d", left / 60, left % 60);
        }
        int pct = totalBytes == 0 ? 100 : (int) (100 * b / totalBytes);
        return String.format(Locale.ROOT, "restored %d/%d files, %s/%s (%d%%), %.1f MB/s%s", files.get(), totalFiles,
                size(b), size(totalBytes), pct, mbs, eta);
    }

    private synchronized void print(boolean last) {
        if (tty) {
            out.print("\r" + line() + "   " + (last ? "\n" : ""));
        } else {
            out.println(line());
        }
        out.flush();
    }

    static String size(long b) {
        if (b < 1024) {
            return b + " B";
        }
        if (b < 1024 * 1024) {
            return String.format(Locale.ROOT, "%.1f kB", b / 1024.0);
        }
        if (b < 1024L * 1024 * 1024) {
            return String.format(Locale.ROOT, "%.1f MB", b / 1024.0 / 1024);
        }
        return String.format(Locale.ROOT, "%.2f GB", b / 1024.0 / 1024 / 1024);
    }

    @Override
    public void close() {
        stop = true;
        if (thread != null) {
            thread.interrupt();
            try {
                thread.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (tty) {
                print(true);
            }
        }
    }
}
