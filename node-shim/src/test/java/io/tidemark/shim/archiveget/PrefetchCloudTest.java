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
import io.tidemark.shim.config.ShimConfig;
import io.tidemark.shim.storage.CredentialSource;
import io.tidemark.shim.storage.ObjectStore;
import io.tidemark.shim.storage.Stores;
import io.tidemark.shim.support.FakeCatalog;
import io.tidemark.shim.support.FakeJavaLauncher;
import io.tidemark.shim.support.PlanFixture;
import io.tidemark.shim.support.Segments;
import io.tidemark.shim.support.Shim;
import io.tidemark.shim.support.TestCloud;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;

@Tag("localcloud")
class PrefetchCloudTest {
    private static final AtomicInteger STANZAS = new AtomicInteger();
    private static final int N = 20;

    @TempDir
    Path dir;

    private final List<Thread> prefetchers = new ArrayList<>();
    private final AtomicInteger ran = new AtomicInteger();
    private final ByteArrayOutputStream log = new ByteArrayOutputStream();

    /** In-process prefetchers write into the temp dir: let them leave first. */
    @AfterEach
    void awaitPrefetchers() throws InterruptedException {
        for (Thread t : prefetchers) {
            t.join(20_000);
        }
    }

    /** Runs the prefetcher in this JVM (a thread) instead of a detached process. */
    private PrefetchCommand.Starter inProcess(Map<String, String> env) {
        return inProcess(env, Duration.ofSeconds(2));
    }

    private PrefetchCommand.Starter inProcess(Map<String, String> env, Duration idle) {
        return (config, spool, after, planFile) -> {
            if (spool.locked()) {
                return;
            }
            Thread t = new Thread(() -> {
                try (ObjectStore store = Stores.open(config, CredentialSource.of(config, env))) {
                    if (new Prefetcher(config, store, spool, after.segmentSize(), idle,
                            new PrintStream(log, true, StandardCharsets.UTF_8), WalPlan.loadIfNamed(planFile, config))
                            .run(after)) {
                        ran.incrementAndGet();
                    }
                }
            });
            t.setDaemon(true);
            t.start();
            prefetchers.add(t);
        };
    }

    private Path setup(String stanza, int prefetch) throws IOException {
        TestCloud.catalog().put(stanza, FakeCatalog.document(stanza, Long.toUnsignedString(Segments.SYSID), 150018,
                Segments.SIZE));
        Path conf = TestCloud.config(TestCloud.cloud(), dir, Map.of("stanza", stanza, "spool.dir",
                dir.resolve("spool").toString(), "retries", "1", "archive-get.prefetch", String.valueOf(prefetch),
                "plan.publicKey", PlanFixture.publicKey()));
        return conf;
    }

    private static final String PLAN_ID = "0b6c2f1e-8f0e-4a53-9d2a-5b8c1d2e3f40";

    /** A signed plan for segments 0..n-1 as {@link #push} archived them (listed and promised), in {@code pgdata}. */
    private Path plan(String stanza, int n, Path pgdata) throws IOException {
        return plan(stanza, n, pgdata, PLAN_ID);
    }

    /** The same, as the plan {@code planId}. */
    private Path plan(String stanza, int n, Path pgdata, String planId) throws IOException {
        PlanFixture f = new PlanFixture(stanza, null);
        f.walSegmentSize = WalSegmentSize.ofBytes(Segments.SIZE);
        for (int i = 0; i < n; i++) {
            String key = stanza + "/wal/0000000100000000/" + Segments.name(i) + ".zst";
            long stored = TestCloud.s3().headObject(h -> h.bucket(TestCloud.cloud().bucket()).key(key)).contentLength();
            f.wal.add(new PlanWal(Segments.name(i), key, Compression.ZSTD, PlanFixture.sha(Segments.segment(i, 3)), stored));
        }
        f.walRanges.add(new PlanWalRange(Segments.name(0), Segments.name(n - 1)));
        Path file = Files.createDirectories(pgdata).resolve(WalPlan.FILE_NAME);
        Files.writeString(file, f.envelope(planId).toString());
        return file;
    }

    private void push(Path conf, int n) throws IOException {
        for (int i = 0; i < n; i++) {
            Path f = dir.resolve(Segments.name(i));
            Files.write(f, Segments.segment(i, 3));
            assertEquals(0, Shim.run(new ArchivePushCommand(Map.of()), f.toString(), "--config", conf.toString()).code());
        }
    }

    /** Asks for segments 0..n-1 as recovery would, each followed by {@code replayMs} of "replay"; returns ms. */
    private long recover(Path conf, int n, long replayMs, PrefetchCommand.Starter starter) throws Exception {
        Path pgWal = Files.createDirectories(dir.resolve("pg_wal-" + System.nanoTime()));
        long t0 = System.nanoTime();
        StringBuilder calls = new StringBuilder();
        for (int i = 0; i < n; i++) {
            long c0 = System.nanoTime();
            Path target = pgWal.resolve("RECOVERYXLOG");
            Shim.Run r = Shim.run(new ArchiveGetCommand(Map.of(), starter), Segments.name(i), target.toString(),
                    "--config", conf.toString());
            assertEquals(0, r.code(), Segments.name(i) + ": " + r.err());
            assertArrayEquals(Segments.segment(i, 3), Files.readAllBytes(target), Segments.name(i));
            Files.delete(target);
            calls.append(' ').append((System.nanoTime() - c0) / 1_000_000);
            Thread.sleep(replayMs);
        }
        System.out.println("archive-get ms per call:" + calls);
        return (System.nanoTime() - t0) / 1_000_000;
    }

