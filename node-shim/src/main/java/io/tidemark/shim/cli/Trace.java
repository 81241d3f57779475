package io.tidemark.shim.cli;

/**
 * Phase timings on stderr when {@code TIDEMARK_TRACE=1}: milliseconds since the JVM started,
 * for measuring start-up (docs/startup.md). Costs nothing when off. The JVM's start time from
 * the operating system is only as fine as a clock tick; a caller that wants the whole call
 * measured passes its own start in {@code TIDEMARK_TRACE_T0} (nanoseconds since the epoch, as
 * {@code date +%s%N} prints it).
 */
public final class Trace {
    private static final boolean ON = "1".equals(System.getenv("TIDEMARK_TRACE"));
    private static final long START_MICROS = ON ? start() : 0;

    private Trace() {
    }

    private static long start() {
        String t0 = System.getenv("TIDEMARK_TRACE_T0");
        if (t0 != null && t0.matches("[0-9]{10,20}")) {
            return Long.parseLong(t0) / 1000;
        }
        return ProcessHandle.current().info().startInstant()
                .map(i -> i.toEpochMilli() * 1000).orElse(nowMicros());
    }

    private static long nowMicros() {
        java.time.Instant now = java.time.Instant.now();
        return now.getEpochSecond() * 1_000_000 + now.getNano() / 1000;
    }

    public static void mark(String phase) {
        if (ON) {
            long us = nowMicros() - START_MICROS;
            // no string concatenation: its first use links an invokedynamic call site, which
            // would be timed as part of the phase
            StringBuilder sb = new StringBuilder(64).append("trace ").append(us / 1000).append('.')
                    .append((us % 1000) / 100).append(" ms ").append(phase);
            System.err.println(sb);
        }
    }
}
