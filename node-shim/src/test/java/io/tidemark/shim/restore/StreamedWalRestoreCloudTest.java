package io.tidemark.shim.restore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.layout.StorageLayout;
import io.tidemark.events.plan.PlanWal;
import io.tidemark.events.plan.RestorePlan;
import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.events.wal.WalSegmentSize;
import io.tidemark.localcloud.LocalCloud;
import io.tidemark.shim.archiveget.ArchiveGetCommand;
import io.tidemark.shim.archiveget.WalPlan;
import io.tidemark.shim.archivepush.ArchivePushCommand;
import io.tidemark.shim.cli.ExitCodes;
import io.tidemark.shim.config.ShimConfig;
import io.tidemark.shim.info.InfoCommand;
import io.tidemark.shim.storage.CreateOnly;
import io.tidemark.shim.storage.CredentialSource;
import io.tidemark.shim.storage.ObjectStore;
import io.tidemark.shim.storage.Stores;
import io.tidemark.shim.support.Shim;
import io.tidemark.testkit.PgCluster;
import io.tidemark.testkit.PgTest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 17, the cloud and restore side of streamed WAL, through the real local cloud under the
 * stack's IAM (real functions on real S3 events, the real planner): a real PostgreSQL 15 primary,
 * backed up and archived in-process by the shim's own commands; then rows committed with NO WAL
 * switch after them, and the current segment from pg_wal uploaded with the node's credentials as
 * the agent's chunks (contiguous ranges, the last ending at the flush LSN). {@code info} shows the
 * window's right edge at the last commit, a restore to latest brings every row back, a time
 * target inside the streamed part stops there, and a damaged chunk fails recovery naming it.
 *
 * <p>PostgreSQL here cannot run the shim as its restore_command (the test JVM's classes are not
 * an installed command): the plan's WAL is fetched by {@code archive-get --plan} in-process into
 * {@code pg_wal}, exactly as restore_command would write it, and recovery replays it from there.
 */
