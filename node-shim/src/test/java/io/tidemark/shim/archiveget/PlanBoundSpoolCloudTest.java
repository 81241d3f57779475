package io.tidemark.shim.archiveget;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.plan.PlanWal;
import io.tidemark.events.plan.PlanWalRange;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.events.wal.WalSegmentSize;
import io.tidemark.shim.archivepush.ArchivePushCommand;
import io.tidemark.shim.cli.ExitCodes;
import io.tidemark.shim.storage.CredentialSource;
import io.tidemark.shim.storage.ObjectStore;
import io.tidemark.shim.storage.Stores;
import io.tidemark.shim.support.FakeCatalog;
import io.tidemark.shim.support.FakeJavaLauncher;
import io.tidemark.shim.support.PlanFixture;
import io.tidemark.shim.support.Shim;
import io.tidemark.shim.support.TestCloud;
import io.tidemark.testkit.PgCluster;
import io.tidemark.testkit.PgTest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;

/**
 * The prefetch spool is bound to the restore plan its segments were verified against: two
 * restores of one stanza with different plans, the first one's prefetcher still running with
 * verified segments in the spool, one of those objects damaged and another deleted in S3 after
 * they were spooled. The second restore wrote no new generation (as a restore run as root into a
 * new, root-owned directory cannot: the spool is PostgreSQL's user's), so its recovery's
 * {@code archive-get --plan} finds the first prefetcher's spool. It must never be served those
 * copies: the launcher leaves the call to the JVM, which fetches the object, finds the damage and
 * aborts recovery naming it (e2e {@code RestoreEndsAtTargetTest} promoted past such a segment).
 * Real WAL of a real PostgreSQL 15 (1 MB segments), archived to and fetched from the real local
 * cloud, the real {@code bin/tidemark}.
 */
@PgTest
@Tag("localcloud")
class PlanBoundSpoolCloudTest {
    private static final String PLAN_A = "aaaaaaaa-1c2d-4e5f-8a9b-0c1d2e3f4a5b";
    private static final String PLAN_B = "bbbbbbbb-1c2d-4e5f-8a9b-0c1d2e3f4a5b";
    private static final WalSegmentSize SIZE = WalSegmentSize.ofBytes(1 << 20);

    @TempDir
    Path dir;

    private final List<Thread> prefetchers = new ArrayList<>();
    private final ByteArrayOutputStream log = new ByteArrayOutputStream();

    @AfterEach
    void awaitPrefetchers() throws InterruptedException {
        for (Thread t : prefetchers) {
            t.join(30_000);
        }
    }

    /** The prefetcher archive-get starts, run in this JVM (a thread) for {@code idle} after the last ask. */
    private PrefetchCommand.Starter inProcess(Duration idle, List<Optional<Path>> started) {
        return (config, spool, after, planFile) -> {
            started.add(planFile);
            if (spool.locked()) {
                return;
            }
            Thread t = new Thread(() -> {
                try (ObjectStore store = Stores.open(config, CredentialSource.of(config, Map.of()))) {
                    new Prefetcher(config, store, spool, after.segmentSize(), idle,
                            new PrintStream(log, true, StandardCharsets.UTF_8), WalPlan.loadIfNamed(planFile, config))
                            .run(after);
                }
            });
            t.setDaemon(true);
            t.start();
            prefetchers.add(t);
        };
    }

    /** A signed plan listing {@code wal} (and promising the range), left in {@code pgdata} as restore does. */
    private static Path plan(String stanza, String planId, List<PlanWal> wal, Path pgdata) throws IOException {
        PlanFixture f = new PlanFixture(stanza, null);
        f.walSegmentSize = SIZE;
        f.wal.addAll(wal);
        f.walRanges.add(new PlanWalRange(wal.get(0).name(), wal.get(wal.size() - 1).name()));
        Path file = Files.createDirectories(pgdata).resolve(WalPlan.FILE_NAME);
        Files.writeString(file, f.envelope(planId).toString());
        return file;
    }

    private static Shim.Run jvmGet(PrefetchCommand.Starter starter, Path conf, String name, Path pgdata, Path plan) {
        return Shim.run(new ArchiveGetCommand(Map.of(), starter), name, pgdata.resolve("pg_wal/RECOVERYXLOG").toString(),
                "--config", conf.toString(), "--plan", plan.toString());
    }

