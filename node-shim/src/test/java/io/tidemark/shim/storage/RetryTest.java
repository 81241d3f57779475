package io.tidemark.shim.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class RetryTest {

    @Test
    void theScheduleGrowsFourfoldThenTwofoldUpToItsCap() {
        Retry.Pauses p = new Retry.Pauses(250, Retry.MAX_PAUSE_MS);
        List<Long> pauses = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            pauses.add(p.next());
        }
        assertEquals(List.of(250L, 1000L, 2000L, 4000L, 4000L, 4000L), pauses);
        assertEquals(5_000, Retry.pauseMillis(1_000, 250, 5_000), "a long run of failures stays at the cap");
        assertEquals(5, Retry.pauseMillis(1, 5, 4_000));
    }

    @Test
    void aRetryableFailureIsTriedRetriesPlusOneTimesAndSaysSo() {
        AtomicInteger calls = new AtomicInteger();
        StorageException e = assertThrows(StorageException.class, () -> new Retry(2, Duration.ofMillis(1)).run(() -> {
            calls.incrementAndGet();
            throw new StorageException("S3 answered 503", null, true);
        }));
        assertEquals(3, calls.get());
        assertTrue(e.getMessage().endsWith("(after 3 attempts)"), e.getMessage());
    }

    @Test
    void aFailureThatCannotPassIsNotRetried() {
        AtomicInteger calls = new AtomicInteger();
        StorageException e = assertThrows(StorageException.class, () -> new Retry(3, Duration.ofMillis(1)).run(() -> {
            calls.incrementAndGet();
            throw new StorageException("403 AccessDenied", null, false);
        }));
        assertEquals(1, calls.get());
        assertEquals("403 AccessDenied", e.getMessage());
    }

    @Test
    void aRequestThatPassesOnItsSecondAttemptAnswers() {
        AtomicInteger calls = new AtomicInteger();
        assertEquals("ok", new Retry(3, Duration.ofMillis(1)).run(() -> {
            if (calls.incrementAndGet() == 1) {
                throw new StorageException("connection reset", null, true);
            }
            return "ok";
        }));
    }
}
