package io.tidemark.shim.agent;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.WalSegmentSize;
import io.tidemark.localcloud.LocalCloud;
import io.tidemark.localcloud.LocalCloudFunctions;
import io.tidemark.shim.api.CatalogApi;
import io.tidemark.shim.config.CommonOptions;
import io.tidemark.shim.config.ShimConfig;
import io.tidemark.shim.pg.PgOptions;
import io.tidemark.shim.storage.CredentialSource;
import io.tidemark.shim.storage.ObjectStore;
import io.tidemark.shim.storage.Retry;
import io.tidemark.shim.storage.Stores;
import io.tidemark.shim.stream.ChunkStore;
import io.tidemark.shim.stream.StreamCounters;
import io.tidemark.shim.stream.StreamSettings;
import io.tidemark.shim.stream.WalStreamer;
import io.tidemark.shim.support.StreamedChunks;
import io.tidemark.shim.support.TestCloud;
import io.tidemark.testkit.PgCluster;
import io.tidemark.testkit.PgTest;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two agents, one stanza, the real catalog function behind the local cloud's API: only the lease
 * holder streams; when it dies (no release, no renewal) the other takes over once the lease
 * expired and goes on where the stored chunks end.
 */
@PgTest
@Tag("localcloud")
class StreamLeaseTakeoverTest {
    static final int TTL = 10;

    @TempDir
    Path dir;

    // one cloud and one cluster for the class: each test has its own stanza, slot and table, and
    // neither claims anything of a fresh cluster (a second initdb and cloud were ~5 s of set-up)
    private static LocalCloud cloud;
    private static PgCluster pg;
    private final List<Agent> agents = new ArrayList<>();
    private final List<AutoCloseable> closing = new ArrayList<>();

    private record Agent(WalStreamer streamer, Thread thread, StreamCounters counters, ByteArrayOutputStream out) {
        String text() {
            return out.toString(StandardCharsets.UTF_8);
        }
    }

    @AfterEach
    void tearDown() throws Exception {
        for (Agent a : agents) {
            a.streamer.halt();
            a.thread.join(10_000);
        }
        for (AutoCloseable c : closing) {
            c.close();
        }
    }

    @BeforeAll
    static void start() throws Exception {
        cloud = LocalCloudFunctions.register(LocalCloud.builder()).dir(Files.createTempDirectory("tidemark-stream-cloud"))
                .start();
        pg = PgCluster.builder().build().start();
    }

    @AfterAll
    static void stop() {
        if (pg != null) {
            pg.close();
        }
        if (cloud != null) {
            cloud.close();
        }
    }

