package io.tidemark.shim.agent;

import io.tidemark.shim.cli.CommandFailure;
import io.tidemark.shim.cli.UsageException;
import io.tidemark.shim.drill.DrillCheck;
import io.tidemark.shim.drill.DrillCommand;
import io.tidemark.shim.drill.DrillResult;
import io.tidemark.shim.drill.FreeSpace;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;

/**
 * Runs {@code tidemark drill --now} in this process for a scheduled drill job, with the agent's
 * configuration and PostgreSQL options: the same code as the command (leftover clean-up, plan,
 * free space, restore, checks, clean-up, the record in the catalog), its output in the agent's log
 * prefixed with the job id, its result taken from the command rather than parsed from text.
 */
final class DrillRunner {

    /**
     * What a scheduled drill came to: the drill's result when it got that far, or why not.
     *
     * @param notRecorded why the catalog did not record the result (empty: recorded)
     */
    record Drilled(Optional<DrillResult> result, Optional<String> notRecorded, String error, long durationMs)
            implements BackupRunner.Outcome {

        /** Done: the drill passed and the catalog has it. */
        boolean passed() {
            return result.isPresent() && result.get().passed() && result.get().backup().isPresent() && notRecorded.isEmpty();
        }

        /** Why the job failed, in one line (the catalog cuts it at 2,000 characters). */
        String why() {
            if (result.isEmpty()) {
                return error;
            }
            DrillResult r = result.get();
            if (!r.passed()) {
                return "drill " + r.drillId() + " failed: " + r.checks().stream().filter(DrillCheck::failed)
                        .map(c -> "check " + c.name() + ": " + c.message()).collect(Collectors.joining("; "));
            }
            return notRecorded.map(n -> "drill " + r.drillId() + " passed but is NOT RECORDED in the catalog: " + n)
                    .orElse("drill " + r.drillId() + " passed without naming its backup");
        }
    }

    private final Map<String, String> env;
    private final List<String> commonArgs;

    /** @param commonArgs the agent's {@code --config}, {@code --stanza} and PostgreSQL options, passed on as they are */
    DrillRunner(Map<String, String> env, List<String> commonArgs) {
        this.env = env;
        this.commonArgs = List.copyOf(commonArgs);
    }

    Drilled run(String jobId, PrintStream log) {
        AtomicReference<DrillResult> result = new AtomicReference<>();
        AtomicReference<Optional<String>> notRecorded = new AtomicReference<>(Optional.empty());
        List<String> args = new ArrayList<>(List.of("--now", "--job-id", jobId));
        args.addAll(commonArgs);
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        long t0 = System.nanoTime();
        int code;
        String error = null;
        try (PrintStream out = new PrintStream(new BackupRunner.Tee(captured, log, "job " + jobId + ": "), true,
                StandardCharsets.UTF_8)) {
            try {
                code = new DrillCommand(env, Clock.systemUTC(), FreeSpace.FILE_STORE, (r, n) -> {
                    result.set(r);
                    notRecorded.set(n);
                }).run(args, out, out);
            } catch (CommandFailure e) {
                code = e.exitCode();
                error = e.getMessage();
            } catch (UsageException e) {
                code = 2;
                error = "bad drill options: " + e.getMessage();
            } catch (RuntimeException e) {
                code = 1;
                error = "unexpected failure: " + e;
            }
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        if (result.get() == null && error == null) {
            String text = captured.toString(StandardCharsets.UTF_8).strip();
            error = "the drill ended (exit " + code + ") without a result: "
                    + (text.isEmpty() ? "no output" : text.substring(text.lastIndexOf('\n') + 1));
        }
        return new Drilled(Optional.ofNullable(result.get()), notRecorded.get(), error, ms);
    }
}
