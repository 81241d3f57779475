package io.tidemark.shim.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.events.backup.ManifestBundle;
import io.tidemark.events.backup.ManifestFile;
import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.paths.SafeRelativePath;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Tag("unit")
class ResumeRecordTest {
    @TempDir
    Path tmp;

    private static final Instant READ_AT = Instant.parse("2024-01-01T10:05:00Z");

    @Test
    void aRecordReadsBackWhatWasStoredAndIgnoresATornLine() throws Exception {
        BackupLabelName label = BackupLabelName.parse("20240101-000000F_20240102-000000I");
        BackupLabelName prior = BackupLabelName.parse("20240101-000000F");
        Path file = ResumeRecord.fileFor(tmp.resolve("main"));
        ManifestFile single = new ManifestFile(SafeRelativePath.of("base/5/16384"), 100_000, "a".repeat(64),
                Instant.parse("2024-01-01T10:00:00.123456789Z"), label, OptionalInt.empty(), 0, 900, "b".repeat(64), List.of(3L));
        ManifestFile inBundle = new ManifestFile(SafeRelativePath.of("base/5/16384_fsm"), 24576, "c".repeat(64),
                Instant.parse("2024-01-01T10:00:00Z"), label, OptionalInt.of(2), 77, 40, "d".repeat(64), List.of());
        try (ResumeRecord r = ResumeRecord.open(file, label, "incr", Optional.of(prior), false)) {
            r.plannedBundles(5);
            r.storedFile(single, READ_AT);
            r.storedBundle(new ManifestBundle(2, 117, "e".repeat(64)), List.of(inBundle), READ_AT);
        }
        Files.writeString(file, "{\"kind\":\"file\",\"path\":\"base/5/1", StandardOpenOption.APPEND);

        ResumeRecord.Previous p = ResumeRecord.read(file).orElseThrow();
        assertEquals(label, p.label());
        assertEquals("incr", p.type());
        assertEquals(Optional.of(prior), p.prior());
        assertEquals(new ResumeRecord.StoredFile(single, READ_AT), p.files().get(single.path()));
        assertEquals(READ_AT, p.bundles().get(2).readAt());
        assertEquals(5, p.firstUnusedBundleId(), "ids the interrupted run planned are never planned again");
        assertEquals(1, p.files().size());
        assertEquals(new ManifestBundle(2, 117, "e".repeat(64)), p.bundles().get(2).bundle());
        assertEquals(List.of(inBundle), p.bundles().get(2).files());

        // resuming appends after the torn line (a run killed mid-write), not onto it
        ManifestFile later = new ManifestFile(SafeRelativePath.of("base/5/16390"), 8192, "f".repeat(64),
                Instant.parse("2024-01-01T10:00:00Z"), label, OptionalInt.empty(), 0, 50, "0".repeat(64), List.of());
        try (ResumeRecord r = ResumeRecord.open(file, label, "incr", Optional.of(prior), true)) {
            r.storedFile(later, READ_AT);
        }
        assertEquals(later, ResumeRecord.read(file).orElseThrow().files().get(later.path()).file(),
                "the first line after a torn one is kept");
        // the record goes once the backup is complete
        try (ResumeRecord r = ResumeRecord.open(file, label, "incr", Optional.of(prior), true)) {
            r.delete();
        }
        assertTrue(ResumeRecord.read(file).isEmpty());
    }
}
