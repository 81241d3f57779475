package io.tidemark.localcloud;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class LocalScheduleTest {

    private static List<LocalSchedule> parse(String json) {
        return LocalSchedule.parse(json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void everyAndDailyAt() {
        List<LocalSchedule> s = parse("""
                {"schedules": [
                  {"name": "a", "function": "backup-scheduler", "every": "2h", "firstAfter": "30s", "input": {"stanza": "main"}},
                  {"name": "b", "function": "retention", "dailyAt": "03:30", "input": {"stanza": "main"}}]}""");
        assertEquals(new LocalSchedule.Every(Duration.ofHours(2), Duration.ofSeconds(30)), s.get(0).timing());
        assertEquals("{\"stanza\":\"main\"}", s.get(0).input());
        Instant start = Instant.parse("2026-05-10T04:00:00Z");
        assertEquals(start.plusSeconds(30), s.get(0).timing().first(start));
        assertEquals(start.plusSeconds(30 + 7200), s.get(0).timing().next(start.plusSeconds(30)));
        assertEquals(new LocalSchedule.DailyAt(LocalTime.of(3, 30)), s.get(1).timing());
        assertEquals(Instant.parse("2026-05-11T03:30:00Z"), s.get(1).timing().first(start));
        assertEquals(Instant.parse("2026-05-10T03:30:00Z"), s.get(1).timing().first(Instant.parse("2026-05-10T01:00:00Z")));
        assertEquals(Duration.ofDays(1), LocalSchedule.duration("1d"));
        assertEquals(Duration.ofMinutes(90), LocalSchedule.duration("PT1H30M"));
    }

    @Test
    void everyProblemIsNamedWithItsPosition() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> parse("""
                {"schedules": [
                  {"name": "a", "function": "f", "every": "soon", "input": {}},
                  {"name": "b", "function": "f", "every": "1h", "dailyAt": "01:00", "input": {}},
                  {"name": "c", "function": "f", "dailyAt": "25:00", "input": {}},
                  {"name": "d", "function": "f", "every": "1h", "input": "x"},
                  {"name": "e", "function": "f", "every": "1h", "input": {}, "cron": "* * * * *"}]}"""));
        String m = e.getMessage();
        assertTrue(m.contains("schedules[0]: 'soon' is not a duration"), m);
        assertTrue(m.contains("schedules[1]: give exactly one of every and dailyAt"), m);
        assertTrue(m.contains("schedules[2]: dailyAt must be HH:MM"), m);
        assertTrue(m.contains("schedules[3]: input must be the JSON object"), m);
        assertTrue(m.contains("schedules[4]: unknown field 'cron'"), m);
    }
}
