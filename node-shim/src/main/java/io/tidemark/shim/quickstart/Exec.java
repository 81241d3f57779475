package io.tidemark.shim.quickstart;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs the programs the demo drives (PostgreSQL's tools, the tidemark launcher), as the
 * unprivileged PostgreSQL user when the demo runs as root: initdb and postgres refuse root.
 * {@code restore --wait} runs pg_ctl, psql and pg_controldata with it too. Failing to start or to
 * finish in time throws an unchecked exception whose message says which program and why.
 */
public final class Exec {
    public record Result(int code, String out, String err) {
        public String both() {
            return (out + err).strip();
        }
    }

    private final String runAs; // null: as ourselves

    private Exec(String runAs) {
        this.runAs = runAs;
    }

    static Exec forCurrentUser() {
        return asOwner("postgres");
    }

    /** As {@code user} when this process runs as root, else as ourselves (an ordinary user can be no one else). */
    public static Exec asOwner(String user) {
        boolean root = "root".equals(System.getProperty("user.name"));
        return new Exec(root ? user : null);
    }

    public String runAsUser() {
        return runAs;
    }

    public Result run(Path cwd, Map<String, String> env, List<String> command, int timeoutSeconds) {
        List<String> cmd = new ArrayList<>();
        if (runAs != null) {
            cmd.addAll(List.of("runuser", "-u", runAs, "--", "env"));
            env.forEach((k, v) -> cmd.add(k + "=" + v));
        }
        cmd.addAll(command);
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(cwd.toFile());
        if (runAs == null) {
            pb.environment().putAll(env);
        }
        try {
            Process p = pb.start();
            p.getOutputStream().close();
            var out = p.getInputStream();
            var err = p.getErrorStream();
            byte[][] streams = new byte[2][];
            Thread t = new Thread(() -> {
                try {
                    streams[1] = err.readAllBytes();
                } catch (IOException e) {
                    streams[1] = new byte[0];
                }
            });
            t.start();
            streams[0] = out.readAllBytes();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new QuickstartFailure(String.join(" ", command) + " did not finish in " + timeoutSeconds + " s");
            }
            t.join();
            return new Result(p.exitValue(), new String(streams[0], StandardCharsets.UTF_8),
                    new String(streams[1], StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new QuickstartFailure("cannot run " + command.get(0) + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new QuickstartFailure("interrupted");
        }
    }

    Result require(Path cwd, Map<String, String> env, List<String> command, int timeoutSeconds, String what) {
        Result r = run(cwd, env, command, timeoutSeconds);
        if (r.code() != 0) {
            throw new QuickstartFailure(what + " failed (exit " + r.code() + "): " + r.both());
        }
        return r;
    }
}