    @Test
    void prefetchServesVerifiedSegmentsAheadAndStopsAtTheEndOfWal() throws Exception {
        String stanza = "pf" + STANZAS.incrementAndGet();
        Path conf = setup(stanza, 8);
        push(conf, N);
        Path spoolDir = dir.resolve("spool").resolve(stanza).resolve("prefetch");

        long replay = 20;
        long sequential = recover(setup(stanza, 0), N, replay, (c, s, a, p) -> {
            throw new AssertionError("prefetch is off");
        });
        long prefetched = recover(conf, N, replay, inProcess(Map.of()));
        System.out.printf("archive-get of %d x 1 MB segments with %d ms replay each: sequential %d ms, with prefetch %d ms%n",
                N, replay, sequential, prefetched);
        for (Thread t : prefetchers) {
            t.join(15_000);
        }
        assertEquals(1, ran.get(), "one prefetcher at a time, started by the first miss");

        // the end of WAL: not archived is exit 1, silently
        Shim.Run end = Shim.run(new ArchiveGetCommand(Map.of(), inProcess(Map.of())), Segments.name(N),
                dir.resolve("x").toString(), "--config", conf.toString());
        assertEquals(1, end.code());
        assertEquals("", end.err());
        for (Thread t : prefetchers) {
            t.join(15_000);
            assertFalse(t.isAlive(), "the prefetcher leaves when recovery stops asking");
        }
        try (var s = Files.list(spoolDir)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().matches("[0-9A-F]{24}")), "nothing left behind");
        }
        String l = log.toString(StandardCharsets.UTF_8);
        assertEquals("", l, "a missing segment is the end of WAL, not an error");
    }

    /**
     * A standby's first ask starts the prefetcher before its own fetch (its start overlaps this
     * JVM's download) when the stanza's cached document gives the segment size; without that
     * document the size is the fetched file's, and the prefetcher starts after the file is in
     * place, as before. Either way one start, and the file served is the archived one.
     */
    @Test
    void theFirstAskStartsThePrefetcherBeforeItsOwnFetchWhenTheSegmentSizeIsKnown() throws Exception {
        String stanza = "pf" + STANZAS.incrementAndGet();
        Path conf = setup(stanza, 4);
        push(conf, 3);
        Path cached = new io.tidemark.shim.api.StanzaCache(dir.resolve("spool")).file(StanzaName.of(stanza));
        assertTrue(Files.isRegularFile(cached), "archive-push cached the stanza's document: " + cached);
        Path pgWal = Files.createDirectories(dir.resolve("pg_wal"));
        Path target = pgWal.resolve("RECOVERYXLOG");
        List<String> starts = new ArrayList<>();
        PrefetchCommand.Starter recording = (config, spool, after, planFile) ->
                starts.add(after + " " + after.segmentSize().bytes() + (Files.exists(target) ? " after" : " before"));

        Shim.Run first = Shim.run(new ArchiveGetCommand(Map.of(), recording), Segments.name(1), target.toString(),
                "--config", conf.toString());
        assertEquals(0, first.code(), first.err());
        assertArrayEquals(Segments.segment(1, 3), Files.readAllBytes(target));
        assertEquals(List.of(Segments.name(1) + " " + Segments.SIZE + " before"), starts, "once, before %p was written");

        Files.delete(target);
        Files.delete(cached);
        starts.clear();
        Shim.Run second = Shim.run(new ArchiveGetCommand(Map.of(), recording), Segments.name(2), target.toString(),
                "--config", conf.toString());
        assertEquals(0, second.code(), second.err());
        assertArrayEquals(Segments.segment(2, 3), Files.readAllBytes(target));
        assertEquals(List.of(Segments.name(2) + " " + Segments.SIZE + " after"), starts, "no cached size: after the fetch");
    }

    /**
     * A standby's first ask at its start is the next timeline's history file: it starts the
     * prefetcher from the segment before the one recovery begins at (backup_label of a base
     * backup), so that the first segment's ask finds it fetching; the answer itself is still
     * the archive's ("not archived"). No start without the cached segment size.
     */
    @Test
    void theHistoryAskAtAStandbysStartStartsThePrefetcherWhereRecoveryBegins() throws Exception {
        String stanza = "pf" + STANZAS.incrementAndGet();
        Path conf = setup(stanza, 4);
        push(conf, 3);
        Path pgdata = Files.createDirectories(dir.resolve("pgdata"));
        Path target = Files.createDirectories(pgdata.resolve("pg_wal")).resolve("RECOVERYHISTORY");
        Files.writeString(pgdata.resolve(RecoveryStart.BACKUP_LABEL), "START WAL LOCATION: 0/2000028 (file "
                + Segments.name(2) + ")\nCHECKPOINT LOCATION: 0/2000060\nBACKUP METHOD: streamed\nSTART TIMELINE: 1\n");
        List<String> starts = new ArrayList<>();
        PrefetchCommand.Starter recording = (config, spool, after, planFile) ->
                starts.add(after + " " + after.segmentSize().bytes() + " " + spool.requested(after.segmentSize()).orElse(null));

        Shim.Run history = Shim.run(new ArchiveGetCommand(Map.of(), recording), "00000002.history", target.toString(),
                "--config", conf.toString(), "--pgdata", pgdata.toString());
        assertEquals(1, history.code(), "not archived: " + history.err());
        assertFalse(Files.exists(target));
        assertEquals(List.of(Segments.name(1) + " " + Segments.SIZE + " " + Segments.name(1)), starts,
                "started after the segment before the backup's start, recorded as requested");

        starts.clear();
        Files.delete(new io.tidemark.shim.api.StanzaCache(dir.resolve("spool")).file(StanzaName.of(stanza)));
        assertEquals(1, Shim.run(new ArchiveGetCommand(Map.of(), recording), "00000002.history", target.toString(),
                "--config", conf.toString(), "--pgdata", pgdata.toString()).code());
        assertEquals(List.of(), starts, "no cached segment size: the first segment's ask starts it, as before");
    }

    /**
     * Without a plan the spool is not fsynced by the downloads (bound to this boot instead); each
     * spooled segment is flushed afterwards on the prefetcher's flush thread, so that PostgreSQL's
     * own fsync of the segment it takes does not write it back while replay waits.
     */
    @Test
    void eachSpooledSegmentIsFlushedOnTheFlushThread() throws Exception {
        String stanza = "pf" + STANZAS.incrementAndGet();
        Path conf = setup(stanza, 4);
        push(conf, 5);
        java.util.concurrent.atomic.AtomicReference<Prefetcher> made = new java.util.concurrent.atomic.AtomicReference<>();
        PrefetchCommand.Starter keeping = (config, spool, after, planFile) -> {
            Thread t = new Thread(() -> {
                try (ObjectStore store = Stores.open(config, CredentialSource.of(config, Map.of()))) {
                    Prefetcher p = new Prefetcher(config, store, spool, after.segmentSize(), Duration.ofSeconds(3),
                            new PrintStream(log, true, StandardCharsets.UTF_8), Optional.empty());
                    made.set(p);
                    p.run(after);
                }
            });
            t.setDaemon(true);
            t.start();
            prefetchers.add(t);
        };
        Path target = Files.createDirectories(dir.resolve("pg_wal")).resolve("RECOVERYXLOG");
        assertEquals(0, Shim.run(new ArchiveGetCommand(Map.of(), keeping), Segments.name(0), target.toString(),
                "--config", conf.toString()).code());
        Instant end = Instant.now().plusSeconds(20);
        while ((made.get() == null || made.get().flushed.get() < 4) && Instant.now().isBefore(end)) {
            Thread.sleep(20);
        }
        assertEquals(4, made.get().fetched.get(), "the window after segment 0: " + log);
        assertEquals(4, made.get().flushed.get(), "every spooled segment flushed: " + log);
    }

    @Test
    void aDamagedObjectIsNeverPrefetchedOrServed() throws Exception {
        String stanza = "pf" + STANZAS.incrementAndGet();
        Path conf = setup(stanza, 4);
        push(conf, 6);
        // replace segment 3's object by other bytes under the same metadata
        String key = stanza + "/wal/0000000100000000/" + Segments.name(3) + ".zst";
        try (var s3 = TestCloud.client(TestCloud.cloud())) {
            var head = s3.headObject(b -> b.bucket(TestCloud.cloud().bucket()).key(key));
            s3.putObject(b -> b.bucket(TestCloud.cloud().bucket()).key(key).metadata(head.metadata()),
                    RequestBody.fromBytes(com.github.luben.zstd.Zstd.compress(Segments.segment(4, 3), 1)));
        }

        Path pgWal = Files.createDirectories(dir.resolve("pg_wal"));
        PrefetchCommand.Starter starter = inProcess(Map.of());
        assertEquals(0, Shim.run(new ArchiveGetCommand(Map.of(), starter), Segments.name(0),
                pgWal.resolve("RECOVERYXLOG").toString(), "--config", conf.toString()).code());
        PrefetchSpool spool = PrefetchSpool.open(dir.resolve("spool"), StanzaName.of(stanza)).orElseThrow();
        WalSegmentName two = WalSegmentName.parse(Segments.name(2), WalSegmentSize.ofBytes(Segments.SIZE));
        WalSegmentName three = two.next();
        for (int i = 0; i < 200 && !spool.has(two); i++) {
            Thread.sleep(20);
        }
        assertTrue(spool.has(two));
        Thread.sleep(300);
        assertFalse(spool.has(three), "segment 3 failed its checksum: not in the spool");
        Shim.Run r = Shim.run(new ArchiveGetCommand(Map.of(), starter), Segments.name(3),
                pgWal.resolve("RECOVERYXLOG").toString(), "--config", conf.toString());
        assertEquals(3, r.code());
        assertTrue(r.err().contains("is damaged"), r.err());
        assertTrue(log.toString(StandardCharsets.UTF_8).contains("prefetch of " + Segments.name(3) + " failed"), log.toString());
    }

    @Test
    void launcherServesAPrefetchedSegmentWithoutAJvm() throws Exception {
        String stanza = "pf" + STANZAS.incrementAndGet();
        Path conf = setup(stanza, 8);
        PrefetchSpool spool = PrefetchSpool.open(dir.resolve("spool"), StanzaName.of(stanza)).orElseThrow();
        WalSegmentName seg = WalSegmentName.parse(Segments.name(7), WalSegmentSize.ofBytes(Segments.SIZE));
        spool.noteBoot(); // as a prefetcher does before it spools anything
        spool.put(seg, Segments.segment(7, 1));
        Path pgdata = Files.createDirectories(dir.resolve("pgdata/pg_wal"));
        long t0 = System.nanoTime();
        Shim.Run r = launcherWithFakeJava(dir, "archive-get", Segments.name(7), "pg_wal/RECOVERYXLOG",
                "--config", conf.toString(), "--pgdata", dir.resolve("pgdata").toString());
        assertEquals(0, r.code(), r.err());
        long ms = (System.nanoTime() - t0) / 1_000_000;
        System.out.println("launcher fast path served a prefetched segment in " + ms + " ms");
        assertArrayEquals(Segments.segment(7, 1), Files.readAllBytes(pgdata.resolve("RECOVERYXLOG")));
        assertFalse(spool.has(seg));
        assertEquals(Segments.name(7), Files.readString(spool.dir().resolve(".requested")).strip());
        assertTrue(ShimConfig.class.getName().length() > 0);
    }

    private Shim.Run launcherWithFakeJava(Path cwd, String... args) throws Exception {
        return new FakeJavaLauncher(dir).run(cwd, args);
    }

    private static void assertWentToTheJvm(Shim.Run r) {
        FakeJavaLauncher.assertWentToTheJvm(r);
    }

    @Test
    void filesTheArchiveDoesNotHoldAreAnsweredWithoutAJvmWhileThePrefetcherRuns() throws Exception {
        String stanza = "pf" + STANZAS.incrementAndGet();
        Path conf = setup(stanza, 8);
        push(conf, 4);
        PrefetchSpool spool = PrefetchSpool.open(dir.resolve("spool"), StanzaName.of(stanza)).orElseThrow();
        Path pgdata = Files.createDirectories(dir.resolve("pgdata"));
        Files.createDirectories(pgdata.resolve("pg_wal"));
        Path plan = plan(stanza, 4, pgdata);
        PrefetchCommand.Starter starter = inProcess(Map.of());
        assertEquals(0, Shim.run(new ArchiveGetCommand(Map.of(), starter), Segments.name(0),
                pgdata.resolve("pg_wal/RECOVERYXLOG").toString(), "--config", conf.toString(), "--plan", plan.toString())
                .code());
        // the prefetcher fetches 1..3, finds 4 missing, and finds no history file for timeline 2
        for (int i = 0; i < 250 && (spool.missingUntil(Segments.name(4)).isEmpty()
                || spool.missingUntil("00000002.history").isEmpty()); i++) {
            Thread.sleep(20);
        }
        assertTrue(spool.missingUntil(Segments.name(4)).isPresent(), "end of the archive marked");
        assertTrue(spool.missingUntil("00000002.history").isPresent(), "next timeline's history marked");
        assertTrue(spool.missingUntil(Segments.name(3)).isEmpty(), "an archived segment is never marked");

        for (String f : List.of(Segments.name(4), "00000002.history", "00000001.history")) {
            Shim.Run r = launcherWithFakeJava(pgdata, "archive-get", f, "pg_wal/RECOVERYXLOG", "--config", conf.toString(),
                    "--plan", plan.toString());
            assertEquals(1, r.code(), f + ": " + r.err());
            assertEquals("", r.err(), f + ": answered 'not archived' by the launcher itself");
        }
        // without a plan (a standby) no marker is an answer: the file may appear at any moment; the
        // running prefetcher is asked to look again (PrefetchAskCloudTest)
        Shim.Run standby = launcherWithFakeJava(pgdata, "archive-get", Segments.name(4), "pg_wal/RECOVERYXLOG",
                "--config", conf.toString());
        assertEquals(1, standby.code(), standby.err());
        assertEquals("", standby.err());
        // nor to another restore's recovery (another plan) of the same stanza, whose plan may need it,
        // even with its plan file at the same path
        Files.copy(plan, dir.resolve("plan-a.json"));
        Path otherPlan = plan(stanza, 4, pgdata, "0b6c2f1e-8f0e-4a53-9d2a-5b8c1d2e3f41");
        assertWentToTheJvm(launcherWithFakeJava(pgdata, "archive-get", Segments.name(4), "pg_wal/RECOVERYXLOG",
                "--config", conf.toString(), "--plan", otherPlan.toString()));
        Files.move(dir.resolve("plan-a.json"), plan, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        otherPlan = Files.copy(plan(stanza, 4, dir.resolve("other"), "0b6c2f1e-8f0e-4a53-9d2a-5b8c1d2e3f41"),
                dir.resolve("other-plan.json"));
        assertWentToTheJvm(launcherWithFakeJava(pgdata, "archive-get", Segments.name(4), "pg_wal/RECOVERYXLOG",
                "--config", conf.toString(), "--plan", otherPlan.toString()));
        // an expired marker is not an answer: the launcher falls through to the JVM
        spool.noteMissing("00000003.history", Instant.now().minusSeconds(1), PLAN_ID);
        Shim.Run stale = launcherWithFakeJava(pgdata, "archive-get", "00000003.history", "pg_wal/RECOVERYXLOG",
                "--config", conf.toString(), "--plan", plan.toString());
        assertWentToTheJvm(stale);

        // the segment served last, asked for again once it is gone from the spool: PostgreSQL's kept copy
        // (renamed into pg_wal, as PostgreSQL does: the very file archive-get wrote)
        Path kept = pgdata.resolve("pg_wal").resolve(Segments.name(0));
        Files.move(pgdata.resolve("pg_wal/RECOVERYXLOG"), kept);
        Shim.Run again = launcherWithFakeJava(pgdata, "archive-get", Segments.name(0), "pg_wal/RECOVERYXLOG",
                "--config", conf.toString(), "--plan", plan.toString());
        assertEquals(0, again.code(), again.err());
        assertArrayEquals(Segments.segment(0, 3), Files.readAllBytes(pgdata.resolve("pg_wal/RECOVERYXLOG")));
        assertTrue(Files.exists(kept), "PostgreSQL's copy stays");
        // a segment streamed into pg_wal under that name (a standby's walreceiver): never served as archived
        Files.move(pgdata.resolve("pg_wal/RECOVERYXLOG"), kept, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Path streamed = pgdata.resolve("pg_wal/streamed.tmp");
        byte[] partial = Segments.segment(0, 3);
        java.util.Arrays.fill(partial, partial.length / 2, partial.length, (byte) 0);
        Files.write(streamed, partial);
        Files.move(streamed, kept, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertWentToTheJvm(launcherWithFakeJava(pgdata, "archive-get", Segments.name(0), "pg_wal/RECOVERYXLOG",
                "--config", conf.toString(), "--plan", plan.toString()));
        // the same file, written to in place (same inode, new size or time): not the one served either
        Files.write(kept, Segments.segment(0, 3));
        assertWentToTheJvm(launcherWithFakeJava(pgdata, "archive-get", Segments.name(0), "pg_wal/RECOVERYXLOG",
                "--config", conf.toString(), "--plan", plan.toString()));
        // such a file (pg_basebackup puts a standby's first segments into pg_wal; no plan) while the spool holds
        // the archived, verified segment: the spool's is served, without a JVM; pg_wal's is left as it is
        Path copied = pgdata.resolve("pg_wal").resolve(Segments.name(1));
        Files.write(copied, partial);
        // the archived segment in the spool, as the prefetcher puts it; put after the in-process prefetcher
        // (2 s idle) has left, since leaving clears the spool and would take the segment with it
        org.awaitility.Awaitility.await("the prefetcher leaves").atMost(Duration.ofSeconds(30)).until(() -> !spool.locked());
        spool.put(WalSegmentName.parse(Segments.name(1), WalSegmentSize.ofBytes(Segments.SIZE)), Segments.segment(1, 3));
        Shim.Run fromSpool = launcherWithFakeJava(pgdata, "archive-get", Segments.name(1), "pg_wal/RECOVERYXLOG",
                "--config", conf.toString());
        assertEquals(0, fromSpool.code(), fromSpool.err());
        assertArrayEquals(Segments.segment(1, 3), Files.readAllBytes(pgdata.resolve("pg_wal/RECOVERYXLOG")));
        assertArrayEquals(partial, Files.readAllBytes(copied));
        Files.delete(copied);
        // any other segment missing from the spool still goes to Java
        Files.delete(kept);
        Shim.Run other = launcherWithFakeJava(pgdata, "archive-get", Segments.name(0), "pg_wal/RECOVERYXLOG",
                "--config", conf.toString(), "--plan", plan.toString());
        assertWentToTheJvm(other);
    }

    @Test
    void withAPlanAPlannedSegmentIsNeverMarkedAndADamagedOneNeverSpooled() throws Exception {
        String stanza = "pf" + STANZAS.incrementAndGet();
        Path conf = setup(stanza, 8);
        push(conf, 6);
        Path pgdata = Files.createDirectories(dir.resolve("pgdata"));
        Files.createDirectories(pgdata.resolve("pg_wal"));
        Path plan = plan(stanza, 6, pgdata);
        // segment 4 deleted, segment 2 replaced under forged metadata: both planned
        var s3 = TestCloud.s3();
        String bucket = TestCloud.cloud().bucket();
        s3.deleteObject(d -> d.bucket(bucket).key(stanza + "/wal/0000000100000000/" + Segments.name(4) + ".zst"));
        String k2 = stanza + "/wal/0000000100000000/" + Segments.name(2) + ".zst";
        byte[] other = Segments.segment(7, 3);
        Map<String, String> meta = new java.util.HashMap<>(s3.headObject(h -> h.bucket(bucket).key(k2)).metadata());
        meta.put(ArchivePushCommand.META_SHA256, PlanFixture.sha(other));
        s3.putObject(p -> p.bucket(bucket).key(k2).metadata(meta),
                RequestBody.fromBytes(com.github.luben.zstd.Zstd.compress(other, 1)));
        PrefetchSpool spool = PrefetchSpool.open(dir.resolve("spool"), StanzaName.of(stanza)).orElseThrow();
        assertEquals(0, Shim.run(new ArchiveGetCommand(Map.of(), inProcess(Map.of())), Segments.name(0),
                pgdata.resolve("pg_wal/RECOVERYXLOG").toString(), "--config", conf.toString(), "--plan", plan.toString())
                .code());
        WalSegmentName three = WalSegmentName.parse(Segments.name(3), WalSegmentSize.ofBytes(Segments.SIZE));
        for (int i = 0; i < 250 && !(spool.has(three) && log.toString(StandardCharsets.UTF_8).contains(Segments.name(4))); i++) {
            Thread.sleep(20);
        }
        assertTrue(spool.has(three), "an intact planned segment is prefetched");
        assertFalse(spool.has(three.previous()), "the forged segment 2 is not in the spool");
        assertTrue(spool.missingUntil(Segments.name(4)).isEmpty(), "a planned segment is never marked missing");
        String l = log.toString(StandardCharsets.UTF_8);
        assertTrue(l.contains("prefetch of " + Segments.name(2) + " failed") && l.contains("the plan says"), l);
        assertTrue(l.contains("prefetch of " + Segments.name(4) + " failed"), l);
        // and the launcher, with the plan, sends the ask for it to Java, which aborts recovery
        assertWentToTheJvm(launcherWithFakeJava(pgdata, "archive-get", Segments.name(4), "pg_wal/RECOVERYXLOG",
                "--config", conf.toString(), "--plan", plan.toString()));
        Shim.Run r = Shim.run(new ArchiveGetCommand(Map.of(), inProcess(Map.of())), Segments.name(4),
                pgdata.resolve("pg_wal/RECOVERYXLOG").toString(), "--config", conf.toString(), "--plan", plan.toString());
        assertEquals(ExitCodes.ABORT_RECOVERY, r.code(), r.err());
    }

    @Test
    void aFailedFetchIsNeverMarkedMissing() throws Exception {
        String stanza = "pf" + STANZAS.incrementAndGet();
        Path conf = setup(stanza, 4);
        push(conf, 3);
        String key = stanza + "/wal/0000000100000000/" + Segments.name(2) + ".zst";
        try (var s3 = TestCloud.client(TestCloud.cloud())) {
            var head = s3.headObject(b -> b.bucket(TestCloud.cloud().bucket()).key(key));
            s3.putObject(b -> b.bucket(TestCloud.cloud().bucket()).key(key).metadata(head.metadata()),
                    RequestBody.fromBytes(new byte[] {1, 2, 3}));
        }
        PrefetchSpool spool = PrefetchSpool.open(dir.resolve("spool"), StanzaName.of(stanza)).orElseThrow();
        Path pgWal = Files.createDirectories(dir.resolve("pg_wal"));
        assertEquals(0, Shim.run(new ArchiveGetCommand(Map.of(), inProcess(Map.of())), Segments.name(0),
                pgWal.resolve("RECOVERYXLOG").toString(), "--config", conf.toString()).code());
        for (int i = 0; i < 250 && !log.toString(StandardCharsets.UTF_8).contains("prefetch of " + Segments.name(2)); i++) {
            Thread.sleep(20);
        }
        assertTrue(log.toString(StandardCharsets.UTF_8).contains("prefetch of " + Segments.name(2) + " failed"), log.toString());
        assertTrue(spool.missingUntil(Segments.name(2)).isEmpty(), "damaged is not missing: PostgreSQL must hear the error");
    }

    /** A synthetic 1 MB segment of {@code timeline} with segment number {@code segNo}. */
    private static byte[] segmentOn(long timeline, long segNo) {
        io.tidemark.testkit.wal.SyntheticWal w = new io.tidemark.testkit.wal.SyntheticWal(
                io.tidemark.testkit.wal.SyntheticWal.PG15, Segments.SIZE, 8192, timeline, segNo, Segments.SYSID);
        w.commit(100, 1_790_000_000_000_000L + segNo);
        w.switchSegment();
        return w.segment(0);
    }

    private void pushFile(Path conf, String name, byte[] content) throws IOException {
        Path f = dir.resolve(name);
        Files.write(f, content);
        Shim.Run r = Shim.run(new ArchivePushCommand(Map.of()), f.toString(), "--config", conf.toString());
        assertEquals(0, r.code(), name + ": " + r.err());
    }

    private static String name(long timeline, long segNo) {
        return String.format("%08X%08X%08X", timeline, 0, segNo);
    }

    private static boolean awaitFile(Path f) throws InterruptedException {
        for (int i = 0; i < 500 && !Files.exists(f); i++) {
            Thread.sleep(20);
        }
        return Files.exists(f);
    }

    @Test
    void withoutAPlanThePrefetcherFollowsAPromotionFromTheArchivedHistory() throws Exception {
        String stanza = "pf" + STANZAS.incrementAndGet();
        Path conf = setup(stanza, 4);
        // timeline 1: segments 5..9 (the old primary archived 8 and 9 after the switch point too);
        // timeline 2 began inside segment 7 (0/700060): its segments 7..10
        for (long s = 5; s <= 9; s++) {
            pushFile(conf, name(1, s), segmentOn(1, s));
        }
        Path spoolDir = dir.resolve("spool").resolve(stanza).resolve("prefetch");
        Path pgdata = Files.createDirectories(dir.resolve("pgdata"));
        Path pgWal = Files.createDirectories(pgdata.resolve("pg_wal"));
        // idle longer than the launcher calls below take on a loaded machine (leaving clears the spool)
        PrefetchCommand.Starter starter = inProcess(Map.of(), Duration.ofSeconds(10));
        assertEquals(0, Shim.run(new ArchiveGetCommand(Map.of(), starter), name(1, 5),
                pgWal.resolve("RECOVERYXLOG").toString(), "--config", conf.toString()).code());
        assertTrue(awaitFile(spoolDir.resolve(name(1, 8))), "timeline 1 prefetched while no newer timeline is archived");
        assertFalse(Files.exists(spoolDir.resolve("00000002.history")));

        byte[] history = "1\t0/700060\tno recovery target specified\n".getBytes(StandardCharsets.US_ASCII);
        pushFile(conf, "00000002.history", history);
        for (long s = 7; s <= 10; s++) {
            pushFile(conf, name(2, s), segmentOn(2, s));
        }
        // the standby asks on: the prefetcher has found the history and names timeline 2's segments
        // from the switch point (7), as PostgreSQL will ask for them
        assertEquals(0, Shim.run(new ArchiveGetCommand(Map.of(), starter), name(1, 6),
                pgWal.resolve("RECOVERYXLOG").toString(), "--config", conf.toString()).code());
        assertTrue(awaitFile(spoolDir.resolve("00000002.history")), "the new timeline's history is spooled");
        for (long s = 7; s <= 10; s++) {
            assertTrue(awaitFile(spoolDir.resolve(name(2, s))), name(2, s) + " prefetched; log: " + log);
            assertArrayEquals(segmentOn(2, s), Files.readAllBytes(spoolDir.resolve(name(2, s))));
        }
        // timeline 1's 8 and 9, fetched before the switch was known, stay under their own names until
        // recovery has passed them: PostgreSQL asks for timeline 2's, which are other files

        // the launcher serves the history (a copy: PostgreSQL asks for it more than once) and timeline
        // 2's segments without a JVM; each name is its own file: never another timeline's
        for (int i = 0; i < 2; i++) {
            Shim.Run h = launcherWithFakeJava(pgdata, "archive-get", "00000002.history", "pg_wal/RECOVERYHISTORY",
                    "--config", conf.toString(), "--pgdata", pgdata.toString());
            assertEquals(0, h.code(), h.err());
            assertArrayEquals(history, Files.readAllBytes(pgWal.resolve("RECOVERYHISTORY")));
        }
        Shim.Run seg = launcherWithFakeJava(pgdata, "archive-get", name(2, 7), "pg_wal/RECOVERYXLOG",
                "--config", conf.toString(), "--pgdata", pgdata.toString());
        assertEquals(0, seg.code(), seg.err());
        assertArrayEquals(segmentOn(2, 7), Files.readAllBytes(pgWal.resolve("RECOVERYXLOG")));
        // a history file that is not archived is never answered from the spool: the running prefetcher
        // looks at the archive for this ask (PrefetchAskCloudTest) and says "not archived"; with a
        // plan, no history is answered by the launcher at all
        Shim.Run noHistory = launcherWithFakeJava(pgdata, "archive-get", "00000003.history", "pg_wal/RECOVERYHISTORY",
                "--config", conf.toString(), "--pgdata", pgdata.toString());
        assertEquals(1, noHistory.code(), noHistory.err());
        assertEquals("", noHistory.err());
        assertFalse(Files.exists(spoolDir.resolve("00000003.history")));
        assertWentToTheJvm(launcherWithFakeJava(pgdata, "archive-get", "00000002.history", "pg_wal/RECOVERYHISTORY",
                "--config", conf.toString(), "--pgdata", pgdata.toString(), "--plan", pgdata.resolve("plan.json").toString()));
        assertEquals("", log.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aHostedPrefetcherServesTheStandbyGivesWayToARestoreAndLeavesAtPromotion() throws Exception {
        String stanza = "pf" + STANZAS.incrementAndGet();
        Path conf = setup(stanza, 4);
        push(conf, 8);
        ShimConfig config = ShimConfig.load(io.tidemark.shim.config.CommonOptions.parse("--config", conf.toString()), Map.of());
        PrefetchSpool spool = PrefetchSpool.open(config.spoolDir(), config.stanza()).orElseThrow();
        java.util.concurrent.atomic.AtomicBoolean inRecovery = new java.util.concurrent.atomic.AtomicBoolean(true);
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        ByteArrayOutputStream hostOut = new ByteArrayOutputStream();
        Thread host;
        try (ObjectStore store = Stores.open(config, CredentialSource.of(config, Map.of()))) {
            HostedPrefetcher hosted = new HostedPrefetcher(config, store, spool,
                    () -> Optional.of(new HostedPrefetcher.Cluster(inRecovery.get(), WalSegmentSize.ofBytes(Segments.SIZE))),
                    new PrintStream(hostOut, true, StandardCharsets.UTF_8), java.time.Clock.systemUTC());
            host = new Thread(() -> {
                try {
                    hosted.run(stop::get);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            host.start();
            try {
                for (int i = 0; i < 250 && !Files.exists(spool.dir().resolve(PrefetchSpool.PID)); i++) {
                    Thread.sleep(20);
                }
                assertEquals(Long.toString(ProcessHandle.current().pid()),
                        Files.readString(spool.dir().resolve(PrefetchSpool.PID)).strip(), "the host holds the spool");
                // a standby's ask (archive-get's JVM): the hosted prefetcher fills the window after it
                // (archive-get's own DETACHED starter finds the lock held and starts none: shown with
                // real processes in e2e; here the starter does nothing, as locked() in this JVM would
                // release the host's lock)
                Path pgWal = Files.createDirectories(dir.resolve("pg_wal"));
                assertEquals(0, Shim.run(new ArchiveGetCommand(Map.of(), (c, s, a, p) -> { }), Segments.name(0),
                        pgWal.resolve("RECOVERYXLOG").toString(), "--config", conf.toString()).code());
                for (int i = 1; i <= 4; i++) {
                    assertTrue(awaitFile(spool.dir().resolve(Segments.name(i))), Segments.name(i) + " prefetched by the host: " + hostOut);
                    assertArrayEquals(Segments.segment(i, 3), Files.readAllBytes(spool.dir().resolve(Segments.name(i))));
                }
                // a restore on this node starts a new generation: the host leaves the spool to it
                spool.newGeneration();
                assertTrue(spool.waitUnlocked(Duration.ofSeconds(5)), "the host let go of the lock for the restore: " + hostOut);
                Thread.sleep(1500);
                assertFalse(spool.locked(), "and does not take it back at once (the restore's prefetcher starts)");
            } finally {
                stop.set(true);
                host.join(20_000);
            }
        }
        assertFalse(host.isAlive());
        String said = hostOut.toString(StandardCharsets.UTF_8);
        assertTrue(said.contains("archive-get prefetcher running"), said);
        assertTrue(said.contains("archive-get prefetcher stopped"), said);
    }

    @Test
    void theLauncherWaitsForAPrefetcherStillStartingRatherThanStartAJvm() throws Exception {
        String stanza = "pf" + STANZAS.incrementAndGet();
        Path conf = setup(stanza, 4);
        PrefetchSpool spool = PrefetchSpool.open(dir.resolve("spool"), StanzaName.of(stanza)).orElseThrow();
        WalSegmentSize size = WalSegmentSize.ofBytes(Segments.SIZE);
        WalSegmentName one = WalSegmentName.parse(Segments.name(1), size);
        Path pgdata = Files.createDirectories(dir.resolve("pgdata"));
        Files.createDirectories(pgdata.resolve("pg_wal"));
        // stands in for the prefetcher JVM archive-get just launched, not yet running its loop
        Process starting = new ProcessBuilder("sleep", "120").start();
        try {
            spool.noteStarting(starting.pid(), List.of(one, one.next()));
            // a second start meanwhile writes nothing: .pid names a live process
            spool.noteStarting(ProcessHandle.current().pid(), List.of(one.next().next()));
            assertEquals(Long.toString(starting.pid()), Files.readString(spool.dir().resolve(PrefetchSpool.PID)).strip());
            assertFalse(Files.exists(spool.dir().resolve(PrefetchSpool.FETCHING + one.next().next())));
            // its first download lands a moment later: the launcher waited for it, no JVM
            Thread deliver = new Thread(() -> {
                try {
                    Thread.sleep(700);
                    spool.noteBoot();
                    spool.put(one, Segments.segment(1, 3));
                    spool.clearFetching(one);
                } catch (IOException | InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            deliver.start();
            Shim.Run r = launcherWithFakeJava(pgdata, "archive-get", Segments.name(1), "pg_wal/RECOVERYXLOG",
                    "--config", conf.toString(), "--pgdata", pgdata.toString());
            deliver.join();
            assertEquals(0, r.code(), r.err());
            assertArrayEquals(Segments.segment(1, 3), Files.readAllBytes(pgdata.resolve("pg_wal/RECOVERYXLOG")));
            // it dies before the next one: the launcher stops waiting and goes to the JVM
            starting.destroy();
            starting.waitFor();
            assertWentToTheJvm(launcherWithFakeJava(pgdata, "archive-get", Segments.name(2), "pg_wal/RECOVERYXLOG",
                    "--config", conf.toString(), "--pgdata", pgdata.toString()));
            // a prefetcher that runs drops the markers it does not fetch itself
            spool.clearFetchingExcept(java.util.Set.of());
            assertFalse(Files.exists(spool.dir().resolve(PrefetchSpool.FETCHING + one.next())));
        } finally {
            starting.destroyForcibly();
        }
    }
}
