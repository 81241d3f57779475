package io.tidemark.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Whether a process of another parent still runs. {@link ProcessHandle#isAlive} says yes for a
 * zombie: a process that has exited and waits for its parent to reap it. A server stopped with
 * pg_ctl was reparented to PID 1 when pg_ctl exited, and some PID 1s reap only now and then (the
 * CI machine's every ~2 s), so right after {@code pg_ctl stop} returned the postmaster is often
 * still a zombie: stopped (it runs no code and holds no port, memory or file), yet "alive".
 */
public final class Processes {

    private Processes() {
    }

    /** True while {@code pid} exists and is not a zombie (state Z) or being torn down (X). */
    public static boolean running(long pid) {
        if (!Files.isDirectory(Path.of("/proc/self"))) {
            return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false); // no /proc: as the JDK sees it
        }
        String state = state(pid);
        return !state.equals("gone") && !state.equals("Z") && !state.equals("X");
    }

    /** The process's state letter from {@code /proc/<pid>/stat} (R, S, D, Z...), or "gone"; for messages too. */
    public static String state(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"), StandardCharsets.US_ASCII);
            // "pid (comm) state ...": comm may hold spaces and parentheses, so read after the last ')'
            int close = stat.lastIndexOf(')');
            return stat.substring(close + 2, close + 3);
        } catch (IOException | RuntimeException e) {
            return "gone";
        }
    }
}
