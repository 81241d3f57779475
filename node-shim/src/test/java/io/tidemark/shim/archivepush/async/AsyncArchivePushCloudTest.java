package io.tidemark.shim.archivepush.async;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.events.layout.StanzaName;
import io.tidemark.shim.archivepush.ArchivePushCommand;
import io.tidemark.shim.archivepush.WalPusher;
import io.tidemark.shim.config.CommonOptions;
import io.tidemark.shim.config.ShimConfig;
import io.tidemark.shim.support.FakeCatalog;
import io.tidemark.shim.support.Segments;
import io.tidemark.shim.support.Shim;
import io.tidemark.shim.support.TestCloud;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * The worker and the async archive-push against the real local S3 (S3Proxy), with synthetic
 * segments in a data directory laid out as PostgreSQL's ({@code pg_wal/archive_status/*.ready}).
 */
@Tag("localcloud")
class AsyncArchivePushCloudTest {
    private static final AtomicInteger STANZAS = new AtomicInteger();

    @TempDir
    Path dir;

    private final List<ArchiveWorker> workers = new ArrayList<>();
    private final ByteArrayOutputStream log = new ByteArrayOutputStream();

    @AfterEach
    void stopWorkers() {
        workers.forEach(ArchiveWorker::stop);
    }

    private Path pgWal() throws IOException {
        return Files.createDirectories(dir.resolve("pgdata/pg_wal/archive_status")).getParent();
    }

    private Path conf(String stanza, Map<String, String> extra) {
        TestCloud.catalog().put(stanza, FakeCatalog.document(stanza, Long.toUnsignedString(Segments.SYSID), 150018,
                Segments.SIZE));
        Map<String, String> all = new LinkedHashMap<>(Map.of("stanza", stanza, "spool.dir", dir.resolve("spool").toString(),
                "retries", "0", "archive-push.async", "true", "archive-push.process", "3", "archive-push.timeout", "20"));
        all.putAll(extra);
        return TestCloud.config(TestCloud.cloud(), dir, all);
    }

    private static ShimConfig load(Path conf) {
        return ShimConfig.load(io.tidemark.shim.config.CommonOptions.parse("--config", conf.toString()), Map.of());
    }

    /** Segments 0..n-1 written and marked ready, as PostgreSQL does. */
    private void ready(Path pgWal, int from, int to) throws IOException {
        for (int i = from; i < to; i++) {
            Files.write(pgWal.resolve(Segments.name(i)), Segments.segment(i, 2));
            Files.createFile(pgWal.resolve("archive_status/" + Segments.name(i) + ".ready"));
        }
    }

    /** PostgreSQL after a successful archive_command: .ready becomes .done. */
    private static void archivedByPostgres(Path pgWal, String name) throws IOException {
        Files.move(pgWal.resolve("archive_status/" + name + ".ready"), pgWal.resolve("archive_status/" + name + ".done"));
    }

    /** Workers that leave after {@code idle} without work. */
    private AsyncArchivePush.Starter inProcess(List<Integer> started, Duration idle) {
        return (config, spool, pgdata) -> {
            started.add(1);
            ArchiveWorker w = new ArchiveWorker(new WalPusher(config, Map.of()), pgdata, spool,
                    new PrintStream(log, true, StandardCharsets.UTF_8), idle, false);
            w.start();
            workers.add(w);
        };
    }

    private static Set<String> walObjects(String stanza) {
        Set<String> names = new HashSet<>();
        for (S3Object o : TestCloud.s3().listObjectsV2Paginator(b -> b.bucket(TestCloud.cloud().bucket())
                .prefix(stanza + "/wal/")).contents()) {
            String file = o.key().substring(o.key().lastIndexOf('/') + 1);
            names.add(file.endsWith(".zst") ? file.substring(0, file.length() - 4) : file);
        }
        return names;
    }

