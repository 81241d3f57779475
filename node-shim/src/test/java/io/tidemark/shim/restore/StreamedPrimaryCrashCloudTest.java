package io.tidemark.shim.restore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.plan.PlanWal;
import io.tidemark.events.plan.RestorePlan;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.shim.archivepush.ArchivePushCommand;
import io.tidemark.shim.config.ShimConfig;
import io.tidemark.shim.pg.PgOptions;
import io.tidemark.shim.storage.CredentialSource;
import io.tidemark.shim.storage.ObjectStore;
import io.tidemark.shim.storage.Stores;
import io.tidemark.shim.stream.ChunkStore;
import io.tidemark.shim.stream.StreamCounters;
import io.tidemark.shim.stream.StreamLease;
import io.tidemark.shim.stream.StreamSettings;
import io.tidemark.shim.stream.WalStreamer;
import io.tidemark.shim.support.Shim;
import io.tidemark.testkit.PgCluster;
import io.tidemark.testkit.PgTest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 17's crash promise, below e2e: clients commit rows into a real PostgreSQL 15 primary
 * while the agent's real {@link WalStreamer} streams it into the real local cloud (stack IAM,
 * real indexer); the primary and every backend are killed with SIGKILL mid-segment and its data
 * directory deleted; a restore to latest from the backup, the archived segments and the chunks
 * must bring back every row a client saw acknowledged more than the lag bound before the kill,
 * and in synchronous mode (the agent named in {@code synchronous_standby_names}) every
 * acknowledged row, including those of the last milliseconds.
 */
@PgTest
@Tag("localcloud")
class StreamedPrimaryCrashCloudTest {
    /** The promise of the default mode: nothing committed longer ago than this before a crash is lost. */
    private static final Duration LAG_BOUND = Duration.ofSeconds(5);
    private static final int WRITERS = 4;

    @TempDir
    Path dir;
    private StreamedStanza stanza;
    private PgCluster primary;
    private WalStreamer streamer;
    private Thread streaming;
    private ObjectStore store;
    private final List<Thread> writers = new ArrayList<>();
    private volatile boolean writing;

    @AfterEach
    void stop() throws Exception {
        writing = false;
        for (Thread w : writers) {
            w.join(10_000);
        }
        if (streamer != null) {
            streamer.halt();
            streaming.join(10_000);
        }
        if (store != null) {
            store.close();
        }
        if (stanza != null) {
            stanza.close();
        }
    }

    @Test
    void inSynchronousModeEveryAcknowledgedCommitSurvivesTheCrash() throws Exception {
        String name = "crashsync";
        start(name);
        String app = StreamSettings.OFF.applicationNameFor(StanzaName.of(name));
        primary.sql("alter system set synchronous_standby_names = '" + app + "'");
        primary.sql("select pg_reload_conf()");
        ByteArrayOutputStream out = startStreamer(name, true);
        awaitLine(out, "synchronous mode: commits wait until the chunk holding them is in S3 (sync_state sync)");

        Map<Integer, Long> acked = startWriters();
        Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> acked.size() >= 300);
        // the agent dies first (as with the whole node): from here no commit can be acknowledged,
        // since none can reach S3; then the primary and its backends are killed
        streamer.halt();
        streaming.join(10_000);
        streamer = null;
        int ackedAtHalt = acked.size();
        long killedAt = System.nanoTime();
        killPrimary();
        stopWriters();
        // a client records its commit after the server's reply: at most one per writer arrives late
        assertTrue(acked.size() <= ackedAtHalt + WRITERS, "no commit is acknowledged once the synchronous standby"
                + " is gone: " + ackedAtHalt + " at the agent's death, " + acked.size() + " in the end");
        Set<Integer> ackedAtKill = Set.copyOf(acked.keySet());

