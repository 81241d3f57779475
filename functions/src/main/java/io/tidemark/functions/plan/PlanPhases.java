package io.tidemark.functions.plan;

/** Phase timings of one request, logged with the plan (the benchmark reads them). */
final class PlanPhases {
    private final long start = System.nanoTime();
    private long last = start;
    private final StringBuilder out = new StringBuilder();

    void mark(String phase) {
        long now = System.nanoTime();
        out.append(phase).append('=').append((now - last) / 1_000_000).append("ms ");
        last = now;
    }

    String done() {
        return out.append("total=").append((System.nanoTime() - start) / 1_000_000).append("ms").toString();
    }
}
