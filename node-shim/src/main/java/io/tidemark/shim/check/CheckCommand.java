package io.tidemark.shim.check;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.shim.Command;
import io.tidemark.shim.api.ApiException;
import io.tidemark.shim.api.CatalogApi;
import io.tidemark.shim.cli.ExitCodes;
import io.tidemark.shim.config.CommonOptions;
import io.tidemark.shim.config.ShimConfig;
import io.tidemark.shim.pg.PgConnector;
import io.tidemark.shim.pg.PgOptions;
import io.tidemark.shim.storage.CredentialSource;
import io.tidemark.shim.storage.Retry;
import java.io.IOException;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;

/**
 * {@code tidemark check}: pgBackRest's check, end to end, one line per step. PostgreSQL is
 * reachable; the catalog API answers with these credentials; the stanza exists and is this
 * cluster (system identifier, version, WAL segment size); archive_mode is on and archive_command
 * runs this shim for this stanza; and a WAL switch forced now (after a restore point, so there is
 * something to switch) is archived and indexed by the cloud within {@code --archive-timeout}.
 * A step that needs a failed one is skipped. Exit 0 only when every step is ok; otherwise 1,
 * with a last line naming the failed steps. See docs/node-shim.md.
 */
@CommandLine.Command(name = "check", mixinStandardHelpOptions = true, versionProvider = io.tidemark.shim.cli.Version.class,
        description = {"Check the whole archiving path, one line per step.",
                "PostgreSQL, the API and credentials, the stanza against this cluster, archive_command,",
                "and a forced WAL switch archived and indexed by the cloud in time."})
public final class CheckCommand implements Command {
    static final long DEFAULT_ARCHIVE_TIMEOUT_SECONDS = 60;
    private static final long POLL_MS = 500;
    private static final ObjectMapper JSON = io.tidemark.events.json.Json.mapper();

    private final Map<String, String> env;

    @CommandLine.Mixin
    private CommonOptions common = new CommonOptions();

    @CommandLine.Option(names = "--archive-timeout", paramLabel = "SECONDS",
            description = "how long the forced WAL switch may take to be archived and indexed (default 60)")
    private long archiveTimeout = DEFAULT_ARCHIVE_TIMEOUT_SECONDS;

    public CheckCommand() {
        this(System.getenv());
    }

    public CheckCommand(Map<String, String> env) {
        this.env = env;
    }

    /** One step's verdict: ok, failed (why), or skipped because a step it needs failed. */
    sealed interface Verdict {
        record Ok(String detail) implements Verdict {
        }

        record Failed(String why) implements Verdict {
        }

        record Skipped(String why) implements Verdict {
        }
    }

    /** A step did not pass: the message says why. */
    private static final class StepFailed extends Exception {
        StepFailed(String message) {
            super(message);
        }
    }

    @Override
    public int call(PrintStream out, PrintStream err) {
        if (archiveTimeout < 1) {
            throw new io.tidemark.shim.cli.UsageException("--archive-timeout takes seconds (1 or more), got " + archiveTimeout);
        }
        ShimConfig config = ShimConfig.load(common, env);
        PgOptions pg = PgOptions.from(common, env);
        List<String> failed = new ArrayList<>();
        Connection c = null;
        try {
            // 1. PostgreSQL
            PgConnector.ClusterFacts facts = null;
            try {
                c = PgConnector.connect(pg, 10, 60);
                facts = PgConnector.facts(c);
                report(out, failed, "postgresql", new Verdict.Ok(pg.describe() + ", PostgreSQL " + facts.pgVersion()
                        + ", " + (facts.inRecovery() ? "standby" : "primary")));
            } catch (SQLException e) {
                report(out, failed, "postgresql", new Verdict.Failed("cannot connect to " + pg.describe() + ": "
                        + oneLine(e.getMessage())));
            }

            // 2. the API and the credentials
            CatalogApi api = new CatalogApi(config.requireApiUrl(), config.apiRegion(), CredentialSource.of(config, env),
                    Retry.of(config.retries()), config.apiKey());
            CatalogApi.Response stanzaAnswer = null;
            try {
                stanzaAnswer = api.getStanza(config.stanza());
                if (stanzaAnswer.status() == 200 || stanzaAnswer.status() == 404) {
                    report(out, failed, "api", new Verdict.Ok(config.requireApiUrl() + " answers with these credentials"));
                } else {
                    report(out, failed, "api", new Verdict.Failed("GET /stanzas/" + config.stanza() + ": HTTP "
                            + stanzaAnswer.status() + ": " + stanzaAnswer.message()));
                    stanzaAnswer = null;
                }
            } catch (ApiException e) {
                report(out, failed, "api", new Verdict.Failed(oneLine(e.getMessage())));
            }

            // 3. the stanza is this cluster
            boolean stanzaOk = false;
            if (stanzaAnswer == null) {
                report(out, failed, "stanza", new Verdict.Skipped("the API did not answer"));
            } else if (stanzaAnswer.status() == 404) {
                report(out, failed, "stanza", new Verdict.Failed("stanza " + config.stanza()
                        + " does not exist in the cloud (run tidemark stanza-create on the primary)"));
            } else if (facts == null) {
                report(out, failed, "stanza", new Verdict.Skipped("PostgreSQL is not reachable to compare with"));
            } else {
                Verdict v = stanzaMatches(config, stanzaAnswer.body(), facts);
                stanzaOk = v instanceof Verdict.Ok;
                report(out, failed, "stanza", v);
            }

            // 4. archive_mode and archive_command
            boolean commandOk = false;
            if (c == null) {
                report(out, failed, "archive_command", new Verdict.Skipped("PostgreSQL is not reachable"));
            } else {
                Verdict v = archiveCommand(c, config);
                commandOk = v instanceof Verdict.Ok;
                report(out, failed, "archive_command", v);
            }

            // 5. a forced WAL switch archived and indexed
            if (!commandOk || !stanzaOk) {
                report(out, failed, "wal-archived", new Verdict.Skipped((!stanzaOk ? "stanza" : "archive_command")
                        + " is not ok"));
            } else if (facts.inRecovery()) {
                report(out, failed, "wal-archived", new Verdict.Skipped("a standby cannot switch WAL: run check on the primary"));
            } else {
                report(out, failed, "wal-archived", walArchived(c, api, config));
            }
        } finally {
            if (c != null) {
                try {
                    c.close();
                } catch (SQLException e) {
                    // nothing to do: the checks are done
                }
            }
        }
        if (failed.isEmpty()) {
            out.println("check: ok (stanza " + config.stanza() + ")");
            return ExitCodes.OK;
        }
        err.println("tidemark check: FAILED: " + String.join(", ", failed));
        return ExitCodes.FAILED;
    }