        Set<Integer> restored = restoreLatest();
        Set<Integer> lost = new HashSet<>(ackedAtKill);
        lost.removeAll(restored);
        assertTrue(lost.isEmpty(), lost.size() + " of " + ackedAtKill.size() + " acknowledged rows lost, the newest "
                + ageMs(acked, lost, killedAt) + " ms before the kill: " + lost);
    }

    @Test
    void inTheDefaultModeNothingCommittedBeforeTheLagBoundIsLost() throws Exception {
        String name = "crashdefault";
        start(name);
        ByteArrayOutputStream out = startStreamer(name, false);
        awaitLine(out, "streaming WAL of stanza");
        Map<Integer, Long> acked = startWriters();
        long started = System.nanoTime();
        // long enough that the oldest acknowledged rows are well past the lag bound at the kill
        Awaitility.await().atMost(Duration.ofSeconds(60)).pollDelay(LAG_BOUND.plusSeconds(3))
                .until(() -> System.nanoTime() - started > LAG_BOUND.plusSeconds(3).toNanos());
        long killedAt = System.nanoTime();
        killPrimary();
        // the agent on the same node dies with it
        streamer.halt();
        streaming.join(10_000);
        streamer = null;
        stopWriters();
        Set<Integer> ackedAtKill = Set.copyOf(acked.keySet());

        Set<Integer> old = new HashSet<>();
        for (int id : ackedAtKill) {
            if (killedAt - acked.get(id) > LAG_BOUND.toNanos()) {
                old.add(id);
            }
        }
        assertFalse(old.isEmpty(), "rows were acknowledged more than " + LAG_BOUND + " before the kill");
        Set<Integer> restored = restoreLatest();
        Set<Integer> lostOld = new HashSet<>(old);
        lostOld.removeAll(restored);
        assertTrue(lostOld.isEmpty(), lostOld.size() + " rows acknowledged more than " + LAG_BOUND
                + " before the kill are lost: " + lostOld);
        Set<Integer> lost = new HashSet<>(ackedAtKill);
        lost.removeAll(restored);
        System.out.println("default mode crash: " + ackedAtKill.size() + " acknowledged, " + lost.size()
                + " lost, the oldest lost " + (lost.isEmpty() ? "-" : oldestAgeMs(acked, lost, killedAt) + " ms")
                + " before the kill");
    }

    private void start(String name) throws Exception {
        stanza = StreamedStanza.start(dir, name);
        primary = stanza.primary();
        primary.sql("create table acked (id int primary key, writer int)");
        WalSegmentName segment = WalSegmentName.parse(primary.currentWalFile(), stanza.size());
        primary.waitForArchived(segment.previous().toString(), Duration.ofMinutes(1));
    }

    /** WRITERS clients committing one row per transaction; the map holds each acknowledged id with its time. */
    private Map<Integer, Long> startWriters() {
        Map<Integer, Long> acked = new ConcurrentHashMap<>();
        AtomicInteger ids = new AtomicInteger();
        writing = true;
        for (int w = 0; w < WRITERS; w++) {
            int writer = w;
            writers.add(Thread.ofPlatform().name("writer-" + w).start(() -> {
                try (Connection c = primary.connect();
                     PreparedStatement insert = c.prepareStatement("insert into acked values (?, ?)")) {
                    while (writing) {
                        int id = ids.incrementAndGet();
                        insert.setInt(1, id);
                        insert.setInt(2, writer);
                        insert.executeUpdate(); // autocommit: returned = acknowledged
                        acked.put(id, System.nanoTime());
                    }
                } catch (SQLException e) {
                    // the primary was killed: this commit was not acknowledged
                }
            }));
        }
        return acked;
    }

    private void stopWriters() throws InterruptedException {
        writing = false;
        for (Thread w : writers) {
            w.join(30_000);
            assertFalse(w.isAlive(), w.getName() + " ended with the primary");
        }
    }

    /** SIGKILL to the postmaster and every backend, then the data directory deleted. */
    private void killPrimary() throws IOException {
        String pid = Files.readAllLines(primary.dataDir().resolve("postmaster.pid")).getFirst().strip();
        ProcessHandle postmaster = ProcessHandle.of(Long.parseLong(pid)).orElseThrow();
        List<ProcessHandle> all = new ArrayList<>(postmaster.descendants().toList());
        all.addFirst(postmaster);
        all.forEach(ProcessHandle::destroyForcibly);
        for (ProcessHandle p : all) {
            p.onExit().join();
        }
        // what archive_command had archived is in the cloud (pushed here, as the shim would have)
        Path conf = stanza.conf();
        for (Path seg : primary.archivedSegments()) {
            Shim.Run push = Shim.run(new ArchivePushCommand(Map.of()), seg.toString(), "--config", conf.toString());
            assertEquals(0, push.code(), seg + ": " + push.out() + push.err());
        }
        try (Stream<Path> files = Files.walk(primary.dataDir())) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    /** Restores the stanza to latest into a new cluster and returns the ids of table acked there. */
    private Set<Integer> restoreLatest() throws Exception {
        assertTrue(stanza.cloud().awaitQuiescent(Duration.ofMinutes(2)));
        assertTrue(stanza.cloud().denials().isEmpty(), "nothing refused under the stack's IAM: "
                + stanza.cloud().denials());
        try (PgCluster restored = PgCluster.builder().emptyDataDir().setting("archive_mode", "off").build()) {
            RestorePlan plan = stanza.restoreAndRecover(restored);
            PlanWal last = plan.wal().getLast();
            assertTrue(last.isAssembled(), "the newest WAL comes from the agent's chunks: " + last);
            Set<Integer> ids = new HashSet<>();
            for (String line : restored.sql("select id from acked").lines().toList()) {
                ids.add(Integer.parseInt(line.strip()));
            }
            return ids;
        }
    }

    private ByteArrayOutputStream startStreamer(String name, boolean synchronous) throws Exception {
        ShimConfig config = stanza.nodeConfig();
        store = Stores.open(config, CredentialSource.of(config, Map.of()));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        streamer = new WalStreamer(StanzaName.of(name),
                new StreamSettings(true, Optional.empty(), Duration.ofSeconds(1), 30, synchronous),
                new PgOptions(null, "127.0.0.1", primary.port(), "postgres", "postgres", null, false),
                new ChunkStore(store, StanzaName.of(name), Compression.ZSTD, 1), StreamLease.NONE, new StreamCounters(),
                primary::systemIdentifier, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(out, true, StandardCharsets.UTF_8), Clock.systemUTC());
        streaming = Thread.ofPlatform().name("test-streamer").start(() -> {
            try {
                streamer.run();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        return out;
    }

    private static void awaitLine(ByteArrayOutputStream out, String line) {
        try {
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> out.toString(StandardCharsets.UTF_8).contains(line));
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError("the agent did not say '" + line + "':\n" + out.toString(StandardCharsets.UTF_8), e);
        }
    }

    private static long ageMs(Map<Integer, Long> acked, Set<Integer> ids, long killedAt) {
        return ids.stream().mapToLong(id -> (killedAt - acked.get(id)) / 1_000_000).min().orElse(-1);
    }

    private static long oldestAgeMs(Map<Integer, Long> acked, Set<Integer> ids, long killedAt) {
        return ids.stream().mapToLong(id -> (killedAt - acked.get(id)) / 1_000_000).max().orElse(-1);
    }
}
