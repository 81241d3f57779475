package io.tidemark.shim.drill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.events.layout.Compression;
import io.tidemark.events.plan.PlanFile;
import io.tidemark.functions.runtime.ApiGatewayProxy;
import io.tidemark.shim.support.FakePlanner;
import io.tidemark.shim.support.PlanFixture;
import io.tidemark.shim.support.Shim;
import io.tidemark.shim.support.TestCloud;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;

/**
 * Drills that must fail before PostgreSQL starts, against the local cloud's S3 with a plan the
 * test signs ({@link PlanFixture}): too little free space (the file system's answer injected:
 * a real small file system needs a mount), and a damaged backup object. A drill that restores and
 * recovers real PostgreSQL is DrillE2eTest's.
 */
@Tag("localcloud")
class DrillCloudTest {
    private static final AtomicInteger STANZAS = new AtomicInteger();

    @TempDir
    Path dir;

    @AfterEach
    void reset() {
        TestCloud.planner().reset();
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private PlanFixture backup(String stanza) {
        return new PlanFixture(stanza, TestCloud.cloud())
                .file("base/1/1259", random(40_000, 1), Compression.ZSTD)
                .file("global/1262", random(8192, 2), Compression.NONE)
                .file("PG_VERSION", "15\n".getBytes(StandardCharsets.US_ASCII), Compression.NONE)
                .directory("base").directory("base/1").directory("global").directory("pg_wal");
    }

    private Shim.Run drill(String stanza, FreeSpace space, String... more) {
        Path conf = TestCloud.config(TestCloud.cloud(), dir, Map.of("stanza", stanza, "plan.publicKey", PlanFixture.publicKey(),
                "spool.dir", dir.resolve("spool").toString(), "retries", "1"));
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("--now", "--config", conf.toString(),
                "--scratch", dir.resolve("scratch").toString()));
        args.addAll(java.util.List.of(more));
        return Shim.run(new DrillCommand(Map.of(), Clock.systemUTC(), space), args.toArray(String[]::new));
    }

    private static void serve(PlanFixture f, String planId) {
        FakePlanner p = TestCloud.planner();
        p.onPost = body -> ApiGatewayProxy.Response.json(201, f.response(planId, Duration.ofMinutes(10), false).toString());
        p.onUrls = id -> ApiGatewayProxy.Response.json(200, f.urls(Duration.ofMinutes(10), false).put("planId", id).toString());
    }

    @Test
    void notEnoughFreeSpaceIsRefusedWithTheNumbersBeforeAnythingIsWritten() {
        String stanza = "drill" + STANZAS.incrementAndGet();
        PlanFixture f = backup(stanza).upload();
        serve(f, "22222222-0000-4000-8000-000000000001");
        long needed = f.files.stream().mapToLong(PlanFile::size).sum();
        Shim.Run r = drill(stanza, d -> needed - 1);
        assertEquals(1, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("FAILED: check space failed"), r.err());
        assertTrue(r.err().contains("the drill needs " + needed + " bytes") && r.err().contains("backup files " + needed
                + " + WAL 0 for 0 segments") && r.err().contains("the file system has " + (needed - 1) + " bytes"), r.err());
        assertTrue(r.err().contains("nothing was written"), r.err());
        assertFalse(Files.exists(dir.resolve("scratch")), "the scratch directory is not even created");
        String post = TestCloud.planner().calls.get(0);
        assertTrue(post.contains("\"type\":\"latest\""), "a drill asks for latest by default: " + post);

        // exactly enough: past the space check (then the restore runs and the drill goes on)
        Shim.Run enough = drill(stanza, d -> needed, "--no-amcheck", "--timeout", "5");
        assertFalse(enough.err().contains("check space failed"), enough.out() + enough.err());
        assertTrue(enough.out().contains("check restore passed"), enough.out() + enough.err());
        assertFalse(Files.exists(dir.resolve("scratch")), "removed after the drill");
    }

    @Test
    void aDamagedBackupObjectFailsTheDrillNamingItAndTheScratchDirectoryIsRemoved() {
        String stanza = "drill" + STANZAS.incrementAndGet();
        PlanFixture f = backup(stanza).upload();
        String key = f.files.stream().filter(x -> x.path().path().equals("base/1/1259")).findFirst().orElseThrow().key();
        byte[] bad = f.stored(key);
        bad[bad.length / 2] ^= 0x01;
        try (var s3 = TestCloud.client(TestCloud.cloud())) {
            s3.putObject(b -> b.bucket(TestCloud.cloud().bucket()).key(key), RequestBody.fromBytes(bad));
        }
        serve(f, "22222222-0000-4000-8000-000000000002");
        Shim.Run r = drill(stanza, FreeSpace.FILE_STORE);
        assertEquals(1, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("FAILED: check restore failed"), r.err());
        assertTrue(r.err().contains("base/1/1259: the downloaded bytes of " + key + " have SHA-256"), r.err());
        assertFalse(r.out().contains("starting PostgreSQL"), "nothing started over a failed restore: " + r.out());
        assertFalse(Files.exists(dir.resolve("scratch")), "the scratch directory is removed");
    }

