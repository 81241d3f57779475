package io.tidemark.shim.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.events.backup.ManifestFile;
import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.paths.SafeRelativePath;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class BackupPlannerTest {
    private static final String SHA = "a".repeat(64);
    private static final BackupLabelName FULL = BackupLabelName.parse("20240102-030405F");
    private static final Instant FULL_START = Instant.parse("2024-01-02T03:04:05Z");

    private static SourceFile src(String path, long size, Instant mtime) {
        return new SourceFile(SafeRelativePath.of(path), Path.of("/pg", path), size, mtime);
    }

    private static ManifestFile stored(String path, long size, Instant mtime) {
        return new ManifestFile(SafeRelativePath.of(path), size, SHA, mtime, FULL, OptionalInt.empty(), 0, 10, SHA, List.of());
    }

    @Test
    void unchangedFilesAreReferencedOnlyWithSameSizeAndTimeSafelyBeforeTheCopy() {
        Instant old = FULL_START.minusSeconds(3600);
        Map<BackupLabelName, Instant> starts = Map.of(FULL, FULL_START);
        ManifestFile earlier = stored("base/5/16384", 8192, old);
        assertTrue(BackupPlanner.unchanged(src("base/5/16384", 8192, old), earlier, BackupPlanner.storedByStart(earlier, starts)));
        assertFalse(BackupPlanner.unchanged(src("base/5/16384", 16384, old), earlier, FULL_START), "size changed");
        assertFalse(BackupPlanner.unchanged(src("base/5/16384", 8192, old.plusMillis(1)), earlier, FULL_START), "mtime changed");
        assertFalse(BackupPlanner.unchanged(src("base/5/16384", 8192, old), null, FULL_START), "new file");
        assertFalse(BackupPlanner.unchanged(src("base/5/16384", 8192, old), earlier, null), "unknown start of the copy");
        // written within the margin before the copy was read: a second write in the same tick would keep the time
        Instant recent = FULL_START.minusMillis(500);
        ManifestFile hot = stored("base/5/16385", 8192, recent);
        assertFalse(BackupPlanner.unchanged(src("base/5/16385", 8192, recent), hot, FULL_START));
    }

    @Test
    void aResumedBackupReusesACopyOnlyWhenTheFileIsUnchangedAndItsTimeSafelyBeforeTheRead() {
        Instant readAt = FULL_START.plusSeconds(30);
        Instant old = readAt.minusSeconds(3600);
        ManifestFile copy = stored("base/5/16384", 8192, old);
        assertTrue(BackupPlanner.reusable(src("base/5/16384", 8192, old), copy, readAt));
        assertFalse(BackupPlanner.reusable(src("base/5/16384", 8192, old.plusSeconds(1)), copy, readAt), "mtime changed");
        assertFalse(BackupPlanner.reusable(src("base/5/16384", 8193, old), copy, readAt), "size changed");
        assertFalse(BackupPlanner.reusable(null, copy, readAt), "the file is gone");
        // modified within the margin before the read: a later write in the same tick would keep size and time
        Instant recent = readAt.minusMillis(1500);
        assertFalse(BackupPlanner.reusable(src("base/5/16385", 8192, recent), stored("base/5/16385", 8192, recent), readAt));
        // a record line without the read time (an older shim) is never trusted
        assertFalse(BackupPlanner.reusable(src("base/5/16384", 8192, old), copy, Instant.MIN));
        // and the resume report says which reason it was
        assertEquals(BackupPlanner.ResumeCheck.CHANGED, BackupPlanner.resumeCheck(null, copy, readAt));
        assertEquals(BackupPlanner.ResumeCheck.CHANGED,
                BackupPlanner.resumeCheck(src("base/5/16384", 8193, old), copy, readAt));
        assertEquals(BackupPlanner.ResumeCheck.TOO_RECENT, BackupPlanner.resumeCheck(src("base/5/16385", 8192, recent),
                stored("base/5/16385", 8192, recent), readAt));
        assertEquals(BackupPlanner.ResumeCheck.REUSABLE, BackupPlanner.resumeCheck(src("base/5/16384", 8192, old), copy, readAt));
    }

    @Test
    void theResumeLineSaysWhyCopiesAreReadAgain() {
        java.util.Map<BackupPlanner.ResumeCheck, Integer> why = new java.util.EnumMap<>(BackupPlanner.ResumeCheck.class);
        assertEquals("", BackupCommand.resumeReport(why, 0));
        why.put(BackupPlanner.ResumeCheck.CHANGED, 2);
        why.put(BackupPlanner.ResumeCheck.TOO_RECENT, 1);
        why.put(BackupPlanner.ResumeCheck.REUSABLE, 40);
        assertEquals("; read again: 2 changed since, 1 modified within 2 s of the earlier read, 40 unchanged but"
                + " stored in a bundle with such files, 3 whose stored copy is missing or not the one recorded",
                BackupCommand.resumeReport(why, 3));
    }

    @Test
    void checksumDeltaAlsoComparesTheContent() {
        Instant old = FULL_START.minusSeconds(3600);
        ManifestFile earlier = stored("base/5/16384", 8192, old);
        assertTrue(BackupPlanner.unchangedByChecksum(src("base/5/16384", 8192, old), earlier, SHA));
        assertFalse(BackupPlanner.unchangedByChecksum(src("base/5/16384", 8192, old), earlier, "b".repeat(64)));
    }

    @Test
    void smallAndUnkeyableFilesAreBundled() {
        Instant t = Instant.EPOCH;
        assertTrue(BackupPlanner.bundled(src("base/5/16384_vm", 8192, t)));
        assertFalse(BackupPlanner.bundled(src("base/5/16384", 64 * 1024, t)));
        assertTrue(BackupPlanner.bundled(src("log/a file with spaces.log", 10 << 20, t)), "not key-safe: bundled even when big");
    }

    @Test
    void bundlesAreFilledInOrderUpToTheirSize() {
        List<SourceFile> files = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            files.add(src("base/5/" + (1000 + i), 30, Instant.EPOCH));
        }
        files.add(src("base/5/big", 500, Instant.EPOCH));
        files.add(src("base/5/tail", 10, Instant.EPOCH));
        List<BackupPlanner.Bundle> b = BackupPlanner.bundle(files, 7, 100);
        assertEquals(List.of(7, 8, 9, 10, 11, 12), b.stream().map(BackupPlanner.Bundle::id).toList());
        assertEquals(List.of(3, 3, 3, 1, 1, 1), b.stream().map(x -> x.files().size()).toList());
        assertEquals(500, b.get(4).size(), "a file over the limit gets a bundle of its own");
        assertEquals(files, b.stream().flatMap(x -> x.files().stream()).toList(), "every file once, in order");
        assertTrue(BackupPlanner.bundle(List.of(), 0, 100).isEmpty());
    }
}
