package io.tidemark.shim.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.tidemark.events.json.Json;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.localcloud.LocalCloud;
import io.tidemark.localcloud.LocalCloudFunctions;
import io.tidemark.shim.api.CatalogApi;
import io.tidemark.shim.config.CommonOptions;
import io.tidemark.shim.config.ShimConfig;
import io.tidemark.shim.drill.DrillSettings;
import io.tidemark.shim.pg.PgOptions;
import io.tidemark.shim.storage.CredentialSource;
import io.tidemark.shim.storage.Retry;
import io.tidemark.shim.support.TestCloud;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scheduled drill jobs through the real local cloud: the real backup scheduler issues them, the
 * real catalog function records claims, passes and reports, and the local job queue delivers them
 * to {@link JobLoop}s as the agent runs it. {@code drill.run=never} and {@code any} decide without
 * asking PostgreSQL, so no cluster is needed here (a primary running a drill for real is
 * DrillE2eTest's); the stanza has no backup, so a drill that is claimed fails its plan check.
 */
@Tag("localcloud")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DrillJobCloudTest {
    private static final StanzaName STANZA = StanzaName.of("drillrun");

    @TempDir
    static Path dir;
    LocalCloud cloud;
    Path conf;
    ShimConfig config;

    @BeforeAll
    void start() throws Exception {
        Path cloudDir = Files.createDirectories(dir.resolve("cloud"));
        Files.writeString(cloudDir.resolve("schedules.json"), """
                {"schedules": [{"name": "drillrun-drill", "function": "backup-scheduler", "every": "7d",
                                "input": {"stanza": "drillrun", "type": "drill", "deadlineMinutes": 30}}]}""");
        cloud = LocalCloudFunctions.register(LocalCloud.builder()).dir(cloudDir).start();
        conf = TestCloud.config(cloud, dir, Map.of("stanza", STANZA.value(), "drill.scratch",
                dir.resolve("scratch").toString(), "retries", "1"));
        config = ShimConfig.load(CommonOptions.parse("--config", conf.toString()), Map.of());
        CatalogApi.Response put = api().putStanza(STANZA, "{\"systemIdentifier\":\"7300000000000000001\",\"pgVersion\":15,"
                + "\"pgVersionNum\":150004,\"walSegmentSize\":16777216}");
        assertEquals(200, put.status(), put.body());
    }

    @AfterAll
    void stop() {
        if (cloud != null) {
            cloud.close();
        }
    }

    private CatalogApi api() {
        return new CatalogApi(config.requireApiUrl(), config.apiRegion(), CredentialSource.of(config, Map.of()),
                Retry.of(0), config.apiKey());
    }

    /** A node's job loop as {@code tidemark agent} makes it, with its own holder name and log. */
    private JobLoop node(DrillSettings.Run run, String holder, ByteArrayOutputStream log) {
        List<String> args = List.of("--config", conf.toString(), "--stanza", STANZA.value());
        return new JobLoop(new LocalQueueSource(api(), STANZA), this::api, STANZA,
                PgOptions.from(CommonOptions.parse("--config", conf.toString()), Map.of()),
                new BackupRunner(Map.of(), args), new DrillRunner(Map.of(), args), run, holder, new AgentCounters(),
                new PrintStream(log, true, StandardCharsets.UTF_8), Clock.systemUTC());
    }

    /** The next message of the stanza's queue, waiting for one left by a node to come back. */
    private ReceivedJob receive() {
        LocalQueueSource q = new LocalQueueSource(api(), STANZA);
        long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < end) {
            Optional<ReceivedJob> r = q.receive(Duration.ofSeconds(5), JobLoop.VISIBILITY);
            if (r.isPresent()) {
                return r.get();
            }
        }
        throw new AssertionError("no job message within 60 s");
    }

    private JsonNode job(String id) throws Exception {
        for (JsonNode j : Json.mapper().readTree(api().getStanza(STANZA).body()).path("jobs")) {
            if (j.path("jobId").asText().equals(id)) {
                return j;
            }
        }
        throw new AssertionError("no job " + id);
    }

    @Test
    void aNodeWithDrillRunNeverPassesTheDrillAndANodeWithAnyClaimsAndRunsIt() throws Exception {
        String jobId = Json.mapper().readTree(cloud.runSchedule("drillrun-drill")).path("jobId").asText();
        ByteArrayOutputStream neverLog = new ByteArrayOutputStream();
        ByteArrayOutputStream anyLog = new ByteArrayOutputStream();
        JobLoop never = node(DrillSettings.Run.NEVER, "db1:101", neverLog);
        JobLoop any = node(DrillSettings.Run.ANY, "db2:202", anyLog);

        never.handle(receive());
        assertTrue(neverLog.toString(StandardCharsets.UTF_8).contains("job " + jobId + " (drill): drill.run is never on this"
                + " node (tidemark.conf): left for a node allowed to drill"), neverLog.toString(StandardCharsets.UTF_8));
        JsonNode passed = job(jobId);
        assertEquals("queued", passed.path("state").asText(), passed.toString());
        assertEquals("db1:101", passed.path("passedBy").get(0).asText(), passed.toString());

        // the message the never node left comes back; the any node claims it and runs the drill
        any.handle(receive());
        String anyOut = anyLog.toString(StandardCharsets.UTF_8);
        assertTrue(anyOut.contains("job " + jobId + ": running a restore drill as db2:202"), anyOut);
        JsonNode over = job(jobId);
        assertEquals("failed", over.path("state").asText(), over + "\n" + anyOut);
        assertEquals("db2:202", over.path("holder").asText(), over.toString());
        assertTrue(over.path("error").asText().contains("failed: check plan: the planner refused the drill's target latest"),
                over.toString());
        assertFalse(neverLog.toString(StandardCharsets.UTF_8).contains("running"), "the never node ran nothing");
        // the drill itself is recorded as any drill is
        JsonNode drill = Json.mapper().readTree(api().getStanza(STANZA).body()).path("lastDrill");
        assertEquals("failed", drill.path("result").asText(), drill.toString());
        assertEquals("plan", drill.path("checks").get(0).path("name").asText(), drill.toString());
    }

    /**
     * What the agent does at its start: the scratch directory of a drill its predecessor on this
     * host was running when it died (its marker: the drill, the job, the dead process) is removed,
     * the drill recorded as failed and the job, still running in the dead agent's name, reported
     * failed. A real kill -9 of a real agent with its server running is DrillE2eTest's.
     */
    @Test
    void atItsStartTheAgentCleansUpTheDrillItDiedInAndFailsItsJob() throws Exception {
        String jobId = Json.mapper().readTree(cloud.runSchedule("drillrun-drill")).path("jobId").asText();
        ReceivedJob message = receive(); // the dead agent had received it; it is not the other test's to take
        new LocalQueueSource(api(), STANZA).delete(message);
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        CatalogApi.Response claim = api().claimJob(STANZA, jobId, "{\"holder\":\"db3:" + gone.pid() + "\"}");
        assertEquals(200, claim.status(), claim.body());
        Path scratch = Files.createDirectories(dir.resolve("scratch"));
        Files.createDirectories(scratch.resolve("pgdata/base"));
        String drillId = "20261206T010203Z-0badcafe";
        Files.writeString(scratch.resolve("tidemark-drill.json"), "{\"drillId\":\"" + drillId + "\",\"jobId\":\"" + jobId
                + "\",\"pid\":" + gone.pid() + ",\"startedAt\":\"2026-12-06T01:02:03Z\",\"bin\":\"/usr/lib/postgresql/15/bin\","
                + "\"owner\":\"postgres\"}");
        Path strange = Files.createDirectories(dir.resolve("strange"));
        Files.writeString(strange.resolve("precious"), "x");

        ByteArrayOutputStream log = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(log, true, StandardCharsets.UTF_8);
        AgentCommand.cleanUpDeadDrill(config, DrillSettings.load(conf), Map.of(), node(DrillSettings.Run.ANY, "db3:4242",
                log), out, out);
        String text = log.toString(StandardCharsets.UTF_8);
        assertFalse(Files.exists(scratch), text);
        assertTrue(text.contains("tidemark agent:   note: drill " + drillId + " (process " + gone.pid()
                + ", started 2026-12-06T01:02:03Z) did not finish: no server was running and its scratch directory " + scratch
                + " removed"), text);
        assertTrue(text.contains("job " + jobId + " (drill): reported FAILED: agent died during the drill"), text);
        JsonNode failed = job(jobId);
        assertEquals("failed", failed.path("state").asText(), failed.toString());
        assertTrue(failed.path("error").asText().startsWith("agent died during the drill: the agent (process " + gone.pid()
                + ") was gone before drill " + drillId + " finished"), failed.toString());
        JsonNode drills = Json.mapper().readTree(api().drills(STANZA).body()).path("drills");
        JsonNode recorded = null;
        for (JsonNode d : drills) {
            recorded = d.path("drillId").asText().equals(drillId) ? d : recorded;
        }
        assertTrue(recorded != null, drills.toString());
        assertEquals("failed", recorded.path("result").asText(), recorded.toString());
        assertEquals("interrupted", recorded.path("checks").get(0).path("name").asText(), recorded.toString());
        assertTrue(recorded.path("checks").get(0).path("message").asText().startsWith("agent died during the drill: "),
                recorded.toString());

        // a marker naming a job another agent has settled: the drill is recorded, the job left as it is (409)
        String other = Json.mapper().readTree(cloud.runSchedule("drillrun-drill")).path("jobId").asText();
        new LocalQueueSource(api(), STANZA).delete(receive());
        assertEquals(200, api().claimJob(STANZA, other, "{\"holder\":\"db5:77\"}").status());
        assertEquals(200, api().reportJob(STANZA, other, "{\"holder\":\"db5:77\",\"result\":\"failed\",\"error\":\"x\"}")
                .status());
        Files.createDirectories(scratch);
        Files.writeString(scratch.resolve("tidemark-drill.json"), "{\"drillId\":\"20261206T020304Z-0badf00d\",\"jobId\":\""
                + other + "\",\"pid\":" + gone.pid() + ",\"startedAt\":\"2026-12-06T02:03:04Z\",\"bin\":"
                + "\"/usr/lib/postgresql/15/bin\",\"owner\":\"postgres\"}");
        ByteArrayOutputStream over = new ByteArrayOutputStream();
        PrintStream overOut = new PrintStream(over, true, StandardCharsets.UTF_8);
        AgentCommand.cleanUpDeadDrill(config, DrillSettings.load(conf), Map.of(), node(DrillSettings.Run.ANY, "db3:4242",
                over), overOut, overOut);
        assertTrue(over.toString(StandardCharsets.UTF_8).contains("job " + other + " (drill): not reported: HTTP 409"),
                over.toString(StandardCharsets.UTF_8));
        assertEquals("x", job(other).path("error").asText(), "the other agent's report stands");
        assertFalse(Files.exists(scratch));

        // nothing left: a second start finds nothing and says nothing; a directory without a marker is never touched
        ByteArrayOutputStream again = new ByteArrayOutputStream();
        PrintStream againOut = new PrintStream(again, true, StandardCharsets.UTF_8);
        AgentCommand.cleanUpDeadDrill(config, DrillSettings.load(conf), Map.of(), node(DrillSettings.Run.ANY, "db3:4242",
                again), againOut, againOut);
        assertEquals("", again.toString(StandardCharsets.UTF_8));
        Path strangeConf = TestCloud.config(cloud, dir, Map.of("stanza", STANZA.value(), "drill.scratch", strange.toString()));
        AgentCommand.cleanUpDeadDrill(config, DrillSettings.load(strangeConf), Map.of(), node(DrillSettings.Run.ANY,
                "db3:4242", again), againOut, againOut);
        assertEquals("", again.toString(StandardCharsets.UTF_8));
        assertTrue(Files.exists(strange.resolve("precious")));
    }
}