    private Shim.Run launcherGet(String name, Path conf, Path pgdata, Path plan) throws Exception {
        return new FakeJavaLauncher(dir).run(pgdata, "archive-get", name, "pg_wal/RECOVERYXLOG", "--config", conf.toString(),
                "--pgdata", pgdata.toString(), "--plan", plan.toString());
    }

    private static boolean await(java.util.function.BooleanSupplier condition) throws InterruptedException {
        for (int i = 0; i < 1500 && !condition.getAsBoolean(); i++) {
            Thread.sleep(20);
        }
        return condition.getAsBoolean();
    }

    @Test
    void aSecondRestoresRecoveryIsNeverServedWhatTheFirstOnesPrefetcherVerified() throws Exception {
        String stanza = "bound1";
        Path conf = TestCloud.config(TestCloud.cloud(), dir, Map.of("stanza", stanza, "spool.dir",
                dir.resolve("spool").toString(), "retries", "1", "archive-get.prefetch", "4",
                "plan.publicKey", PlanFixture.publicKey()));
        long t0 = System.nanoTime();
        List<String> names = new ArrayList<>();
        Map<String, byte[]> raw = new HashMap<>();
        List<PlanWal> wal = new ArrayList<>();
        try (PgCluster pg = PgCluster.builder().walSegmentSizeMb(1).build().start()) {
            TestCloud.catalog().put(stanza, FakeCatalog.document(stanza, pg.controlData().get("Database system identifier"),
                    Integer.parseInt(pg.sql("show server_version_num")), SIZE.bytes()));
            pg.sql("create table t(i int)");
            for (int i = 0; i < 7; i++) {
                pg.sql("insert into t select generate_series(1, 1000)");
                String name = pg.switchWal();
                byte[] bytes = Files.readAllBytes(pg.walDir().resolve(name));
                Path copy = Files.write(dir.resolve(name), bytes);
                Shim.Run r = Shim.run(new ArchivePushCommand(Map.of()), copy.toString(), "--config", conf.toString());
                assertEquals(0, r.code(), name + ": " + r.err());
                String key = stanza + "/wal/" + name.substring(0, 16) + "/" + name + ".zst";
                long stored = TestCloud.s3().headObject(h -> h.bucket(TestCloud.cloud().bucket()).key(key)).contentLength();
                wal.add(new PlanWal(name, key, Compression.ZSTD, PlanFixture.sha(bytes), stored));
                names.add(name);
                raw.put(name, bytes);
            }
        }
        System.out.printf("real WAL archived: %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        Path pgdataA = Files.createDirectories(dir.resolve("restore-a/pg_wal")).getParent();
        Path pgdataB = Files.createDirectories(dir.resolve("restore-b/pg_wal")).getParent();
        Path planA = plan(stanza, PLAN_A, wal, pgdataA);
        Path planB = plan(stanza, PLAN_B, wal, pgdataB);
        PrefetchSpool spool = PrefetchSpool.open(dir.resolve("spool"), StanzaName.of(stanza)).orElseThrow();
        WalSegmentName first = WalSegmentName.parse(names.get(0), SIZE);
        List<WalSegmentName> segs = new ArrayList<>();
        for (String n : names) {
            segs.add(WalSegmentName.parse(n, SIZE));
        }

        // restore A's recovery: its first ask starts the prefetcher, which verifies the next four
        // segments against plan A and keeps them in the spool; it stays (a minute idle) as it would
        // after an earlier restore whose server was stopped
        List<Optional<Path>> startedA = new ArrayList<>();
        Shim.Run a0 = jvmGet(inProcess(Duration.ofMinutes(1), startedA), conf, first.toString(), pgdataA, planA);
        assertEquals(0, a0.code(), a0.err());
        assertTrue(await(() -> segs.subList(1, 5).stream().allMatch(spool::has)), "plan A's window spooled: " + log);
        // its own recovery is served from the spool without a JVM
        Shim.Run a1 = launcherGet(names.get(1), conf, pgdataA, planA);
        assertEquals(0, a1.code(), a1.err());
        assertArrayEquals(raw.get(names.get(1)), Files.readAllBytes(pgdataA.resolve("pg_wal/RECOVERYXLOG")));

        System.out.printf("plan A's window spooled and served: %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        // after they were spooled: segment 2's object replaced by other bytes under forged metadata
        // (only the plan's SHA-256 can tell), segment 3's object deleted
        var s3 = TestCloud.s3();
        String bucket = TestCloud.cloud().bucket();
        String k2 = wal.get(2).key();
        byte[] forged = raw.get(names.get(6)).clone();
        Map<String, String> meta = new HashMap<>(s3.headObject(h -> h.bucket(bucket).key(k2)).metadata());
        meta.put(ArchivePushCommand.META_SHA256, PlanFixture.sha(forged));
        s3.putObject(p -> p.bucket(bucket).key(k2).metadata(meta),
                RequestBody.fromBytes(com.github.luben.zstd.Zstd.compress(forged, 1)));
        s3.deleteObject(d -> d.bucket(bucket).key(wal.get(3).key()));
        assertTrue(spool.has(segs.get(2)) && spool.has(segs.get(3)), "plan A's verified copies are still in the spool");

        // restore B's recovery, plan B: the launcher does not serve plan A's copies, it leaves the
        // call to the JVM (the fake JDK here)
        for (int i : new int[] {2, 3}) {
            FakeJavaLauncher.assertWentToTheJvm(launcherGet(names.get(i), conf, pgdataB, planB));
            assertFalse(Files.exists(pgdataB.resolve("pg_wal/RECOVERYXLOG")), names.get(i) + ": nothing served");
        }
        // the JVM fetches segment 2 from S3, finds the damage and aborts recovery naming it
        List<Optional<Path>> startedB = new ArrayList<>();
        PrefetchCommand.Starter starterB = inProcess(Duration.ofSeconds(10), startedB);
        Shim.Run b2 = jvmGet(starterB, conf, names.get(2), pgdataB, planB);
        assertEquals(ExitCodes.ABORT_RECOVERY, b2.code(), b2.err());
        assertTrue(b2.err().startsWith("tidemark archive-get: ABORTING RECOVERY: " + names.get(2) + " (" + k2 + "): damaged"),
                b2.err());
        assertTrue(b2.err().contains("restore plan " + PLAN_B), b2.err());
        assertFalse(Files.exists(pgdataB.resolve("pg_wal/RECOVERYXLOG")), "nothing written");
        Shim.Run b3 = jvmGet(starterB, conf, names.get(3), pgdataB, planB);
        assertEquals(ExitCodes.ABORT_RECOVERY, b3.code(), b3.err());
        assertTrue(b3.err().contains(names.get(3)) && b3.err().contains("missing from the archive"), b3.err());

        System.out.printf("plan B's recovery refused the damage: %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        // plan A's prefetcher was told to leave (a new generation), taking what it spooled with it
        assertTrue(await(() -> !prefetchers.get(0).isAlive()), "plan A's prefetcher left");
        assertTrue(segs.stream().noneMatch(spool::has), "plan A's copies are gone");

        // and restore B's recovery gets its own prefetcher, verifying against plan B, served as usual
        Shim.Run b4 = jvmGet(starterB, conf, names.get(4), pgdataB, planB);
        assertEquals(0, b4.code(), b4.err());
        assertArrayEquals(raw.get(names.get(4)), Files.readAllBytes(pgdataB.resolve("pg_wal/RECOVERYXLOG")));
        assertEquals(List.of(Optional.of(planB)), startedB, "one prefetcher started, with plan B");
        assertTrue(await(() -> spool.has(segs.get(5))), "plan B's prefetcher spooled the next segment: " + log);
        Shim.Run b5 = launcherGet(names.get(5), conf, pgdataB, planB);
        assertEquals(0, b5.code(), b5.err());
        assertArrayEquals(raw.get(names.get(5)), Files.readAllBytes(pgdataB.resolve("pg_wal/RECOVERYXLOG")));
        // plan A's recovery, were it asking still, would not be served plan B's copies either
        assertTrue(await(() -> spool.has(segs.get(6))), "plan B's prefetcher spooled segment 6: " + log);
        FakeJavaLauncher.assertWentToTheJvm(launcherGet(names.get(6), conf, pgdataA, planA));
        assertTrue(spool.has(segs.get(6)));
        System.out.printf("plan B's own prefetcher served: %d ms%n", (System.nanoTime() - t0) / 1_000_000);
    }
}
