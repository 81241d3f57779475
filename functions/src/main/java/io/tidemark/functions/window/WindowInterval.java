package io.tidemark.functions.window;

/**
 * Points reachable without a break on the path of one target timeline: from {@code start} (the
 * consistent point of the oldest backup that reaches into it) to {@code end} (the end of the last
 * record of the last contiguous segment, {@code endSegment}, with the last commit time before it).
 */
public record WindowInterval(WindowPoint start, WindowPoint end, long endSegment) {
}
