package io.tidemark.functions.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class ScheduleInputTest {

    private static ScheduleInput parse(String json) {
        return ScheduleInput.parse(json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void defaults() {
        ScheduleInput in = parse("{\"stanza\":\"main\"}");
        assertEquals("main", in.stanza().value());
        assertEquals(Optional.empty(), in.type());
        assertEquals(ScheduleInput.DEFAULT_FULL_INTERVAL_DAYS, in.fullIntervalDays());
        assertEquals(ScheduleInput.DEFAULT_DEADLINE_MINUTES, in.deadlineMinutes());
    }

    @Test
    void everyField() {
        ScheduleInput in = parse("{\"stanza\":\"db1\",\"type\":\"diff\",\"fullIntervalDays\":3,\"deadlineMinutes\":30}");
        assertEquals(Optional.of("diff"), in.type());
        assertEquals(3, in.fullIntervalDays());
        assertEquals(30, in.deadlineMinutes());
    }

    @Test
    void everyProblemIsNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> parse("{\"type\":\"weekly\",\"fullIntervalDays\":0,\"retention\":{}}"));
        assertTrue(e.getMessage().contains("unknown field 'retention'"), e.getMessage());
        assertTrue(e.getMessage().contains("stanza is required"), e.getMessage());
        assertTrue(e.getMessage().contains("type must be full, diff, incr or drill"), e.getMessage());
        assertTrue(e.getMessage().contains("fullIntervalDays must be an integer from 1 to 366"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> parse("not json"));
        assertThrows(IllegalArgumentException.class, () -> parse("[1]"));
    }
}
