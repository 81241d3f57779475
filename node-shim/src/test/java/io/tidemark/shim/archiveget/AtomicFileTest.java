package io.tidemark.shim.archiveget;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Tag("unit")
class AtomicFileTest {
    @TempDir
    Path dir;

    private List<String> names() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void writesAndReplacesLeavingNoTempFiles() throws IOException {
        Path target = dir.resolve("RECOVERYXLOG");
        AtomicFile.write(target, new byte[] {1, 2, 3});
        assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(target));
        AtomicFile.write(target, new byte[] {4});
        assertArrayEquals(new byte[] {4}, Files.readAllBytes(target));
        assertEquals(List.of("RECOVERYXLOG"), names());
    }

    @Test
    void aFailedWriteLeavesNothing() throws IOException {
        Path target = dir.resolve("missing-dir").resolve("RECOVERYXLOG");
        assertThrows(IOException.class, () -> AtomicFile.write(target, new byte[] {1}));
        assertFalse(Files.exists(target));
        Path blocked = dir.resolve("blocked");
        Files.createDirectory(blocked);
        Files.writeString(blocked.resolve("keep"), "x");
        // the target is a non-empty directory: the rename fails, the temp file is removed
        assertThrows(IOException.class, () -> AtomicFile.write(blocked, new byte[] {1}));
        assertEquals(List.of("blocked"), names());
    }

    /** What a writer killed by a signal before its rename leaves; the next write of that target removes it. */
    @Test
    void tempFilesOfGoneWritersAreRemovedByTheNextWrite() throws Exception {
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        long deadPid = gone.pid();
        long livePid = ProcessHandle.current().parent().orElseThrow().pid();
        long self = ProcessHandle.current().pid();
        Files.writeString(dir.resolve(".RECOVERYXLOG.tidemark." + deadPid + ".tmp"), "half");
        Files.writeString(dir.resolve(".RECOVERYXLOG.tidemark." + self + ".tmp"), "an earlier process with our pid");
        Files.writeString(dir.resolve(".RECOVERYXLOG.tidemark." + livePid + ".tmp"), "a live writer's");
        Files.writeString(dir.resolve(".OTHER.tidemark." + deadPid + ".tmp"), "another target's");
        Files.writeString(dir.resolve(".RECOVERYXLOG.tidemark.x.tmp"), "not ours");
        AtomicFile.write(dir.resolve("RECOVERYXLOG"), new byte[] {7});
        assertArrayEquals(new byte[] {7}, Files.readAllBytes(dir.resolve("RECOVERYXLOG")));
        assertEquals(List.of(".OTHER.tidemark." + deadPid + ".tmp", ".RECOVERYXLOG.tidemark." + livePid + ".tmp",
                ".RECOVERYXLOG.tidemark.x.tmp", "RECOVERYXLOG"), names());
    }
}
