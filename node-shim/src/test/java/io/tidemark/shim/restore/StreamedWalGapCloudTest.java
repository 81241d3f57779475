package io.tidemark.shim.restore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.tidemark.events.metrics.TidemarkMetric;
import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.events.wal.WalSegmentSize;
import io.tidemark.localcloud.LocalMetrics;
import io.tidemark.shim.info.InfoCommand;
import io.tidemark.shim.stream.StreamSettings;
import io.tidemark.shim.support.Shim;
import io.tidemark.testkit.PgCluster;
import io.tidemark.testkit.PgTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 17's "never a silent hole", below e2e: WAL missing from both the stream and the archive,
 * with streamed WAL after it, shows in {@code info} as a WAL GAP (timeline, from LSN and time, to
 * LSN), the window's right edge stays before it, and the indexer publishes {@code StreamGaps} (the
 * stack's alarm). Real PostgreSQL 15, the agent's real streamer, the real local cloud under the
 * stack's IAM with its real indexer; archiving is pushed in-process, so the test decides which
 * segments the archive holds.
 */
@PgTest
@Tag("localcloud")
class StreamedWalGapCloudTest {
    private static final StreamSettings STREAM = new StreamSettings(true, Optional.empty(), Duration.ofMillis(500), 30);
    private static final Pattern STREAMING_FROM = Pattern.compile("on timeline (\\d+) from ([0-9A-F]+/[0-9A-F]+) ");

    @TempDir
    Path dir;
    private StreamedStanza stanza;
    private StreamedAgent agent;
    private StreamedAgent next;
    private PgCluster standby;
    private String name;
    /** Rows of {@code t} the tests add start here (the stanza's own are 1..100). */
    private int nextId = 10_000;

    @AfterEach
    void stop() throws Exception {
        for (Process p : processes) {
            p.destroyForcibly();
            p.waitFor();
        }
        StreamedAgent.closeAll(agent, next, standby, stanza);
    }

