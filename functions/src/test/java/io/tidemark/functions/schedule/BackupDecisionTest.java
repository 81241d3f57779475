package io.tidemark.functions.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.functions.catalog.BackupEntry;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class BackupDecisionTest {
    private static final Instant NOW = Instant.parse("2026-05-10T01:00:00Z");

    private static BackupEntry backup(String label, String status, String stopTime) {
        return new BackupEntry(label, null, null, status, null, 1L, null, null, null, stopTime, null, null, null, null,
                null, null, null, null, null, null, null, null, null, null, null, null, null, null);
    }

    @Test
    void fullWhenNoBackupExists() {
        BackupDecision d = BackupDecision.decide(Optional.empty(), 7, List.of(), NOW);
        assertEquals("full", d.type());
        assertEquals("no valid full backup exists", d.reason());
    }

    @Test
    void fullWhenTheOnlyFullIsNotValidEvenIfIncrWasAsked() {
        List<BackupEntry> b = List.of(backup("20260509-010000F", "invalid", "2026-05-09T01:05:00Z"),
                backup("20260508-010000F", "waiting-wal", "2026-05-08T01:05:00Z"));
        BackupDecision d = BackupDecision.decide(Optional.of("incr"), 7, b, NOW);
        assertEquals("full", d.type());
        assertEquals("no valid full backup exists: a full instead of the requested incr", d.reason());
    }

    @Test
    void incrByDefaultWhileTheFullIsRecent() {
        List<BackupEntry> b = List.of(backup("20260505-010000F", "valid", "2026-05-05T01:10:00Z"),
                backup("20260505-010000F_20260506-010000I", "valid", "2026-05-06T01:02:00Z"));
        BackupDecision d = BackupDecision.decide(Optional.empty(), 7, b, NOW);
        assertEquals("incr", d.type());
        assertTrue(d.reason().contains("20260505-010000F"), d.reason());
    }

    @Test
    void fullWhenTheNewestValidFullIsOlderThanTheInterval() {
        // The newer full is invalid: the valid one is 8 days old.
        List<BackupEntry> b = List.of(backup("20260502-010000F", "valid", "2026-05-02T00:59:00Z"),
                backup("20260509-010000F", "invalid", null));
        BackupDecision d = BackupDecision.decide(Optional.empty(), 7, b, NOW);
        assertEquals("full", d.type());
        assertTrue(d.reason().contains("20260502-010000F is 8.0 days old, more than the full interval of 7 days"),
                d.reason());
    }

    @Test
    void theIntervalIsMeasuredFromTheStopTimeElseTheLabel() {
        List<BackupEntry> noStop = List.of(backup("20260503-000000F", "valid", null));
        assertEquals("incr", BackupDecision.decide(Optional.empty(), 8, noStop, NOW).type());
        assertEquals("full", BackupDecision.decide(Optional.empty(), 7, noStop, NOW).type());
    }

    @Test
    void anExplicitTypeIsHonouredWhenPossible() {
        List<BackupEntry> b = List.of(backup("20260401-010000F", "valid", "2026-04-01T01:10:00Z"));
        BackupDecision d = BackupDecision.decide(Optional.of("diff"), 7, b, NOW);
        assertEquals("diff", d.type());
        assertTrue(d.reason().startsWith("requested by the schedule"), d.reason());
        assertEquals("full", BackupDecision.decide(Optional.of("full"), 7, b, NOW).type());
    }
}
