package io.tidemark.shim.verify;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;

/**
 * Progress of a verify run on stderr: objects checked of those planned, batches, problems so far.
 * On a terminal one line redrawn with {@code \r} at each poll, with the bar of the other long
 * commands ({@link io.tidemark.shim.cli.Progress#bar}); otherwise a plain line whenever the
 * figures changed, at most every {@link #PLAIN_INTERVAL_NANOS} (logs stay short).
 */
final class VerifyProgress {

    static final long PLAIN_INTERVAL_NANOS = 10_000_000_000L;

    private final PrintStream err;
    private final boolean terminal;
    private String last = "";
    private long lastPrinted = System.nanoTime() - PLAIN_INTERVAL_NANOS;
    private boolean drawn;

    VerifyProgress(PrintStream err, boolean terminal) {
        this.err = err;
        this.terminal = terminal;
    }

    static String summary(JsonNode run) {
        if ("planning".equals(run.path("state").asText())) {
            return "listing the objects to check";
        }
        long objects = run.path("objects").asLong();
        long checked = run.path("checked").asLong();
        int pct = objects == 0 ? 100 : (int) Math.min(100, checked * 100 / objects);
        return checked + " of " + objects + " objects checked (" + pct + "%), batch " + run.path("batchesDone").asLong()
                + " of " + run.path("batches").asLong() + ", " + run.path("problemCount").asLong() + " problems so far";
    }

    void show(JsonNode run) {
        String line = "verify " + run.path("id").asText() + ": " + summary(run);
        if (terminal) {
            String bar = "planning".equals(run.path("state").asText()) ? ""
                    : io.tidemark.shim.cli.Progress.bar(run.path("checked").asLong(), run.path("objects").asLong()) + " ";
            err.print("\r" + bar + line + "   ");
            err.flush();
            drawn = true;
            return;
        }
        long now = System.nanoTime();
        if (!line.equals(last) && now - lastPrinted >= PLAIN_INTERVAL_NANOS) {
            err.println(line);
            last = line;
            lastPrinted = now;
        }
    }

    void end() {
        if (drawn) {
            err.println();
            drawn = false;
        }
    }
}
