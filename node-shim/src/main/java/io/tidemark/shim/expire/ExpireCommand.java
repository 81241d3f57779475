package io.tidemark.shim.expire;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tidemark.events.json.Json;
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
import java.util.List;
import java.util.Map;
import java.util.Set;
import picocli.CommandLine;

/**
 * {@code tidemark expire --dry-run [--output text|json] [--retention-full-type count|time]
 * [--retention-full N] [--retention-diff N] [--confirm]}: what retention would remove now (backups, WAL
 * ranges, sizes), what it keeps and why, and the recovery window after, from
 * {@code POST /stanzas/{stanza}/expire}.
 *
 * <p>Only a preview. Nodes may not delete from the archive (their IAM policy has no delete, and
 * the API behind this route only plans); retention itself runs in the cloud, daily and after each
 * valid backup. So {@code expire} without {@code --dry-run} is refused here, before any call.
 * Without the retention options the cloud uses the stanza's configured policy; with any of them,
 * the preview is for that policy (fields not given take the defaults: count 2, diff 6).
 * {@code --confirm} previews a run an operator confirmed: beyond the cap on fulls per run
 * (docs/retention.md#floors). Only the operator's own invocation of the retention function can
 * confirm a real run.
 */
@CommandLine.Command(name = "expire", mixinStandardHelpOptions = true, versionProvider = io.tidemark.shim.cli.Version.class,
        description = {"Preview retention (--dry-run): the backups and WAL it would remove now and the recovery window after.",
                "Retention itself runs in the cloud, daily and after each valid backup."})
public final class ExpireCommand implements Command {

    static final String NOT_HERE = "retention runs in the cloud, not on nodes: daily (the stanza's retention "
            + "schedule) and after each valid backup; nodes may not delete from the archive. Use --dry-run to "
            + "see what it would remove now; to run it at once, invoke the retention function with the "
            + "operator's rights (see docs/retention.md; with \"confirm\": true to go beyond the cap on fulls per run)";


    private final Map<String, String> env;

    @CommandLine.Mixin
    private CommonOptions common = new CommonOptions();

    @CommandLine.Option(names = "--dry-run", description = "show what retention would remove (the only mode on a node)")
    private boolean dryRun;

    @CommandLine.Option(names = "--confirm", description = "allow the preview to go beyond the cap on fulls per run")
    private boolean confirm;

    @CommandLine.Option(names = "--output", paramLabel = "text|json", description = "text (default) or json")
    private String output = "text";

    @CommandLine.Option(names = "--retention-full-type", paramLabel = "count|time", description = "override the stanza's policy for the preview")
    private String fullType;

    @CommandLine.Option(names = "--retention-full", paramLabel = "N", description = "fulls (count) or days (time) to keep")
    private String full;

    @CommandLine.Option(names = "--retention-diff", paramLabel = "N", description = "differential backups to keep")
    private String diff;

    public ExpireCommand() {
        this(System.getenv());
    }

    public ExpireCommand(Map<String, String> env) {
        this.env = env;
    }

    @Override
    public int call(PrintStream out, PrintStream err) {
        OutputFormat format = OutputFormat.parse(output);
        ObjectMapper mapper = Json.mapper();
        ObjectNode body = mapper.createObjectNode().put("dryRun", true);
        ObjectNode retention = retention(fullType, full, diff, mapper);
        if (retention != null) {
            body.set("retention", retention);
        }
        if (confirm) {
            body.put("confirm", true);
        }
        if (!dryRun) {
            throw new CommandFailure(ExitCodes.USAGE, NOT_HERE);
        }
        ShimConfig config = ShimConfig.load(common, env);
        CatalogApi api = new CatalogApi(config.requireApiUrl(), config.apiRegion(), CredentialSource.of(config, env),
                Retry.of(config.retries()), config.apiKey());
        CatalogApi.Response r;
        try {
            r = api.postExpire(config.stanza(), body.toString());
        } catch (ApiException e) {
            throw new CommandFailure(ExitCodes.FAILED, e.getMessage(), e);
        }
        String path = "POST /stanzas/" + config.stanza() + "/expire";
        if (r.status() == 404) {
            throw new CommandFailure(ExitCodes.FAILED, "stanza " + config.stanza() + " does not exist: " + r.message()
                    + " (run tidemark stanza-create on the primary)");
        }
        if (r.status() != 200) {
            throw new CommandFailure(ExitCodes.FAILED, path + ": HTTP " + r.status() + ": " + r.message());
        }
        JsonNode doc;
        try {
            doc = mapper.readTree(r.body());
        } catch (IOException e) {
            throw new CommandFailure(ExitCodes.FAILED, path + ": the answer is not JSON: " + e.getMessage(), e);
        }
        if (doc == null || !doc.isObject() || !doc.path("deletions").isArray()) {
            throw new CommandFailure(ExitCodes.FAILED, path + ": the answer is not a retention plan: " + r.body());
        }
        if (format == OutputFormat.JSON) {
            JsonOutput.print(doc, out);
        } else {
            ExpireText.print(doc, out);
        }
        return ExitCodes.OK;
    }

    /** The {@code retention} object of the request, or null when no retention option is given. */
    static ObjectNode retention(String fullType, String full, String diff, ObjectMapper mapper) {
        if (fullType == null && full == null && diff == null) {
            return null;
        }
        ObjectNode r = mapper.createObjectNode();
        java.util.Optional.ofNullable(fullType).ifPresent(t -> {
            if (!t.equals("count") && !t.equals("time")) {
                throw new UsageException("--retention-full-type must be count or time, got '" + t + "'");
            }
            r.put("fullType", t);
        });
        java.util.Optional.ofNullable(full).ifPresent(v -> r.put("full", number("--retention-full", v, 1)));
        java.util.Optional.ofNullable(diff).ifPresent(v -> r.put("diff", number("--retention-diff", v, 0)));
        return r;
    }

    private static int number(String option, String value, int min) {
        try {
            int n = Integer.parseInt(value);
            if (n >= min && n <= 9999) {
                return n;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new UsageException(option + " must be a whole number from " + min + " to 9999, got '" + value + "'");
    }
}
