package io.tidemark.functions.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The scheduled publisher's input: a stanza, or a one-line error saying what is wrong. */
@Tag("unit")
class StanzaMetricsHandlerTest {

    static byte[] json(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void takesTheStanzaOfTheScheduleInput() {
        assertEquals("main", StanzaMetricsHandler.stanza(json("{\"stanza\": \"main\"}")).value());
    }

    @Test
    void badInputsAreNamed() {
        assertEquals("stanza metrics input must be {\"stanza\": \"<name>\"}, not {\"name\":\"main\"}",
                assertThrows(IllegalArgumentException.class,
                        () -> StanzaMetricsHandler.stanza(json("{\"name\": \"main\"}"))).getMessage());
        IllegalArgumentException notJson = assertThrows(IllegalArgumentException.class,
                () -> StanzaMetricsHandler.stanza(json("{\"stanza\": ")));
        assertTrue(notJson.getMessage().startsWith("stanza metrics input is not JSON: "), notJson.getMessage());
        assertThrows(IllegalArgumentException.class, () -> StanzaMetricsHandler.stanza(json("{\"stanza\": \"../x\"}")));
    }
}
