package io.tidemark.shim.archivepush.async;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Tag("unit")
class ReadyQueueTest {
    @TempDir
    Path dir;

    @Test
    void historiesFirstThenOldestFirstAcrossTimelines() {
        List<String> names = List.of(
                "000000020000000100000000",
                "00000001000000000000000A",
                "000000010000000000000009.partial",
                "00000002.history",
                "000000010000000000000009",
                "000000010000000000000009.00000028.backup",
                "0000000100000000000000FF",
                "000000010000000100000000",
                "00000003.history",
                "archive_status",
                "xlogtemp.123");
        assertEquals(List.of(
                "00000002.history",
                "00000003.history",
                "000000010000000000000009",
                "000000010000000000000009.00000028.backup",
                "000000010000000000000009.partial",
                "00000001000000000000000A",
                "0000000100000000000000FF",
                "000000010000000100000000",
                "000000020000000100000000"), ReadyQueue.order(names));
    }

    @Test
    void scanReadsTheReadyMarkersAndSizesOnly() throws Exception {
        Path pgWal = Files.createDirectories(dir.resolve("pg_wal/archive_status")).getParent();
        Files.write(pgWal.resolve("000000010000000000000002"), new byte[100]);
        Files.write(pgWal.resolve("000000010000000000000001"), new byte[50]);
        Files.write(pgWal.resolve("000000010000000000000003"), new byte[10]);
        Files.createFile(pgWal.resolve("archive_status/000000010000000000000002.ready"));
        Files.createFile(pgWal.resolve("archive_status/000000010000000000000001.ready"));
        Files.createFile(pgWal.resolve("archive_status/000000010000000000000003.done"));
        Files.createFile(pgWal.resolve("archive_status/000000010000000000000004.ready")); // file already gone
        assertEquals(List.of(
                new ReadyQueue.ReadyFile("000000010000000000000001", 50),
                new ReadyQueue.ReadyFile("000000010000000000000002", 100),
                new ReadyQueue.ReadyFile("000000010000000000000004", 0)), ReadyQueue.scan(pgWal));
        assertEquals(List.of(), ReadyQueue.scan(dir.resolve("nothing")));
    }

    @Test
    void queueLimitDropsOldestSegmentsOnlyDownToTheLimit() {
        var h = new ReadyQueue.ReadyFile("00000002.history", 40);
        var a = new ReadyQueue.ReadyFile("000000010000000000000001", 100);
        var b = new ReadyQueue.ReadyFile("000000010000000000000002", 100);
        var bk = new ReadyQueue.ReadyFile("000000010000000000000002.00000028.backup", 10);
        var c = new ReadyQueue.ReadyFile("000000010000000000000003", 100);
        var d = new ReadyQueue.ReadyFile("000000020000000000000004", 100);
        List<ReadyQueue.ReadyFile> waiting = List.of(h, a, b, bk, c, d);
        assertEquals(List.of(), QueueLimit.toDrop(waiting, Set.of(), 450));
        assertEquals(List.of(a), QueueLimit.toDrop(waiting, Set.of(), 400));
        assertEquals(List.of(b, c), QueueLimit.toDrop(waiting, Set.of(a.name()), 250), "in flight: never dropped");
        assertEquals(List.of(a, b, c, d), QueueLimit.toDrop(waiting, Set.of(), 0), "histories and backup files stay");
    }
}
