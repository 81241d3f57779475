package io.tidemark.shim.aottrain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.shim.cli.ExitCodes;
import io.tidemark.shim.support.Shim;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class AotTrainCommandTest {
    /** The build's AOT training runs must exercise the real fast path against the training cloud (another JVM). */
    @Test
    void pushTrainingRunPushes() {
        Shim.Run r = Shim.main("aot-train", "push");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("aot-train: archive-push exercised, S3 over HTTPS and HTTP"), r.out());
    }

    @Test
    void getTrainingRunPushesAndGetsEveryCompression() {
        Shim.Run r = Shim.main("aot-train", "get");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("archive-push and archive-get exercised, S3 over HTTPS and HTTP"), r.out());
    }

    /** info's cache: the API call (keys from the training cloud's credentials endpoint) and the report, PostgreSQL unreachable. */
    @Test
    void infoTrainingRunAsksTheApi() {
        Shim.Run r = Shim.main("aot-train", "info");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("aot-train: info exercised"), r.out());
    }

    @Test
    void aTrainingRunNeedsToKnowWhichCache() {
        Shim.Run r = Shim.main("aot-train");
        assertEquals(ExitCodes.USAGE, r.code());
        assertTrue(r.err().contains("aot-train push|get|info"), r.err());
    }
}
