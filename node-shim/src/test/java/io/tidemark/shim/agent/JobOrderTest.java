package io.tidemark.shim.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class JobOrderTest {

    @Test
    void theSchedulersMessage() {
        JobOrder o = JobOrder.parse("{\"jobId\":\"20260510T010000Z-0a1b2c3d\",\"stanza\":\"main\",\"type\":\"incr\","
                + "\"deadline\":\"2026-05-10T02:00:00Z\"}");
        assertEquals(new JobOrder("20260510T010000Z-0a1b2c3d", "main", "incr", Instant.parse("2026-05-10T02:00:00Z")), o);
    }

    @Test
    void aDrillJobIsADrillAndABackupJobIsNot() {
        JobOrder d = JobOrder.parse("{\"jobId\":\"20261206T050000Z-4b1f09aa\",\"stanza\":\"main\",\"type\":\"drill\","
                + "\"deadline\":\"2026-12-06T06:00:00Z\"}");
        assertTrue(d.drill());
        assertTrue(!JobOrder.parse("{\"jobId\":\"20261206T050000Z-4b1f09aa\",\"stanza\":\"main\",\"type\":\"full\","
                + "\"deadline\":\"2026-12-06T06:00:00Z\"}").drill());
    }

    @Test
    void anythingElseIsRefusedWithTheReason() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> JobOrder.parse("nope")).getMessage()
                .startsWith("not JSON"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> JobOrder.parse("{\"jobId\":\"../x\"}"))
                .getMessage().contains("is not a job id"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> JobOrder.parse(
                "{\"jobId\":\"20260510T010000Z-0a1b2c3d\",\"type\":\"weekly\"}")).getMessage().contains("weekly"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> JobOrder.parse(
                "{\"jobId\":\"20260510T010000Z-0a1b2c3d\",\"type\":\"full\",\"deadline\":\"soon\"}")).getMessage()
                .contains("soon"));
    }

    @Test
    void theQueueRegionComesFromItsUrl() {
        assertEquals("eu-central-1", SqsJobSource.regionOf(
                "https://sqs.eu-central-1.amazonaws.com/123456789012/Tidemark-JobQueuemain").orElseThrow());
        assertTrue(SqsJobSource.regionOf("http://127.0.0.1:9324/000000000000/q").isEmpty());
    }
}
