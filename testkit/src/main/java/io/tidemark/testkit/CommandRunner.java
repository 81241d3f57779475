package io.tidemark.testkit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Runs external commands as a {@link RunAs} user, in a fixed working dir (psql complains when the
 * run-as user cannot enter the JVM's cwd), with extra environment, a timeout, and captured output.
 * A timed-out command is killed together with its children: {@code runuser} does not pass a kill on.
 */
public final class CommandRunner {

    /** stderr is kept only up to this many trailing chars: enough to explain a failure. */
    private static final int STDERR_KEEP_CHARS = 64 * 1024;

    private final RunAs runAs;
    private final Path workDir;
    private final Map<String, String> env;

    public CommandRunner(RunAs runAs, Path workDir, Map<String, String> env) {
        this.runAs = runAs;
        this.workDir = workDir;
        this.env = Map.copyOf(env);
    }

    public RunAs runAs() {
        return runAs;
    }

    /** Runs to completion and captures stdout; never throws for a non-zero exit (see {@link CommandResult#orThrow()}). */
    public CommandResult run(List<String> command, Duration timeout) {
        return run(command, timeout, null);
    }

    /** Like {@link #run(List, Duration)}, feeding {@code stdin} (may be null) to the command. */
    public CommandResult run(List<String> command, Duration timeout, String stdin) {
        StringBuilder out = new StringBuilder();
        return execute(command, timeout, stdin, line -> out.append(line).append('\n'), out);
    }

    /**
     * Runs to completion handing each stdout line to {@code lines} instead of keeping it: for
     * output too large to hold (pg_waldump prints logical message payloads in hex). The result's
     * stdout is empty.
     */
    public CommandResult stream(List<String> command, Duration timeout, Consumer<String> lines) {
        return execute(command, timeout, null, lines, new StringBuilder());
    }

    private CommandResult execute(List<String> command, Duration timeout, String stdin,
                                  Consumer<String> stdoutLines, StringBuilder keptStdout) {
        List<String> full = runAs.wrap(command);
        ProcessBuilder pb = new ProcessBuilder(full).directory(workDir.toFile());
        pb.environment().putAll(env);
        long started = System.nanoTime();
        Process process;
        try {
            process = pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + String.join(" ", full), e);
        }
        StringBuilder err = new StringBuilder();
        Thread errReader = pump("stderr", process.getErrorStream(), line -> {
            synchronized (err) {
                err.append(line).append('\n');
                if (err.length() > 2 * STDERR_KEEP_CHARS) {
                    err.delete(0, err.length() - STDERR_KEEP_CHARS);
                }
            }
        });
        RuntimeException[] consumerFailure = new RuntimeException[1];
        Thread outReader = pump("stdout", process.getInputStream(), line -> {
            if (consumerFailure[0] == null) {
                try {
                    stdoutLines.accept(line);
                } catch (RuntimeException e) {
                    consumerFailure[0] = e; // keep draining so the command can finish
                }
            }
        });
        feed(process, stdin);
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                killTree(process);
                outReader.join(5_000);
                errReader.join(5_000);
                throw new CommandFailedException("command timed out after " + timeout.toSeconds() + " s and was killed: "
                        + String.join(" ", full) + "\n--- stderr (tail) ---\n"
                        + CommandFailedException.tail(snapshot(err), 4000));
            }
            outReader.join();
            errReader.join();
        } catch (InterruptedException e) {
            killTree(process);
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + String.join(" ", full), e);
        }
        if (consumerFailure[0] != null) {
            throw consumerFailure[0];
        }
        return new CommandResult(full, process.exitValue(), keptStdout.toString(), snapshot(err),
                Duration.ofNanos(System.nanoTime() - started));
    }

    private static String snapshot(StringBuilder err) {
        synchronized (err) {
            return err.toString();
        }
    }

    private static void feed(Process process, String stdin) {
        try (OutputStream in = process.getOutputStream()) {
            if (stdin != null) {
                in.write(stdin.getBytes(StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            // the command exited without reading its input; its exit code and stderr will say why
        }
    }

    private static Thread pump(String name, InputStream stream, Consumer<String> lines) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    lines.accept(line);
                }
            } catch (IOException e) {
                // the process went away; whatever was read is what there is
            }
        }, "testkit-" + name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    static void killTree(Process process) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
    }
}
