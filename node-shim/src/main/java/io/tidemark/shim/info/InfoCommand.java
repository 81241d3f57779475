package io.tidemark.shim.info;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tidemark.events.json.Json;
import io.tidemark.events.wal.Lsn;
import io.tidemark.shim.Command;
import io.tidemark.shim.api.ApiException;
import io.tidemark.shim.api.CatalogApi;
import io.tidemark.shim.archivepush.async.ArchiveSpool;
import io.tidemark.shim.cli.CommandFailure;
import io.tidemark.shim.cli.ExitCodes;
import io.tidemark.shim.cli.JsonOutput;
import io.tidemark.shim.cli.OutputFormat;
import io.tidemark.shim.config.CommonOptions;
import io.tidemark.shim.config.ShimConfig;
import io.tidemark.shim.pg.PgConnector;
import io.tidemark.shim.pg.PgOptions;
import io.tidemark.shim.storage.CredentialSource;
import io.tidemark.shim.storage.Retry;
import java.io.IOException;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import picocli.CommandLine;

/**
 * {@code tidemark info [--output text|json]}: the catalog's view of the stanza
 * ({@code GET /stanzas/{stanza}}; never an S3 listing) plus the archive lag: seconds since the
 * newest timeline's last archived segment, and bytes between PostgreSQL's current WAL position
 * and that segment's end when PostgreSQL is reachable with the PG options and is this stanza's
 * cluster (else null).
 */
@CommandLine.Command(name = "info", mixinStandardHelpOptions = true, versionProvider = io.tidemark.shim.cli.Version.class,
        description = "The stanza's archived WAL per timeline, gaps, archive lag, backups and recovery window.")
public final class InfoCommand implements Command {
    private final Map<String, String> env;
    private final Clock clock;

    @CommandLine.Mixin
    private CommonOptions common = new CommonOptions();

    @CommandLine.Option(names = "--output", paramLabel = "text|json", description = "text (default) or json")
    private String output = "text";

    public InfoCommand() {
        this(System.getenv(), Clock.systemUTC());
    }

    public InfoCommand(Map<String, String> env, Clock clock) {
        this.env = env;
        this.clock = clock;
    }

    /** The lag figures; {@code null} where unknown. */
    public record Lag(Long seconds, Long bytes, String bytesUnknownBecause) {
    }

    @Override
    public int call(PrintStream out, PrintStream err) {
        OutputFormat format = OutputFormat.parse(output);
        ShimConfig config = ShimConfig.load(common, env);
        PgOptions pg = PgOptions.from(common, env);
        CatalogApi api = new CatalogApi(config.requireApiUrl(), config.apiRegion(), CredentialSource.of(config, env),
                Retry.of(config.retries()), config.apiKey());
        CatalogApi.Response r;
        try {
            r = api.getStanza(config.stanza());
        } catch (ApiException e) {
            throw new CommandFailure(ExitCodes.FAILED, e.getMessage(), e);
        }
        if (r.status() == 404) {
            throw new CommandFailure(ExitCodes.FAILED, "stanza " + config.stanza() + " does not exist: " + r.message()
                    + " (run tidemark stanza-create on the primary)");
        }
        if (r.status() != 200) {
            throw new CommandFailure(ExitCodes.FAILED, "GET /stanzas/" + config.stanza() + ": HTTP " + r.status() + ": "
                    + r.message());
        }
        ObjectMapper mapper = Json.mapper();
        ObjectNode doc;
        try {
            JsonNode j = mapper.readTree(r.body());
            if (!(j instanceof ObjectNode o)) {
                throw new CommandFailure(ExitCodes.FAILED, "the catalog's stanza document is not a JSON object");
            }
            doc = o;
        } catch (IOException e) {
            throw new CommandFailure(ExitCodes.FAILED, "the catalog's stanza document is not JSON: " + e.getMessage(), e);
        }
        Lag lag = lag(doc, pg);
        ObjectNode lagNode = doc.putObject("archiveLag");
        if (lag.seconds() == null) {
            lagNode.putNull("seconds");
        } else {
            lagNode.put("seconds", lag.seconds());
        }
        if (lag.bytes() == null) {
            lagNode.putNull("bytes");
        } else {
            lagNode.put("bytes", lag.bytes());
        }
        droppedWal(doc, config);
        if (format == OutputFormat.JSON) {
            JsonOutput.print(doc, out);
        } else {
            InfoText.print(doc, lag, clock.instant(), out);
        }
        return ExitCodes.OK;
    }

    /**
     * WAL this node's asynchronous archive-push let go under {@code archive-push.queue-max}
     * ({@code .dropped} records in the local spool): the catalog shows the gap, this says why.
     * Empty on a node that never dropped anything, or that has no spool.
     */
    static void droppedWal(ObjectNode doc, ShimConfig config) {
        var dropped = doc.putArray("droppedWal");
        ArchiveSpool.existing(config.spoolDir(), config.stanza()).ifPresent(spool -> spool.dropped().forEach(d -> {
            ObjectNode n = dropped.addObject();
            n.put("file", d.file());
            n.put("droppedAt", d.at().toString());
            n.put("bytes", d.bytes());
            n.put("reason", d.reason());
        }));
    }

    /** The timeline with the highest number that has archived WAL, or null. */
    public static JsonNode newestTimeline(JsonNode doc) {
        JsonNode best = null;
        for (JsonNode t : doc.path("timelines")) {
            if (t.path("lastArchivedAt").isTextual()
                    && (best == null || t.path("timeline").asLong() > best.path("timeline").asLong())) {
                best = t;
            }
        }
        return best;
    }

    /** The archive lag of the stanza document {@code doc}, with PostgreSQL's WAL position when reachable (the agent's metrics too). */
    public Lag lag(JsonNode doc, PgOptions pg) {
        JsonNode newest = newestTimeline(doc);
        if (newest == null) {
            return new Lag(null, null, "nothing archived yet");
        }
        Long seconds = null;
        try {
            Instant last = Instant.parse(newest.path("lastArchivedAt").asText());
            seconds = Math.max(0, Duration.between(last, clock.instant()).toSeconds());
        } catch (DateTimeParseException e) {
            // leave unknown
        }
        Lsn end;
        try {
            end = Lsn.parse(newest.path("endLsn").asText());
        } catch (IllegalArgumentException e) {
            return new Lag(seconds, null, "the catalog gives no end LSN");
        }
        try (Connection c = PgConnector.connect(pg, 3)) {
            PgConnector.ClusterFacts facts = PgConnector.facts(c);
            String sysid = doc.path("systemIdentifier").asText();
            if (!facts.systemIdentifierText().equals(sysid)) {
                return new Lag(seconds, null, "PostgreSQL at " + pg.describe() + " is system "
                        + facts.systemIdentifierText() + ", not this stanza's " + sysid);
            }
            Lsn current = PgConnector.currentWalLsn(c);
            if (current == null) {
                return new Lag(seconds, null, "PostgreSQL reports no WAL position");
            }
            return new Lag(seconds, current.isAfter(end) ? current.minus(end) : 0L, null);
        } catch (SQLException e) {
            return new Lag(seconds, null, "PostgreSQL not reachable at " + pg.describe());
        }
    }
}