    private static void report(PrintStream out, List<String> failed, String step, Verdict v) {
        switch (v) {
            case Verdict.Ok ok -> out.println(step + ": ok (" + ok.detail() + ")");
            case Verdict.Failed f -> {
                out.println(step + ": FAILED: " + f.why());
                failed.add(step);
            }
            case Verdict.Skipped s -> {
                out.println(step + ": skipped (" + s.why() + ")");
                failed.add(step);
            }
        }
        out.flush();
    }

    static Verdict stanzaMatches(ShimConfig config, String body, PgConnector.ClusterFacts facts) {
        JsonNode doc;
        try {
            doc = JSON.readTree(body);
        } catch (IOException e) {
            return new Verdict.Failed("the stanza document is not JSON: " + e.getMessage());
        }
        List<String> differ = new ArrayList<>();
        String sysid = doc.path("systemIdentifier").asText();
        if (!sysid.equals(facts.systemIdentifierText())) {
            differ.add("system identifier " + sysid + " in the cloud, " + facts.systemIdentifierText() + " here");
        }
        if (doc.path("pgVersionNum").asInt() / 10000 != facts.pgVersion()) {
            differ.add("PostgreSQL " + doc.path("pgVersion").asText() + " in the cloud, " + facts.pgVersion() + " here");
        }
        if (doc.path("walSegmentSize").asLong() != facts.walSegmentSize()) {
            differ.add("WAL segment size " + doc.path("walSegmentSize").asLong() + " in the cloud, "
                    + facts.walSegmentSize() + " here");
        }
        if (!differ.isEmpty()) {
            return new Verdict.Failed("stanza " + config.stanza() + " belongs to another cluster: " + String.join("; ", differ));
        }
        return new Verdict.Ok(config.stanza() + ": system identifier " + sysid + ", PostgreSQL " + facts.pgVersion()
                + ", " + (facts.walSegmentSize() >> 20) + " MB segments");
    }

    /** archive_mode on, and archive_command runs tidemark archive-push (for this stanza when it names one). */
    static Verdict archiveCommand(Connection c, ShimConfig config) {
        String mode;
        String command;
        try (Statement s = c.createStatement();
             ResultSet r = s.executeQuery("select current_setting('archive_mode'), current_setting('archive_command')")) {
            r.next();
            mode = r.getString(1);
            command = r.getString(2);
        } catch (SQLException e) {
            return new Verdict.Failed("cannot read archive_mode and archive_command: " + oneLine(e.getMessage()));
        }
        if (!mode.equals("on") && !mode.equals("always")) {
            return new Verdict.Failed("archive_mode is '" + mode + "' (set it to on and restart PostgreSQL)");
        }
        String problem = shimCommandProblem(command, config.stanza().value());
        if (problem != null) {
            return new Verdict.Failed("archive_command '" + command + "' " + problem);
        }
        return new Verdict.Ok("archive_mode " + mode + ", archive_command runs tidemark archive-push");
    }

