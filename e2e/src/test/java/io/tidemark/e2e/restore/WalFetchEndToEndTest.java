package io.tidemark.e2e.restore;

import static io.tidemark.e2e.StanzaCli.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.e2e.CloudFixture;
import io.tidemark.e2e.ShimInstall;
import io.tidemark.e2e.ShimProcess;
import io.tidemark.e2e.StanzaCli;
import io.tidemark.e2e.Waits;
import io.tidemark.functions.runtime.AwsClients;
import io.tidemark.testkit.CommandFailedException;
import io.tidemark.testkit.PgCluster;
import io.tidemark.testkit.PgTest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * Issue 12, WAL fetch end to end: a PostgreSQL 15 cluster archived through the packaged shim
 * into the real local cloud, {@code tidemark restore} as a user runs it, and recovery through
 * {@code tidemark archive-get --plan}. A WAL object the plan needs, deleted after the restore,
 * makes PostgreSQL abort recovery (never promote short); put back, the same data directory
 * recovers every row. (One byte changed instead aborts recovery the same way: archive-get's check
 * is ArchiveGetPlanCloudTest's {@code aListedSegmentMissingTruncatedOrChangedAbortsRecovery}, and
 * PostgreSQL aborting on it RestoreEndsAtTargetTest's {@code failsWithSegmentDamaged} cases and
 * DamagedArchiveE2eTest's {@code WAL_BYTE_CHANGED}.) A streaming standby whose
 * restore_command is archive-get gets the archived segment, not its own partly streamed copy.
 *
 * <p>Data: table t, a full backup, then four batches of 250 rows, each in its own segment.
 */
@PgTest
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WalFetchEndToEndTest {
    private static final String STANZA = "main";
    private static final int ROWS = 1000;

    private static Path work;
    private static CloudFixture cloud;
    private static Path conf;
    private static PgCluster pg;
    private static StanzaCli cli;
    private static StanzaCli noPrefetchCli;
    /** After batch 0 (and before a commit in its segment), and after batch 2: either side of batch 1's segment. */
    private static String beforeGap;
    private static String beyondGap;
    /** The segment each batch of rows was written into. */
    private static final List<String> batchSegments = new ArrayList<>();
    private static final List<PgCluster> clusters = new ArrayList<>();

    @BeforeAll
    static void setUp() throws Exception {
        work = Files.createTempDirectory(Path.of("/tmp"), "tidemark-walfetch-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        cloud = new CloudFixture(work.resolve("cloud")).start();
        conf = cloud.nodeConfig(work.resolve("node"), STANZA, "archive-get.prefetch=4\narchive-get.outage-wait=120\n");
        String push = ShimInstall.get().launcher() + " archive-push --config " + conf + " --stanza " + STANZA + " %p";
        pg = PgCluster.builder().dataChecksums(true)
                .setting("archive_mode", "on").setting("archive_command", push)
                .setting("wal_level", "replica").setting("max_wal_senders", "4")
                .build().start();
        cli = new StanzaCli(work, conf, STANZA, pg);
        clusters.add(pg);
        ok(shim("stanza-create"));
        pg.sql("create table t(id int primary key)");
        ok(shim("backup", "--type", "full"));
        Waits.until(() -> cloud.stanzaDocument(STANZA).path("backups").size() > 0
                && "valid".equals(cloud.stanzaDocument(STANZA).path("backups").get(0).path("status").asText()), Duration.ofMinutes(2),
                "the full backup to be valid");
        for (int b = 0; b < 4; b++) {
            pg.sql("insert into t select generate_series(" + (b * 250 + 1) + ", " + (b + 1) * 250 + ")");
            if (b == 0) {
                beforeGap = pg.sql("select clock_timestamp()");
                // a commit after it in the same segment: a time target needs one to stop at
                pg.sql("create table after_batch_0(id int)");
            } else if (b == 2) {
                beyondGap = pg.sql("select clock_timestamp()");
            }
            batchSegments.add(pg.switchWal());
        }
        String last = batchSegments.getLast();
        Waits.archived(pg, last, Duration.ofMinutes(2));
        Waits.until(() -> cloud.stanzaDocument(STANZA).path("timelines").get(0).path("lastSegment").asText().compareTo(last) >= 0,
                Duration.ofMinutes(2), "the catalog to list " + last);
    }

    @AfterAll
    static void tearDown() {
        PgCluster.closeAll(clusters);
        if (cloud != null) {
            cloud.close();
        }
        io.tidemark.testkit.FileTrees.deleteQuietly(work);
    }

    @Test
    @Order(1)
    void aDeletedWalObjectAbortsRecoveryAndPutBackRecoversEveryRow() throws Exception {
        String seg = batchSegments.get(1);
        PgCluster c = restoredWithoutPrefetch();
        String key = walKey(seg);
        byte[] original = object(key);
        Map<String, String> meta = metadata(key);
        // as the retention function: the only principal the bucket policy lets delete
        try (AwsClients aws = cloud.clientsAs("Retention")) {
            aws.s3().deleteObject(d -> d.bucket(bucket()).key(key));
        }
        if (versioned()) {
            // a delete marker hides the key but the plan reads its version: expire that too, as the
            // lifecycle rule does with noncurrent versions
            s3(aws -> aws.s3().listObjectVersionsPaginator(b -> b.bucket(bucket()).prefix(key)).versions()
                    .forEach(v -> aws.s3().deleteObject(d -> d.bucket(bucket()).key(key).versionId(v.versionId()))));
        }
        try {
            assertAbortsRecovery(c, seg, key, "missing from the archive");
        } finally {
            cloud.overwrite(key, original, meta);
        }
        startAndAwaitPromotion(c);
        assertEquals(ROWS, count(c), "the same data directory, with the object back, recovers every row");
    }

    /**
     * Issue 12, "the catalog follows what happens to objects" (formerly LostWalEndToEndTest, which
     * built a cloud, a cluster and a backup of its own for it): batch 1's WAL object, between the
     * others, deleted from the bucket through S3. The removal event reaches the indexer,
     * {@code tidemark info} shows the gap and the lost object, a restore to a time beyond the gap is
     * refused with the nearest reachable point and writes nothing, and a restore to a time before
     * the gap still works. Put back, the object makes the catalog whole again for the tests after.
     */
    @Test
    @Order(2)
    void aSegmentDeletedInTheMiddleIsAGapThatInfoShowsAndRestoresBeyondItAreRefused() throws Exception {
        String middle = batchSegments.get(1);
        String last = batchSegments.getLast();
        assertTrue(cloud.awaitQuiescent(Duration.ofMinutes(1)));
        Waits.until(() -> catalogWhole(last), Duration.ofMinutes(2), "the catalog to hold every segment through " + last);
        String key = walKey(middle);
        byte[] original = object(key);
        Map<String, String> meta = metadata(key);
        // deleted as the retention function, the only principal the bucket policy lets delete
        try (AwsClients aws = cloud.clientsAs("Retention")) {
            aws.s3().deleteObject(d -> d.bucket(bucket()).key(key));
        }
        try {
            Waits.until(() -> cloud.stanzaDocument(STANZA).path("lostObjects").size() == 1, Duration.ofMinutes(1),
                    "the catalog to mark " + middle + " missing");

            com.fasterxml.jackson.databind.JsonNode doc = cli.info();
            com.fasterxml.jackson.databind.JsonNode t1 = doc.path("timelines").get(0);
            assertEquals(middle, t1.path("gaps").get(0).path("start").asText(), doc.toString());
            assertEquals(middle, t1.path("lostWal").get(0).path("start").asText(), doc.toString());
            assertEquals("missing", doc.path("lostObjects").get(0).path("status").asText());
            ShimProcess.Result text = shim("info");
            ok(text);
            assertTrue(text.out().contains("!!! GAP !!!        " + middle + " .. " + middle), text.out());
            assertTrue(text.out().contains("!!! LOST !!!       " + middle), text.out());
            assertTrue(text.out().contains("WARNING: 1 archived object is LOST"), text.out());
            // a versioned bucket (the stack's; RGW's in the e2e pass) keeps the object under a delete marker
            String how = versioned() ? "hidden by a delete marker (ObjectRemoved:DeleteMarkerCreated)"
                    : "deleted from the bucket (ObjectRemoved:Delete)";
            assertTrue(text.out().contains(how), text.out());

            // beyond the gap: refused before anything is written, with the nearest reachable point
            Path beyond = Files.createDirectories(work.resolve("beyond"));
            ShimProcess.Result r = shim("restore", "--pgdata", beyond.toString(), "--target-time", beyondGap);
            assertTrue(r.code() != 0, r.toString());
            assertTrue((r.out() + r.err()).contains("nearest reachable point before"), r.toString());
            try (Stream<Path> s = Files.list(beyond)) {
                assertEquals(List.of(), s.toList(), "nothing written");
            }

            // before the gap: restores, with the rows of the first batch
            PgCluster c = restored("--target-time", beforeGap);
            startAndAwaitPromotion(c);
            assertEquals(250, count(c));
        } finally {
            cloud.overwrite(key, original, meta);
        }
        assertTrue(cloud.awaitQuiescent(Duration.ofMinutes(1)));
        Waits.until(() -> catalogWhole(last), Duration.ofMinutes(2), "the catalog to be whole again after " + key
                + " was put back: " + cloud.stanzaDocument(STANZA).path("timelines"));
    }

    /** Timeline 1 archived through {@code last} without a gap, and nothing lost. */
    private static boolean catalogWhole(String last) {
        com.fasterxml.jackson.databind.JsonNode doc = cloud.stanzaDocument(STANZA);
        com.fasterxml.jackson.databind.JsonNode t1 = doc.path("timelines").get(0);
        return t1.path("lastSegment").asText().compareTo(last) >= 0 && t1.path("gaps").isEmpty()
                && doc.path("lostObjects").isEmpty();
    }

    /**
     * Issue 14, on real versioned S3 (the RGW pass): a WAL segment archived and indexed, then
     * overwritten with another body whose metadata matches it (RGW ignores If-None-Match on a
     * versioned bucket): the catalog keeps the version it accepted, the plan made afterwards names
     * it, archive-get reads it, and every row comes back.
     */
    @Test
    @Order(3)
    void aWalObjectOverwrittenAfterItWasIndexedIsRestoredFromTheAcceptedVersion() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(versioned(), "needs versioned storage (the RGW pass)");
        String seg = batchSegments.getLast();
        String key = walKey(seg);
        byte[] original = object(key);
        Map<String, String> meta = metadata(key);
        String other = walKey(batchSegments.get(0));
        byte[] forged = object(other); // valid WAL of this cluster, its metadata matching its bytes
        Map<String, String> forgedMeta = metadata(other);
        long before = conflicts();
        s3(aws -> aws.s3().putObject(p -> p.bucket(bucket()).key(key).metadata(forgedMeta).ifNoneMatch("*"),
                RequestBody.fromBytes(forged)));
        try {
            Waits.until(() -> conflicts() > before, Duration.ofMinutes(2), "the indexer to refuse the overwrite");
            PgCluster c = restored();
            // every object of the plan named in its version: restore downloaded the files through
            // presigned URLs that name them, archive-get reads the WAL in them
            com.fasterxml.jackson.databind.JsonNode doc = new com.fasterxml.jackson.databind.ObjectMapper()
                    .readTree(c.dataDir().resolve("tidemark-restore-plan.json").toFile()).get("document");
            List<com.fasterxml.jackson.databind.JsonNode> objects = new ArrayList<>();
            doc.get("files").forEach(objects::add);
            doc.get("wal").forEach(objects::add);
            assertTrue(doc.get("files").size() > 0 && doc.get("wal").size() > 0, doc.toString());
            for (com.fasterxml.jackson.databind.JsonNode o : objects) {
                assertTrue(o.hasNonNull("versionId"), "no version: " + o);
            }
            assertTrue(doc.get("wal").findValues("key").stream().anyMatch(k -> k.asText().equals(key)), "plans " + key);
            startAndAwaitPromotion(c);
            assertEquals(ROWS, count(c), "the version the catalog accepted, not the overwrite");
        } finally {
            s3(aws -> aws.s3().putObject(p -> p.bucket(bucket()).key(key).metadata(meta), RequestBody.fromBytes(original)));
        }
    }

    private static long conflicts() {
        return cloud.cloud().metrics().of(io.tidemark.events.metrics.TidemarkMetric.NAMESPACE,
                io.tidemark.events.metrics.TidemarkMetric.HISTORY_CONFLICTS.metricName(),
                Map.of(io.tidemark.events.metrics.TidemarkMetric.DIMENSION, STANZA)).size();
    }

    /** The RGW pass: a versioned bucket. */
    private static boolean versioned() {
        return "rgw".equals(System.getProperty(io.tidemark.e2e.ExternalStorage.PROPERTY));
    }

    @Test
    @Order(4)
    void anS3OutageDuringRecoveryIsWaitedOut() throws Exception {
        PgCluster c = restored();
        long from = Files.exists(c.logFile()) ? Files.size(c.logFile()) : 0;
        // S3, DynamoDB and the API: gone while PostgreSQL recovers, until archive-get has found the
        // archive unreachable (after its S3 client's own retries) and says it waits; no fixed outage
        // length, which only made the test wait
        cloud.stop();
        CompletableFuture<Void> back = CompletableFuture.runAsync(() -> {
            try {
                Waits.until(() -> logSince(c, from).contains("tidemark archive-get: waiting for the archive to fetch"),
                        Duration.ofMinutes(2), "archive-get to wait for the archive\n" + c.logContext());
            } finally {
                cloud.start();
            }
        });
        String log;
        try {
            log = startAndAwaitOutcome(c);
        } finally {
            back.join();
        }
        assertTrue(log.contains("database system is ready to accept connections"), log);
        assertEquals(ROWS, count(c), "recovery waited for S3 and went on to the end");
        int waiting = log.indexOf("tidemark archive-get: waiting for the archive to fetch");
        assertTrue(waiting >= 0, log);
        assertTrue(log.indexOf("tidemark archive-get: the archive answers again; ", waiting) > waiting,
                "the same wait ended when S3 came back: " + log);
        assertFalse(log.contains("ABORTING RECOVERY"), log);
    }

    @Test
    @Order(3)
    void aStreamingStandbyWithArchiveGetGetsTheArchivedSegmentNotItsPartlyStreamedCopy() throws Exception {
        // the standby's own node configuration, its spool owned by the user PostgreSQL runs as (as on a
        // real node): the launcher's fast path answers only from a spool that user owns
        Path standbyConf = cloud.nodeConfig(work.resolve("standby-node"), STANZA,
                // its prefetcher leaves after 5 s idle (default 60): the test waits for that
                "archive-get.prefetch=4\narchive-get.prefetch-idle=5\n");
        String restore = ShimInstall.get().launcher() + " archive-get --config " + standbyConf + " --stanza " + STANZA
                + " %f %p";
        PgCluster standby = PgCluster.builder().emptyDataDir()
                .setting("restore_command", restore).setting("hot_standby", "on")
                .setting("wal_retrieve_retry_interval", "1s")
                .startTimeout(Duration.ofMinutes(2)).build();
        clusters.add(standby);
        standby.runAs().giveOwnership(work.resolve("standby-node/spool"));
        standby.run(List.of(pg.bin("pg_basebackup").toString(), "-D", standby.dataDir().toString(), "-R", "-X", "stream",
                "-c", "fast", "-h", pg.socketDir().toString(), "-p", String.valueOf(pg.port()), "-U", "postgres"));
        standby.start();
        Waits.until(() -> standby.sql("select count(*) from pg_stat_wal_receiver where status = 'streaming'").equals("1"),
                Duration.ofMinutes(2), "the standby to stream\n" + standby.logContext());
        pg.sql("create table s(id int primary key)");
        pg.sql("insert into s select generate_series(1, 1000)");
        String segment = pg.currentWalFile();
        // the standby replays a moment after the primary: until the table's creation arrives, a count
        // of it is an error, not "not yet"
        Waits.until(() -> standby.sql("select to_regclass('public.s') is not null").equals("t")
                && standby.sql("select count(*) from s").equals("1000"), Duration.ofMinutes(1), "streamed rows");
        // the prefetcher an earlier archive-get started has left (it idles out after 5 s here): from now on
        // every ask is answered by the launcher's fast path or a fresh JVM
        Waits.until(() -> !prefetcherRunning(standbyConf), Duration.ofMinutes(3), "the prefetcher to leave");
        // streaming breaks; the primary writes the rest of the segment and archives it
        standby.sql("alter system set primary_conninfo = 'host=" + pg.socketDir() + " port=1 user=postgres'");
        standby.sql("select pg_reload_conf()");
        Waits.until(() -> standby.sql("select count(*) from pg_stat_wal_receiver").equals("0")
                || standby.sql("select count(*) from pg_stat_wal_receiver where status = 'streaming'").equals("0"),
                Duration.ofMinutes(1), "streaming to stop");
        pg.sql("insert into s select generate_series(1001, 2000)");
        assertEquals(segment, pg.switchWal(), "the second thousand rows went into the same segment");
        Waits.archived(pg, segment, Duration.ofMinutes(2));
        // only the archived, complete segment has rows 1001..2000: the standby must fetch it
        Waits.until(() -> standby.sql("select count(*) from s").equals("2000"), Duration.ofMinutes(2),
                "the standby to replay the archived " + segment + "\n" + standby.logContext());
        // the segment came through restore_command (not the pg_wal copy), after the fast path had seen it
        assertTrue(Files.readString(standby.logFile()).contains("restored log file \"" + segment + "\" from archive"),
                standby.logContext());
        standby.sql("select pg_promote()");
        Waits.until(() -> standby.sql("select pg_is_in_recovery()").equals("f"), Duration.ofMinutes(1), "promotion");
        assertEquals("2000", standby.sql("select count(*) from s"), "the promoted standby has every row the archive holds");
    }

    /**
     * The second line of defence: a restore_command that does not know the plan (a user's own, or
     * an older shim) answers a damaged last segment with an error PostgreSQL reads as "not
     * available". The plan pinned latest as an explicit LSN target, so PostgreSQL itself refuses to
     * finish short of it instead of promoting.
     */
    @Test
    @Order(5)
    void thePinnedEndStopsRecoveryWithoutThePlan() throws Exception {
        String seg = batchSegments.getLast();
        PgCluster c = restored();
        Path auto = c.dataDir().resolve("postgresql.auto.conf");
        String plan = " --plan " + c.dataDir().resolve("tidemark-restore-plan.json");
        String text = Files.readString(auto);
        assertTrue(text.contains("recovery_target_lsn = "), "latest is pinned: " + text);
        Files.writeString(auto, text.replace(plan, ""));
        String key = walKey(seg);
        byte[] original = object(key);
        Map<String, String> meta = metadata(key);
        byte[] damaged = original.clone();
        damaged[damaged.length / 2] ^= 0x01;
        cloud.overwrite(key, damaged, meta);
        try {
            String log = startAndAwaitOutcome(c);
            assertFalse(log.contains("ABORTING RECOVERY"), "archive-get ran without the plan: " + log);
            assertTrue(log.contains("FATAL:  recovery ended before configured recovery target was reached"), log);
            assertFalse(log.contains("database system is ready to accept connections"), log);
            assertFalse(log.contains("selected new timeline ID"), "never promoted: " + log);
        } finally {
            cloud.overwrite(key, original, meta);
        }
    }

    /**
     * Issue 17: PostgreSQL itself asks the packaged {@code tidemark archive-get} (restore_command
     * with the plan) for a segment the plan assembles from streamed chunks. The agent's streamer is
     * the primary's synchronous standby (synchronous mode): a commit returns only once the chunk
     * holding it is in S3, so rows committed with no WAL switch after them, the agent then gone at
     * once, are all restorable; a restore to latest replays them from the assembled segment. Under
     * {@code -Dtidemark.e2e.storage=rgw} this is synchronous mode against a real S3 (Ceph RGW).
     */
    @Test
    @Order(6)
    void postgresqlReplaysASegmentArchiveGetAssemblesFromSynchronouslyStreamedChunks() throws Exception {
        String segment = pg.currentWalFile();
        io.tidemark.shim.config.ShimConfig config = io.tidemark.shim.config.ShimConfig.load(
                io.tidemark.shim.config.CommonOptions.parse("--config", conf.toString()), Map.of());
        var stanza = io.tidemark.events.layout.StanzaName.of(STANZA);
        var settings = new io.tidemark.shim.stream.StreamSettings(true, java.util.Optional.empty(),
                Duration.ofSeconds(1), 30, true);
        var out = new java.io.ByteArrayOutputStream();
        String commit;
        pg.sql("alter system set synchronous_standby_names = '" + settings.applicationNameFor(stanza) + "'");
        pg.sql("select pg_reload_conf()");
        try (var store = io.tidemark.shim.storage.Stores.open(config,
                io.tidemark.shim.storage.CredentialSource.of(config, Map.of()))) {
            var streamer = new io.tidemark.shim.stream.WalStreamer(stanza, settings,
                    new io.tidemark.shim.pg.PgOptions(null, "127.0.0.1", pg.port(), "postgres", "postgres", null, false),
                    new io.tidemark.shim.stream.ChunkStore(store, stanza, io.tidemark.events.layout.Compression.ZSTD, 1),
                    io.tidemark.shim.stream.StreamLease.NONE, new io.tidemark.shim.stream.StreamCounters(),
                    pg::systemIdentifier, new java.io.PrintStream(out, true, StandardCharsets.UTF_8),
                    new java.io.PrintStream(out, true, StandardCharsets.UTF_8), java.time.Clock.systemUTC());
            Thread streaming = Thread.ofPlatform().name("test-streamer").start(() -> {
                try {
                    streamer.run();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            try {
                try {
                    Waits.until(() -> out.toString(StandardCharsets.UTF_8).contains("synchronous mode: commits wait until"
                            + " the chunk holding them is in S3 (sync_state sync)"), Duration.ofMinutes(1), "sync mode");
                } catch (AssertionError e) {
                    throw new AssertionError("the agent is not the synchronous standby:\n" + out, e);
                }
                pg.sql("insert into t select generate_series(" + (ROWS + 1) + ", " + (ROWS + 500) + ")");
                commit = pg.sql("select pg_current_wal_flush_lsn()").strip();
            } finally {
                // the agent dies right after the commit returned: what it acknowledged is in S3 already
                streamer.halt();
                streaming.join(10_000);
                pg.sql("alter system reset synchronous_standby_names");
                pg.sql("select pg_reload_conf()");
            }
        }
        assertEquals(segment, pg.currentWalFile(), "no WAL switch after the streamed rows: the segment is not archived");
        // timeline 1's right edge reaches the commit through the indexer (compared 8-byte aligned: the
        // flush LSN may lie in the padding after the record); timeline 1, as the standby promoted in
        // an earlier test of this class archived a timeline 2 that branched off before these rows
        long target = io.tidemark.events.wal.Lsn.parse(commit).value();
        try {
            Waits.until(() -> {
                for (var t : cloud.stanzaDocument(STANZA).path("window").path("timelines")) {
                    var lsn = t.path("latest").path("lsn");
                    if (t.path("timeline").asLong() == 1 && lsn.isTextual()
                            && ((io.tidemark.events.wal.Lsn.parse(lsn.asText()).value() + 7) & ~7L) >= target) {
                        return true;
                    }
                }
                return false;
            }, Duration.ofMinutes(1), "the window to reach the streamed commit " + commit);
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; window " + cloud.stanzaDocument(STANZA).path("window")
                    + "\nthe agent said:\n" + out, e);
        }

        PgCluster c = restored("--target-timeline", "1");
        var plan = new com.fasterxml.jackson.databind.ObjectMapper().readTree(
                c.dataDir().resolve("tidemark-restore-plan.json").toFile()).path("document").path("wal");
        var last = plan.get(plan.size() - 1);
        assertEquals(segment, last.path("name").asText(), plan.toString());
        assertTrue(last.path("chunks").size() > 0, "the plan assembles " + segment + " from chunks: " + last);
        String log = startAndAwaitOutcome(c);
        assertTrue(log.contains("database system is ready to accept connections"), log);
        assertTrue(log.contains("restored log file \"" + segment + "\" from archive"),
                "PostgreSQL got the assembled segment through restore_command: " + log);
        assertEquals(ROWS + 500, count(c), "every acknowledged row is back");
    }

    // ---------------------------------------------------------------- helpers

    /**
     * {@code tidemark restore} (latest) into a new, stopped cluster owned by the postgres user.
     * hot_standby off: nothing can be read from it before recovery has finished.
     */
    private static PgCluster restored(String... options) throws Exception {
        return restored(cli, options);
    }

    /**
     * Restored with {@code archive-get.prefetch=0}: the test that deletes a WAL object after the
     * restore tests archive-get's own check of it against the plan. With prefetching, the restore's
     * prefetcher has already verified and spooled that segment before the test touches the object, and
     * recovery is served that good copy (the same bytes the plan pins), so nothing would be refused.
     */
    private static PgCluster restoredWithoutPrefetch() throws Exception {
        if (noPrefetchCli == null) {
            Path c = cloud.nodeConfig(work.resolve("node-noprefetch"), STANZA, "archive-get.prefetch=0\narchive-get.outage-wait=120\n");
            noPrefetchCli = new StanzaCli(work, c, STANZA, pg);
        }
        return restored(noPrefetchCli);
    }

    private static PgCluster restored(StanzaCli via, String... options) throws Exception {
        PgCluster c = PgCluster.builder().emptyDataDir().setting("archive_mode", "off").setting("hot_standby", "off")
                .startTimeout(Duration.ofMinutes(3)).build();
        clusters.add(c);
        List<String> args = new ArrayList<>(List.of("restore", "--pgdata", c.dataDir().toString()));
        args.addAll(List.of(options));
        ShimProcess.Result r = via.run(args.toArray(String[]::new));
        ok(r);
        assertTrue(Files.readString(c.dataDir().resolve("postgresql.auto.conf"))
                .contains("--plan " + c.dataDir().resolve("tidemark-restore-plan.json")), "restore_command names the plan");
        try (Stream<Path> s = Files.walk(c.dataDir())) {
            s.forEach(c.runAs()::giveOwnership);
        }
        return c;
    }

    /** PostgreSQL does not start: recovery aborted with our line and its FATAL, and nothing was promoted. */
    private static void assertAbortsRecovery(PgCluster c, String seg, String key, String why) throws Exception {
        String log = startAndAwaitOutcome(c);
        assertTrue(log.contains("tidemark archive-get: ABORTING RECOVERY: " + seg + " (" + key + "): " + why), log);
        assertTrue(log.contains("FATAL:  could not restore file \"" + seg + "\" from archive: child process exited with"
                + " exit code 200"), log);
        assertTrue(log.contains("database system is shut down"), log);
        assertFalse(log.contains("database system is ready to accept connections"), log);
        assertFalse(log.contains("selected new timeline ID"), "never promoted: " + log);
        assertTrue(Files.exists(c.dataDir().resolve("recovery.signal")), "still a recovery to finish");
    }

    private static void startAndAwaitPromotion(PgCluster c) throws Exception {
        String log = startAndAwaitOutcome(c);
        assertTrue(log.contains("database system is ready to accept connections"), log);
    }

    /**
     * Starts {@code c} and waits until recovery ended either way: promoted (ready to accept
     * connections) or the server stopped. {@code pg_ctl start -w} says "started" as soon as the
     * server is in recovery, so only the log tells. Returns the log written since the start.
     */
    private static String startAndAwaitOutcome(PgCluster c) throws Exception {
        long from = Files.exists(c.logFile()) ? Files.size(c.logFile()) : 0;
        try {
            c.start();
        } catch (CommandFailedException e) {
            // the server stopped before pg_ctl saw it come up: the log says why
        }
        Waits.until(() -> {
            String l = logSince(c, from);
            return l.contains("database system is ready to accept connections") || l.contains("database system is shut down");
        }, Duration.ofMinutes(4), "recovery to end\n" + c.logContext());
        String log = logSince(c, from);
        if (log.contains("database system is shut down")) {
            c.stop(); // the postmaster is gone: let the testkit know
        }
        return log;
    }

    private static String logSince(PgCluster c, long from) {
        try {
            byte[] all = Files.readAllBytes(c.logFile());
            return new String(all, (int) Math.min(from, all.length), (int) Math.max(0, all.length - from),
                    StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            return "";
        }
    }

    private static int count(PgCluster c) {
        return Integer.parseInt(c.sql("select count(*) from t"));
    }

    /** A prefetcher of the node configuration {@code nodeConf} is running (any user). */
    private static boolean prefetcherRunning(Path nodeConf) {
        return ProcessHandle.allProcesses().anyMatch(p -> p.info().commandLine()
                .map(l -> l.contains("archive-get-prefetch") && l.contains(nodeConf.toString())).orElse(false));
    }

    private static String walKey(String segment) throws Exception {
        List<String> keys = new ArrayList<>();
        s3(aws -> {
            for (S3Object o : aws.s3().listObjectsV2Paginator(b -> b.bucket(bucket()).prefix(STANZA + "/wal/")).contents()) {
                if (o.key().substring(o.key().lastIndexOf('/') + 1).startsWith(segment + ".")) {
                    keys.add(o.key());
                }
            }
        });
        assertEquals(1, keys.size(), "one object for " + segment + ": " + keys);
        return keys.getFirst();
    }

    private static byte[] object(String key) throws Exception {
        byte[][] out = new byte[1][];
        s3(aws -> out[0] = aws.s3().getObjectAsBytes(b -> b.bucket(bucket()).key(key)).asByteArray());
        return out[0];
    }

    private static Map<String, String> metadata(String key) throws Exception {
        List<Map<String, String>> out = new ArrayList<>();
        s3(aws -> out.add(aws.s3().headObject(b -> b.bucket(bucket()).key(key)).metadata()));
        return out.getFirst();
    }

    private interface WithAws {
        void run(AwsClients aws) throws Exception;
    }

    private static void s3(WithAws body) throws Exception {
        try (AwsClients aws = AwsClients.create(cloud.cloud().functionConfig())) {
            body.run(aws);
        }
    }

    private static String bucket() {
        return cloud.cloud().bucket();
    }

    private static ShimProcess.Result shim(String... args) {
        return cli.run(args);
    }
}
