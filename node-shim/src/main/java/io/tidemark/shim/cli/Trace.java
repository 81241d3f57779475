package io.tidemark.shim.cli;

/**
 * Phase timings on stderr when {@code TIDEMARK_TRACE=1}: milliseconds since the JVM started,
 * for measuring start-up (docs/startup.md). Costs nothing when off.
 */
public final class Trace {
    private static final boolean ON = "1".equals(System.getenv("TIDEMARK_TRACE"));
    private static final long JVM_START_MS = ON ? ProcessHandle.current().info().startInstant()
            .map(java.time.Instant::toEpochMilli).orElse(System.currentTimeMillis()) : 0;

    private Trace() {
    }

    public static void mark(String phase) {
        if (ON) {
            System.err.println("trace " + (System.currentTimeMillis() - JVM_START_MS) + " ms " + phase);
        }
    }
}
