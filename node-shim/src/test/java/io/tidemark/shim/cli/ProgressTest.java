package io.tidemark.shim.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class ProgressTest {
    @Test
    void plainAndBarLines() {
        long mb = 1 << 20;
        assertEquals("progress:  25% 10/40 files, 25.0 MB/100.0 MB, 12.5 MB/s, ETA 0:06",
                Progress.format(10, 40, 25 * mb, 100 * mb, 2_000_000_000L, false));
        assertEquals("[######..................]  25% 10/40 files, 25.0 MB/100.0 MB, 12.5 MB/s, ETA 0:06",
                Progress.format(10, 40, 25 * mb, 100 * mb, 2_000_000_000L, true));
        assertEquals("progress: 100% 40/40 files, 100.0 MB/100.0 MB, 50.0 MB/s, ETA 0:00",
                Progress.format(40, 40, 100 * mb, 100 * mb, 2_000_000_000L, false));
        assertEquals("progress:   0% 0/3 files, 0 B/10.0 kB, 0 B/s, ETA ?", Progress.format(0, 3, 0, 10240, 0, false));
        assertEquals("progress: 100% 0/0 files, 0 B/0 B, 0 B/s, ETA 0:00", Progress.format(0, 0, 0, 0, 1, false));
    }

    @Test
    void sizesAndDurations() {
        assertEquals("999 B", Progress.size(999));
        assertEquals("1.5 kB", Progress.size(1536));
        assertEquals("1.50 GB", Progress.size(3L << 29));
        assertEquals("1:05", Progress.duration(65));
        assertEquals("2:00:01", Progress.duration(7201));
    }

    @Test
    void terminalRedrawsOneLine() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        long[] now = {0};
        try (Progress p = Progress.ofFiles(2, 100, new PrintStream(b, true, StandardCharsets.UTF_8), true, 5_000,
                () -> now[0])) {
            p.done(50);
            p.done(50);
            now[0] = 1_000_000_000L;
        }
        String s = b.toString(StandardCharsets.UTF_8);
        assertTrue(s.startsWith("\r[########################] 100% 2/2 files"), s);
        assertTrue(s.endsWith(System.lineSeparator()), s);
    }

    @Test
    void aCountHasTheSameBarAndPercent() {
        assertEquals("progress:  12% 1200/10000 objects checked", Progress.formatCount(1200, 10000, "objects checked", false));
        assertEquals("[######..................]  25% 1/4 objects checked", Progress.formatCount(1, 4, "objects checked", true));
        assertEquals("progress: 100% 0/0 objects checked", Progress.formatCount(0, 0, "objects checked", false));
    }

    @Test
    void withoutATerminalAPlainLineAtTheIntervalAndNothingAtClose() throws Exception {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(b, true, StandardCharsets.UTF_8);
        try (Progress p = Progress.ofFiles(1, 10, out, false, 50, System::nanoTime).start()) {
            p.done(10);
            long deadline = System.nanoTime() + 10_000_000_000L; // awaits the condition, polled
            while (!b.toString(StandardCharsets.UTF_8).contains("progress: 100% 1/1 files") && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
        }
        String s = b.toString(StandardCharsets.UTF_8);
        assertTrue(!s.contains("\r") && !s.contains("["), s);
    }
}
