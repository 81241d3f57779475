package io.tidemark.shim.drill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.tidemark.events.json.Json;
import java.time.Instant;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The random point of a drill: inside the window the catalog shows, per timeline, never in a gap. */
@Tag("unit")
class RandomTargetTest {
    private static final Instant T = Instant.parse("2026-12-07T00:00:00Z");

    private static JsonNode json(String s) throws Exception {
        return Json.mapper().readTree(s);
    }

    private static String point(long seconds) {
        return "{\"time\":\"" + T.plusSeconds(seconds) + "\",\"lsn\":\"0/1000000\"}";
    }

    @Test
    void everyPointIsInsideATimelinesStretchAndOutsideItsGaps() throws Exception {
        // timeline 1: 0..100 s with a gap 40..60 s; timeline 2: 100..200 s
        JsonNode w = json("{\"earliest\":" + point(0) + ",\"latest\":" + point(200) + ",\"gaps\":[{\"timeline\":1,\"from\":"
                + point(40) + ",\"to\":" + point(60) + "}],\"timelines\":[{\"timeline\":1,\"earliest\":" + point(0)
                + ",\"latest\":" + point(100) + "},{\"timeline\":2,\"earliest\":" + point(100) + ",\"latest\":" + point(200) + "}]}");
        SplittableRandom random = new SplittableRandom(7);
        int[] perTimeline = new int[3];
        int beforeGap = 0;
        for (int i = 0; i < 4000; i++) {
            RandomTarget t = RandomTarget.pick(w, random);
            perTimeline[(int) t.timeline()]++;
            long s = t.time().toEpochMilli() - T.toEpochMilli();
            if (t.timeline() == 1) {
                assertTrue(s >= 0 && s <= 100_000 && (s < 40_000 || s > 60_000), t.toString());
                beforeGap += s < 40_000 ? 1 : 0;
            } else {
                assertTrue(s >= 100_000 && s <= 200_000, t.toString());
            }
            assertFalse(t.time().isBefore(t.from()) || t.time().isAfter(t.to()), t.toString());
        }
        // uniform over the 180 restorable seconds: timeline 1 has 80 of them, timeline 2 100
        assertEquals(4000 * 80 / 180.0, perTimeline[1], 200, "timeline 1: " + perTimeline[1]);
        assertEquals(perTimeline[1] / 2.0, beforeGap, 150, "half of timeline 1's points before its gap: " + beforeGap);
    }

    @Test
    void theSameSeedDrawsTheSamePoint() throws Exception {
        JsonNode w = json("{\"timelines\":[{\"timeline\":1,\"earliest\":" + point(0) + ",\"latest\":" + point(3600) + "}]}");
        assertEquals(RandomTarget.pick(w, new SplittableRandom(42)), RandomTarget.pick(w, new SplittableRandom(42)));
    }

    @Test
    void aWindowWithoutTimesIsRefusedSayingSo() throws Exception {
        JsonNode none = json("{\"earliest\":null,\"latest\":null,\"gaps\":[],\"timelines\":[]}");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RandomTarget.pick(none, new SplittableRandom(1)));
        assertTrue(e.getMessage().contains("no restorable stretch with commit times"), e.getMessage());
        JsonNode noTime = json("{\"timelines\":[{\"timeline\":1,\"earliest\":{\"time\":null,\"lsn\":\"0/1\"},"
                + "\"latest\":{\"time\":null,\"lsn\":\"0/2\"}}]}");
        assertThrows(IllegalArgumentException.class, () -> RandomTarget.pick(noTime, new SplittableRandom(1)));
    }
}
