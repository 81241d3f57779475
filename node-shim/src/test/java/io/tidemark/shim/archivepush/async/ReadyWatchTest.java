package io.tidemark.shim.archivepush.async;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An idle worker's wait: woken by PostgreSQL's .ready file, not by its bound; bounded when nothing comes. */
@Tag("unit")
class ReadyWatchTest {
    @TempDir
    Path dir;

    private final ByteArrayOutputStream log = new ByteArrayOutputStream();

    @Test
    void aReadyFileEndsTheWaitLongBeforeItsBound() throws Exception {
        Path status = Files.createDirectories(dir.resolve("pg_wal/archive_status"));
        try (ReadyWatch w = ReadyWatch.open(status, new PrintStream(log, true, StandardCharsets.UTF_8))) {
            Thread marker = Thread.ofPlatform().start(() -> {
                try {
                    Thread.sleep(300);
                    Files.createFile(status.resolve("000000010000000000000001.ready"));
                } catch (IOException | InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            long t0 = System.nanoTime();
            w.await(Duration.ofSeconds(60));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            marker.join();
            assertTrue(ms >= 250 && ms < 20_000, "woken by the file after " + ms + " ms (bound 60 s)");
            assertTrue(log.toString(StandardCharsets.UTF_8).isEmpty(), log.toString(StandardCharsets.UTF_8));

            // an event seen by the pass itself (drained) does not end the next wait early
            Files.createFile(status.resolve("000000010000000000000002.ready"));
            Thread.sleep(100);
            w.drain();
            t0 = System.nanoTime();
            w.await(Duration.ofMillis(400));
            ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms >= 350, "waited its bound, " + ms + " ms");
        }
    }

    @Test
    void withoutTheDirectoryItSaysSoAndWaitsItsBound() throws Exception {
        try (ReadyWatch w = ReadyWatch.open(dir.resolve("missing"), new PrintStream(log, true, StandardCharsets.UTF_8))) {
            long t0 = System.nanoTime();
            w.await(Duration.ofMillis(300));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms >= 250, "slept its bound, " + ms + " ms");
        }
        String said = log.toString(StandardCharsets.UTF_8);
        assertTrue(said.contains("cannot watch " + dir.resolve("missing")) && said.contains("looks every 1000 ms"), said);
    }
}
