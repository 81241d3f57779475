package io.tidemark.shim.verify;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tidemark.events.json.Json;
import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.shim.Command;
import io.tidemark.shim.api.ApiException;
import io.tidemark.shim.api.CatalogApi;
import io.tidemark.shim.cli.CommandFailure;
import io.tidemark.shim.cli.ExitCodes;
import io.tidemark.shim.cli.JsonOutput;
import io.tidemark.shim.cli.OutputFormat;
import io.tidemark.shim.cli.UsageException;
import io.tidemark.shim.config.CommonOptions;
import io.tidemark.shim.config.ShimConfig;
import io.tidemark.shim.storage.CredentialSource;
import io.tidemark.shim.storage.Retry;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import picocli.CommandLine;

/**
 * {@code tidemark verify [--backup LABEL] [--output text|json] [--timeout SECONDS]}: starts a verify
 * run in the cloud ({@code POST /stanzas/{stanza}/verify}), shows its progress on stderr while it
 * runs ({@code GET /stanzas/{stanza}/verify/{id}} every {@link #POLL}), then prints every problem
 * it listed: the key, what was expected, what was found. Exit 0 only when the run completed
 * without a problem; 1 when it found problems, failed, or did not finish within the timeout
 * (default {@value #DEFAULT_TIMEOUT_SECONDS} s; the run goes on in the cloud and its id is printed).
 */
@CommandLine.Command(name = "verify", mixinStandardHelpOptions = true, versionProvider = io.tidemark.shim.cli.Version.class,
        description = {"Check every archived object of the stanza in the cloud.",
                "Or one backup and its chain: size, SHA-256, WAL continuity, backup chains. Exit 0 only when clean."})
public final class VerifyCommand implements Command {

    static final long DEFAULT_TIMEOUT_SECONDS = 3600;
    static final Duration POLL = Duration.ofSeconds(1);

    private final Map<String, String> env;

    @CommandLine.Mixin
    private CommonOptions common = new CommonOptions();

    @CommandLine.Option(names = "--output", paramLabel = "text|json", description = "text (default) or json")
    private String output = "text";

    @CommandLine.Option(names = "--backup", paramLabel = "LABEL", description = "verify this backup and its chain only")
    private String backup;

    @CommandLine.Option(names = "--timeout", paramLabel = "SECONDS", description = "how long to wait for the run")
    private String timeoutOption;

    public VerifyCommand() {
        this(System.getenv());
    }

    public VerifyCommand(Map<String, String> env) {
        this.env = env;
    }

    @Override
    public int call(PrintStream out, PrintStream err) {
        OutputFormat format = OutputFormat.parse(output);
        ObjectMapper mapper = Json.mapper();
        ObjectNode body = mapper.createObjectNode();
        java.util.Optional.ofNullable(backup).ifPresent(l -> {
            try {
                body.put("backup", BackupLabelName.parse(l).toString());
            } catch (IllegalArgumentException e) {
                throw new UsageException("--backup: " + e.getMessage());
            }
        });
        long timeout = java.util.Optional.ofNullable(timeoutOption).map(VerifyCommand::seconds).orElse(DEFAULT_TIMEOUT_SECONDS);
        ShimConfig config = ShimConfig.load(common, env);
        StanzaName stanza = config.stanza();
        CatalogApi api = new CatalogApi(config.requireApiUrl(), config.apiRegion(), CredentialSource.of(config, env),
                Retry.of(config.retries()), config.apiKey());

        String path = "POST /stanzas/" + stanza + "/verify";
        JsonNode run = answer(path, call(() -> api.postVerify(stanza, body.toString())), 202, mapper);
        String id = run.path("id").asText();
        boolean terminal = System.console() != null && format == OutputFormat.TEXT;
        VerifyProgress progress = new VerifyProgress(err, terminal);
        long deadline = System.nanoTime() + Duration.ofSeconds(timeout).toNanos();
        while (!finished(run)) {
            progress.show(run);
            if (System.nanoTime() > deadline) {
                progress.end();
                throw new CommandFailure(ExitCodes.FAILED, "verify run " + id + " of stanza " + stanza
                        + " did not finish within " + timeout + " s (" + run.path("state").asText() + ", "
                        + VerifyProgress.summary(run) + "); it goes on in the cloud: see GET /stanzas/" + stanza
                        + "/verify/" + id);
            }
            try {
                Thread.sleep(POLL.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CommandFailure(ExitCodes.FAILED, "interrupted while waiting for verify run " + id);
            }
            run = answer("GET /stanzas/" + stanza + "/verify/" + id, call(() -> api.verifyRun(stanza, id)), 200,
                    mapper);
        }
        progress.end();
        if (format == OutputFormat.JSON) {
            JsonOutput.print(run, out);
        } else {
            VerifyText.print(run, out);
        }
        if ("failed".equals(run.path("state").asText())) {
            err.println("tidemark verify: run " + id + " failed: " + run.path("message").asText("(no reason given)"));
            return ExitCodes.FAILED;
        }
        if (run.path("clean").asBoolean()) {
            return ExitCodes.OK;
        }
        long problems = run.path("problemCount").asLong();
        err.println("tidemark verify: run " + id + " found " + problems + " problem" + (problems == 1 ? "" : "s")
                + " in stanza " + stanza);
        return ExitCodes.FAILED;
    }

    static boolean finished(JsonNode run) {
        String state = run.path("state").asText();
        return state.equals("complete") || state.equals("failed");
    }

    private interface ApiCall {
        CatalogApi.Response call();
    }

    private static CatalogApi.Response call(ApiCall c) {
        try {
            return c.call();
        } catch (ApiException e) {
            throw new CommandFailure(ExitCodes.FAILED, e.getMessage(), e);
        }
    }

    private static JsonNode answer(String what, CatalogApi.Response r, int expected, ObjectMapper mapper) {
        if (r.status() == 404) {
            throw new CommandFailure(ExitCodes.FAILED, what + ": " + r.message());
        }
        if (r.status() != expected) {
            throw new CommandFailure(ExitCodes.FAILED, what + ": HTTP " + r.status() + ": " + r.message());
        }
        try {
            JsonNode j = mapper.readTree(r.body());
            if (j == null || !j.isObject() || !j.path("id").isTextual() || !j.path("state").isTextual()) {
                throw new CommandFailure(ExitCodes.FAILED, what + ": the answer is not a verify run: " + r.body());
            }
            return j;
        } catch (IOException e) {
            throw new CommandFailure(ExitCodes.FAILED, what + ": the answer is not JSON: " + e.getMessage(), e);
        }
    }

    private static long seconds(String text) {
        try {
            long n = Long.parseLong(text);
            if (n >= 1 && n <= 86_400) {
                return n;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new UsageException("--timeout must be a whole number of seconds from 1 to 86400, got '" + text + "'");
    }
}
