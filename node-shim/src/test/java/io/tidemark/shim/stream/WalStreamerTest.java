package io.tidemark.shim.stream;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.WalSegmentSize;
import io.tidemark.shim.config.CommonOptions;
import io.tidemark.shim.config.ShimConfig;
import io.tidemark.shim.pg.PgOptions;
import io.tidemark.shim.storage.CredentialSource;
import io.tidemark.shim.storage.ObjectStore;
import io.tidemark.shim.storage.Stores;
import io.tidemark.shim.support.StreamedChunks;
import io.tidemark.shim.support.TestCloud;
import io.tidemark.testkit.PgCluster;
import io.tidemark.testkit.PgTest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's WAL stream against a real PostgreSQL 15 and the local cloud's S3: chunks appear
 * within seconds of a commit without any WAL switch, hold exactly the bytes PostgreSQL wrote in
 * pg_wal, and stay one contiguous chain through a crash of the streamer and a dropped slot (an
 * S3 outage: StreamedS3OutageCloudTest).
 */
@PgTest
@Tag("localcloud")
class WalStreamerTest {
    @TempDir
    Path dir;

    private PgCluster pg;
    private final List<Running> running = new ArrayList<>();
    private final List<AutoCloseable> closing = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (Running r : running) {
            r.streamer.halt();
            r.thread.join(10_000);
        }
        for (AutoCloseable c : closing) {
            c.close();
        }
        if (pg != null) {
            pg.close();
        }
    }

    /** A streamer on its thread, with its counters and what it printed. */
    private record Running(WalStreamer streamer, Thread thread, StreamCounters counters, ByteArrayOutputStream out,
                           ByteArrayOutputStream err) {
        String errText() {
            return err.toString(StandardCharsets.UTF_8);
        }

        String outText() {
            return out.toString(StandardCharsets.UTF_8);
        }

        void stop() throws InterruptedException {
            streamer.stop();
            thread.join(30_000);
            assertFalse(thread.isAlive(), "the streamer stopped");
        }

        void halt() throws InterruptedException {
            streamer.halt();
            thread.join(10_000);
            assertFalse(thread.isAlive(), "the streamer halted");
        }
    }

    private static String stanza() {
        return "stream" + UUID.randomUUID().toString().substring(0, 8);
    }

    private PgCluster cluster() {
        pg = PgCluster.builder().build().start();
        pg.sql("create table t (i int, pad text)");
        return pg;
    }

    private Running start(String stanza, Map<String, String> extra) {
        return start(stanza, extra, pg);
    }

    private Running start(String stanza, Map<String, String> extra, PgCluster from) {
        Map<String, String> conf = new LinkedHashMap<>(Map.of("stanza", stanza, "retries", "0"));
        conf.putAll(extra);
        Path file = TestCloud.config(TestCloud.cloud(), dir, conf);
        ShimConfig config = ShimConfig.load(CommonOptions.parse("--config", file.toString()), Map.of());
        ObjectStore store = Stores.open(config, CredentialSource.of(config, Map.of()));
        closing.add(store);
        StreamSettings settings = new StreamSettings(true, Optional.empty(), Duration.ofMillis(500), 30);
        StreamCounters counters = new StreamCounters();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        WalStreamer w = new WalStreamer(StanzaName.of(stanza), settings,
                new PgOptions(null, "127.0.0.1", from.port(), "postgres", "postgres", null, false),
                new ChunkStore(store, StanzaName.of(stanza), Compression.ZSTD, 1), StreamLease.NONE, counters,
                pg::systemIdentifier, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), Clock.systemUTC());
        Thread t = Thread.ofPlatform().name("test-streamer").start(() -> {
            try {
                w.run();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        Running r = new Running(w, t, counters, out, err);
        running.add(r);
        return r;
    }

    private Lsn write(int rows) {
        return Lsn.parse(pg.sql("insert into t select i, repeat('x', 200) from generate_series(1, " + rows + ") i;"
                + " select pg_current_wal_flush_lsn()"));
    }

    private static void awaitStored(Running r, Lsn lsn, Duration within) {
        awaitFor(r, within, () -> r.counters.storedEnd >= lsn.value());
    }

    /** Waits for {@code condition}; on timeout, fails with what the streamer printed. */
    private static void awaitFor(Running r, Duration within, java.util.concurrent.Callable<Boolean> condition) {
        try {
            await().atMost(within).pollInterval(Duration.ofMillis(20)).until(condition);
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError(e.getMessage() + "; stored end " + Lsn.of(Math.max(0, r.counters.storedEnd))
                    + "\n--- out ---\n" + r.outText() + "--- err ---\n" + r.errText(), e);
        }
    }

    private Lsn assertChunksAreTheWal(String stanza) throws IOException {
        return assertChunksAreTheWal(stanza, tl -> pg).get(1L);
    }

    private Map<Long, Lsn> assertChunksAreTheWal(String stanza, java.util.function.LongFunction<PgCluster> walOf)
            throws IOException {
        return StreamedChunks.assertChainsAreTheWal(TestCloud.s3(), "tidemark", stanza,
                WalSegmentSize.ofBytes(pg.walSegmentSize()), tl -> walOf.apply(tl).walDir());
    }

    @Test
    void committedRowsAreInChunksWithinSecondsWithoutAWalSwitch() throws Exception {
        cluster();
        String stanza = stanza();
        Running r = start(stanza, Map.of());
        write(100);
        String segment = pg.currentWalFile();
        long t0 = System.nanoTime();
        Lsn commit = write(500);
        awaitStored(r, commit, Duration.ofSeconds(5));
        long lagMs = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(segment, pg.currentWalFile(), "no WAL switch happened: the segment is still being written");
        assertTrue(r.outText().contains("created physical replication slot tidemark_" + stanza), r.outText());
        assertTrue(pg.sql("select 1 from pg_replication_slots where slot_name = 'tidemark_" + stanza + "'")
                .equals("1"), "the slot exists");
        // a quiet cluster stores nothing: no chunk without new WAL
        long chunks = r.counters.chunksStored.get();
        String flush = pg.sql("select pg_current_wal_flush_lsn()");
        Thread.sleep(1500);
        if (flush.equals(pg.sql("select pg_current_wal_flush_lsn()"))) {
            assertEquals(chunks, r.counters.chunksStored.get(), "no chunk while no WAL was written");
        }
        r.stop();
        Lsn end = assertChunksAreTheWal(stanza);
        assertFalse(end.isBefore(commit), "the chain reaches the commit " + commit + " (ends at " + end + ")");
        assertEquals("", r.errText());
        // the slot was told: it holds nothing before what is stored
        Lsn slot = Lsn.parse(pg.sql("select restart_lsn from pg_replication_slots where slot_name = 'tidemark_"
                + stanza + "'"));
        assertEquals(Lsn.of(r.counters.storedEnd), slot, "the slot advanced to the stored end, not further");
        System.out.println("commit to chunk stored: " + lagMs + " ms");
    }

    @Test
    void aStreamerKilledMidChunkIsResumedWithoutGapOrOverlap() throws Exception {
        cluster();
        String stanza = stanza();
        Running a = start(stanza, Map.of());
        awaitStored(a, write(200), Duration.ofSeconds(10));
        for (int i = 0; i < 5; i++) {
            write(50);
            Thread.sleep(150);
        }
        write(300); // received, most likely in a chunk not stored yet: the crash drops it
        a.halt();
        Lsn stoppedAt = Lsn.of(a.counters.storedEnd);
        write(300);
        pg.sql("select pg_switch_wal()"); // the rest crosses a segment's end
        Lsn after = write(300);
        Running b = start(stanza, Map.of());
        awaitStored(b, after, Duration.ofSeconds(30));
        b.stop();
        Lsn end = assertChunksAreTheWal(stanza);
        assertFalse(end.isBefore(after), "the chain reaches " + after + " (ends at " + end + ")");
        assertTrue(b.counters.bytesStreamed.get() > 0, "the second streamer streamed");
        assertFalse(stoppedAt.isAfter(end));
        assertEquals("", b.errText());
    }

    @Test
    void aDroppedSlotIsReportedAndRecreated() throws Exception {
        cluster();
        String stanza = stanza();
        String slot = "tidemark_" + stanza;
        Running r = start(stanza, Map.of());
        awaitStored(r, write(100), Duration.ofSeconds(10));
        // as an operator would: end the walsender, then drop the slot before the agent is back
        boolean dropped = false;
        for (int i = 0; i < 50 && !dropped; i++) {
            var res = pg.psql("select pg_terminate_backend(active_pid) from pg_replication_slots where slot_name = '"
                    + slot + "' and active_pid is not null; select pg_sleep(0.05); select pg_drop_replication_slot('"
                    + slot + "')");
            dropped = res.succeeded();
        }
        assertTrue(dropped, "the slot was dropped");
        await().atMost(Duration.ofSeconds(15)).until(() -> r.counters.slotsLost.get() == 1);
        assertTrue(r.errText().contains("replication slot " + slot + " is gone (dropped by an operator?); created it"
                + " again at "), r.errText());
        assertTrue(r.errText().contains("may be missing from the stream") || r.errText().contains(": no gap"),
                r.errText());
        Lsn after = write(200);
        awaitStored(r, after, Duration.ofSeconds(10));
        r.stop();
        assertEquals("1", pg.sql("select count(*) from pg_replication_slots where slot_name = '" + slot + "'"));
    }

    @Test
    void aStandbyStreamsCascadedAndFollowsTheNewTimelineAfterItsPromotion() throws Exception {
        cluster();
        PgCluster standby = PgCluster.builder().emptyDataDir().setting("hot_standby", "on").build();
        closing.add(standby);
        standby.run(List.of(pg.bin("pg_basebackup").toString(), "-D", standby.dataDir().toString(), "-R", "-X", "stream",
                "-c", "fast", "-h", pg.socketDir().toString(), "-p", String.valueOf(pg.port()), "-U", "postgres"));
        standby.start();
        await().atMost(Duration.ofMinutes(1)).until(() -> standby.sql(
                "select count(*) from pg_stat_wal_receiver where status = 'streaming'").equals("1"));
        String stanza = stanza();
        Running r = start(stanza, Map.of(), standby);
        Lsn onPrimary = write(300);
        awaitStored(r, onPrimary, Duration.ofSeconds(10));
        assertEquals(1, r.counters.timeline);
        standby.sql("select pg_promote()");
        Lsn onNewPrimary = Lsn.parse(standby.sql("insert into t select i, 'tl2' from generate_series(1, 300) i;"
                + " select pg_current_wal_flush_lsn()"));
        awaitFor(r, Duration.ofSeconds(30), () -> r.counters.timeline == 2
                && r.counters.storedEnd >= onNewPrimary.value());
        r.stop();
        // the switch point, from the new timeline's history file: "1<TAB>0/3000A28<TAB>reason"
        Lsn switchPoint = Lsn.parse(java.nio.file.Files.readString(standby.walDir().resolve("00000002.history"))
                .strip().split("\\s+")[1]);
        Map<Long, Lsn> chains = assertChunksAreTheWal(stanza, tl -> tl == 1 ? pg : standby);
        // timeline 2's segment of the switch holds timeline 1's WAL before the switch point: streamed
        // from its start, it is covered from offset 0 (what moves the window) and leaves no gap
        assertEquals(io.tidemark.events.wal.WalSegmentName.containing(io.tidemark.events.wal.TimelineId.of(2),
                switchPoint, WalSegmentSize.ofBytes(pg.walSegmentSize())).startLsn(), chains.get(-2L),
                "timeline 2 is streamed from the start of its segment of the switch " + switchPoint);
        assertFalse(chains.get(-2L).isAfter(chains.get(1L)), "timeline 2 starts where timeline 1's chain ends at the"
                + " latest: no gap");
        assertFalse(chains.get(2L).isBefore(onNewPrimary));
        assertTrue(r.outText().contains("the server is on timeline 2 now (was 1)"), r.outText());
        System.out.println("switch point " + switchPoint + ", timeline 1 streamed to " + chains.get(1L));
        assertEquals("", r.errText());
    }
}