    /**
     * A random target: the drill reads the window from the catalog, draws the point with the seed
     * given and asks the planner for that time on that timeline; the check {@code window} says so.
     * (Which backup and WAL such a plan restores is DrillE2eTest's, with the real planner.)
     */
    @Test
    void aRandomTargetAsksThePlannerForThePointDrawnFromTheWindowOnItsTimeline() throws Exception {
        String stanza = "drill" + STANZAS.incrementAndGet();
        PlanFixture f = backup(stanza).upload();
        serve(f, "22222222-0000-4000-8000-000000000003");
        com.fasterxml.jackson.databind.node.ObjectNode doc = io.tidemark.shim.support.FakeCatalog.document(stanza,
                "7300000000000000001", 150004, 16 << 20);
        doc.set("window", io.tidemark.events.json.Json.mapper().readTree("""
                {"earliest": {"time": "2026-12-01T00:00:00Z", "lsn": "0/3000028", "timeline": 1},
                 "latest": {"time": "2026-12-01T06:00:00Z", "lsn": "0/9000000", "timeline": 2}, "gaps": [],
                 "timelines": [{"timeline": 1, "earliest": {"time": "2026-12-01T00:00:00Z", "lsn": "0/3000028"},
                                "latest": {"time": "2026-12-01T01:00:00Z", "lsn": "0/5000000"}},
                               {"timeline": 2, "earliest": {"time": "2026-12-01T01:00:00Z", "lsn": "0/5000000"},
                                "latest": {"time": "2026-12-01T06:00:00Z", "lsn": "0/9000000"}}]}"""));
        TestCloud.catalog().put(stanza, doc);
        try {
            RandomTarget expected = RandomTarget.pick(doc.get("window"), new java.util.SplittableRandom(5));
            Shim.Run r = drill(stanza, FreeSpace.FILE_STORE, "--target", "random", "--random-seed", "5", "--no-amcheck",
                    "--timeout", "5");
            assertTrue(r.out().contains("check window passed: " + expected.describe()), r.out() + r.err());
            String post = TestCloud.planner().calls.get(0);
            assertTrue(post.contains("\"type\":\"time\"") && post.contains("\"value\":\"" + expected.time() + "\"")
                    && post.contains("\"timeline\":\"" + expected.timeline() + "\""), post);
            assertTrue(r.out().contains("drill ") && r.out().contains(": target random, scratch "), r.out());
        } finally {
            TestCloud.catalog().remove(stanza);
        }
    }

    @Test
    void targetOptionsThatCannotGoTogetherAreUsageErrors() {
        String stanza = "drill" + STANZAS.incrementAndGet();
        Shim.Run both = drill(stanza, FreeSpace.FILE_STORE, "--target", "random", "--target-time", "2026-12-01T00:00:00Z");
        assertEquals(2, both.code(), both.err());
        assertTrue(both.err().contains("--target-time and --target exclude each other"), both.err());
        Shim.Run bad = drill(stanza, FreeSpace.FILE_STORE, "--target", "oldest");
        assertEquals(2, bad.code(), bad.err());
        assertTrue(bad.err().contains("--target must be latest or random, got 'oldest'"), bad.err());
        Shim.Run seed = drill(stanza, FreeSpace.FILE_STORE, "--random-seed", "3");
        assertEquals(2, seed.code(), seed.err());
        assertTrue(seed.err().contains("--random-seed is for a random target"), seed.err());
        assertTrue(TestCloud.planner().calls.isEmpty(), "nothing asked: " + TestCloud.planner().calls);
    }

    @Test
    void aLeftoverOfAKilledDrillIsCleanedUpAndAStrangeDirectoryIsNeverRemoved() throws Exception {
        Path scratch = Files.createDirectories(dir.resolve("left"));
        Files.createDirectories(scratch.resolve("pgdata/base"));
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        Files.writeString(scratch.resolve(ScratchMarker.FILE), new ScratchMarker("20261206T010203Z-0badcafe",
                java.util.Optional.of("JOB-1"), gone.pid(), java.time.Instant.parse("2026-12-06T01:02:03Z"),
                Path.of("/usr/lib/postgresql/15/bin"), "postgres").toJson().toString());
        var left = ScratchMarker.cleanLeftover(scratch);
        assertTrue(left.isPresent());
        assertEquals("20261206T010203Z-0badcafe", left.get().marker().drillId());
        assertEquals(java.util.Optional.of("JOB-1"), left.get().marker().jobId());
        assertTrue(left.get().what().contains("did not finish: no server was running and its scratch directory " + scratch
                + " removed"), left.get().what());
        assertFalse(Files.exists(scratch));

        Path strange = Files.createDirectories(dir.resolve("strange"));
        Files.writeString(strange.resolve("precious"), "x");
        assertTrue(ScratchMarker.cleanLeftover(strange).isEmpty());
        IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> ScratchMarker.claim(strange, new ScratchMarker("x", java.util.Optional.empty(), 1, java.time.Instant.now(),
                        Path.of("/"), "postgres")));
        assertTrue(e.getMessage().contains("is not empty and holds no drill"), e.getMessage());
        assertTrue(Files.exists(strange.resolve("precious")));
    }
}