    @Test
    void aFailoverWhoseOldTimelineWasNotStreamedToTheSwitchShowsTheGapUntilTheArchiveFillsIt() throws Exception {
        name = "failgap";
        stanza = StreamedStanza.start(dir, name);
        PgCluster primary = stanza.primary();
        standby = streamingStandbyOf(primary);
        pushArchivedBeforeTheCurrentSegment();

        // the old primary's agent dies; the primary goes on for two more segments, which its
        // standby receives and neither the stream nor the archive ever holds
        Halted h = streamThenHaltWhileWalMovesTwoSegments(primary, "streamed on timeline 1");
        Lsn streamed = h.streamed();
        Lsn missed = h.missed();
        Lsn last = commit(primary, "not streamed");
        Awaitility.await().atMost(Duration.ofMinutes(1)).until(() -> !Lsn.parse(standby.sql(
                "select pg_last_wal_replay_lsn()").strip()).isBefore(last));
        primary.stop();
        assertEquals("t", standby.sql("select pg_promote()").strip());
        Path history = standby.walDir().resolve("00000002.history");
        Lsn switchPoint = Lsn.parse(Files.readString(history).strip().split("\\s+")[1]);
        push(history);
        // the new primary's agent: a new slot after a checkpoint starts in timeline 2's segment of
        // the switch, which it streams from its start
        standby.checkpoint();
        Lsn onTimeline2 = commit(standby, "streamed on timeline 2");
        next = StreamedAgent.start(stanza, standby, STREAM);
        next.awaitLine("streaming WAL of stanza");
        Awaitility.await().atMost(Duration.ofSeconds(30))
                .until(() -> next.counters().timeline == 2 && next.counters().storedEnd >= onTimeline2.value());
        Lsn tl2From = streamingFrom(next, 2);

        JsonNode gap = awaitBreak();
        JsonNode window = info().path("window");
        assertEquals(2, gap.path("timeline").asLong(), gap.toString());
        assertEquals(1, gap.path("from").path("timeline").asLong(), "the missing WAL is timeline 1's: " + gap);
        assertEquals(window.path("latest").path("lsn").asText(), gap.path("from").path("lsn").asText(),
                "the gap starts at the window's right edge: " + window);
        assertStartsWhereTheStreamEnded(gap, streamed, missed);
        assertTrue(gap.path("from").path("time").isTextual(), "the gap's start has the last streamed commit's time");
        assertEquals(tl2From.toString(), gap.path("to").path("lsn").asText(),
                "WAL continues where timeline 2's stream begins: " + gap);
        assertEquals(2, gap.path("to").path("timeline").asLong());
        assertTrue(Lsn.parse(gap.path("from").path("lsn").asText()).isBefore(switchPoint)
                && !tl2From.isAfter(switchPoint), "the gap lies before the switch point " + switchPoint + ": " + gap);
        assertTrue(Lsn.parse(window.path("latest").path("lsn").asText()).isBefore(tl2From),
                "the window does not claim the gap: " + window);
        assertEquals(1, window.path("breaks").size(), "one gap, shown once: " + window);
        assertGapInText(gap);
        assertRestoreRefusedNaming(gap);
        assertTrue(gapsPublished().stream().anyMatch(p -> p.value() >= 1), "StreamGaps was published: "
                + gapsPublished());

        // late, the old primary's archive_command copies of timeline 1's last complete segments arrive:
        // the gap closes, the window runs through the switch onto timeline 2, and latest restores through it
        primary.waitForArchived(WalSegmentName.containing(TimelineId.FIRST, tl2From, stanza.size()).previous()
                .toString(), Duration.ofMinutes(1));
        for (Path seg : primary.archivedSegments()) {
            push(seg);
        }
        Lsn later = commit(standby, "after the archive filled the gap");
        awaitLatestAtLeast(later);
        JsonNode filled = info().path("window");
        assertEquals(0, filled.path("breaks").size(), "the archive filled the gap: " + filled);
        assertEquals(2, filled.path("latest").path("timeline").asLong(), filled.toString());
        assertFalse(stanza.infoText().contains("WAL GAP"));
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> gapsPublished().getLast().value() == 0);
        String rows = standby.sql("select count(*) || ' ' || sum(id) || ' ' || count(*) filter (where batch ="
                + " 'not streamed') from t").strip();
        try (PgCluster restored = PgCluster.builder().emptyDataDir().setting("archive_mode", "off").build()) {
            io.tidemark.events.plan.RestorePlan plan = stanza.restoreAndRecover(restored);
            assertEquals(2, plan.timeline().value(), "latest is on timeline 2");
            assertEquals(rows, restored.sql("select count(*) || ' ' || sum(id) || ' ' || count(*) filter (where batch ="
                    + " 'not streamed') from t").strip(), "every row of both timelines, the archived ones too");
        }
        assertTrue(stanza.cloud().denials().isEmpty(), "nothing refused under the stack's IAM: "
                + stanza.cloud().denials());
    }

    @Test
    void aSlotDroppedBeforeItsWalWasArchivedShowsTheGapUntilTheArchiveFillsIt() throws Exception {
        name = "slotgap";
        stanza = StreamedStanza.start(dir, name);
        PgCluster primary = stanza.primary();
        WalSegmentSize size = stanza.size();
        pushArchivedBeforeTheCurrentSegment();
        // the agent is down (a node reboot) while WAL moves on two segments; archive_command has
        // not delivered them yet; an operator drops the slot that held them for the agent
        Halted h = streamThenHaltWhileWalMovesTwoSegments(primary, "streamed");
        Lsn streamed = h.streamed();
        Lsn missed = h.missed();
        String slot = STREAM.slotFor(io.tidemark.events.layout.StanzaName.of(name));
        primary.sql("select pg_drop_replication_slot('" + slot + "')");
        primary.checkpoint();
        next = StreamedAgent.start(stanza, primary, STREAM);
        next.awaitLine("streaming WAL of stanza");
        Lsn after = commit(primary, "streamed again");
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> next.counters().storedEnd >= after.value());
        Lsn resumed = streamingFrom(next, 1);

        JsonNode gap = awaitBreak();
        JsonNode window = info().path("window");
        assertEquals(1, gap.path("timeline").asLong(), gap.toString());
        assertEquals(1, gap.path("from").path("timeline").asLong());
        assertEquals(window.path("latest").path("lsn").asText(), gap.path("from").path("lsn").asText(),
                "the gap starts at the window's right edge: " + window);
        assertStartsWhereTheStreamEnded(gap, streamed, missed);
        assertEquals(resumed.toString(), gap.path("to").path("lsn").asText(), "WAL continues where the new slot's"
                + " stream begins: " + gap);
        assertTrue(Lsn.parse(window.path("latest").path("lsn").asText()).isBefore(streamed.isAfter(resumed)
                ? streamed : resumed), "the window does not claim the gap: " + window);
        assertGapInText(gap);
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> gapsPublished().stream()
                .anyMatch(p -> p.value() >= 1));
        // no restore replays across it: latest and a target past it are refused naming the gap; the
        // loss accepted with the option offered, exactly the rows streamed before it come back
        String refusal = assertRestoreRefusedNaming(gap);
        String pastIt = refusedRestore("--target-lsn", after.toString());
        assertTrue(pastIt.contains("the WAL breaks off before it at a WAL GAP: timeline 1 from LSN "
                + gap.path("from").path("lsn").asText()) && pastIt.contains(" to LSN " + resumed), pastIt);
        Matcher option = Pattern.compile("--target-lsn ([0-9A-F]+/[0-9A-F]+)").matcher(refusal);
        assertTrue(option.find(), refusal);
        try (PgCluster restored = PgCluster.builder().emptyDataDir().setting("archive_mode", "off").build()) {
            stanza.restoreAndRecover(restored, "--target-lsn", option.group(1));
            assertEquals("100 200 0 0", restored.sql("select count(*) filter (where id <= 100) || ' ' || count(*) filter"
                    + " (where batch = 'streamed') || ' ' || count(*) filter (where batch = 'not streamed') || ' ' ||"
                    + " count(*) filter (where batch = 'streamed again') from t").strip(),
                    "the backup's rows and the streamed ones, nothing from the gap or after it");
        }

        // archive_command delivers the missing segments: the gap closes, the window reaches the stream
        primary.waitForArchived(WalSegmentName.containing(TimelineId.FIRST, resumed, size).previous().toString(),
                Duration.ofMinutes(1));
        for (Path seg : primary.archivedSegments()) {
            push(seg);
        }
        awaitLatestAtLeast(after);
        assertEquals(0, info().path("window").path("breaks").size(), info().path("window").toString());
        Lsn later = commit(primary, "after the archive filled the gap");
        awaitLatestAtLeast(later);
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> gapsPublished().getLast().value() == 0);
        assertTrue(stanza.cloud().denials().isEmpty(), "nothing refused under the stack's IAM: "
                + stanza.cloud().denials());
    }

    @Test
    void aFailoverUnderLoadIsStreamedOnByTheNewPrimarysAgentWithoutAGapAndRestoredOnTimeline2() throws Exception {
        name = "failload";
        stanza = StreamedStanza.start(dir, name);
        PgCluster primary = stanza.primary();
        standby = streamingStandbyOf(primary);
        pushArchivedBeforeTheCurrentSegment();

        // the real agent process on each node, as deployed: the primary's streams, the standby's waits
        Map<String, String> streaming = Map.of("stream.enabled", "true", "stream.interval", "500ms",
                "stream.lease-ttl", "10", "retries", "2");
        Path logA = dir.resolve("agent-primary.log");
        Path logB = dir.resolve("agent-standby.log");
        Process a = agentProcess(nodeConfig(streaming, "spool-primary"), primary, logA);
        awaitLog(logA, "streaming WAL of stanza " + name);
        Process b = agentProcess(nodeConfig(streaming, "spool-standby"), standby, logB);
        awaitLog(logB, "another agent streams stanza " + name);

        try (CommitLoad load = new CommitLoad(primary.port())) {
            Awaitility.await().atMost(Duration.ofMinutes(1)).until(() -> load.acknowledged() >= 300);
            // the primary crashes under load (SIGKILL to every process); its agent lives on
            killServer(primary);
            awaitLog(logA, "does not answer");
            // its agent gives the lease up: the standby's takes over on timeline 1, cascaded
            awaitLog(logB, "streaming WAL of stanza " + name);
            assertTrue(a.isAlive(), "the old primary's agent is still running");
            assertEquals("t", standby.sql("select pg_promote()").strip());
            load.moveTo(standby.port());
            Path history = standby.walDir().resolve("00000002.history");
            push(history);
            for (Path seg : primary.archivedSegments()) {
                push(seg); // what archive_command had archived before the crash
            }
            int before = load.acknowledged();
            Awaitility.await().atMost(Duration.ofMinutes(1)).until(() -> load.acknowledged() >= before + 300);
        }
        // whether it received timeline 1's last WAL before the promotion or not, it goes on to timeline 2
        awaitLog(logB, "streaming WAL of stanza " + name + " from slot tidemark_" + name + " on timeline 2 from ");
        Lsn last = commit(standby, "after the failover");
        String rows = standby.sql("select count(*) || ' ' || sum(id) || ' ' || count(*) filter (where batch = 'load')"
                + " from t").strip();

        // the window runs on through the switch onto timeline 2 to the last commit, with no gap
        try {
            awaitLatestAtLeast(last, Duration.ofSeconds(90));
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError("the window did not reach " + last + ": " + info().path("window") + "\n"
                    + Files.readString(logB) + Files.readString(logA), e);
        }
        JsonNode window = info().path("window");
        assertEquals(2, window.path("latest").path("timeline").asLong(), window.toString());
        assertEquals(0, window.path("breaks").size(), "no gap at the failover: " + window);
        Shim.Run text = Shim.run(new InfoCommand(Map.of(), Clock.systemUTC()), "--config", stanza.conf().toString());
        assertFalse(text.out().contains("WAL GAP"), text.out());
        try (PgCluster restored = PgCluster.builder().emptyDataDir().setting("archive_mode", "off").build()) {
            io.tidemark.events.plan.RestorePlan plan = stanza.restoreAndRecover(restored);
            assertEquals(2, plan.timeline().value(), "latest is on timeline 2");
            assertEquals(rows, restored.sql("select count(*) || ' ' || sum(id) || ' ' || count(*) filter"
                    + " (where batch = 'load') from t").strip(), "every row the new primary has, none else");
        }
        b.destroy();
        assertTrue(b.waitFor(60, TimeUnit.SECONDS), "the standby's agent stopped on SIGTERM");
        a.destroy();
        assertTrue(a.waitFor(60, TimeUnit.SECONDS), "the old primary's agent stopped on SIGTERM");
        String textA = Files.readString(logA);
        assertTrue(textA.contains("not streaming (nor holding the stream lease) until it does"), textA);
        assertTrue(stanza.cloud().denials().isEmpty(), "nothing refused under the stack's IAM: "
                + stanza.cloud().denials());
    }

    // ---- helpers -----------------------------------------------------------------------------------

    private final List<Process> processes = new java.util.ArrayList<>();

    private Process agentProcess(Path conf, PgCluster server, Path log) throws Exception {
        Process p = StreamedAgent.process(conf, server, log);
        processes.add(p);
        return p;
    }

    /** The node's configuration with {@code extra}, its own spool. */
    private Path nodeConfig(Map<String, String> extra, String spool) {
        Map<String, String> all = new java.util.HashMap<>(extra);
        all.put("spool.dir", dir.resolve(spool).toString());
        return io.tidemark.shim.support.TestCloud.config(stanza.cloud(), dir, all);
    }

    private static void awaitLog(Path log, String line) {
        try {
            Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                    .until(() -> Files.exists(log) && Files.readString(log).contains(line));
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            String text;
            try {
                text = Files.readString(log);
            } catch (java.io.IOException io) {
                text = io.toString();
            }
            throw new AssertionError(log.getFileName() + " never said '" + line + "':\n" + text, e);
        }
    }

    /** SIGKILL to the postmaster and every backend: a crash, nothing flushed or handed on. */
    private static void killServer(PgCluster server) throws Exception {
        String pid = Files.readAllLines(server.dataDir().resolve("postmaster.pid")).getFirst().strip();
        ProcessHandle postmaster = ProcessHandle.of(Long.parseLong(pid)).orElseThrow();
        List<ProcessHandle> all = new java.util.ArrayList<>(postmaster.descendants().toList());
        all.addFirst(postmaster);
        all.forEach(ProcessHandle::destroyForcibly);
        for (ProcessHandle p : all) {
            p.onExit().join();
        }
    }

    /** Pushes what archive_command archived so far (the segments before the current one). */
    /** The last commit the agent streamed, and the first one written after it halted. */
    private record Halted(Lsn streamed, Lsn missed) {
    }

    /**
     * The agent streams a commit (the window covers it), then halts while the primary writes on
     * for two WAL switches: WAL that neither the stream nor (yet) the archive holds.
     */
    private Halted streamThenHaltWhileWalMovesTwoSegments(PgCluster primary, String what) throws Exception {
        agent = StreamedAgent.start(stanza, primary, STREAM);
        agent.awaitLine("streaming WAL of stanza");
        Lsn streamed = commit(primary, what);
        awaitLatestAtLeast(streamed);
        agent.halt();
        Lsn missed = commit(primary, "not streamed");
        primary.switchWal();
        commit(primary, "not streamed");
        primary.switchWal();
        return new Halted(streamed, missed);
    }

    /** A hot standby made by pg_basebackup from {@code primary}, once its WAL receiver streams. */
    private static PgCluster streamingStandbyOf(PgCluster primary) throws Exception {
        PgCluster standby = PgCluster.builder().emptyDataDir().setting("hot_standby", "on").build();
        try {
            standby.run(List.of(primary.bin("pg_basebackup").toString(), "-D", standby.dataDir().toString(), "-R",
                    "-X", "stream", "-c", "fast", "-h", primary.socketDir().toString(), "-p",
                    String.valueOf(primary.port()), "-U", "postgres"));
            standby.start();
            Awaitility.await().atMost(Duration.ofMinutes(1)).until(() -> standby.sql(
                    "select count(*) from pg_stat_wal_receiver where status = 'streaming'").equals("1"));
            return standby;
        } catch (Exception | AssertionError e) {
            standby.close(); // not yet the test's to close
            throw e;
        }
    }

    private void pushArchivedBeforeTheCurrentSegment() {
        stanza.pushArchivedBeforeTheCurrentSegment();
    }

    private void push(Path file) {
        stanza.push(file);
    }

    private Lsn commit(PgCluster server, String batch) {
        int from = nextId;
        nextId += 200;
        return Lsn.parse(server.sql("insert into t select g, '" + batch + "' from generate_series(" + from + ", "
                + (nextId - 1) + ") g; select pg_current_wal_flush_lsn()").strip());
    }

    /** Where {@code agent} said it streams timeline {@code timeline} from. */
    private static Lsn streamingFrom(StreamedAgent agent, long timeline) {
        Matcher m = STREAMING_FROM.matcher(agent.outText());
        while (m.find()) {
            if (Long.parseLong(m.group(1)) == timeline) {
                return Lsn.parse(m.group(2));
            }
        }
        throw new AssertionError("the agent never said where it streams timeline " + timeline + " from:\n"
                + agent.outText() + agent.errText());
    }

    private JsonNode info() throws Exception {
        return stanza.info();
    }

    private void awaitLatestAtLeast(Lsn lsn) {
        awaitLatestAtLeast(lsn, Duration.ofSeconds(30));
    }

    private void awaitLatestAtLeast(Lsn lsn, Duration atMost) {
        stanza.awaitLatestAtLeast(lsn, atMost);
    }

    private JsonNode awaitBreak() throws Exception {
        Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(250))
                .until(() -> !info().path("window").path("breaks").isEmpty());
        return info().path("window").path("breaks").get(0);
    }

    /** The gap begins at the end of the last streamed commit, before the first WAL the stream missed. */
    private static void assertStartsWhereTheStreamEnded(JsonNode gap, Lsn streamed, Lsn missed) {
        Lsn from = Lsn.parse(gap.path("from").path("lsn").asText());
        assertTrue(Lsn.of((from.value() + 7) & ~7L).compareTo(streamed) >= 0 && from.isBefore(missed),
                "the gap starts where the stream ended (" + streamed + "), before the missed commit (" + missed + "): "
                        + gap);
    }

    /** {@code info}'s text names the gap: the timeline and both LSNs. */
    private void assertGapInText(JsonNode gap) {
        Shim.Run text = Shim.run(new InfoCommand(Map.of(), Clock.systemUTC()), "--config", stanza.conf().toString());
        assertEquals(0, text.code(), text.err());
        assertTrue(text.out().contains("!!! WAL GAP !!!    timeline " + gap.path("from").path("timeline").asText()
                + " from ") && text.out().contains("(LSN " + gap.path("from").path("lsn").asText() + ") to LSN "
                + gap.path("to").path("lsn").asText() + " is missing"), text.out());
    }

    /**
     * A restore to latest is refused before anything is written, naming {@code gap} as info shows
     * it (from LSN, to LSN) and how to accept the loss; returns what it said.
     */
    private String assertRestoreRefusedNaming(JsonNode gap) throws Exception {
        String said = refusedRestore();
        assertTrue(said.contains("latest cannot be reached: WAL GAP: timeline " + gap.path("from").path("timeline")
                .asText() + " from LSN " + gap.path("from").path("lsn").asText()) && said.contains(" to LSN "
                + gap.path("to").path("lsn").asText() + " is missing from both the archive and the stream"), said);
        assertTrue(said.contains("to accept the loss"), said);
        return said;
    }

    /** A restore with {@code target} into an empty directory, which the planner must refuse: what it said. */
    private String refusedRestore(String... target) throws Exception {
        Path pgdata = Files.createDirectories(dir.resolve("refused-" + System.nanoTime()));
        List<String> args = new java.util.ArrayList<>(List.of("--config", stanza.conf().toString(), "--pgdata",
                pgdata.toString()));
        args.addAll(List.of(target));
        Shim.Run r = Shim.run(new RestoreCommand(Map.of(), Clock.systemUTC(), 10, 1), args.toArray(String[]::new));
        assertTrue(r.code() != 0, "refused: " + r.out() + r.err());
        try (var left = Files.list(pgdata)) {
            assertEquals(0, left.count(), "nothing written into the data directory");
        }
        return r.out() + r.err();
    }

    private List<LocalMetrics.DataPoint> gapsPublished() {
        return stanza.cloud().metrics().of(TidemarkMetric.NAMESPACE, TidemarkMetric.STREAM_GAPS.metricName(),
                Map.of(TidemarkMetric.DIMENSION, name));
    }
}
