package io.tidemark.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.testkit.PgCluster;
import io.tidemark.testkit.PgTest;
import io.tidemark.testkit.RunAs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Issue 7, asynchronous archive-push end to end: real PostgreSQL 15 clusters whose
 * archive_command is the packaged launcher with {@code archive-push.async=true} (run by
 * PostgreSQL as the postgres user; the worker is the detached one archive-push starts), the
 * real local cloud with the real indexer, and {@code tidemark info}. The launcher logs each
 * answer it gave without a JVM and each JVM start ({@code TIDEMARK_LAUNCH_LOG}).
 */
@PgTest
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AsyncArchiveEndToEndTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static Path cloudDir;
    private static Path nodeDir;
    private static CloudFixture cloud;
    private static final List<PgCluster> clusters = new ArrayList<>();

    /** One cluster archiving asynchronously to one stanza. */
    record Node(String stanza, Path conf, Path launchLog, PgCluster pg) {
        Path spool() {
            return nodeDir.resolve(stanza).resolve("spool").resolve(stanza).resolve("archive");
        }

        ShimProcess.Result shim(String... args) {
            List<String> all = new ArrayList<>(List.of(args));
            all.addAll(List.of("--config", conf.toString(), "--stanza", stanza));
            return ShimProcess.run(nodeDir, Map.of("PGHOST", "127.0.0.1", "PGPORT", Integer.toString(pg.port()),
                    "PGUSER", "postgres", "PGDATA", pg.dataDir().toString()), all.toArray(String[]::new));
        }

        long launches(String kind) throws IOException {
            try (Stream<String> l = Files.lines(launchLog)) {
                return l.filter(s -> s.startsWith(kind + " archive-push")).count();
            }
        }
    }

    private static Node main;

    @BeforeAll
    static void start() throws Exception {
        cloudDir = Files.createTempDirectory("tidemark-e2e-cloud");
        nodeDir = Files.createTempDirectory(Path.of("/tmp"), "tidemark-e2e-async",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        cloud = new CloudFixture(cloudDir).start();
        main = node("main", "");
    }

    /** A cluster, its configuration (async on, plus {@code extra}), its stanza, and its launch log. */
    static Node node(String stanza, String extra) throws IOException {
        return node(stanza, extra, PgCluster.builder());
    }

    static Node node(String stanza, String extra, PgCluster.Builder builder) throws IOException {
        Path conf = cloud.nodeConfig(nodeDir.resolve(stanza), stanza, "archive-push.async=true\narchive-push.process=2\n"
                + "retries=0\narchive-push.timeout=20\n" + extra);
        // the spool of the stanza belongs to the user PostgreSQL runs archive_command as
        Path stanzaSpool = Files.createDirectories(nodeDir.resolve(stanza).resolve("spool").resolve(stanza));
        Files.setPosixFilePermissions(stanzaSpool, PosixFilePermissions.fromString("rwx------"));
        RunAs.detect().giveOwnership(stanzaSpool);
        Path launchLog = Files.createFile(nodeDir.resolve(stanza).resolve("launch.log"));
        Files.setPosixFilePermissions(launchLog, PosixFilePermissions.fromString("rw-rw-rw-"));
        String push = "TIDEMARK_LAUNCH_LOG=" + launchLog + " " + ShimInstall.get().launcher() + " archive-push --config "
                + conf + " --stanza " + stanza + " %p";
        PgCluster pg = builder
                .setting("archive_mode", "on")
                .setting("archive_command", push)
                .setting("archive_timeout", "0")
                .setting("max_wal_size", "2GB")
                .build().start();
        clusters.add(pg);
        Node n = new Node(stanza, conf, launchLog, pg);
        ShimProcess.Result created = n.shim("stanza-create");
        assertEquals(0, created.code(), created.toString());
        return n;
    }

    @Test
    @Order(1)
    void aWorkerRunByHandPushesAheadAndEveryCallIsAnsweredWithoutAJvm() throws Exception {
        PgCluster pg = main.pg();
        // PostgreSQL's archiver paused (no archive_command): .ready files pile up
        pg.sql("alter system set archive_command = ''");
        pg.sql("select pg_reload_conf()");
        Thread.sleep(1000);
        String from = pg.currentWalFile();
        pg.sql("create table ahead as select g as id, md5(g::text) as v from generate_series(1, 400000) g");
        String upTo = pg.switchWal();
        List<String> expected = new ArrayList<>();
        for (long s = Waits.segmentNumber(from); s <= Waits.segmentNumber(upTo); s++) {
            expected.add(String.format("00000001%08X%08X", s / 256, s % 256));
        }
        // the worker, run by hand as the postgres user (as the agent or systemd would run it)
        Path out = nodeDir.resolve("worker-by-hand.out");
        Process worker = new ProcessBuilder(RunAs.detect().wrap(List.of(ShimInstall.get().launcher().toString(),
                "archive-push-worker", "--config", main.conf().toString(), "--stanza", "main",
                "--pgdata", pg.dataDir().toString(), "--idle-exit", "5")))
                .redirectErrorStream(true).redirectOutput(out.toFile()).start();
        Waits.until(() -> okRecords(main).containsAll(expected), Duration.ofMinutes(2),
                "the worker did not push ahead: " + okRecords(main) + " of " + expected);
        assertEquals(0, main.launches("jvm") + main.launches("fast"), "PostgreSQL did not call archive-push yet");
        Set<String> inS3 = cloud.walObjectNames("main");
        assertTrue(inS3.containsAll(expected), "done only once in S3: " + inS3);
        // archiving resumes: every call is answered from the spool, no JVM starts
        pg.sql("alter system reset archive_command");
        pg.sql("select pg_reload_conf()");
        Waits.archived(pg, upTo, Duration.ofMinutes(3));
        assertEquals(0, main.launches("jvm"), "a call for a file the worker had pushed started a JVM");
        assertEquals(expected.size(), main.launches("fast"), "every call answered from the spool");
        assertTrue(worker.waitFor(2, java.util.concurrent.TimeUnit.MINUTES), "the worker leaves when idle (--idle-exit 5)");
        String log = Files.readString(out);
        assertTrue(log.contains("archive-push worker started") && log.contains("worker stopped"), log);
        assertTrue(Files.notExists(main.spool().resolve("worker.pid")), "the worker removes its pid file");
    }

    @Test
    @Order(2)
    void aBurstIsArchivedAheadAndMostCallsAreAnsweredWithoutAJvm() throws Exception {
        PgCluster pg = main.pg();
        long fastBefore = main.launches("fast") + main.launches("wait");
        long jvmBefore = main.launches("jvm");
        String first = pg.currentWalFile();
        pg.sql("create table burst as select g as id, md5(g::text) as v from generate_series(1, 3300000) g");
        String last = pg.switchWal();
        Waits.archived(pg, last, Duration.ofMinutes(5));
        assertTrue(cloud.awaitQuiescent(Duration.ofMinutes(2)));
        assertEquals(List.of(), cloud.cloud().failedEvents());

        long segments = Waits.segmentNumber(last) - Waits.segmentNumber(first) + 1;
        assertTrue(segments * 16 >= 300, "only " + segments + " segments of WAL");
        Set<String> inS3 = cloud.walObjectNames("main");
        for (long s = Waits.segmentNumber(first); s <= Waits.segmentNumber(last); s++) {
            String name = String.format("00000001%08X%08X", s / 256, s % 256);
            assertTrue(inS3.contains(name), name + " is not in S3");
        }
        JsonNode timeline = timeline(main);
        assertEquals(1, timeline.get("walRanges").size(), timeline.toString());
        assertEquals(0, timeline.get("gaps").size(), timeline.toString());
        assertEquals(last, timeline.get("lastSegment").asText());

        long fast = main.launches("fast") + main.launches("wait") - fastBefore;
        long jvm = main.launches("jvm") - jvmBefore;
        System.out.println("async burst: " + segments + " segments; archive-push answered without a JVM " + fast
                + " times (" + main.launches("wait") + " of them after waiting for the worker), with one " + jvm + " times");
        // During the burst the worker keeps pace with PostgreSQL (how far ahead depends on the load
        // on the machine); every call it was ahead for needed no JVM.
        assertTrue(fast > 0, "the launcher never answered from the spool (" + jvm + " JVM starts)");
        List<String> lines = Files.readAllLines(main.launchLog());
        List<String> unanswered = new ArrayList<>();
        for (long s = Waits.segmentNumber(first); s <= Waits.segmentNumber(last); s++) {
            String name = String.format("00000001%08X%08X", s / 256, s % 256);
            if (lines.stream().noneMatch(l -> l.contains(name))) {
                unanswered.add(name);
            }
        }
        assertEquals(List.of(), unanswered, "every segment went through the launcher: " + lines);
        assertTrue(jvm >= 1, "the first call of the burst starts the detached worker");

        assertTrue(Files.readString(main.spool().resolve("worker.log")).contains("archive-push worker started"),
                "the first call started a detached worker");
        // the worker forgets what PostgreSQL has marked .done
        Waits.until(() -> okRecords(main).stream().allMatch(f -> Files.exists(pg.walDir().resolve("archive_status/" + f + ".ready"))),
                Duration.ofSeconds(30), ".ok records of .done files are not cleaned up: " + okRecords(main));
    }

    @Test
    @Order(3)
    void anS3OutageReachesPostgresAndNothingUnpushedIsRecorded() throws Exception {
        PgCluster pg = main.pg();
        String before = pg.switchWal();
        Waits.archived(pg, before, Duration.ofMinutes(2));
        long failedBefore = Long.parseLong(pg.sql("select failed_count from pg_stat_archiver"));
        Set<String> inS3Before = cloud.walObjectNames("main");

        cloud.stop();
        pg.sql("create table during_outage as select g as id, md5(g::text) as v from generate_series(1, 600000) g");
        String last = pg.switchWal();
        Waits.until(() -> Long.parseLong(pg.sql("select failed_count from pg_stat_archiver")) > failedBefore,
                Duration.ofMinutes(2), "archive-push never failed while S3 was down");
        try (Stream<Path> ready = Files.list(pg.walDir().resolve("archive_status"))) {
            assertTrue(ready.anyMatch(p -> p.getFileName().toString().endsWith(".ready")),
                    "PostgreSQL must keep the segments it could not archive");
        }
        String serverLog = pg.logTail(200);
        assertTrue(serverLog.contains("asynchronous worker"), "the worker's error reaches PostgreSQL: " + serverLog);
        for (String ok : okRecords(main)) {
            assertTrue(inS3Before.contains(ok), ok + " is recorded as archived while S3 was down");
        }

        cloud.start();
        Waits.wakeArchiver(pg);
        Waits.archived(pg, last, Duration.ofMinutes(5));
        assertTrue(cloud.awaitQuiescent(Duration.ofMinutes(2)));
        JsonNode timeline = timeline(main);
        assertEquals(1, timeline.get("walRanges").size(), timeline.toString());
        assertEquals(0, timeline.get("gaps").size(), timeline.toString());
        assertEquals(last, timeline.get("lastSegment").asText());
    }

    @Test
    @Order(4)
    void queueMaxDropsWalLoudlyAndInfoShowsTheGapAndWhy() throws Exception {
        Node dropper = node("dropper", "archive-push.queue-max=32MB\n");
        PgCluster pg = dropper.pg();
        pg.sql("create table a as select g from generate_series(1, 10000) g");
        String before = pg.switchWal();
        Waits.archived(pg, before, Duration.ofMinutes(2));

        cloud.stop();
        pg.sql("create table b as select g as id, md5(g::text) as v from generate_series(1, 1200000) g");
        String duringOutage = pg.switchWal();
        // with 32 MB allowed to wait, the worker drops the oldest and PostgreSQL moves on
        Waits.until(() -> Files.exists(dropper.spool()) && hasDropped(dropper), Duration.ofMinutes(2),
                "nothing was dropped with queue-max=32MB and S3 down");
        cloud.start();
        Waits.wakeArchiver(pg);
        Waits.archived(pg, duringOutage, Duration.ofMinutes(3));
        pg.sql("create table c as select g from generate_series(1, 10000) g");
        String last = pg.switchWal();
        Waits.archived(pg, last, Duration.ofMinutes(5));
        assertTrue(cloud.awaitQuiescent(Duration.ofMinutes(2)));

        String log = Files.readString(dropper.spool().resolve("worker.log"));
        assertTrue(log.contains("WARNING: archive-push.queue-max=33554432 exceeded") && log.contains("WITHOUT ARCHIVING"), log);
        assertTrue(pg.logTail(500).contains("was NOT archived: dropped by archive-push.queue-max"), "PostgreSQL's log");
        JsonNode timeline = timeline(dropper);
        String context = "\ncatalog: " + timeline + "\nworker.log:\n" + log + "\nspool: " + okRecords(dropper);
        assertTrue(timeline.get("gaps").size() >= 1, "the dropped WAL is a gap" + context);
        assertEquals(last, timeline.get("lastSegment").asText(), context);
        assertTrue(duringOutage.compareTo(before) > 0);
        ShimProcess.Result text = dropper.shim("info");
        assertEquals(0, text.code(), text.toString());
        assertTrue(text.out().contains("!!! GAP !!!") && text.out().contains("DROPPED by archive-push.queue-max on this node"),
                text.out());
        ShimProcess.Result json = dropper.shim("info", "--output", "json");
        assertTrue(JSON.readTree(json.out()).get("droppedWal").size() >= 1, json.out());
    }

    private static boolean hasDropped(Node n) {
        try (Stream<Path> s = Files.list(n.spool())) {
            return s.anyMatch(p -> p.getFileName().toString().endsWith(".dropped"));
        } catch (IOException e) {
            return false;
        }
    }

    private static List<String> okRecords(Node n) {
        try (Stream<Path> s = Files.list(n.spool())) {
            return s.map(p -> p.getFileName().toString()).filter(f -> f.endsWith(".ok"))
                    .map(f -> f.substring(0, f.length() - 3)).sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static JsonNode timeline(Node n) throws IOException {
        ShimProcess.Result info = n.shim("info", "--output", "json");
        assertEquals(0, info.code(), info.toString());
        JsonNode t = JSON.readTree(info.out()).get("timelines").get(0);
        assertEquals(1, t.get("timeline").asInt());
        return t;
    }

    @Test
    @Order(5)
    void theAgentHostsTheWorkerAndEveryCallIsAnsweredWithoutAJvm() throws Exception {
        Node n = node("agentnode", "");
        PgCluster pg = n.pg();
        Path out = nodeDir.resolve("agent.out");
        // the agent as a service would run it: as the postgres user, with the data directory
        Process agent = new ProcessBuilder(RunAs.detect().wrap(List.of("env", "PGHOST=127.0.0.1",
                "PGPORT=" + pg.port(), "PGUSER=postgres", ShimInstall.get().launcher().toString(), "agent",
                "--config", n.conf().toString(), "--stanza", n.stanza(), "--pgdata", pg.dataDir().toString(),
                "--metrics-port", "0")))
                .redirectErrorStream(true).redirectOutput(out.toFile()).start();
        try {
            Waits.until(() -> read(out).contains("archive-push worker running"), Duration.ofMinutes(1),
                    "the agent did not start its archive worker: " + read(out));
            assertTrue(read(out).contains("archive-push worker for " + pg.dataDir().resolve("pg_wal")), read(out));
            String first = pg.currentWalFile();
            pg.sql("create table by_agent as select g as id, md5(g::text) as v from generate_series(1, 1200000) g");
            String last = pg.switchWal();
            Waits.archived(pg, last, Duration.ofMinutes(3));
            Set<String> inS3 = cloud.walObjectNames(n.stanza());
            for (long s = Waits.segmentNumber(first); s <= Waits.segmentNumber(last); s++) {
                String name = String.format("00000001%08X%08X", s / 256, s % 256);
                assertTrue(inS3.contains(name), name + " is not in S3");
            }
            assertEquals(0, n.launches("jvm"), "with the agent's worker running, no archive-push started a JVM: "
                    + Files.readAllLines(n.launchLog()));
            assertTrue(n.launches("fast") + n.launches("wait") >= Waits.segmentNumber(last) - Waits.segmentNumber(first) + 1,
                    Files.readAllLines(n.launchLog()).toString());
            assertTrue(Files.notExists(n.spool().resolve("worker.log")), "no detached worker was started");
        } finally {
            // SIGTERM to the agent's JVM itself, as systemd sends it (runuser would turn it into a
            // SIGKILL after 2 s): the agent stops its services, the worker lets pushes under way finish
            agent.descendants().forEach(ProcessHandle::destroy);
            assertTrue(agent.waitFor(2, java.util.concurrent.TimeUnit.MINUTES), read(out));
        }
        assertTrue(read(out).contains("tidemark agent: stopped"), read(out));
    }

    /**
     * Issue 19: a standby built by pg_basebackup, whose restore_command is the packaged launcher's
     * archive-get without a plan, falls 150 1 MB segments behind (nearly twenty times the prefetch
     * window of 8) and catches up from the archive. Most calls are answered by the launcher from the prefetch spool: it logs every JVM
     * start before it execs Java, so the count of "jvm archive-get" lines cannot be lower than the
     * JVMs started. The prefetcher is killed (-9) mid-stream; the standby still gets every segment
     * right: its rows equal the primary's.
     */
    @Test
    @Order(6)
    void aStandbyFarBehindCatchesUpThroughTheSpoolAndSurvivesItsPrefetcherKilled() throws Exception {
        Node n = node("standby", "", PgCluster.builder().walSegmentSizeMb(1));
        PgCluster primary = n.pg();
        primary.sql("create table caught(id int primary key, v text)");
        Path getLog = Files.createFile(nodeDir.resolve("standby").resolve("get.log"));
        Files.setPosixFilePermissions(getLog, PosixFilePermissions.fromString("rw-rw-rw-"));
        String get = "TIDEMARK_LAUNCH_LOG=" + getLog + " " + ShimInstall.get().launcher() + " archive-get --config "
                + n.conf() + " --stanza standby %f %p";
        PgCluster standby = PgCluster.builder().emptyDataDir().setting("restore_command", get)
                .setting("archive_mode", "off").startTimeout(Duration.ofMinutes(3)).build();
        clusters.add(standby);
        standby.run(List.of(standby.bin("pg_basebackup").toString(), "-D", standby.dataDir().toString(),
                "-h", primary.socketDir().toString(), "-p", Integer.toString(primary.port()), "-U", "postgres",
                "-X", "fetch", "-c", "fast"));
        Path signal = standby.dataDir().resolve("standby.signal");
        Files.createFile(signal);
        standby.runAs().giveOwnership(signal);
        // the standby is down while the primary writes 150 segments: it falls that far behind (300
        // until this class's time was halved: the archiving and replay of each segment is most of
        // the test's time, and 150 is still many prefetch windows, with a kill a third of the way)
        int segments = 150;
        StringBuilder burst = new StringBuilder();
        for (int i = 1; i <= segments; i++) {
            burst.append("insert into caught values (").append(i).append(", md5('").append(i).append("'));")
                    .append(" select pg_walfile_name(pg_switch_wal());\n");
        }
        // each switch prints the segment it completed: the last line is the last segment written
        String last = primary.sql(burst.toString()).lines().reduce((a, b) -> b).orElseThrow().strip();
        Waits.archived(primary, last, Duration.ofMinutes(5));
        standby.start();
        Path prefetch = nodeDir.resolve("standby").resolve("spool").resolve("standby").resolve("prefetch");
        long lastSeg = segNo1Mb(last);
        // a third of the way: kill the running prefetcher, mid-stream
        long killAt = lastSeg - 2L * segments / 3;
        Waits.until(() -> replayedSegment(standby) >= killAt && Files.exists(prefetch.resolve(".pid")),
                Duration.ofMinutes(3), "the standby to replay segment " + killAt + " with a prefetcher running; "
                        + standby.logContext());
        long pid = Long.parseLong(Files.readString(prefetch.resolve(".pid")).strip());
        assertTrue(ProcessHandle.of(pid).isPresent(), "prefetcher " + pid + " is running");
        assertEquals(0, new ProcessBuilder("kill", "-9", Long.toString(pid)).start().waitFor());
        assertTrue(replayedSegment(standby) < lastSeg, "killed before the standby caught up");
        Waits.until(() -> standby.sql("select count(*) from caught").equals(Integer.toString(segments)),
                Duration.ofMinutes(5), "the standby to catch up to " + last + "; " + standby.logContext());
        String rows = "select count(*), sum(id), string_agg(v, ',' order by id) = (select string_agg(md5(g::text), ','"
                + " order by g) from generate_series(1, " + segments + ") g) from caught";
        assertEquals(primary.sql(rows), standby.sql(rows));
        assertEquals(Integer.toString(segments), standby.sql("select count(*) from caught"));
        assertEquals("t", standby.sql("select string_agg(v, ',' order by id) = (select string_agg(md5(g::text), ','"
                + " order by g) from generate_series(1, " + segments + ") g) from caught"));
        // the calls until it caught up: then a standby asks for the next segment (not archived
        // yet) every few seconds, and each such ask is a JVM that asks S3 (never a cached "no")
        List<String> lines = Files.readAllLines(getLog);
        lines = lines.subList(0, lines.stream().filter(l -> l.contains(" " + last)).findFirst().map(lines::indexOf)
                .orElse(lines.size() - 1) + 1);
        long jvm = lines.stream().filter(l -> l.startsWith("jvm archive-get")).count();
        long fast = lines.stream().filter(l -> l.startsWith("fast archive-get") && l.endsWith(" 0")).count();
        System.out.println("standby catch-up: " + segments + " segments behind; archive-get answered from the spool "
                + fast + " times, by a JVM " + jvm + " times: " + lines.stream().filter(l -> l.startsWith("jvm ")
                || l.startsWith("prefetcher started")).toList());
        assertTrue(fast >= segments * 3 / 4, "most segments served without a JVM: " + fast + " of " + segments
                + " (" + jvm + " JVM starts)");
        assertTrue(jvm < segments / 10, jvm + " JVM starts for " + segments + " segments: " + lines);
        // a caught-up standby keeps asking for the next segment every 5 s: not through the next test
        PgCluster.closeAll(List.of(standby, primary));
    }

    /**
     * Issue 19: the agent on a standby hosts the plan-less prefetcher, and the standby follows a
     * failover through the archive. A standby with restore_command only catches up while the agent
     * (run as the postgres user, as a service would run it) holds its prefetch spool: archive-get
     * never starts a prefetcher of its own. Then the primary stops, a streaming standby is promoted
     * to timeline 2 and archives its history file and new segments, with the first standby down;
     * started again, it catches up across the switch (PostgreSQL asks for 00000002.history, then
     * timeline 2's segments from the one holding the switch point), mostly answered from the
     * spool, and its rows equal the new primary's.
     */
    @Test
    @Order(7)
    void theAgentHostsTheStandbysPrefetcherAndTheStandbyFollowsAFailoverThroughTheArchive() throws Exception {
        Node n = node("failover", "", PgCluster.builder().walSegmentSizeMb(1));
        PgCluster primary = n.pg();
        primary.sql("create table t(id int primary key, v text); insert into t select g, md5(g::text) from generate_series(1, 10) g");
        Waits.archived(primary, primary.switchWal(), Duration.ofMinutes(2));
        // the standby to be promoted streams from the primary and, once promoted, archives with its own spool
        Path promotedConf = cloud.nodeConfig(nodeDir.resolve("failover-b"), "failover", "retries=0\narchive-push.timeout=20\n");
        ownedStanzaSpool(nodeDir.resolve("failover-b"), "failover");
        PgCluster promoted = PgCluster.builder().emptyDataDir()
                .setting("primary_conninfo", "host=" + primary.socketDir() + " port=" + primary.port() + " user=postgres")
                .setting("archive_mode", "on")
                .setting("archive_command", ShimInstall.get().launcher() + " archive-push --config " + promotedConf
                        + " --stanza failover %p")
                .startTimeout(Duration.ofMinutes(3)).build();
        clusters.add(promoted);
        // the standby under test: restore_command only (none at first: it becomes consistent from the
        // backup's own WAL, so that the agent, which asks PostgreSQL, holds the spool before the first call)
        Path standbyConf = cloud.nodeConfig(nodeDir.resolve("failover-s"), "failover", "retries=0\n");
        ownedStanzaSpool(nodeDir.resolve("failover-s"), "failover");
        Path getLog = Files.createFile(nodeDir.resolve("failover-s").resolve("get.log"));
        Files.setPosixFilePermissions(getLog, PosixFilePermissions.fromString("rw-rw-rw-"));
        String get = "TIDEMARK_LAUNCH_LOG=" + getLog + " " + ShimInstall.get().launcher() + " archive-get --config "
                + standbyConf + " --stanza failover %f %p";
        PgCluster standby = PgCluster.builder().emptyDataDir().setting("restore_command", "false")
                .setting("archive_mode", "off").startTimeout(Duration.ofMinutes(3)).build();
        clusters.add(standby);
        for (PgCluster c : List.of(promoted, standby)) {
            c.run(List.of(c.bin("pg_basebackup").toString(), "-D", c.dataDir().toString(), "-h",
                    primary.socketDir().toString(), "-p", Integer.toString(primary.port()), "-U", "postgres", "-X", "fetch", "-c", "fast"));
            Path signal = Files.createFile(c.dataDir().resolve("standby.signal"));
            c.runAs().giveOwnership(signal);
        }
        promoted.start();
        standby.start();
        Path prefetch = nodeDir.resolve("failover-s").resolve("spool").resolve("failover").resolve("prefetch");
        Path out = nodeDir.resolve("failover-s").resolve("agent.out");
        Process agent = new ProcessBuilder(RunAs.detect().wrap(List.of("env", "PGHOST=127.0.0.1",
                "PGPORT=" + standby.port(), "PGUSER=postgres", ShimInstall.get().launcher().toString(), "agent",
                "--config", standbyConf.toString(), "--stanza", "failover", "--metrics-port", "0")))
                .redirectErrorStream(true).redirectOutput(out.toFile()).start();
        try {
            Waits.until(() -> read(out).contains("archive-get prefetcher running") && heldByTheAgent(prefetch),
                    Duration.ofMinutes(2), "the agent did not take the standby's prefetch spool: " + read(out));
            standby.sql("alter system set restore_command = '" + get + "'");
            standby.sql("select pg_reload_conf()");
            // the primary writes 40 segments; the standby follows them through the archive
            int before = 10;
            int first = writeSegments(primary, before + 1, 40);
            Waits.until(() -> standby.sql("select count(*) from t").equals(Integer.toString(first)), Duration.ofMinutes(4),
                    "the standby to replay " + first + " rows; " + standby.logContext());
            List<String> calls = Files.readAllLines(getLog);
            long fast = calls.stream().filter(l -> l.startsWith("fast archive-get 00000001") && l.endsWith(" 0")).count();
            System.out.println("agent-hosted prefetch: " + fast + " segments from the spool; calls: " + calls.size());
            assertTrue(fast >= 30, "most of 40 segments served from the agent's spool: " + calls);
            assertTrue(Files.notExists(prefetch.resolve("prefetch.log")),
                    "archive-get never launched a prefetcher of its own (it logs into prefetch.log)");
            assertTrue(heldByTheAgent(prefetch), "the agent still holds the spool");

            // failover: the standby is down; the primary stops once the other standby has all of it
            standby.stop();
            String end = primary.sql("select pg_current_wal_lsn()");
            Waits.until(() -> promoted.sql("select pg_last_wal_replay_lsn() >= '" + end + "'").equals("t"),
                    Duration.ofMinutes(2), "the streaming standby to replay " + end);
            primary.stop();
            promoted.sql("select pg_promote()");
            Waits.until(() -> promoted.sql("select pg_is_in_recovery()").equals("f"), Duration.ofMinutes(1), "promotion");
            Waits.until(() -> promoted.sql("select timeline_id from pg_control_checkpoint()").equals("2"),
                    Duration.ofMinutes(1), "timeline 2 after the promotion");
            int total = writeSegments(promoted, first + 1, 30);
            int fromLine = Files.readAllLines(getLog).size();
            standby.start();
            Waits.until(() -> standby.sql("select count(*) from t").equals(Integer.toString(total)), Duration.ofMinutes(4),
                    "the standby to follow timeline 2 to " + total + " rows; " + standby.logContext());
            String rows = "select count(*), sum(id), string_agg(v, ',' order by id) from t";
            assertEquals(promoted.sql(rows), standby.sql(rows));
            List<String> after = Files.readAllLines(getLog);
            after = after.subList(fromLine, after.size());
            long fastTwo = after.stream().filter(l -> l.startsWith("fast archive-get 00000002") && l.endsWith(" 0")).count();
            long jvmTwo = after.stream().filter(l -> l.matches("jvm archive-get .* 00000002[0-9A-F]{16} .*")).count();
            System.out.println("after the failover: " + fastTwo + " timeline 2 names from the spool, " + jvmTwo
                    + " by a JVM; calls: " + after);
            assertTrue(fastTwo >= 25, "timeline 2's 30 segments mostly served from the spool: " + after);
            assertTrue(heldByTheAgent(prefetch), "the agent held the spool throughout");
        } finally {
            agent.descendants().forEach(ProcessHandle::destroy);
            assertTrue(agent.waitFor(2, java.util.concurrent.TimeUnit.MINUTES), read(out));
        }
    }

    /** Inserts {@code count} rows from {@code from}, one segment switch each, and waits until archived; returns the last id. */
    private static int writeSegments(PgCluster pg, int from, int count) {
        StringBuilder burst = new StringBuilder();
        for (int i = from; i < from + count; i++) {
            burst.append("insert into t values (").append(i).append(", md5('").append(i).append("'));")
                    .append(" select pg_walfile_name(pg_switch_wal());\n");
        }
        String last = pg.sql(burst.toString()).lines().reduce((a, b) -> b).orElseThrow().strip();
        Waits.archived(pg, last, Duration.ofMinutes(4));
        return from + count - 1;
    }

    /** The prefetch spool's {@code .pid} names the agent's JVM. */
    private static boolean heldByTheAgent(Path prefetch) {
        try {
            String pid = Files.readString(prefetch.resolve(".pid")).strip();
            return Files.readString(Path.of("/proc", pid, "cmdline")).contains("\0agent\0");
        } catch (IOException e) {
            return false;
        }
    }

    /** The stanza's directory of a node spool (made by nodeConfig), the postgres user's, mode 700. */
    private static void ownedStanzaSpool(Path dir, String stanza) throws IOException {
        Path s = Files.createDirectories(dir.resolve("spool").resolve(stanza));
        Files.setPosixFilePermissions(s, PosixFilePermissions.fromString("rwx------"));
        RunAs.detect().giveOwnership(s);
    }

    /** The segment number of a 1 MB segment's name (4096 per log file). */
    private static long segNo1Mb(String name) {
        return Long.parseLong(name.substring(8, 16), 16) * 4096 + Long.parseLong(name.substring(16), 16);
    }

    /** The 1 MB segment number holding the standby's replay position (pg_walfile_name is refused in recovery). */
    private static long replayedSegment(PgCluster standby) {
        String[] lsn = standby.sql("select coalesce(pg_last_wal_replay_lsn(), '0/0')").split("/");
        return ((Long.parseLong(lsn[0], 16) << 32) | Long.parseLong(lsn[1], 16)) >>> 20;
    }

    private static String read(Path f) {
        try {
            return Files.exists(f) ? Files.readString(f) : "";
        } catch (IOException e) {
            return e.toString();
        }
    }

    @AfterAll
    static void stop() {
        PgCluster.closeAll(clusters);
        if (cloud != null) {
            cloud.close();
        }
        ShimInstall.deleteTree(nodeDir);
        ShimInstall.deleteTree(cloudDir);
    }
}