    /** Why {@code command} is not this shim's archive-push for {@code stanza}, or null when it is. */
    static String shimCommandProblem(String command, String stanza) {
        List<String> words = List.of(command.strip().split("\\s+"));
        int at = -1;
        for (int i = 0; i < words.size(); i++) {
            String w = words.get(i);
            if (w.equals("tidemark") || w.endsWith("/tidemark")) {
                at = i;
                break;
            }
        }
        if (at < 0 || !words.subList(at + 1, words.size()).contains("archive-push")) {
            return "does not run tidemark archive-push (expected e.g. 'tidemark archive-push %p --config FILE')";
        }
        if (!words.contains("%p")) {
            return "does not pass the file (%p)";
        }
        for (int i = at + 1; i < words.size(); i++) {
            String w = words.get(i);
            String named = w.startsWith("--stanza=") ? w.substring("--stanza=".length())
                    : w.equals("--stanza") && i + 1 < words.size() ? words.get(i + 1) : null;
            if (named != null && !named.equals(stanza)) {
                return "archives to stanza '" + named + "', not '" + stanza + "'";
            }
        }
        return null;
    }

    /**
     * Writes a restore point (so the switch has something to close), switches WAL, and polls the
     * catalog until the closed segment is in one of its timeline's archived ranges.
     */
    private Verdict walArchived(Connection c, CatalogApi api, ShimConfig config) {
        String segment;
        try (Statement s = c.createStatement()) {
            s.execute("select pg_create_restore_point('tidemark-check')");
            try (ResultSet r = s.executeQuery("select pg_walfile_name(pg_switch_wal())")) {
                r.next();
                segment = r.getString(1);
            }
        } catch (SQLException e) {
            return new Verdict.Failed("cannot switch WAL: " + oneLine(e.getMessage()));
        }
        long start = System.nanoTime();
        long deadline = start + Duration.ofSeconds(archiveTimeout).toNanos();
        String lastProblem = "";
        while (true) {
            try {
                if (indexed(api, config, segment)) {
                    long ms = (System.nanoTime() - start) / 1_000_000;
                    return new Verdict.Ok(segment + " archived and indexed in " + ms / 1000 + "." + (ms % 1000) / 100 + " s");
                }
            } catch (StepFailed e) {
                lastProblem = "; last answer: " + e.getMessage();
            }
            if (System.nanoTime() > deadline) {
                return new Verdict.Failed(segment + " was not archived and indexed within " + archiveTimeout + " s"
                        + archiver(c) + lastProblem);
            }
            try {
                Thread.sleep(POLL_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return new Verdict.Failed("interrupted while waiting for " + segment);
            }
        }
    }

    /** Whether the catalog lists {@code segment} in an archived range of its timeline. */
    static boolean indexed(CatalogApi api, ShimConfig config, String segment) throws StepFailed {
        CatalogApi.Response r;
        try {
            r = api.getStanza(config.stanza());
        } catch (ApiException e) {
            throw new StepFailed(oneLine(e.getMessage()));
        }
        if (r.status() != 200) {
            throw new StepFailed("HTTP " + r.status() + ": " + r.message());
        }
        JsonNode doc;
        try {
            doc = JSON.readTree(r.body());
        } catch (IOException e) {
            throw new StepFailed("not JSON: " + e.getMessage());
        }
        return covered(doc, segment);
    }

    /** {@code segment} (24 hex digits) lies within a walRanges entry of its timeline. */
    static boolean covered(JsonNode doc, String segment) {
        int timeline = Integer.parseUnsignedInt(segment.substring(0, 8), 16);
        for (JsonNode t : doc.path("timelines")) {
            if (t.path("timeline").asInt() != timeline) {
                continue;
            }
            for (JsonNode range : t.path("walRanges")) {
                String from = range.path("start").asText();
                String to = range.path("end").asText();
                // same timeline, same width: the names order as the segments do
                if (from.compareTo(segment) <= 0 && segment.compareTo(to) <= 0) {
                    return true;
                }
            }
        }
        return false;
    }

    /** What PostgreSQL's archiver says, for the failure message: the last archived and the last failed file. */
    private static String archiver(Connection c) {
        try (Statement s = c.createStatement();
             ResultSet r = s.executeQuery("select last_archived_wal, last_failed_wal, last_failed_time from pg_stat_archiver")) {
            r.next();
            return " (PostgreSQL's archiver: last archived " + r.getString(1) + ", last failed " + r.getString(2)
                    + (r.getString(3) == null ? "" : " at " + r.getString(3)) + "; see the server log)";
        } catch (SQLException e) {
            return "";
        }
    }

    private static String oneLine(String s) {
        return s == null ? "(no message)" : s.replace('\n', ' ').strip();
    }
}