    private Agent agent(Path config, String holder) {
        ShimConfig c = ShimConfig.load(CommonOptions.parse("--config", config.toString()), Map.of());
        ObjectStore store = Stores.open(c, CredentialSource.of(c, Map.of()));
        closing.add(store);
        CatalogApi api = new CatalogApi(c.requireApiUrl(), c.apiRegion(), CredentialSource.of(c, Map.of()), Retry.of(0),
                c.apiKey());
        StreamSettings settings = new StreamSettings(true, Optional.empty(), Duration.ofMillis(500), TTL);
        StreamCounters counters = new StreamCounters();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream print = new PrintStream(out, true, StandardCharsets.UTF_8);
        WalStreamer w = new WalStreamer(c.stanza(), settings,
                new PgOptions(null, "127.0.0.1", pg.port(), "postgres", "postgres", null, false),
                new ChunkStore(store, c.stanza(), c.compression(), c.compressLevel()),
                new CatalogStreamLease(api, c.stanza(), holder, settings.slotFor(c.stanza()), TTL), counters,
                pg::systemIdentifier, print, print, Clock.systemUTC());
        Thread t = Thread.ofPlatform().name("agent-" + holder).start(() -> {
            try {
                w.run();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        Agent a = new Agent(w, t, counters, out);
        agents.add(a);
        return a;
    }

    private Lsn write(int rows) {
        return Lsn.parse(pg.sql("insert into t select i from generate_series(1, " + rows + ") i;"
                + " select pg_current_wal_flush_lsn()"));
    }

    @Test
    void onlyTheHolderStreamsAndAnotherTakesOverWhenItDies() throws Exception {
        pg.sql("create table if not exists t (i int)");
        String stanza = "lease";
        String doc = "{\"systemIdentifier\":\"" + Long.toUnsignedString(pg.systemIdentifier()) + "\",\"pgVersion\":15,"
                + "\"pgVersionNum\":" + pg.sql("show server_version_num") + ",\"walSegmentSize\":" + pg.walSegmentSize()
                + "}";
        Path config = TestCloud.config(cloud, dir, Map.of("stanza", stanza, "retries", "0"));
        ShimConfig c = ShimConfig.load(CommonOptions.parse("--config", config.toString()), Map.of());
        CatalogApi api = new CatalogApi(c.requireApiUrl(), c.apiRegion(), CredentialSource.of(c, Map.of()), Retry.of(0),
                c.apiKey());
        assertEquals(200, api.putStanza(StanzaName.of(stanza), doc).status());

        Agent a = agent(config, "db1:1111");
        Lsn first = write(100);
        await().atMost(Duration.ofSeconds(15)).until(() -> a.counters.storedEnd >= first.value());
        Agent b = agent(config, "db2:2222");
        await().atMost(Duration.ofSeconds(10)).until(() -> b.text().contains("another agent streams stanza lease"
                + " (agent db1:1111 streams from slot tidemark_lease since "));
        Lsn second = write(100);
        await().atMost(Duration.ofSeconds(10)).until(() -> a.counters.storedEnd >= second.value());
        assertEquals(0, b.counters.bytesStreamed.get(), "the agent without the lease streams nothing");

        write(100);
        a.streamer.halt(); // dies: no release, no more renewals
        a.thread.join(10_000);
        long died = System.nanoTime();
        Lsn third = write(200);
        await().atMost(Duration.ofSeconds(40)).until(() -> b.counters.storedEnd >= third.value());
        long waitedMs = (System.nanoTime() - died) / 1_000_000;
        assertTrue(waitedMs >= 5_000, "the other agent waited for the lease to expire (" + waitedMs + " ms)");
        b.streamer.stop();
        b.thread.join(30_000);
        assertFalse(b.thread.isAlive());
        Map<Long, Lsn> chains = StreamedChunks.assertChainsAreTheWal(TestCloud.client(cloud), cloud.bucket(), stanza,
                WalSegmentSize.ofBytes(pg.walSegmentSize()), tl -> pg.walDir());
        assertFalse(chains.get(1L).isBefore(third));
        assertTrue(b.text().contains("streaming WAL of stanza lease from slot tidemark_lease"), b.text());
        // b released at its clean stop: a third agent gets the lease at once
        assertTrue(api.acquireLease(CatalogApi.Lease.STREAM, StanzaName.of(stanza), "{\"holder\":\"db3:3\",\"label\":\"tidemark_lease\","
                + "\"ttlSeconds\":10}").status() == 200);
    }

    private Lsn slotPosition(String slot) {
        String v = pg.sql("select coalesce(restart_lsn, '0/0') from pg_replication_slots where slot_name = '" + slot + "'");
        return v.isEmpty() ? Lsn.INVALID : Lsn.parse(v);
    }

    /** {@code tidemark agent} in a JVM of its own (the test's classpath), its output in {@code log}. */
    private Process agentProcess(Path config, Path log) throws java.io.IOException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder pb = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"),
                "io.tidemark.shim.Main", "agent", "--config", config.toString(), "--pg-host", "127.0.0.1",
                "--pg-port", String.valueOf(pg.port()), "--pg-user", "postgres", "--metrics-port", "0")
                .redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().remove("PGDATA");
        Process p = pb.start();
        closing.add(() -> {
            p.destroyForcibly();
            p.waitFor();
        });
        return p;
    }

    @Test
    void anAgentKilledWithSigkillIsFollowedByTheNextWithoutGap() throws Exception {
        pg.sql("create table if not exists t (i int)");
        String stanza = "killed";
        Path config = TestCloud.config(cloud, dir, Map.of("stanza", stanza, "retries", "0", "spool.dir",
                dir.resolve("spool").toString(), "stream.enabled", "true", "stream.interval", "500ms",
                "stream.lease-ttl", String.valueOf(TTL)));
        ShimConfig c = ShimConfig.load(CommonOptions.parse("--config", config.toString()), Map.of());
        CatalogApi api = new CatalogApi(c.requireApiUrl(), c.apiRegion(), CredentialSource.of(c, Map.of()), Retry.of(0),
                c.apiKey());
        assertEquals(200, api.putStanza(StanzaName.of(stanza), "{\"systemIdentifier\":\""
                + Long.toUnsignedString(pg.systemIdentifier()) + "\",\"pgVersion\":15,\"pgVersionNum\":"
                + pg.sql("show server_version_num") + ",\"walSegmentSize\":" + pg.walSegmentSize() + "}").status());
        String slot = "tidemark_" + stanza;

        Path logA = dir.resolve("agent-a.log");
        Process a = agentProcess(config, logA);
        Lsn first = write(200);
        await().atMost(Duration.ofSeconds(60)).until(() -> !slotPosition(slot).isBefore(first));
        write(300); // streamed into a chunk that is most likely not stored yet when the process dies
        a.destroyForcibly(); // SIGKILL: no release, no last report, no flush of anything
        a.waitFor();
        assertEquals(137, a.exitValue(), "killed by SIGKILL");
        Lsn after = write(300);

        Path logB = dir.resolve("agent-b.log");
        Process b = agentProcess(config, logB);
        await().atMost(Duration.ofSeconds(90)).until(() -> !slotPosition(slot).isBefore(after));
        b.destroy(); // SIGTERM: stores what it has, releases the lease
        assertTrue(b.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "the agent stopped on SIGTERM");
        String textB = Files.readString(logB);
        assertTrue(textB.contains("streaming WAL from slot " + slot), textB);
        assertTrue(textB.contains("streaming WAL of stanza " + stanza + " from slot " + slot), textB);
        Map<Long, Lsn> chains = StreamedChunks.assertChainsAreTheWal(TestCloud.client(cloud), cloud.bucket(), stanza,
                WalSegmentSize.ofBytes(pg.walSegmentSize()), tl -> pg.walDir());
        assertFalse(chains.get(1L).isBefore(after), "the chain reaches " + after + ": " + chains);
    }
}
