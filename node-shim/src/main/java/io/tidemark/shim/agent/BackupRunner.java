package io.tidemark.shim.agent;

import io.tidemark.events.backup.BackupManifest;
import io.tidemark.shim.backup.BackupCommand;
import io.tidemark.shim.cli.CommandFailure;
import io.tidemark.shim.cli.UsageException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs {@code tidemark backup --type T} in this process, with the agent's configuration and
 * PostgreSQL options: the same code path as the command (lease, resume, validation wait), no
 * second JVM to start and configure, and the result comes back as the uploaded manifest rather
 * than as text to parse. Its output goes to the agent's log, prefixed with the job id.
 */
final class BackupRunner {

    /** What a backup run came to. */
    sealed interface Outcome permits Done, Failed, DrillRunner.Drilled {
    }

    record Done(String label, long originalSize, long storedSize, long durationMs) implements Outcome {
    }

    record Failed(String error, long durationMs) implements Outcome {
    }

    private final Map<String, String> env;
    private final List<String> commonArgs;

    /** @param commonArgs the agent's {@code --config}, {@code --stanza} and PostgreSQL options, passed on as they are */
    BackupRunner(Map<String, String> env, List<String> commonArgs) {
        this.env = env;
        this.commonArgs = List.copyOf(commonArgs);
    }

    Outcome run(String jobId, String type, PrintStream log) {
        AtomicReference<BackupManifest> uploaded = new AtomicReference<>();
        List<String> args = new ArrayList<>(commonArgs);
        args.add("--type");
        args.add(type);
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        long t0 = System.nanoTime();
        int code;
        String error = null;
        try (PrintStream out = new PrintStream(new Tee(captured, log, "job " + jobId + ": "), true, StandardCharsets.UTF_8)) {
            try {
                code = new BackupCommand(env, false, uploaded::set).run(args, out, out);
            } catch (CommandFailure e) {
                code = e.exitCode();
                error = e.getMessage();
            } catch (UsageException e) {
                code = 2;
                error = "bad backup options: " + e.getMessage();
            } catch (RuntimeException e) {
                code = 1;
                error = "unexpected failure: " + e;
            }
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        BackupManifest m = uploaded.get();
        if (code == 0 && m != null) {
            return new Done(m.label().toString(), m.originalSize(), m.storedSize(), ms);
        }
        if (error == null) {
            String text = captured.toString(StandardCharsets.UTF_8).strip();
            String last = text.isEmpty() ? "no output" : text.substring(text.lastIndexOf('\n') + 1);
            error = "the backup ended (exit " + code + ") without uploading a manifest: " + last;
        }
        return new Failed(error, ms);
    }

    /** Keeps the output and copies each line to the log with a prefix (the drill runner's too). */
    static final class Tee extends OutputStream {
        private final ByteArrayOutputStream keep;
        private final PrintStream log;
        private final String prefix;
        private final ByteArrayOutputStream line = new ByteArrayOutputStream();

        Tee(ByteArrayOutputStream keep, PrintStream log, String prefix) {
            this.keep = keep;
            this.log = log;
            this.prefix = prefix;
        }

        @Override
        public synchronized void write(int b) throws IOException {
            keep.write(b);
            if (b == '\n') {
                log.println(prefix + line.toString(StandardCharsets.UTF_8));
                line.reset();
            } else if (b != '\r') {
                line.write(b);
            }
        }

        @Override
        public synchronized void close() {
            if (line.size() > 0) {
                log.println(prefix + line.toString(StandardCharsets.UTF_8));
                line.reset();
            }
        }
    }
}
