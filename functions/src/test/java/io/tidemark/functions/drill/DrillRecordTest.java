package io.tidemark.functions.drill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class DrillRecordTest {
    private static final String PASSED = "{\"drillId\":\"20261206T010000Z-0000000a\",\"node\":\"db2:42\",\"startedAt\":"
            + "\"2026-12-06T01:00:00Z\",\"result\":\"passed\",\"target\":\"latest\",\"backup\":\"20261206-010000F\","
            + "\"bytes\":1000,\"filesRestoredMs\":1000,\"consistentMs\":2000,\"promotedMs\":3400,\"extra\":\"dropped\","
            + "\"checks\":[{\"name\":\"target\",\"status\":\"passed\",\"message\":\"MSG\"}]}";

    private static DrillRecord parse(String json) {
        return DrillRecord.parse(json.getBytes(StandardCharsets.UTF_8));
    }

    private static String refused(String json) {
        return assertThrows(IllegalArgumentException.class, () -> parse(json)).getMessage();
    }

    @Test
    void aDrillIsRebuiltFromWhatItValidated() {
        DrillRecord r = parse(PASSED);
        assertTrue(r.passed());
        assertEquals(3400L, r.promotedMs());
        assertTrue(!r.document().has("extra"), "only the fields it knows: " + r.document());
        String longMessage = "x".repeat(5000);
        String cut = parse(PASSED.replace("MSG", longMessage)).document().get("checks").get(0).get("message").asText();
        assertEquals(2001, cut.length(), "a long message is cut, the drill still recorded");
    }

    @Test
    void whatCannotBeTrueIsRefusedNamingTheField() {
        assertTrue(refused(PASSED.replace("0000000a", "XYZ")).contains("drillId"));
        assertTrue(refused(PASSED.replace("\"promotedMs\":3400", "\"promotedMs\":null")).contains("promotedMs"));
        assertTrue(refused(PASSED.replace("\"status\":\"passed\"", "\"status\":\"failed\"")).contains("disagrees"));
        assertTrue(refused(PASSED.replace("\"bytes\":1000", "\"bytes\":-1")).contains("bytes"));
        assertTrue(refused(PASSED.replace("20261206-010000F", "../etc")).contains("backup"));
        assertTrue(refused(PASSED.replace("\"name\":\"target\"", "\"name\":\"Target!\"")).contains("check name"));
        assertTrue(refused(PASSED.replace("\"checks\":[{\"name\":\"target\",\"status\":\"passed\",\"message\":\"MSG\"}]",
                "\"checks\":[]")).contains("checks"));
        assertTrue(refused("[]").contains("JSON object"));
    }
}
