package io.tidemark.e2e.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.e2e.CloudFixture;
import io.tidemark.e2e.ShimInstall;
import io.tidemark.e2e.ShimProcess;
import io.tidemark.e2e.Waits;
import io.tidemark.events.wal.Lsn;
import io.tidemark.testkit.FileTrees;
import io.tidemark.testkit.PgCluster;
import io.tidemark.testkit.PgTest;
import io.tidemark.testkit.Processes;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Scheduled backups through the agent, end to end: a primary and its streaming replica, each with
 * {@code tidemark agent} (the packaged launcher), a local cloud whose scheduler fires from
 * {@code schedules.json}. One job, one backup, taken by the primary, validated; the replica
 * recorded as having passed it; {@code info} shows the job; both agents' metrics scraped and
 * parsed; the primary's agent streams WAL (issue 17): unswitched commits reach the window within
 * seconds, and kill -9 of that agent mid-stream then its restart loses nothing (the drill that
 * follows restores through those chunks); SIGTERM stops an agent cleanly; a backup that fails
 * leaves the job failed with its error;
 * then a failover: the replica is promoted, archives timeline 2, its agent runs the next job while
 * the old primary's agent leaves it, the window spans both timelines, and a point-in-time restore
 * to a time on timeline 2 gives the rows of that time.
 */
@PgTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AgentE2eTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern SAMPLE = Pattern.compile("([a-z_]+)\\{([^}]*)\\} (-?[0-9.]+(?:E-?[0-9]+)?)");

    private Path dir;
    private CloudFixture cloud;
    private Path conf;
    /** The primary's agent's configuration: {@code conf} with WAL streaming on. */
    private Path streamConf;
    private PgCluster primary;
    private PgCluster replica;
    private AgentProcess primaryAgent;
    private AgentProcess replicaAgent;
    /** Where the streamed WAL ends once the packaged agent's stream was killed and restarted: the last commit. */
    private Lsn streamedTo;
    /** The nodes' configuration with drill.run=replica (from the scheduled drill's test on). */
    private Path drillConf;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    void setUp() throws Exception {
        dir = Files.createTempDirectory(Path.of("/tmp"), "tidemark-e2e-agent-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        cloud = new CloudFixture(dir.resolve("cloud")).start();
        conf = cloud.nodeConfig(dir.resolve("node"), "main", "");
        streamConf = cloud.nodeConfig(dir.resolve("node-stream"), "main",
                "stream.enabled=true\nstream.lease-ttl=10\n");
        primary = PgCluster.builder().dataChecksums(true)
                .setting("archive_mode", "on")
                .setting("archive_command", ShimInstall.get().launcher() + " archive-push %p --config " + conf)
                .build().start();
        ShimProcess.Result created = shim(primary, "stanza-create");
        assertEquals(0, created.code(), created.toString());
        // The replica archives with the shim once promoted (archive_mode=on archives only on a primary).
        replica = PgCluster.builder().emptyDataDir()
                .setting("archive_mode", "on")
                .setting("archive_command", ShimInstall.get().launcher() + " archive-push %p --config " + conf)
                .build();
        replica.run(List.of(primary.bin("pg_basebackup").toString(), "-D", replica.dataDir().toString(), "-R",
                "-X", "stream", "-c", "fast", "-h", primary.socketDir().toString(), "-p", String.valueOf(primary.port()),
                "-U", "postgres"));
        replica.start();
        primary.sql("create table t as select g from generate_series(1, 1000) g");
    }

    @AfterAll
    void tearDown() {
        for (AutoCloseable c : new AutoCloseable[] {primaryAgent, replicaAgent, replica, primary, cloud}) {
            if (c != null) {
                try {
                    c.close();
                } catch (Exception e) {
                    // best effort
                }
            }
        }
        if (dir != null) {
            FileTrees.deleteQuietly(dir);
        }
    }

    private List<String> nodeArgs(PgCluster pg) {
        return new ArrayList<>(List.of("--config", conf.toString(), "--pg-port", String.valueOf(pg.port()),
                "--pg-user", "postgres"));
    }

    private ShimProcess.Result shim(PgCluster pg, String command, String... more) {
        List<String> args = new ArrayList<>(List.of(command));
        args.addAll(nodeArgs(pg));
        args.addAll(List.of(more));
        return ShimProcess.run(dir, Map.of(), args.toArray(String[]::new));
    }

    private AgentProcess agent(String name, PgCluster pg, Map<String, String> env) throws Exception {
        List<String> args = nodeArgs(pg);
        args.addAll(List.of("--metrics-port", "0"));
        return AgentProcess.start(name, dir, env, args.toArray(String[]::new));
    }

    private JsonNode stanzaDoc() {
        return cloud.stanzaDocument("main");
    }

    private JsonNode awaitJob(Predicate<JsonNode> ok, String what, Duration timeout) throws Exception {
        long end = System.nanoTime() + timeout.toNanos();
        JsonNode jobs = null;
        while (System.nanoTime() < end) {
            jobs = stanzaDoc().path("jobs");
            if (!jobs.isEmpty() && ok.test(jobs.get(0))) {
                return jobs.get(0);
            }
            Thread.sleep(500);
        }
        throw new AssertionError("no job " + what + " after " + timeout + ": " + jobs);
    }

    private Map<String, Double> scrape(AgentProcess a) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(a.metricsUrl())).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"));
        Map<String, Double> samples = new HashMap<>();
        for (String line : r.body().split("\n")) {
            if (line.startsWith("#") || line.isBlank()) {
                continue;
            }
            Matcher m = SAMPLE.matcher(line);
            assertTrue(m.matches(), "not a Prometheus sample line: " + line);
            // client_java writes labels sorted by name: the stanza's may come after another
            List<String> others = new ArrayList<>(List.of(m.group(2).split(",")));
            assertTrue(others.remove("stanza=\"main\""), line);
            String labels = String.join(",", others);
            samples.put(m.group(1) + (labels.isEmpty() ? "" : "{" + labels + "}"), Double.parseDouble(m.group(3)));
        }
        return samples;
    }

    private static double sample(Map<String, Double> samples, String prefix) {
        return samples.entrySet().stream().filter(e -> e.getKey().startsWith(prefix)).map(Map.Entry::getValue)
                .findFirst().orElseThrow(() -> new AssertionError("no sample " + prefix + " in " + samples.keySet()));
    }

    @Test
    @Order(1)
    void aScheduledJobIsRunOnceByThePrimaryAndPassedByTheReplica() throws Exception {
        // The replica's agent alone first: it receives the job and must leave it.
        replicaAgent = agent("replica", replica, Map.of());
        cloud.stop();
        Files.writeString(dir.resolve("cloud/schedules.json"), """
                {"schedules": [
                  {"name": "main-backup", "function": "backup-scheduler", "every": "1d", "firstAfter": "2s",
                   "input": {"stanza": "main", "fullIntervalDays": 7}},
                  {"name": "main-full", "function": "backup-scheduler", "every": "1d",
                   "input": {"stanza": "main", "type": "full"}},
                  {"name": "main-drill", "function": "backup-scheduler", "every": "7d",
                   "input": {"stanza": "main", "type": "drill", "deadlineMinutes": 30}}
                ]}""");
        cloud.start();
        JsonNode passed = awaitJob(j -> !j.path("passedBy").isEmpty(), "passed by the replica", Duration.ofSeconds(90));
        assertEquals("queued", passed.path("state").asText(), passed.toString());
        assertEquals("full", passed.path("type").asText());
        assertEquals("no valid full backup exists", passed.path("reason").asText());
        String replicaHolder = passed.path("passedBy").get(0).asText();
        assertTrue(replicaHolder.endsWith(":" + replicaAgent.pid()), replicaHolder + " vs pid " + replicaAgent.pid());

        // the agent's new slot starts in the last checkpoint's segment: with this one, the current
        // segment, not an older one whose WAL is archived already and would be streamed again
        primary.sql("checkpoint");
        primaryAgent = agent("primary", primary, Map.of(), streamConf);
        JsonNode done = awaitJob(j -> j.path("state").asText().equals("done"), "done", Duration.ofMinutes(3));
        assertEquals(passed.path("jobId").asText(), done.path("jobId").asText());
        assertTrue(done.path("holder").asText().endsWith(":" + primaryAgent.pid()), done.toString());
        assertEquals(List.of(replicaHolder), List.of(done.path("passedBy").get(0).asText()));
        assertTrue(done.path("storedSize").asLong() > 0 && done.path("durationMs").asLong() > 0, done.toString());
        String label = done.path("label").asText();

        // Exactly one backup, the job's, taken on the primary and validated by the cloud.
        primary.sql("select pg_switch_wal()");
        long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        JsonNode backups = stanzaDoc().path("backups");
        while (System.nanoTime() < end && !"valid".equals(backups.path(0).path("status").asText())) {
            Thread.sleep(500);
            backups = stanzaDoc().path("backups");
        }
        assertEquals(1, backups.size(), backups.toString());
        assertEquals(label, backups.get(0).path("label").asText());
        assertEquals("valid", backups.get(0).path("status").asText(), backups.toString());
        assertTrue(!backups.get(0).path("fromStandby").asBoolean(), backups.toString());
        assertEquals(1, stanzaDoc().path("jobs").size());
        assertTrue(replicaAgent.output().contains("this node is a replica, left for the primary"), replicaAgent.output());
        assertTrue(!replicaAgent.output().contains("running a"), replicaAgent.output());

        ShimProcess.Result info = shim(primary, "info", "--output", "json");
        assertEquals(0, info.code(), info.toString());
        JsonNode infoJob = JSON.readTree(info.out()).path("jobs").get(0);
        assertEquals("done", infoJob.path("state").asText());
        assertEquals(label, infoJob.path("label").asText());
        ShimProcess.Result text = shim(primary, "info");
        assertTrue(text.out().contains("backup jobs (newest first)"), text.out());
        assertTrue(text.out().contains(done.path("jobId").asText() + "  full  done  on " + done.path("holder").asText()),
                text.out());
        assertTrue(text.out().contains("(left by replica " + replicaHolder + ")"), text.out());
    }

    @Test
    @Order(2)
    void bothAgentsServeMetrics() throws Exception {
        Map<String, Double> p = scrape(primaryAgent);
        assertEquals(1.0, p.get("tidemark_catalog_up"));
        assertEquals(1.0, p.get("tidemark_agent_is_primary"));
        assertEquals(1.0, p.get("tidemark_agent_jobs_total{result=\"done\"}"));
        assertEquals(0.0, p.get("tidemark_agent_job_failures_total"));
        assertEquals(1.0, p.get("tidemark_recent_jobs{state=\"done\"}"));
        assertTrue(sample(p, "tidemark_last_backup_stored_bytes") > 0, p.toString());
        assertTrue(sample(p, "tidemark_last_backup_duration_seconds") > 0, p.toString());
        assertTrue(sample(p, "tidemark_last_backup_age_seconds") >= 0, p.toString());
        assertTrue(p.get("tidemark_last_archived_timeline") >= 1.0, p.toString());
        assertTrue(p.get("tidemark_archive_lag_seconds") >= 0, p.toString());
        assertTrue(p.containsKey("tidemark_archive_lag_bytes"), p.toString());
        // The window's end moves with the next commit once its WAL is streamed or archived, and indexed.
        // A commit and a switch every 6 s (the agent's stanza snapshot is up to 5 s old), scraped every
        // half second: the loop ends as soon as the agent shows the moved window.
        long end = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        long nextCommit = System.nanoTime();
        while (!(p.getOrDefault("tidemark_window_latest_timestamp_seconds", 0.0)
                >= p.getOrDefault("tidemark_window_earliest_timestamp_seconds", Double.MAX_VALUE))
                && System.nanoTime() < end) {
            if (System.nanoTime() >= nextCommit) {
                primary.sql("insert into t values (0)");
                primary.sql("select pg_switch_wal()");
                nextCommit = System.nanoTime() + Duration.ofSeconds(6).toNanos();
            }
            Thread.sleep(500);
            p = scrape(primaryAgent);
        }
        assertTrue(p.get("tidemark_window_earliest_timestamp_seconds") <= p.get("tidemark_window_latest_timestamp_seconds"),
                p.toString());
        Map<String, Double> r = scrape(replicaAgent);
        assertEquals(0.0, r.get("tidemark_agent_is_primary"));
        assertEquals(1.0, r.get("tidemark_agent_jobs_total{result=\"passed\"}"));
        assertEquals(1.0, p.get("tidemark_stream_up"), "the primary's agent streams WAL");
        assertTrue(sample(p, "tidemark_stream_chunks_stored_total") > 0, p.toString());
        assertEquals(0.0, r.get("tidemark_agent_jobs_total{result=\"done\"}"));
    }

    /**
     * WAL streaming through the packaged agent (issue 17): with {@code stream.enabled} (since the
     * first test) the primary's agent streams from a replication slot into chunk objects, so rows committed and never
     * followed by a WAL switch are in the window within seconds. kill -9 of that agent while
     * commits flow (what it received and had not stored yet dies with it), more commits while it is
     * dead: the slot holds their WAL, the restarted agent streams on from where the stored chunks
     * end, and the window reaches the last commit without a gap. That these rows are restorable
     * from the chunks the next test's drill shows: it restores to latest, which only the chunks
     * hold (no WAL switch after them), and replays it to the last commit.
     */
    @Test
    @Order(3)
    void thePackagedAgentStreamsUnswitchedCommitsAndAKill9MidStreamLosesNothing() throws Exception {
        primaryAgent.await(l -> l.contains("streaming WAL of stanza main from slot tidemark_main on timeline 1"),
                Duration.ofSeconds(60));
        primary.sql("create table s (g int primary key)");
        int rows = 0;
        for (; rows < 20; rows++) {
            primary.sql("insert into s values (" + rows + ")");
        }
        Lsn first = Lsn.parse(primary.sql("select pg_current_wal_flush_lsn()"));
        long t0 = System.nanoTime();
        awaitWindowAt(first, Duration.ofSeconds(30), "the window to cover commits never followed by a WAL switch");
        System.out.println("[stream] the window covered " + first + " " + (System.nanoTime() - t0) / 1_000_000
                + " ms after its commit");
        assertEquals(0, stanzaDoc().path("window").path("breaks").size(), stanzaDoc().path("window").toString());
        assertEquals(1.0, scrape(primaryAgent).get("tidemark_stream_up"));

        // kill -9 while commits flow (a chunk is cut every second: it dies between two), then more
        // commits while no agent streams
        for (int i = 0; i < 40; i++, rows++) {
            primary.sql("insert into s values (" + rows + ")");
            if (i == 20) {
                long killed = primaryAgent.pid();
                primaryAgent.close(); // SIGKILL: bin/tidemark execs the JVM
                waitUntil(() -> !Processes.running(killed), Duration.ofSeconds(30), "the agent to be gone");
            }
        }
        Lsn last = Lsn.parse(primary.sql("select pg_current_wal_flush_lsn()"));
        Lsn held = Lsn.parse(primary.sql("select restart_lsn from pg_replication_slots where slot_name = 'tidemark_main'"));
        assertTrue(held.isBefore(last), "the slot holds the WAL S3 does not have: restart_lsn " + held + ", last " + last);
        Lsn edge = windowLatest();
        assertTrue(edge.isBefore(last), "nothing streams while the agent is dead: window at " + edge + ", last " + last);

        // the restart (once the dead agent's 10 s lease ran out) streams on from where the stored chunks end
        primaryAgent = agent("primary-restarted", primary, Map.of(), streamConf);
        awaitWindowAt(last, Duration.ofSeconds(60), "the restarted agent's stream to reach the last commit");
        JsonNode window = stanzaDoc().path("window");
        assertEquals(0, window.path("breaks").size(), "no gap after the kill: " + window);
        assertEquals(1.0, scrape(primaryAgent).get("tidemark_stream_up"));
        streamedTo = last; // the next test's drill restores to latest through these chunks
    }

    /** The window's right edge in the catalog (the end of the last record it covers). */
    private Lsn windowLatest() {
        JsonNode l = stanzaDoc().path("window").path("latest").path("lsn");
        return l.isTextual() ? Lsn.parse(l.asText()) : Lsn.INVALID;
    }

    /** Until the window covers {@code commit}'s flush LSN, which may lie in the padding after its record. */
    private void awaitWindowAt(Lsn commit, Duration timeout, String what) {
        long end = System.nanoTime() + timeout.toNanos();
        while (Lsn.of((windowLatest().value() + 7) & ~7L).compareTo(commit) < 0) {
            if (System.nanoTime() > end) {
                throw new AssertionError("gave up waiting for " + what + " (" + commit + ") after " + timeout + ": "
                        + stanzaDoc().path("window") + "\n" + primaryAgent.output());
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    @Test
    @Order(6)
    void sigtermStopsAnAgentCleanlyAndAFailedBackupFailsItsJob() throws Exception {
        int status = primaryAgent.terminate(Duration.ofSeconds(40));
        assertTrue(status == 0 || status == 143, "exit " + status);
        assertTrue(primaryAgent.output().contains("tidemark agent: stopped"), primaryAgent.output());

        primaryAgent = agent("primary-2", primary, Map.of("TIDEMARK_TEST_INTERRUPT_AFTER_OBJECTS", "3"));
        JsonNode out = JSON.readTree(cloud.cloud().runSchedule("main-full"));
        assertEquals("full", out.path("type").asText());
        String jobId = out.path("jobId").asText();
        JsonNode failed = awaitJob(j -> j.path("jobId").asText().equals(jobId) && j.path("state").asText().equals("failed"),
                "failed", Duration.ofMinutes(3));
        assertTrue(failed.path("error").asText().contains("running the backup again resumes it"), failed.toString());
        assertTrue(failed.path("holder").asText().endsWith(":" + primaryAgent.pid()), failed.toString());
        assertNotEquals("", failed.path("error").asText());
        Map<String, Double> p = scrape(primaryAgent);
        assertEquals(1.0, p.get("tidemark_agent_job_failures_total"));
        // Still exactly one backup in the catalog: the failed run uploaded no manifest.
        assertEquals(1, stanzaDoc().path("backups").size());
        ShimProcess.Result text = shim(primary, "info");
        assertTrue(text.out().contains("error: "), text.out());
    }

    @Test
    @Order(7)
    void afterAFailoverTheNewPrimaryArchivesTimeline2AndRunsTheJobs() throws Exception {
        primary.sql("create table f as select g from generate_series(1, 100) g");
        String lsn = primary.sql("select pg_current_wal_lsn()");
        waitUntil(() -> replica.sql("select pg_last_wal_replay_lsn() >= '" + lsn + "'").equals("t"), Duration.ofMinutes(1),
                "the replica to replay " + lsn);
        primary.stop();
        assertEquals("t", replica.sql("select pg_promote()"));
        waitUntil(() -> replica.sql("select pg_is_in_recovery()").equals("f"), Duration.ofMinutes(1), "the promotion");
        assertEquals("00000002", replica.sql("select substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)"));

        replica.sql("insert into f select g from generate_series(101, 150) g");
        Thread.sleep(1100);
        String target = replica.sql("select to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')")
                + "+00";
        Thread.sleep(1100);
        replica.sql("insert into f select g from generate_series(151, 200) g");
        String seg = replica.switchWal();
        Waits.archived(replica, seg, Duration.ofMinutes(2));

        // Timeline 2 and its history are archived, and the window reaches onto it past the target.
        JsonNode tl2 = null;
        long end = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        JsonNode doc = stanzaDoc();
        while (System.nanoTime() < end) {
            doc = stanzaDoc();
            tl2 = null;
            for (JsonNode t : doc.path("window").path("timelines")) {
                if (t.path("timeline").asInt() == 2) {
                    tl2 = t;
                }
            }
            if (tl2 != null && tl2.path("latest").path("time").asText("").compareTo(target.replace(' ', 'T')) > 0) {
                break;
            }
            Thread.sleep(1000);
        }
        assertTrue(tl2 != null, "the window reaches timeline 2: " + doc.path("window"));
        assertEquals("[2]", doc.path("histories").toString(), "00000002.history is archived");
        java.util.Set<Integer> windowTimelines = new java.util.TreeSet<>();
        doc.path("window").path("timelines").forEach(t -> windowTimelines.add(t.path("timeline").asInt()));
        assertEquals(java.util.Set.of(1, 2), windowTimelines, doc.path("window").toString());
        assertEquals(2, doc.path("window").path("latest").path("timeline").asInt(), doc.path("window").toString());

        // The next job: the old primary's agent cannot reach its PostgreSQL and leaves it; the new primary runs it.
        JsonNode out = JSON.readTree(cloud.cloud().runSchedule("main-full"));
        String jobId = out.path("jobId").asText();
        JsonNode done = awaitJob(j -> j.path("jobId").asText().equals(jobId) && j.path("state").asText().equals("done"),
                "done on the new primary", Duration.ofMinutes(3));
        assertTrue(done.path("holder").asText().endsWith(":" + replicaAgent.pid()), done.toString());
        assertTrue(!primaryAgent.output().contains("job " + jobId + ": running"), primaryAgent.output());

        // Point-in-time restore to the target on timeline 2.
        try (PgCluster restored = PgCluster.builder().emptyDataDir().setting("archive_mode", "off")
                .startTimeout(Duration.ofMinutes(3)).build()) {
            List<String> args = nodeArgs(replica);
            args.addAll(0, List.of("restore", "--pgdata", restored.dataDir().toString(), "--target-time", target));
            ShimProcess.Result r = ShimProcess.run(dir, Map.of(), args.toArray(String[]::new));
            assertEquals(0, r.code(), r.toString());
            try (java.util.stream.Stream<Path> s = Files.walk(restored.dataDir())) {
                s.forEach(restored.runAs()::giveOwnership);
            }
            restored.start();
            waitUntil(() -> restored.sql("select pg_is_in_recovery()").equals("f"), Duration.ofMinutes(3),
                    "the restore's recovery\n" + restored.logContext());
            assertEquals("150", restored.sql("select count(*) from f"), r.toString());
        }
    }

    /**
     * A scheduled drill (issue 18): both nodes have drill.run=replica. The primary's agent alone
     * first receives the drill job and passes it with its reason; the replica's agent claims it,
     * runs tidemark drill --now (real restore of the backup of the first test, the archived WAL and
     * the streamed chunks of the test before, real PostgreSQL, amcheck) to latest, the previous
     * test's last streamed commit, the drill is recorded in the catalog and the job done with the
     * backup drilled.
     */
    @Test
    @Order(4)
    void aScheduledDrillIsRunByTheReplicaAllowedToDrillAndPassedByThePrimary() throws Exception {
        drillConf = cloud.nodeConfig(dir.resolve("node-drill"), "main", "drill.run=replica\ndrill.scratch="
                + dir.resolve("drill-scratch") + "\n");
        // SIGTERM: the streaming agent stores what it received; no WAL switch follows, so latest is
        // the last streamed commit, in chunks only
        AgentProcess.terminateAll(Duration.ofSeconds(40), primaryAgent, replicaAgent);
        primaryAgent = agent("primary-drill", primary, Map.of(), drillConf);
        JsonNode out = JSON.readTree(cloud.cloud().runSchedule("main-drill"));
        assertEquals("drill", out.path("type").asText(), out.toString());
        String jobId = out.path("jobId").asText();
        JsonNode passed = awaitJob(j -> j.path("jobId").asText().equals(jobId) && !j.path("passedBy").isEmpty(),
                "passed by the primary", Duration.ofSeconds(90));
        assertEquals("queued", passed.path("state").asText(), passed.toString());
        assertTrue(primaryAgent.output().contains("job " + jobId + " (drill): this node is the primary and drill.run is"
                + " replica: left for a replica or a spare host"), primaryAgent.output());

        replicaAgent = agent("replica-drill", replica, Map.of(), drillConf);
        JsonNode done = awaitJob(j -> j.path("jobId").asText().equals(jobId) && !j.path("state").asText().equals("queued")
                && !j.path("state").asText().equals("running"), "over", Duration.ofMinutes(5));
        assertEquals("done", done.path("state").asText(), done + "\n" + replicaAgent.output());
        assertTrue(done.path("holder").asText().endsWith(":" + replicaAgent.pid()), done.toString());
        String backup = stanzaDoc().path("backups").get(0).path("label").asText();
        assertEquals(backup, done.path("label").asText(), done.toString());
        assertTrue(!primaryAgent.output().contains("job " + jobId + ": running"), primaryAgent.output());

        JsonNode drill = stanzaDoc().path("lastDrill");
        assertEquals("passed", drill.path("result").asText(), drill.toString());
        Matcher pinned = Pattern.compile("target latest \\(pinned to LSN ([0-9A-F]+/[0-9A-F]+), then promote\\)")
                .matcher(replicaAgent.output());
        assertTrue(pinned.find(), replicaAgent.output());
        assertTrue(Lsn.of((Lsn.parse(pinned.group(1)).value() + 7) & ~7L).compareTo(streamedTo) >= 0,
                "the drill replayed the streamed WAL to the last commit " + streamedTo + ": " + pinned.group());
        assertEquals(backup, drill.path("backup").asText(), drill.toString());
        assertTrue(drill.path("promotedMs").asLong() > 0, drill.toString());
        assertTrue(drill.path("node").asText().endsWith(":" + replicaAgent.pid()), drill.toString());
        assertTrue(replicaAgent.output().contains("job " + jobId + ": drill " + drill.path("drillId").asText()
                + " passed, backup " + backup), replicaAgent.output());
        assertTrue(!Files.exists(dir.resolve("drill-scratch")), "the scratch directory is removed");
    }

    /**
     * kill -9 of the replica's agent while its drill's server recovers: the server runs on in the
     * scratch directory and the job stays running. The agent's next start stops that server,
     * removes the directory, records the drill as failed and reports its job failed, saying why.
     */
    @Test
    @Order(5)
    void anAgentKilledMidDrillCleansUpAtItsNextStartAndFailsTheDrillAndItsJob() throws Exception {
        Path scratch = dir.resolve("drill-scratch");
        JsonNode out = JSON.readTree(cloud.cloud().runSchedule("main-drill"));
        String jobId = out.path("jobId").asText();
        Path pid = scratch.resolve("pgdata/postmaster.pid");
        waitUntil(() -> Files.exists(pid), Duration.ofMinutes(3), "the replica's drill server to start");
        long killed = replicaAgent.pid();
        replicaAgent.close(); // SIGKILL: the JVM (bin/tidemark execs it) gets no say
        waitUntil(() -> ProcessHandle.of(killed).isEmpty() || !ProcessHandle.of(killed).get().isAlive(), Duration.ofSeconds(30),
                "the agent to be gone");
        long postmaster = Long.parseLong(Files.readAllLines(pid).get(0).trim());
        assertTrue(Processes.running(postmaster), "the drill's server runs on (state " + Processes.state(postmaster) + ")");
        JsonNode running = stanzaDoc().path("jobs").get(0);
        assertEquals(jobId, running.path("jobId").asText(), running.toString());
        assertEquals("running", running.path("state").asText(), running.toString());
        String drillId = Files.readString(scratch.resolve("tidemark-drill.json")).replaceAll(".*\"drillId\":\"([^\"]+)\".*", "$1");

        replicaAgent = agent("replica-drill-2", replica, Map.of(), drillConf);
        JsonNode failed = awaitJob(j -> j.path("jobId").asText().equals(jobId) && j.path("state").asText().equals("failed"),
                "failed", Duration.ofSeconds(60));
        String why = "agent died during the drill: the agent (process " + killed + ") was gone before drill " + drillId
                + " finished; its next start found it: drill " + drillId + " (process " + killed + ", started ";
        assertTrue(failed.path("error").asText().startsWith(why), failed + "\n" + replicaAgent.output());
        assertTrue(failed.path("error").asText().contains("did not finish: its server (pid " + postmaster
                + ") was stopped and its scratch directory " + scratch + " removed"), failed.toString());
        assertTrue(failed.path("holder").asText().endsWith(":" + killed), "reported in the dead agent's name: " + failed);
        assertTrue(replicaAgent.output().contains("job " + jobId + " (drill): reported FAILED: agent died during the drill"),
                replicaAgent.output());
        // stopped: exited (a zombie until PID 1 reaps it counts: it runs nothing and holds nothing)
        assertFalse(Processes.running(postmaster), "the drill's server is stopped (state " + Processes.state(postmaster) + ")");
        assertTrue(!Files.exists(scratch), "the scratch directory is removed");
        JsonNode drill = stanzaDoc().path("lastDrill");
        assertEquals(drillId, drill.path("drillId").asText(), drill.toString());
        assertEquals("failed", drill.path("result").asText(), drill.toString());
        assertEquals("interrupted", drill.path("checks").get(0).path("name").asText(), drill.toString());
        assertTrue(drill.path("checks").get(0).path("message").asText().startsWith("agent died during the drill: the agent"
                + " (process " + killed + ")"), drill.toString());
        ShimProcess.Result info = shim(replica, "info");
        assertTrue(info.out().contains("last drill         " + drillId + " FAILED on ")
                && info.out().contains("failed check interrupted: agent died during the drill"), info.out());
        assertEquals(1.0, cloud.cloud().metrics().of("Tidemark", "DrillFailed", Map.of("Stanza", "main")).getLast().value(),
                "DrillFailed 1: the alarm's metric says so");
    }

    private AgentProcess agent(String name, PgCluster pg, Map<String, String> env, Path config) throws Exception {
        List<String> args = nodeArgs(pg);
        args.set(args.indexOf(conf.toString()), config.toString());
        args.addAll(List.of("--metrics-port", "0"));
        return AgentProcess.start(name, dir, env, args.toArray(String[]::new));
    }

    private static void waitUntil(java.util.function.BooleanSupplier condition, Duration timeout, String what) {
        Waits.until(condition, timeout, "gave up waiting for " + what);
    }
}
