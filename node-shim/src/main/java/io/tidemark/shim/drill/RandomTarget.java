package io.tidemark.shim.drill;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.random.RandomGenerator;

/**
 * A drill's random target ({@code --target random}, {@code drill.target=random}): a time drawn
 * uniformly from the recovery window the catalog shows ({@code window} of {@code GET /stanzas/{stanza}}),
 * per timeline as it gives it, the stretches it reports as gaps left out. A point before the
 * newest backup makes the drill restore an older backup and replay its WAL, which a drill of
 * {@code latest} never touches.
 *
 * @param timeline the timeline the point is on (the drill asks the planner for exactly that one)
 * @param time     the target time, whole milliseconds
 * @param from     the start of the stretch of that timeline it was drawn from
 * @param to       its end
 */
public record RandomTarget(long timeline, Instant time, Instant from, Instant to) {

    /** A restorable stretch of one timeline, in epoch milliseconds, both ends included. */
    private record Stretch(long timeline, long from, long to) {
        long length() {
            return to - from + 1;
        }
    }

    /**
     * Draws the point.
     *
     * @param window the stanza document's {@code window}
     * @throws IllegalArgumentException the window has no stretch with times to draw from, saying why
     */
    public static RandomTarget pick(JsonNode window, RandomGenerator random) {
        List<Stretch> stretches = stretches(window);
        if (stretches.isEmpty()) {
            throw new IllegalArgumentException("the recovery window has no restorable stretch with commit times to draw a"
                    + " random point from (window: " + window + "); drill latest instead");
        }
        long total = stretches.stream().mapToLong(Stretch::length).sum();
        long r = random.nextLong(total);
        for (Stretch s : stretches) {
            if (r < s.length()) {
                return new RandomTarget(s.timeline(), Instant.ofEpochMilli(s.from() + r), Instant.ofEpochMilli(s.from()),
                        Instant.ofEpochMilli(s.to()));
            }
            r -= s.length();
        }
        throw new IllegalStateException("unreachable: " + r + " beyond " + total);
    }

    /** Each timeline's [earliest, latest] with times, minus its gaps. */
    private static List<Stretch> stretches(JsonNode window) {
        List<Stretch> out = new ArrayList<>();
        for (JsonNode t : window.path("timelines")) {
            long timeline = t.path("timeline").asLong(-1);
            Optional<Long> from = millis(t.path("earliest").path("time"), true);
            Optional<Long> to = millis(t.path("latest").path("time"), false);
            if (timeline < 1 || from.isEmpty() || to.isEmpty() || to.get() < from.get()) {
                continue;
            }
            List<Stretch> pieces = new ArrayList<>(List.of(new Stretch(timeline, from.get(), to.get())));
            for (JsonNode g : window.path("gaps")) {
                if (g.path("timeline").asLong(-1) != timeline) {
                    continue;
                }
                // a gap without a time on one side reaches the window's end on that side
                long gFrom = millis(g.path("from").path("time"), false).orElse(Long.MIN_VALUE);
                long gTo = millis(g.path("to").path("time"), true).orElse(Long.MAX_VALUE);
                List<Stretch> next = new ArrayList<>();
                for (Stretch p : pieces) {
                    if (gTo < p.from() || gFrom > p.to()) {
                        next.add(p);
                        continue;
                    }
                    // the gap's ends are not restorable themselves
                    if (gFrom != Long.MIN_VALUE && gFrom - 1 >= p.from()) {
                        next.add(new Stretch(timeline, p.from(), gFrom - 1));
                    }
                    if (gTo != Long.MAX_VALUE && gTo + 1 <= p.to()) {
                        next.add(new Stretch(timeline, gTo + 1, p.to()));
                    }
                }
                pieces = next;
            }
            out.addAll(pieces);
        }
        return out;
    }

    /** Whole milliseconds, rounded so that a point drawn stays inside: up at a start, down at an end. */
    private static Optional<Long> millis(JsonNode time, boolean up) {
        if (!time.isTextual()) {
            return Optional.empty();
        }
        try {
            Instant t = Instant.parse(time.asText());
            long ms = t.toEpochMilli();
            return Optional.of(up && t.getNano() % 1_000_000 != 0 ? ms + 1 : ms);
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
    }

    /** What the drill's {@code window} check says about the draw. */
    public String describe() {
        return "random point " + time + " on timeline " + timeline + ", drawn from its restorable stretch " + from + " .. "
                + to;
    }
}
