package io.tidemark.shim.archivepush.async;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.events.layout.StanzaName;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Tag("unit")
class ArchiveSpoolTest {
    private static final String SEG = "000000010000000000000007";
    /** SHA-256 of "abc". */
    private static final String ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    @TempDir
    Path dir;

    private ArchiveSpool spool() {
        return ArchiveSpool.open(dir.resolve("spool"), StanzaName.of("main")).orElseThrow();
    }

    @Test
    void createsPrivateDirectoriesUnderTheStanza() throws Exception {
        ArchiveSpool s = spool();
        assertEquals(dir.resolve("spool/main/archive"), s.dir());
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(s.dir())));
    }

    @Test
    void aSymlinkedArchiveDirectoryIsNotUsed() throws Exception {
        Files.createDirectories(dir.resolve("spool/main"));
        Files.createDirectories(dir.resolve("elsewhere"));
        Files.createSymbolicLink(dir.resolve("spool/main/archive"), dir.resolve("elsewhere"));
        assertTrue(ArchiveSpool.open(dir.resolve("spool"), StanzaName.of("main")).isEmpty());
    }

    @Test
    void okErrorAndPendingAreWhatWasRecorded() throws Exception {
        ArchiveSpool s = spool();
        assertInstanceOf(SpoolStatus.Pending.class, s.status(SEG));
        s.markError(SEG, "S3 said no\nsecond line");
        SpoolStatus.Failed f = assertInstanceOf(SpoolStatus.Failed.class, s.status(SEG));
        assertEquals("S3 said no second line", f.message());
        s.clearError(SEG);
        assertInstanceOf(SpoolStatus.Pending.class, s.status(SEG));
        s.markError(SEG, "again");
        s.markOk(SEG, 3, ABC);
        assertEquals(new SpoolStatus.Done(false), s.status(SEG));
        assertFalse(Files.exists(s.dir().resolve(SEG + ".error")), "done clears the old error");
        assertTrue(Files.readString(s.dir().resolve(SEG + ".ok")).startsWith("archived "), "the launcher reads this word");
        try (var l = Files.list(s.dir())) {
            assertTrue(l.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temp file left");
        }
    }

    @Test
    void aDroppedFileIsDoneButLeavesARecord() throws Exception {
        ArchiveSpool s = spool();
        s.markDropped(SEG, 16 << 20, "archive-push.queue-max=1 exceeded");
        assertEquals(new SpoolStatus.Done(true), s.status(SEG));
        assertTrue(Files.readString(s.dir().resolve(SEG + ".ok")).startsWith("dropped "));
        List<ArchiveSpool.Dropped> d = s.dropped();
        assertEquals(1, d.size());
        assertEquals(SEG, d.get(0).file());
        assertEquals(16 << 20, d.get(0).bytes());
        assertEquals("archive-push.queue-max=1 exceeded", d.get(0).reason());
        s.cleanup(Set.of());
        assertEquals(1, s.dropped().size(), "the drop record outlives the .ok");
    }

    @Test
    void cleanupRemovesOnlyRecordsOfFilesNoLongerReady() throws Exception {
        ArchiveSpool s = spool();
        String other = "000000010000000000000008";
        String history = "00000002.history";
        s.markOk(SEG, 3, ABC);
        s.markOk(other, 3, ABC);
        s.markError(history, "x");
        Files.writeString(s.dir().resolve("notes.ok"), "not ours");
        assertEquals(2, s.cleanup(Set.of(other)));
        assertEquals(List.of(other), s.done());
        assertInstanceOf(SpoolStatus.Pending.class, s.status(history));
        assertTrue(Files.exists(s.dir().resolve("notes.ok")), "names that are not WAL files are left alone");
    }

    @Test
    void aWorkerStartingAfterAKilledOneClearsItsErrorsAndDeadTempFilesButKeepsWhatWasArchived() throws Exception {
        ArchiveSpool s = spool();
        String other = "000000010000000000000008";
        s.markOk(SEG, 3, ABC);
        s.markError(other, "S3 unreachable");
        // what kill -9 leaves mid-write: a temp file named after the dead process, and one of a live process
        Process dead = new ProcessBuilder("true").start();
        dead.waitFor();
        Path deadTemp = s.dir().resolve("." + other + ".ok.tidemark." + dead.pid() + ".tmp");
        Path liveTemp = s.dir().resolve("." + other + ".ok.tidemark." + ProcessHandle.current().pid() + ".tmp");
        Files.writeString(deadTemp, "archived");
        Files.writeString(liveTemp, "archived");
        assertEquals(new ArchiveSpool.Leftovers(1, 1), s.clearLeftovers());
        assertInstanceOf(SpoolStatus.Pending.class, s.status(other), "tried again, not failed at once");
        assertEquals(new SpoolStatus.Done(false), s.status(SEG), "an archived file stays archived");
        assertFalse(Files.exists(deadTemp));
        assertTrue(Files.exists(liveTemp), "a live writer's temp file is its own");
    }

    @Test
    void anOkAnswersOnlyForTheContentThatWasPushed() throws Exception {
        ArchiveSpool s = spool();
        Path wal = Files.createDirectories(dir.resolve("pg_wal")).resolve(SEG);
        Files.writeString(wal, "abc");
        s.markOk(SEG, 3, ABC);
        assertEquals(new SpoolStatus.Done(false), s.answer(wal), "the pushed content");
        // same name and size, other bytes: not what was pushed
        Files.writeString(wal, "abd");
        assertInstanceOf(SpoolStatus.Pending.class, s.answer(wal));
        assertFalse(Files.exists(s.dir().resolve(SEG + ".ok")), "the record of other content is removed: the worker pushes this one");
        // other size; and a record of the old format (a name only)
        s.markOk(SEG, 4, ABC);
        assertInstanceOf(SpoolStatus.Pending.class, s.answer(wal));
        Files.writeString(s.dir().resolve(SEG + ".ok"), "archived 2026-12-06T10:00:00Z\n");
        assertInstanceOf(SpoolStatus.Pending.class, s.answer(wal));
        // a dropped file: its size
        s.markDropped(SEG, 3, "archive-push.queue-max=0 exceeded");
        assertEquals(new SpoolStatus.Done(true), s.answer(wal));
        Files.writeString(wal, "abcd");
        assertInstanceOf(SpoolStatus.Pending.class, s.answer(wal));
    }

    @Test
    void namesThatAreNotWalFilesAreRefused() {
        ArchiveSpool s = spool();
        for (String bad : List.of("../../etc/passwd", "00000001000000000000000", "000000010000000000000007.ok", "")) {
            assertThrows(IllegalArgumentException.class, () -> s.status(bad), bad);
        }
        for (String good : List.of(SEG, SEG + ".partial", "0000000A.history", SEG + ".00000028.backup")) {
            assertTrue(ArchiveSpool.isWalFile(good), good);
        }
    }

    @Test
    void oneWorkerHoldsTheLock() throws Exception {
        ArchiveSpool s = spool();
        assertFalse(s.locked());
        FileChannel held = s.tryLock().orElseThrow();
        assertTrue(s.locked());
        assertTrue(s.tryLock().isEmpty());
        held.close();
        assertFalse(s.locked());
    }
}
