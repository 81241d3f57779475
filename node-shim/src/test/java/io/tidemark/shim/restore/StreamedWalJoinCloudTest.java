package io.tidemark.shim.restore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.plan.PlanWal;
import io.tidemark.events.plan.RestorePlan;
import io.tidemark.events.plan.RestorePlanJson;
import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.events.wal.WalSegmentSize;
import io.tidemark.localcloud.LocalCloud;
import io.tidemark.localcloud.LocalCloudFunctions;
import io.tidemark.shim.archiveget.ArchiveGetCommand;
import io.tidemark.shim.archiveget.WalPlan;
import io.tidemark.shim.archivepush.ArchivePushCommand;
import io.tidemark.shim.backup.BackupCommand;
import io.tidemark.shim.config.ShimConfig;
import io.tidemark.shim.info.InfoCommand;
import io.tidemark.shim.pg.PgOptions;
import io.tidemark.shim.stanzacreate.StanzaCreateCommand;
import io.tidemark.shim.storage.CredentialSource;
import io.tidemark.shim.storage.ObjectStore;
import io.tidemark.shim.storage.Stores;
import io.tidemark.shim.stream.ChunkStore;
import io.tidemark.shim.stream.StreamCounters;
import io.tidemark.shim.stream.StreamLease;
import io.tidemark.shim.stream.StreamSettings;
import io.tidemark.shim.stream.WalStreamer;
import io.tidemark.shim.support.Shim;
import io.tidemark.shim.support.TestCloud;
import io.tidemark.testkit.PgCluster;
import io.tidemark.testkit.PgTest;
import io.tidemark.testkit.RunAs;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
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
import java.util.Properties;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 17 end to end below e2e: the agent's real {@link WalStreamer} streams a real PostgreSQL 15
 * primary into the real local cloud under the stack's IAM, whose real indexer moves the window
 * with the chunks; rows committed with no WAL switch after them are restorable within seconds,
 * and a restore to latest brings every one back. The streamer starts on a fresh slot in the
 * middle of a segment: its first chain still covers the segment from offset 0, which is what the
 * indexer needs to move the window.
 */
@PgTest
@Tag("localcloud")
class StreamedWalJoinCloudTest {
    private static final String STANZA = "joined";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    private LocalCloud cloud;
    private PgCluster primary;
    private Path conf;
    private WalStreamer streamer;
    private Thread streaming;
    private ObjectStore store;

    @AfterEach
    void stop() throws Exception {
        if (streamer != null) {
            streamer.halt();
            streaming.join(10_000);
        }
        if (store != null) {
            store.close();
        }
        if (primary != null) {
            primary.close();
        }
        if (cloud != null) {
            cloud.close();
        }
    }

    @Test
    void rowsStreamedByTheAgentAreRestorableWithinSecondsAndRestoredToLatest() throws Exception {
        io.tidemark.localcloud.iam.StackAccess access = LocalCloud.defaultStackAccess();
        cloud = LocalCloudFunctions.register(LocalCloud.builder()).dir(dir.resolve("cloud"))
                .enforce(access, access).nodeStanza(STANZA).start();
        primary = PgCluster.builder().archiving().build().start();
        conf = TestCloud.config(cloud, dir, Map.of("spool.dir", dir.resolve("spool").toString(), "retries", "2"));
        String[] pg = {"--config", conf.toString(), "--pg-host", primary.socketDir().toString(),
                "--pg-port", String.valueOf(primary.port()), "--pg-user", "postgres"};
        Shim.Run created = Shim.run(new StanzaCreateCommand(Map.of()), pg);
        assertEquals(0, created.code(), created.out() + created.err());
        primary.sql("create table t (id int primary key, batch text)");
        primary.sql("insert into t select g, 'before the backup' from generate_series(1, 100) g");
        List<String> backupArgs = new ArrayList<>(List.of(pg));
        backupArgs.addAll(List.of("--pgdata", primary.dataDir().toString(), "--type", "full"));
        Shim.Run backup = Shim.run(new BackupCommand(Map.of(), false), backupArgs.toArray(String[]::new));
        assertEquals(0, backup.code(), backup.out() + backup.err());
        WalSegmentSize size = WalSegmentSize.ofBytes(primary.walSegmentSize());

        // rows in the current segment before the agent starts, and a checkpoint after them: a new
        // physical slot reserves WAL from the last redo point, so the agent's slot starts mid-segment
        primary.sql("insert into t select g, 'before the agent' from generate_series(1000, 1999) g");
        primary.checkpoint();
        WalSegmentName segment = WalSegmentName.parse(primary.currentWalFile(), size);
        // the backup's stop switched WAL: the segments before this one are archived (pushed in-process)
        primary.waitForArchived(segment.previous().toString(), Duration.ofMinutes(1));
        for (Path seg : primary.archivedSegments()) {
            Shim.Run push = Shim.run(new ArchivePushCommand(Map.of()), seg.toString(), "--config", conf.toString());
            assertEquals(0, push.code(), seg + ": " + push.out() + push.err());
        }

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        StreamCounters counters = startStreamer(out, err);
        Awaitility.await().atMost(Duration.ofSeconds(30))
                .until(() -> out.toString(StandardCharsets.UTF_8).contains("streaming WAL of stanza"));
        Lsn slotAt = Lsn.parse(primary.sql("select restart_lsn from pg_replication_slots where slot_name = '"
                + StreamSettings.OFF.slotFor(StanzaName.of(STANZA)) + "'").strip());
        assertEquals(segment, WalSegmentName.containing(segment.timeline(), slotAt, size));
        assertTrue(size.offsetInSegment(slotAt) > 0, "the slot starts mid-segment, at " + slotAt);
        assertTrue(out.toString(StandardCharsets.UTF_8).contains(" from " + segment.startLsn() + " (" + segment + ")"),
                "the agent streams from the start of the slot's segment: " + out.toString(StandardCharsets.UTF_8));

        primary.sql("insert into t select g, 'streamed' from generate_series(2000, 2999) g");
        Lsn commit = Lsn.parse(primary.sql("select pg_current_wal_flush_lsn()").strip());
        assertEquals(segment.toString(), primary.currentWalFile(), "no WAL switch after the last commit");

        // the window's right edge reaches the last commit within seconds, through the real indexer
        Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(250))
                .until(() -> latestLsn().map(l -> Lsn.of((l.value() + 7) & ~7L).compareTo(commit) >= 0).orElse(false));
        assertEquals(segment.toString(), primary.currentWalFile(), "still no WAL switch");
        assertTrue(cloud.denials().isEmpty(), "nothing refused under the stack's IAM: " + cloud.denials());
        assertEquals("", err.toString(StandardCharsets.UTF_8));

