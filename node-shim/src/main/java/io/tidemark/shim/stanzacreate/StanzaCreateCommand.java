package io.tidemark.shim.stanzacreate;

import com.fasterxml.jackson.databind.JsonNode;
import io.tidemark.events.json.Json;
import io.tidemark.shim.Command;
import io.tidemark.shim.api.ApiException;
import io.tidemark.shim.api.CatalogApi;
import io.tidemark.shim.api.StanzaCache;
import io.tidemark.shim.api.StanzaDoc;
import io.tidemark.shim.cli.CommandFailure;
import io.tidemark.shim.cli.ExitCodes;
import io.tidemark.shim.config.CommonOptions;
import io.tidemark.shim.config.ShimConfig;
import io.tidemark.shim.pg.PgConnector;
import io.tidemark.shim.pg.PgOptions;
import io.tidemark.shim.storage.CredentialSource;
import io.tidemark.shim.storage.Retry;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Optional;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import picocli.CommandLine;

/**
 * {@code tidemark stanza-create}: registers this cluster (system identifier, PostgreSQL version,
 * WAL segment size, read over JDBC) as the stanza with {@code PUT /stanzas/{stanza}}, and caches
 * the stanza document in the spool for archive-push. Running it again on the same cluster is a
 * no-op (exit 0); the catalog refuses (409, exit 1) a stanza that belongs to another cluster.
 */
@CommandLine.Command(name = "stanza-create", mixinStandardHelpOptions = true, versionProvider = io.tidemark.shim.cli.Version.class,
        description = "Register this cluster (system identifier, version, segment size) as the stanza in the catalog.")
public final class StanzaCreateCommand implements Command {
    private final Map<String, String> env;

    @CommandLine.Mixin
    private CommonOptions common = new CommonOptions();

    public StanzaCreateCommand() {
        this(System.getenv());
    }

    public StanzaCreateCommand(Map<String, String> env) {
        this.env = env;
    }

    @Override
    public int call(PrintStream out, PrintStream err) {
        ShimConfig config = ShimConfig.load(common, env);
        PgOptions pg = PgOptions.from(common, env);
        CatalogApi api = new CatalogApi(config.requireApiUrl(), config.apiRegion(), CredentialSource.of(config, env),
                Retry.of(config.retries()), config.apiKey());
        PgConnector.ClusterFacts facts;
        Optional<Path> pgdata;
        try (Connection c = PgConnector.connect(pg, 10)) {
            facts = PgConnector.facts(c);
            pgdata = Optional.ofNullable(pg.pgdata()).or(() -> dataDirectory(c));
        } catch (SQLException e) {
            throw new CommandFailure(ExitCodes.FAILED, "cannot read the cluster's identity from PostgreSQL at "
                    + pg.describe() + ": " + e.getMessage(), e);
        }
        String body = "{\"systemIdentifier\":\"" + facts.systemIdentifierText() + "\",\"pgVersion\":" + facts.pgVersion()
                + ",\"pgVersionNum\":" + facts.pgVersionNum() + ",\"walSegmentSize\":" + facts.walSegmentSize() + "}";
        CatalogApi.Response r;
        try {
            r = api.putStanza(config.stanza(), body);
        } catch (ApiException e) {
            throw new CommandFailure(ExitCodes.FAILED, e.getMessage(), e);
        }
        switch (r.status()) {
            case 200, 201 -> {
            }
            case 409 -> throw new CommandFailure(ExitCodes.FAILED, "stanza " + config.stanza() + " belongs to another cluster: "
                    + r.message());
            default -> throw new CommandFailure(ExitCodes.FAILED, "the catalog refused stanza " + config.stanza()
                    + " (HTTP " + r.status() + "): " + r.message());
        }
        boolean created;
        StanzaDoc doc;
        try {
            JsonNode j = Json.mapper().readTree(r.body());
            created = j.path("created").asBoolean(false);
            doc = StanzaDoc.parse(r.body());
        } catch (IOException | IllegalArgumentException e) {
            throw new CommandFailure(ExitCodes.FAILED, "the catalog's answer to PUT /stanzas/" + config.stanza()
                    + " is not a stanza document: " + e.getMessage(), e);
        }
        if (doc.systemIdentifier() != facts.systemIdentifier()) {
            throw new CommandFailure(ExitCodes.FAILED, "stanza " + config.stanza() + " belongs to database system "
                    + doc.systemIdentifierText() + ", this cluster is " + facts.systemIdentifierText());
        }
        boolean cached = new StanzaCache(config.spoolDir(), pgdata).write(config.stanza(), doc);
        if (created) {
            out.println("stanza " + config.stanza() + " created: system " + facts.systemIdentifierText() + ", PostgreSQL "
                    + facts.pgVersion() + " (" + facts.pgVersionNum() + "), " + doc.walSegmentSize() + " WAL segments");
        } else {
            out.println("stanza " + config.stanza() + " already exists for this cluster");
        }
        if (!cached) {
            err.println("tidemark stanza-create: warning: cannot cache the stanza document in " + config.spoolDir()
                    + "; archive-push will ask the API each time");
        }
        return ExitCodes.OK;
    }

    /**
     * The server's data directory when it tells (superusers and pg_read_all_settings): whose the
     * stanza's spool is when root runs this command ({@link StanzaCache}).
     */
    private static Optional<Path> dataDirectory(Connection c) {
        try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("show data_directory")) {
            return r.next() ? Optional.ofNullable(r.getString(1)).map(Path::of) : Optional.empty();
        } catch (SQLException | java.nio.file.InvalidPathException e) {
            return Optional.empty();
        }
    }
}
