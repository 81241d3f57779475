package io.tidemark.shim.restore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Tag("unit")
class EarlyFlushTest {

    @TempDir
    Path dir;

    @Test
    void aLargeFileIsFlushedInTheBackgroundWhileItIsWrittenAndSmallOnesNever() throws IOException {
        Path f = dir.resolve("big");
        byte[] chunk = new byte[1 << 20];
        chunk[7] = 42;
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
             Downloader.EarlyFlush flush = new Downloader.EarlyFlush(ch)) {
            long total = 3 * Downloader.EarlyFlush.EVERY + (5 << 20);
            for (long w = 0; w < total; w += chunk.length) {
                ch.write(ByteBuffer.wrap(chunk));
                flush.written(chunk.length);
            }
            flush.awaitIdle();
            ch.force(true);
            // one flush per EVERY bytes, fewer only when the previous one was still running
            assertTrue(flush.started.get() >= 1 && flush.started.get() <= 3, "flushes: " + flush.started.get());
        }
        assertEquals(3 * Downloader.EarlyFlush.EVERY + (5 << 20), Files.size(f));
        byte[] head = new byte[8];
        try (var in = Files.newInputStream(f)) {
            assertEquals(8, in.read(head));
        }
        assertArrayEquals(new byte[] {0, 0, 0, 0, 0, 0, 0, 42}, head);

        Path small = dir.resolve("small");
        try (FileChannel ch = FileChannel.open(small, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
             Downloader.EarlyFlush flush = new Downloader.EarlyFlush(ch)) {
            ch.write(ByteBuffer.wrap(chunk));
            flush.written(chunk.length);
            assertEquals(0, flush.started.get(), "below the threshold: only the final fsync");
        }
    }

    @Test
    void aBackgroundFlushErrorFailsTheFile() throws IOException {
        Path f = dir.resolve("x");
        Files.write(f, new byte[] {1});
        // a flush that fails in the background (here: the channel is closed) is reported, not lost
        FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE);
        Downloader.EarlyFlush flush = new Downloader.EarlyFlush(ch);
        ch.close();
        flush.written((int) Downloader.EarlyFlush.EVERY);
        assertThrows(IOException.class, flush::awaitIdle);
    }
}
