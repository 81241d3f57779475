package io.tidemark.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class ProcessesTest {

    @Test
    void aZombieIsNotRunningThoughTheJdkCallsItAlive() throws Exception {
        Assumptions.assumeTrue(Files.isDirectory(Path.of("/proc/self")), "Linux /proc");
        // sh starts "sleep 0" in the background, then becomes "sleep 5" (same pid), which never
        // reaps its child: the "sleep 0" stays a zombie for 5 s, as a stopped postmaster does
        // until a slow PID 1 reaps it
        Process parent = new ProcessBuilder("sh", "-c", "sleep 0 & echo $!; exec sleep 5").start();
        try {
            long zombie = Long.parseLong(new BufferedReader(new InputStreamReader(parent.getInputStream(),
                    StandardCharsets.US_ASCII)).readLine().strip());
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(4);
            while (!Processes.state(zombie).equals("Z") && System.nanoTime() < end) {
                Thread.sleep(10);
            }
            assertEquals("Z", Processes.state(zombie));
            assertTrue(ProcessHandle.of(zombie).map(ProcessHandle::isAlive).orElse(false), "the JDK: alive");
            assertFalse(Processes.running(zombie), "exited: not running");
            assertTrue(Processes.running(parent.pid()), "a sleeping process runs");
            assertTrue(Processes.running(ProcessHandle.current().pid()));
        } finally {
            parent.destroyForcibly().waitFor();
        }
        assertFalse(Processes.running(parent.pid()), "reaped: gone");
        assertEquals("gone", Processes.state(parent.pid()));
    }
}
