package io.tidemark.events.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.core.JsonProcessingException;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class JsonTest {

    record Point(int x) {
    }

    @Test
    void oneSharedMapperPerConfiguration() {
        assertSame(Json.mapper(), Json.mapper());
        assertSame(Json.strict(), Json.strict());
        assertSame(Json.lenient(), Json.lenient());
    }

    @Test
    void theDefaultsAreJacksonsOwn() throws Exception {
        assertEquals(2, Json.mapper().readTree("{\"a\": 1, \"a\": 2}").get("a").asInt(), "last duplicate wins");
        assertThrows(JsonProcessingException.class, () -> Json.mapper().readValue("{\"x\": 1, \"y\": 2}", Point.class));
        assertEquals("{\n  \"x\" : 1\n}", Json.pretty().writeValueAsString(new Point(1)).replace("\r", ""));
    }

    @Test
    void strictRefusesDuplicatesAndTrailingData() {
        assertThrows(JsonProcessingException.class, () -> Json.strict().readTree("{\"a\": 1, \"a\": 2}"));
        assertThrows(JsonProcessingException.class, () -> Json.strict().readTree("{\"a\": 1} {}"));
    }

    @Test
    void lenientIgnoresUnknownProperties() throws Exception {
        assertEquals(new Point(1), Json.lenient().readValue("{\"x\": 1, \"added by AWS\": true}", Point.class));
    }
}