    private static void await(java.util.function.BooleanSupplier c, String what) throws InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!c.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError(what);
            }
            Thread.sleep(20);
        }
    }

    @Test
    void theWorkerPushesEveryReadyFileAheadAndArchivePushAnswersFromTheSpool() throws Exception {
        String stanza = "async" + STANZAS.incrementAndGet();
        Path conf = conf(stanza, Map.of());
        Path pgWal = pgWal();
        ready(pgWal, 0, 12);
        String history = "00000002.history";
        Files.writeString(pgWal.resolve(history), "1\t0/5000000\tno recovery target specified\n");
        Files.createFile(pgWal.resolve("archive_status/" + history + ".ready"));

        List<Integer> started = new ArrayList<>();
        // a worker that stays for the whole test: it removes the .ok records once PostgreSQL marked
        // the files .done (below); with a 3 s idle exit it left while the twelve calls below ran
        // on a loaded machine, and the last records stayed (seen with two forks at load 22)
        ArchivePushCommand command = new ArchivePushCommand(Map.of(), inProcess(started, Duration.ofMinutes(2)));
        // PostgreSQL's first call: no worker yet; it starts one and waits for its file
        Shim.Run first = Shim.run(command, "pg_wal/" + history, "--config", conf.toString(), "--pgdata",
                dir.resolve("pgdata").toString());
        assertEquals(0, first.code(), first.err());
        assertEquals(1, started.size());
        ArchiveSpool spool = ArchiveSpool.open(dir.resolve("spool"), StanzaName.of(stanza)).orElseThrow();
        await(() -> spool.done().size() == 13, "every ready file archived ahead: " + spool.done() + log);
        Set<String> inS3 = walObjects(stanza);
        for (String done : spool.done()) {
            assertTrue(inS3.contains(done), done + " is marked done but not in S3");
        }
        archivedByPostgres(pgWal, history);
        for (int i = 0; i < 12; i++) {
            Shim.Run r = Shim.run(command, "pg_wal/" + Segments.name(i), "--config", conf.toString(), "--pgdata",
                    dir.resolve("pgdata").toString());
            assertEquals(0, r.code(), r.err());
            archivedByPostgres(pgWal, Segments.name(i));
        }
        assertEquals(1, started.size(), "one worker, already running");
        await(() -> spool.done().isEmpty(), ".ok records go once PostgreSQL marked the files .done: " + spool.done());
        assertTrue(Files.exists(pgWal.resolve("archive_status/" + Segments.name(3) + ".done")),
                "the worker never touches archive_status");
    }

    @Test
    void aSecondClusterOfTheStanzaPushesItsFilesItselfBesideTheWorkerOfTheFirst() throws Exception {
        String stanza = "async" + STANZAS.incrementAndGet();
        Path conf = conf(stanza, Map.of());
        Path pgWal = pgWal();
        ready(pgWal, 0, 2);
        // a restored copy of the stanza beside the original, with the same configuration
        Path copy = dir.resolve("copy");
        Path copyWal = Files.createDirectories(copy.resolve("pg_wal/archive_status")).getParent();
        ready(copyWal, 20, 22);
        List<Integer> started = new ArrayList<>();
        // the worker of a busy primary: it does not leave while the copy's calls wait for it
        ArchivePushCommand command = new ArchivePushCommand(Map.of(), inProcess(started, Duration.ofMinutes(2)));
        Shim.Run first = Shim.run(command, "pg_wal/" + Segments.name(0), "--config", conf.toString(), "--pgdata",
                dir.resolve("pgdata").toString());
        assertEquals(0, first.code(), first.err());
        ArchiveSpool spool = ArchiveSpool.open(dir.resolve("spool"), StanzaName.of(stanza)).orElseThrow();
        assertEquals(dir.resolve("pgdata").toRealPath(), spool.workerPid().orElseThrow().pgdata().orElseThrow(),
                "worker.pid names the data directory the worker follows");

        for (int i = 20; i < 22; i++) {
            long t0 = System.nanoTime();
            Shim.Run r = Shim.run(command, "pg_wal/" + Segments.name(i), "--config", conf.toString(), "--pgdata",
                    copy.toString());
            long ms = (System.nanoTime() - t0) / 1_000_000;
            // before: each call waited archive-push.timeout (20 s here) for a worker that never
            // looks at the copy's files, and failed
            assertEquals(0, r.code(), r.err());
            assertTrue(ms < 10_000, "pushed at once, not after waiting for the other cluster's worker: " + ms + " ms");
            assertTrue(r.err().contains("warning: the asynchronous worker of " + spool.dir() + " follows "
                    + dir.resolve("pgdata").toRealPath() + ", not " + copy + "; pushing " + Segments.name(i)
                    + " synchronously"), r.err());
            assertTrue(walObjects(stanza).contains(Segments.name(i)), Segments.name(i) + " is in S3");
            assertInstanceOf(SpoolStatus.Pending.class, spool.status(Segments.name(i)), "the worker never saw it");
        }
        assertEquals(1, started.size(), "the copy's calls start no worker: the stanza's spool has one");
        // the first cluster's files still go through its worker
        await(() -> spool.done().containsAll(List.of(Segments.name(0), Segments.name(1))), "the worker pushed A's files");
        Shim.Run again = Shim.run(command, "pg_wal/" + Segments.name(1), "--config", conf.toString(), "--pgdata",
                dir.resolve("pgdata").toString());
        assertEquals(0, again.code(), again.err());
        assertFalse(again.err().contains("synchronously"), again.err());
    }

    @Test
    void errorsReachTheNextCallAndNothingUnpushedIsDone() throws Exception {
        String stanza = "async" + STANZAS.incrementAndGet();
        int deadPort;
        try (ServerSocket s = new ServerSocket(0)) {
            deadPort = s.getLocalPort();
        }
        Path conf = conf(stanza, Map.of("s3.endpoint", "http://127.0.0.1:" + deadPort));
        Path pgWal = pgWal();
        ready(pgWal, 0, 4);
        ArchivePushCommand command = new ArchivePushCommand(Map.of(), inProcess(new ArrayList<>(), Duration.ofSeconds(3)));
        Shim.Run r = Shim.run(command, "pg_wal/" + Segments.name(0), "--config", conf.toString(), "--pgdata",
                dir.resolve("pgdata").toString());
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("cannot archive " + Segments.name(0) + " (asynchronous worker"), r.err());
        ArchiveSpool spool = ArchiveSpool.open(dir.resolve("spool"), StanzaName.of(stanza)).orElseThrow();
        await(() -> spool.status(Segments.name(3)) instanceof SpoolStatus.Failed, "the worker tried the others too");
        assertEquals(List.of(), spool.done(), "nothing is done that S3 did not confirm");
        // an error recorded while PostgreSQL was not asking reaches its next call
        Shim.Run next = Shim.run(command, "pg_wal/" + Segments.name(3), "--config", conf.toString(), "--pgdata",
                dir.resolve("pgdata").toString());
        assertEquals(1, next.code());
        assertTrue(next.err().contains(Segments.name(3)), next.err());
        assertTrue(log.toString(StandardCharsets.UTF_8).contains("failed (attempt"), log.toString());
        for (int i = 0; i < 4; i++) {
            assertTrue(Files.exists(pgWal.resolve("archive_status/" + Segments.name(i) + ".ready")));
        }
    }

    @Test
    void queueMaxDropsTheOldestSegmentsLoudlyAndOnlyWhenSet() throws Exception {
        String stanza = "async" + STANZAS.incrementAndGet();
        int deadPort;
        try (ServerSocket s = new ServerSocket(0)) {
            deadPort = s.getLocalPort();
        }
        Path conf = conf(stanza, Map.of("s3.endpoint", "http://127.0.0.1:" + deadPort,
                "archive-push.queue-max", String.valueOf(3 * Segments.SIZE)));
        Path pgWal = pgWal();
        ready(pgWal, 0, 5);
        ArchiveSpool spool = ArchiveSpool.open(dir.resolve("spool"), StanzaName.of(stanza)).orElseThrow();
        ShimConfig config = load(conf);
        ArchiveWorker w = new ArchiveWorker(new WalPusher(config, Map.of()), dir.resolve("pgdata"), spool,
                new PrintStream(log, true, StandardCharsets.UTF_8), null, false);
        workers.add(w);
        assertTrue(w.start());
        await(() -> spool.dropped().size() == 2, "5 MB waiting, 3 MB allowed: the two oldest go; " + log);
        assertEquals(List.of(Segments.name(0), Segments.name(1)), spool.dropped().stream().map(ArchiveSpool.Dropped::file).toList());
        assertEquals(new SpoolStatus.Done(true), spool.status(Segments.name(0)));
        assertFalse(spool.status(Segments.name(2)) instanceof SpoolStatus.Done, "within the limit: kept for S3");
        // the worker records the drops, then logs its warning: wait for the line, it may trail the records
        await(() -> {
            String l = log.toString(StandardCharsets.UTF_8);
            return l.contains("WARNING: archive-push.queue-max=" + 3 * Segments.SIZE + " exceeded") && l.contains("DROPPED 2");
        }, "the worker's warning about the two dropped segments; " + log);
        Shim.Run r = Shim.run(new ArchivePushCommand(Map.of(), (c, s, p) -> { }), "pg_wal/" + Segments.name(0),
                "--config", conf.toString(), "--pgdata", dir.resolve("pgdata").toString());
        assertEquals(0, r.code());
        assertTrue(r.err().contains("WARNING: " + Segments.name(0) + " was NOT archived"), r.err());
        w.stop();

        // the same outage without queue-max: nothing is ever dropped
        String kept = "async" + STANZAS.incrementAndGet();
        Path conf2 = conf(kept, Map.of("s3.endpoint", "http://127.0.0.1:" + deadPort));
        ArchiveSpool spool2 = ArchiveSpool.open(dir.resolve("spool"), StanzaName.of(kept)).orElseThrow();
        ArchiveWorker w2 = new ArchiveWorker(new WalPusher(load(conf2), Map.of()), dir.resolve("pgdata"), spool2,
                new PrintStream(log, true, StandardCharsets.UTF_8), null, false);
        workers.add(w2);
        assertTrue(w2.start());
        await(() -> spool2.status(Segments.name(4)) instanceof SpoolStatus.Failed, "tried");
        assertEquals(List.of(), spool2.dropped());
        assertEquals(List.of(), spool2.done());
    }
}