@PgTest
@Tag("localcloud")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StreamedWalRestoreCloudTest {
    private static final String STANZA = "streamed";
    private static final int CHUNK = 256 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static StreamedStanza stanza;
    static LocalCloud cloud;
    static PgCluster primary;
    static Path conf;
    static WalSegmentName streamedSegment;
    static Lsn flushLsn;
    static Instant beforeLast;
    static Instant afterLast;
    static Instant between;
    static final List<String> chunkKeys = new ArrayList<>();
    static Path latestRestore;

    @BeforeAll
    static void start() throws Exception {
        stanza = StreamedStanza.start(dir, STANZA);
        cloud = stanza.cloud();
        primary = stanza.primary();
        conf = stanza.conf();
        WalSegmentSize size = stanza.size();

        // rows committed with no WAL switch after them: they exist only in the current segment
        primary.sql("insert into t select g, 'streamed A' from generate_series(1000, 1999) g");
        between = pause();
        beforeLast = Instant.now();
        primary.sql("insert into t select g, 'streamed B' from generate_series(2000, 2999) g");
        afterLast = Instant.now();
        String[] at = primary.sql("select pg_walfile_name(pg_current_wal_flush_lsn()) || ' ' || pg_current_wal_flush_lsn()")
                .strip().split(" ");
        streamedSegment = WalSegmentName.parse(at[0], size);
        // the backup's stop switched WAL: every segment before the streamed one is archived, pushed in-process
        primary.waitForArchived(streamedSegment.previous().toString(), Duration.ofMinutes(1));
        for (Path seg : primary.archivedSegments()) {
            assertTrue(seg.getFileName().toString().compareTo(streamedSegment.toString()) < 0, seg + " was switched");
            Shim.Run push = Shim.run(new ArchivePushCommand(Map.of()), seg.toString(), "--config", conf.toString());
            assertEquals(0, push.code(), seg + ": " + push.out() + push.err());
        }
        assertTrue(cloud.awaitQuiescent(Duration.ofMinutes(2)));
        flushLsn = Lsn.parse(at[1]);
        int end = (int) (flushLsn.value() - streamedSegment.startLsn().value());
        byte[] streamed = Arrays.copyOf(Files.readAllBytes(primary.walDir().resolve(at[0])), end);

        // what the agent uploads: contiguous chunks, create-only, with the node's own credentials
        ShimConfig config = nodeConfig();
        try (ObjectStore store = Stores.open(config, CredentialSource.of(config, Map.of()))) {
            for (int s = 0; s < end; s += CHUNK) {
                byte[] raw = Arrays.copyOfRange(streamed, s, Math.min(end, s + CHUNK));
                String key = StorageLayout.walChunkKey(StanzaName.of(STANZA), streamedSegment, s, s + raw.length,
                        Compression.ZSTD);
                assertEquals(ObjectStore.PutOutcome.CREATED, store.putIfAbsent(key,
                        com.github.luben.zstd.Zstd.compress(raw), Map.of("sha256", CreateOnly.sha256(raw))));
                chunkKeys.add(key);
            }
        }
        assertTrue(cloud.awaitQuiescent(Duration.ofMinutes(2)));
        assertTrue(cloud.denials().isEmpty(), "nothing refused under the stack's IAM: " + cloud.denials());
    }

    /** Lets the wall clock pass a whole second, so that two commits have distinct times; returns a time between them. */
    private static Instant pause() throws InterruptedException {
        Instant t = Instant.now();
        Thread.sleep(1100); // a time gap is what is needed here, not a condition to await
        return t.plusMillis(550);
    }

    @AfterAll
    static void stop() {
        if (stanza != null) {
            stanza.close();
        }
    }

    private static ShimConfig nodeConfig() throws IOException {
        return stanza.nodeConfig();
    }

    @Test
    @Order(1)
    void infoShowsTheRightEdgeAtTheLastStreamedCommit() throws Exception {
        Shim.Run json = Shim.run(new InfoCommand(Map.of(), Clock.systemUTC()), "--config", conf.toString(), "--output", "json");
        assertEquals(0, json.code(), json.err());
        JsonNode latest = JSON.readTree(json.out()).path("window").path("latest");
        Lsn lsn = Lsn.parse(latest.path("lsn").asText());
        // the flush LSN is the end of the last record rounded up to PostgreSQL's 8-byte alignment
        assertEquals(flushLsn, Lsn.of((lsn.value() + 7) & ~7L), "the window ends at the last streamed record: " + latest);
        Instant time = Instant.parse(latest.path("time").asText());
        assertFalse(time.isBefore(beforeLast.minusMillis(5)) || time.isAfter(afterLast.plusMillis(5)),
                "latest restorable " + time + " is the last commit's time (" + beforeLast + " .. " + afterLast + ")");
        Shim.Run text = Shim.run(new InfoCommand(Map.of(), Clock.systemUTC()), "--config", conf.toString());
        assertTrue(text.out().contains("latest restorable  " + time + " ("), text.out());
        // the indexer published how far the stream trails, as embedded metrics the cloud collected
        var lag = cloud.metrics().of(io.tidemark.events.metrics.TidemarkMetric.NAMESPACE,
                io.tidemark.events.metrics.TidemarkMetric.STREAM_LAG.metricName(),
                Map.of(io.tidemark.events.metrics.TidemarkMetric.DIMENSION, STANZA));
        // one point per chunk once the stream holds a commit
        assertFalse(lag.isEmpty() || lag.size() > chunkKeys.size(), "points: " + lag);
        assertTrue(lag.stream().allMatch(p -> p.function().equals("wal-indexer")), lag.toString());
    }

    @Test
    @Order(2)
    void aRestoreToLatestBringsBackEveryStreamedRow() throws Exception {
        try (PgCluster restored = PgCluster.builder().emptyDataDir().setting("archive_mode", "off").build()) {
            RestorePlan plan = restoreAndRecover(restored);
            PlanWal last = plan.wal().getLast();
            assertEquals(streamedSegment.toString(), last.name());
            assertTrue(last.isAssembled(), "the last WAL entry is assembled from chunks: " + last);
            assertEquals(chunkKeys, last.chunks().stream().map(c -> c.key()).toList());
            assertEquals("2100", restored.sql("select count(*) from t").strip(), "every committed row is back");
            assertEquals("1000", restored.sql("select count(*) from t where batch = 'streamed B'").strip());
            latestRestore = restored.dataDir().resolve(WalPlan.FILE_NAME);
            Files.copy(latestRestore, dir.resolve("latest-plan.json"));
            latestRestore = dir.resolve("latest-plan.json");
        }
    }

    @Test
    @Order(3)
    void aTimeTargetInsideTheStreamedPartStopsThere() throws Exception {
        try (PgCluster restored = PgCluster.builder().emptyDataDir().setting("archive_mode", "off").build()) {
            restoreAndRecover(restored, "--target-time", between.toString());
            assertEquals("1100", restored.sql("select count(*) from t").strip(), "batch A, not batch B");
            assertEquals("0", restored.sql("select count(*) from t where batch = 'streamed B'").strip());
        }
    }

    @Test
    @Order(4)
    void aChunkDamagedAfterIndexingFailsRecoveryNamingIt() throws Exception {
        String key = chunkKeys.get(1);
        // other bytes under the indexed key, with metadata that describes them (it must not matter)
        ShimConfig config = nodeConfig();
        byte[] raw;
        try (ObjectStore store = Stores.open(config, CredentialSource.of(config, Map.of()))) {
            raw = io.tidemark.shim.storage.Codec.decompress(Compression.ZSTD, store.get(key).orElseThrow().data());
        }
        raw[raw.length / 2] ^= 0x20;
        byte[] damaged = com.github.luben.zstd.Zstd.compress(raw);
        // behind the bucket policy and without an event, as silent damage in the store would be
        cloud.rawStorage().write(key, damaged, Map.of("sha256", CreateOnly.sha256(raw)));
        Path pgWal = Files.createDirectories(dir.resolve("damaged-pg_wal"));
        Shim.Run get = Shim.run(new ArchiveGetCommand(Map.of()), "--config", conf.toString(), "--plan",
                latestRestore.toString(), streamedSegment.toString(), pgWal.resolve(streamedSegment.toString()).toString());
        assertEquals(ExitCodes.ABORT_RECOVERY, get.code(), get.out() + get.err());
        assertTrue(get.err().contains("ABORTING RECOVERY") && get.err().contains(key) && get.err().contains("damaged"),
                get.err());
        assertFalse(Files.exists(pgWal.resolve(streamedSegment.toString())), "nothing short is served");
    }

    private RestorePlan restoreAndRecover(PgCluster restored, String... target) throws Exception {
        return stanza.restoreAndRecover(restored, target);
    }
}
