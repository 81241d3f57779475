package io.tidemark.e2e.agent;

import io.tidemark.e2e.ShimInstall;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code bin/tidemark agent} as a long-running process. Its output goes to a file (a pipe read
 * while the process exits can lose the last lines: the JDK closes it under the reader).
 */
final class AgentProcess implements AutoCloseable {
    private static final Pattern METRICS = Pattern.compile("metrics on (http://\\S+/metrics)");

    private final String name;
    private final Process process;
    private final Path log;

    private AgentProcess(String name, Process process, Path log) {
        this.name = name;
        this.process = process;
        this.log = log;
    }

    static AgentProcess start(String name, Path workDir, Map<String, String> env, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(ShimInstall.get().launcher().toString());
        cmd.add("agent");
        cmd.addAll(List.of(args));
        Path log = workDir.resolve("agent-" + name + ".log");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(workDir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().putAll(env);
        AgentProcess a = new AgentProcess(name, pb.start(), log);
        a.await(l -> l.contains("metrics on "), Duration.ofSeconds(60));
        return a;
    }

    String metricsUrl() {
        for (String l : lines()) {
            Matcher m = METRICS.matcher(l);
            if (m.find()) {
                return m.group(1);
            }
        }
        throw new IllegalStateException(name + ": no metrics line in " + output());
    }

    long pid() {
        return process.pid();
    }

    private List<String> lines() {
        try {
            return Files.readAllLines(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    String output() {
        return String.join("\n", lines());
    }

    String await(Predicate<String> line, Duration timeout) {
        long end = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < end) {
            for (String l : lines()) {
                if (line.test(l)) {
                    return l;
                }
            }
            if (!process.isAlive()) {
                throw new IllegalStateException(name + " ended (exit " + process.exitValue() + "):\n" + output());
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        throw new IllegalStateException(name + ": no such line after " + timeout + ":\n" + output());
    }

    /** SIGTERM, as systemd stops it; the exit status. */
    int terminate(Duration timeout) throws InterruptedException {
        process.destroy();
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException(name + " did not stop within " + timeout + " of SIGTERM:\n" + output());
        }
        System.out.println("[" + name + "]\n" + output());
        return process.exitValue();
    }

    /** SIGTERM to every one at once, then each awaited: they stop side by side. */
    static void terminateAll(Duration timeout, AgentProcess... agents) throws InterruptedException {
        for (AgentProcess a : agents) {
            a.process.destroy();
        }
        for (AgentProcess a : agents) {
            int status = a.terminate(timeout);
            if (status != 0 && status != 143) {
                throw new IllegalStateException(a.name + " exited " + status + " on SIGTERM:\n" + a.output());
            }
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
        }
        System.out.println("[" + name + "]\n" + output());
    }
}
