package io.tidemark.shim.aottrain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.shim.support.Shim;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class AotTrainCommandTest {
    /** The build's AOT training run must exercise the real fast path without a network. */
    @Test
    void trainingRunPushesAndGetsEveryCompression() {
        Shim.Run r = Shim.main("aot-train");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("archive-push and archive-get exercised"), r.out());
    }
}