        try (PgCluster restored = PgCluster.builder().emptyDataDir().setting("archive_mode", "off").build()) {
            RestorePlan plan = restoreAndRecover(restored);
            PlanWal last = plan.wal().getLast();
            assertEquals(segment.toString(), last.name());
            assertTrue(last.isAssembled(), "the last WAL entry is assembled from the agent's chunks: " + last);
            assertEquals(0, last.chunks().getFirst().start(), "the agent's chain covers the segment from offset 0: "
                    + last.chunks());
            assertEquals("2100", restored.sql("select count(*) from t").strip(), "every committed row is back");
            assertEquals("1000", restored.sql("select count(*) from t where batch = 'streamed'").strip());
        }
        streamer.stop();
        streaming.join(30_000);
        assertFalse(streaming.isAlive(), "the streamer stopped");
        streamer = null;
    }

    private StreamCounters startStreamer(ByteArrayOutputStream out, ByteArrayOutputStream err) throws Exception {
        ShimConfig config = nodeConfig();
        store = Stores.open(config, CredentialSource.of(config, Map.of()));
        StreamCounters counters = new StreamCounters();
        streamer = new WalStreamer(StanzaName.of(STANZA),
                new StreamSettings(true, Optional.empty(), Duration.ofMillis(500), 30),
                new PgOptions(null, "127.0.0.1", primary.port(), "postgres", "postgres", null, false),
                new ChunkStore(store, StanzaName.of(STANZA), Compression.ZSTD, 1), StreamLease.NONE, counters,
                primary::systemIdentifier, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), Clock.systemUTC());
        streaming = Thread.ofPlatform().name("test-streamer").start(() -> {
            try {
                streamer.run();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        return counters;
    }

    /** The window's latest restorable LSN as {@code info} shows it; empty while there is none. */
    private Optional<Lsn> latestLsn() throws Exception {
        Shim.Run json = Shim.run(new InfoCommand(Map.of(), Clock.systemUTC()), "--config", conf.toString(),
                "--output", "json");
        assertEquals(0, json.code(), json.err());
        JsonNode lsn = JSON.readTree(json.out()).path("window").path("latest").path("lsn");
        return lsn.isTextual() ? Optional.of(Lsn.parse(lsn.asText())) : Optional.empty();
    }

    private ShimConfig nodeConfig() throws Exception {
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(conf)) {
            p.load(in);
        }
        return ShimConfig.of(conf, p, null, Map.of());
    }

    /** Restores as {@link StreamedWalRestoreCloudTest} does: the plan's WAL fetched by archive-get into pg_wal. */
    private RestorePlan restoreAndRecover(PgCluster restored) throws Exception {
        Path pgdata = restored.dataDir();
        Shim.Run r = Shim.run(new RestoreCommand(Map.of(), Clock.systemUTC(), 10, 1), "--config", conf.toString(),
                "--pgdata", pgdata.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        Path planFile = pgdata.resolve(WalPlan.FILE_NAME);
        RestorePlan plan = RestorePlanJson.read(JSON.readTree(Files.readAllBytes(planFile)).path("document"));
        for (PlanWal w : plan.wal()) {
            if (!WalSegmentName.looksLikeSegment(w.name())) {
                continue;
            }
            Shim.Run get = Shim.run(new ArchiveGetCommand(Map.of()), "--config", conf.toString(), "--plan",
                    planFile.toString(), w.name(), pgdata.resolve("pg_wal").resolve(w.name()).toString());
            assertEquals(0, get.code(), w.name() + ": " + get.out() + get.err());
        }
        Path auto = pgdata.resolve("postgresql.auto.conf");
        String settings = Files.readString(auto);
        assertTrue(settings.contains("restore_command = 'tidemark archive-get"), settings);
        Files.writeString(auto, settings.replaceAll("restore_command = '[^\\n]*'", "restore_command = 'false'"));
        RunAs runAs = RunAs.detect();
        try (Stream<Path> all = Files.walk(pgdata)) {
            all.forEach(runAs::giveOwnership);
        }
        restored.start();
        Awaitility.await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(200))
                .until(() -> restored.sql("select pg_is_in_recovery()").strip().equals("f"));
        return plan;
    }
}
