package io.tidemark.shim.archiveget;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.events.layout.StanzaName;
import io.tidemark.shim.archivepush.ArchivePushCommand;
import io.tidemark.shim.support.FakeCatalog;
import io.tidemark.shim.support.FakeJavaLauncher;
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
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A standby's restore_command asking for a file that is not in the prefetch spool (not archived
 * yet, or a newer timeline's history): the launcher asks the running prefetcher, which looks at
 * the archive after the ask and answers; "not archived" is never an answer older than the ask,
 * and a prefetcher that dies while asked leaves the call to a JVM.
 */
@Tag("localcloud")
class PrefetchAskCloudTest {
    private static final AtomicInteger STANZAS = new AtomicInteger();

    @TempDir
    Path dir;

    private final ByteArrayOutputStream log = new ByteArrayOutputStream();

    private Path setup(String stanza) throws IOException {
        TestCloud.catalog().put(stanza, FakeCatalog.document(stanza, Long.toUnsignedString(Segments.SYSID), 150018,
                Segments.SIZE));
        return TestCloud.config(TestCloud.cloud(), dir, Map.of("stanza", stanza, "spool.dir",
                dir.resolve("spool").toString(), "retries", "1", "archive-get.prefetch", "2"));
    }

    private void push(Path conf, String name, byte[] content) throws IOException {
        Path f = dir.resolve(name);
        Files.write(f, content);
        Shim.Run r = Shim.run(new ArchivePushCommand(Map.of()), f.toString(), "--config", conf.toString());
        assertEquals(0, r.code(), name + ": " + r.err());
    }

    /** A prefetcher in this JVM (a thread), running until {@code stop}. */
    private Thread prefetcher(Path conf, AtomicBoolean stop) {
        return prefetcher(conf, stop, Segments.name(0), io.tidemark.events.wal.WalSegmentSize.ofBytes(Segments.SIZE));
    }

    private Thread prefetcher(Path conf, AtomicBoolean stop, String start, io.tidemark.events.wal.WalSegmentSize size) {
        Thread t = new Thread(() -> {
            var config = io.tidemark.shim.config.ShimConfig.load(
                    io.tidemark.shim.config.CommonOptions.parse("--config", conf.toString()), Map.of());
            PrefetchSpool spool = PrefetchSpool.open(config.spoolDir(), config.stanza()).orElseThrow();
            try (var store = io.tidemark.shim.storage.Stores.open(config,
                    io.tidemark.shim.storage.CredentialSource.of(config, Map.of()))) {
                var lock = spool.tryLock().orElseThrow();
                try {
                    new Prefetcher(config, store, spool, size,
                            Duration.ofMinutes(5), new PrintStream(log, true, StandardCharsets.UTF_8), java.util.Optional.empty())
                            .serve(io.tidemark.events.wal.WalSegmentName.parse(start, size), stop::get);
                } finally {
                    spool.clear();
                    lock.close();
                }
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static boolean await(Path f) throws InterruptedException {
        // long: 64 MB segments on a machine other builds load (seen: over 10 s at load 45)
        for (int i = 0; i < 3000 && !Files.exists(f); i++) {
            Thread.sleep(20);
        }
        return Files.exists(f);
    }

    /**
     * An ask answered by a prefetcher that does not keep what it downloads (here: answering only,
     * as for a history ask whose recovery start is unknown, in a spool a killed session left bound
     * to a restore plan): an archived segment is never answered "missing", which would tell
     * PostgreSQL the archive ends there; "failed" sends the call to a JVM.
     */
    @Test
    void aSegmentTheAnswerDidNotKeepIsNeverAnsweredMissing() throws Exception {
        String stanza = "ask" + STANZAS.incrementAndGet();
        Path conf = setup(stanza);
        push(conf, Segments.name(0), Segments.segment(0, 3));
        var config = io.tidemark.shim.config.ShimConfig.load(
                io.tidemark.shim.config.CommonOptions.parse("--config", conf.toString()), Map.of());
        PrefetchSpool spool = PrefetchSpool.open(config.spoolDir(), config.stanza()).orElseThrow();
        spool.bind(java.util.Optional.of("0b6f1c2e-plan-of-a-killed-restore"));
        Files.createFile(spool.dir().resolve(".ask." + Segments.name(0) + ".1-1"));
        Files.createFile(spool.dir().resolve(".ask." + Segments.name(1) + ".1-2"));
        try (var store = io.tidemark.shim.storage.Stores.open(config,
                io.tidemark.shim.storage.CredentialSource.of(config, Map.of()))) {
            new Prefetcher(config, store, spool, io.tidemark.events.wal.WalSegmentSize.ofBytes(Segments.SIZE), Duration.ZERO,
                    new PrintStream(log, true, StandardCharsets.UTF_8), java.util.Optional.empty()).answerPending();
        }
        assertEquals(Segments.name(0) + " failed", Files.readString(spool.dir().resolve(".answer.1-1")).strip(), "" + log);
        assertEquals(Segments.name(1) + " missing", Files.readString(spool.dir().resolve(".answer.1-2")).strip(),
                "not archived: missing, fresh");
    }

    @Test
    void aStandbyPollingForWalNotArchivedYetIsAnsweredFreshlyWithoutAJvm() throws Exception {
        String stanza = "ask" + STANZAS.incrementAndGet();
        Path conf = setup(stanza);
        for (int i = 0; i < 3; i++) {
            push(conf, Segments.name(i), Segments.segment(i, 3));
        }
        Path spoolDir = dir.resolve("spool").resolve(stanza).resolve("prefetch");
        Path pgdata = Files.createDirectories(dir.resolve("pgdata"));
        Path pgWal = Files.createDirectories(pgdata.resolve("pg_wal"));
        FakeJavaLauncher launcher = new FakeJavaLauncher(dir);
        AtomicBoolean stop = new AtomicBoolean();
        Thread t = prefetcher(conf, stop);
        try {
            assertTrue(await(spoolDir.resolve(Segments.name(2))), "the window is filled: " + log);
            for (int i = 1; i < 3; i++) {
                Shim.Run r = launcher.run(pgdata, "archive-get", Segments.name(i), "pg_wal/RECOVERYXLOG",
                        "--config", conf.toString(), "--pgdata", pgdata.toString());
                assertEquals(0, r.code(), r.err());
                assertArrayEquals(Segments.segment(i, 3), Files.readAllBytes(pgWal.resolve("RECOVERYXLOG")));
            }
            // the end of the archive: the prefetcher found segment 3 missing a moment ago (its window
            // stops there). The standby asks for it as PostgreSQL does, every few seconds: "not
            // archived", exit 1 without a word, the JVM's own answer, and no JVM
            String three = Segments.name(3);
            for (int i = 0; i < 2; i++) {
                Shim.Run miss = launcher.run(pgdata, "archive-get", three, "pg_wal/RECOVERYXLOG",
                        "--config", conf.toString(), "--pgdata", pgdata.toString());
                assertEquals(1, miss.code(), miss.err());
                assertEquals("", miss.err());
            }
            assertEquals(1,
                    Shim.run(new ArchiveGetCommand(Map.of(), (c, s, a, p) -> { }), three,
                            pgWal.resolve("X").toString(), "--config", conf.toString()).code(), "the JVM's answer is the same");
            // archived now, asked at once: the prefetcher's own record says missing (it looks again
            // only every second), the answer comes from a look begun after the ask
            push(conf, three, Segments.segment(3, 3));
            Shim.Run hit = launcher.run(pgdata, "archive-get", three, "pg_wal/RECOVERYXLOG",
                    "--config", conf.toString(), "--pgdata", pgdata.toString());
            assertEquals(0, hit.code(), hit.err());
            assertArrayEquals(Segments.segment(3, 3), Files.readAllBytes(pgWal.resolve("RECOVERYXLOG")));

            // a newer timeline's history, asked for at each retry: missing, then archived and served
            Shim.Run noHistory = launcher.run(pgdata, "archive-get", "00000002.history", "pg_wal/RECOVERYHISTORY",
                    "--config", conf.toString(), "--pgdata", pgdata.toString());
            assertEquals(1, noHistory.code(), noHistory.err());
            byte[] history = "1\t0/8000060\tno recovery target specified\n".getBytes(StandardCharsets.US_ASCII);
            push(conf, "00000002.history", history);
            Shim.Run gotHistory = launcher.run(pgdata, "archive-get", "00000002.history", "pg_wal/RECOVERYHISTORY",
                    "--config", conf.toString(), "--pgdata", pgdata.toString());
            assertEquals(0, gotHistory.code(), gotHistory.err());
            assertArrayEquals(history, Files.readAllBytes(pgWal.resolve("RECOVERYHISTORY")));
            try (var s = Files.list(spoolDir)) {
                List<String> left = s.map(p -> p.getFileName().toString())
                        .filter(n -> n.startsWith(PrefetchSpool.ASK) || n.startsWith(PrefetchSpool.ANSWER)).toList();
                assertEquals(List.of(), left, "each ask and answer removed by its launcher");
            }
        } finally {
            stop.set(true);
            t.join(20_000);
        }
        assertEquals("", log.toString(StandardCharsets.UTF_8));
    }

    @Test
    void anAnswerNamesItsAskAndAPrefetcherKilledWhileAskedLeavesTheCallToAJvm() throws Exception {
        String stanza = "ask" + STANZAS.incrementAndGet();
        Path conf = setup(stanza);
        push(conf, Segments.name(0), Segments.segment(0, 3));
        PrefetchSpool spool = PrefetchSpool.open(dir.resolve("spool"), StanzaName.of(stanza)).orElseThrow();
        Path pgdata = Files.createDirectories(dir.resolve("pgdata"));
        Files.createDirectories(pgdata.resolve("pg_wal"));
        FakeJavaLauncher launcher = new FakeJavaLauncher(dir);
        // a real prefetcher process, started as archive-get starts it
        Shim.Run first = Shim.run(new ArchiveGetCommand(Map.of()), Segments.name(0),
                pgdata.resolve("pg_wal/RECOVERYXLOG").toString(), "--config", conf.toString());
        assertEquals(0, first.code(), first.err());
        long pid = -1;
        for (int i = 0; i < 1500 && pid < 0; i++) {
            Thread.sleep(20);
            if (spool.locked() && Files.exists(spool.dir().resolve(PrefetchSpool.PID))) {
                pid = Long.parseLong(Files.readString(spool.dir().resolve(PrefetchSpool.PID)).strip());
            }
        }
        assertTrue(pid > 0, "the prefetcher runs");
        ProcessHandle prefetcher = ProcessHandle.of(pid).orElseThrow();
        try {
            // an answer left for another ask (another id) is no answer to this one: it is a fresh look
            String one = Segments.name(1);
            Files.writeString(spool.dir().resolve(PrefetchSpool.ANSWER + "1-1"), one + " found\n");
            push(conf, one, Segments.segment(1, 3));
            Shim.Run r = launcher.run(pgdata, "archive-get", one, "pg_wal/RECOVERYXLOG",
                    "--config", conf.toString(), "--pgdata", pgdata.toString());
            assertEquals(0, r.code(), r.err());
            assertArrayEquals(Segments.segment(1, 3), Files.readAllBytes(pgdata.resolve("pg_wal/RECOVERYXLOG")));

            // stopped while it is asked (SIGSTOP: it cannot answer), then killed -9: the launcher
            // stops waiting and hands the call to a JVM, long before its 15 s bound
            new ProcessBuilder("kill", "-STOP", Long.toString(pid)).start().waitFor();
            String two = Segments.name(2);
            Thread killer = new Thread(() -> {
                try {
                    Thread.sleep(700);
                    new ProcessBuilder("kill", "-KILL", Long.toString(prefetcher.pid())).start().waitFor();
                } catch (IOException | InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            killer.start();
            long t0 = System.nanoTime();
            Shim.Run asked = launcher.run(pgdata, "archive-get", two, "pg_wal/RECOVERYXLOG",
                    "--config", conf.toString(), "--pgdata", pgdata.toString());
            long ms = (System.nanoTime() - t0) / 1_000_000;
            killer.join();
            FakeJavaLauncher.assertWentToTheJvm(asked);
            assertTrue(ms < 10_000, "the launcher saw the prefetcher die: " + ms + " ms");
            assertTrue(prefetcher.onExit().get(10, java.util.concurrent.TimeUnit.SECONDS) != null);
            // the next call: no live prefetcher, so no ask; the JVM says "not archived", then serves it
            FakeJavaLauncher.assertWentToTheJvm(launcher.run(pgdata, "archive-get", two, "pg_wal/RECOVERYXLOG",
                    "--config", conf.toString(), "--pgdata", pgdata.toString()));
            PrefetchCommand.Starter none = (c, s, a, p) -> { };
            assertEquals(1, Shim.run(new ArchiveGetCommand(Map.of(), none), two,
                    pgdata.resolve("pg_wal/RECOVERYXLOG").toString(), "--config", conf.toString()).code());
            push(conf, two, Segments.segment(2, 3));
            Shim.Run got = Shim.run(new ArchiveGetCommand(Map.of(), none), two,
                    pgdata.resolve("pg_wal/RECOVERYXLOG").toString(), "--config", conf.toString());
            assertEquals(0, got.code(), got.err());
            assertArrayEquals(Segments.segment(2, 3), Files.readAllBytes(pgdata.resolve("pg_wal/RECOVERYXLOG")));
            try (var s = Files.list(spool.dir())) {
                assertFalse(s.anyMatch(p -> p.getFileName().toString().startsWith(PrefetchSpool.ASK)),
                        "the launcher removed its ask when it gave up");
            }
        } finally {
            new ProcessBuilder("kill", "-KILL", Long.toString(pid)).start().waitFor();
        }
    }

    /**
     * A standby's first ask with no prefetcher running (PostgreSQL asks for the next timeline's
     * history first): the launcher starts the prefetcher itself and hands it the ask, so the call
     * is answered with no archive-get JVM, and the prefetcher then serves the segments from where
     * recovery starts (backup_label). "Not archived" is the archive's answer as of each ask, never
     * a remembered one: the same history asked again once archived is served. The prefetcher
     * killed (-9) between asks: the next call starts another, whose answers are right again. Two
     * first calls at once start one prefetcher.
     */
    @Test
    void theFirstAskStartsThePrefetcherInsteadOfAJvmAndAKilledOneLeavesNoStaleAnswer() throws Exception {
        String stanza = "ask" + STANZAS.incrementAndGet();
        TestCloud.catalog().put(stanza, FakeCatalog.document(stanza, Long.toUnsignedString(Segments.SYSID), 150018,
                Segments.SIZE));
        Path conf = TestCloud.config(TestCloud.cloud(), dir, Map.of("stanza", stanza, "spool.dir",
                dir.resolve("spool").toString(), "retries", "1", "archive-get.prefetch", "2",
                "archive-get.prefetch-idle", "30"));
        for (int i = 0; i < 4; i++) {
            push(conf, Segments.name(i), Segments.segment(i, 3));
        }
        assertTrue(Files.exists(dir.resolve("spool").resolve(stanza).resolve("stanza.id")), "the segment size is cached");
        Path spoolDir = dir.resolve("spool").resolve(stanza).resolve("prefetch");
        Path pgdata = Files.createDirectories(dir.resolve("pgdata"));
        Path pgWal = Files.createDirectories(pgdata.resolve("pg_wal"));
        Files.writeString(pgdata.resolve(RecoveryStart.BACKUP_LABEL), "START WAL LOCATION: 0/5000028 (file "
                + Segments.name(0) + ")\nCHECKPOINT LOCATION: 0/5000060\n");
        io.tidemark.shim.support.InstalledLauncher launcher = new io.tidemark.shim.support.InstalledLauncher(dir);
        String[] common = {"--config", conf.toString(), "--pgdata", pgdata.toString()};
        java.util.function.BiFunction<String, String, Shim.Run> get = (f, p) -> {
            try {
                List<String> args = new java.util.ArrayList<>(List.of("archive-get", f, p));
                args.addAll(List.of(common));
                return launcher.run(pgdata, args.toArray(String[]::new));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        };
        List<Long> started = new java.util.ArrayList<>();
        var pool = java.util.concurrent.Executors.newFixedThreadPool(2);
        try {
            // two calls at once (two clusters on one stanza's spool): one prefetcher is started, and
            // each call gets the archive's answer (through it, or through the JVM when the call came
            // while the other was starting it)
            List<java.util.concurrent.Future<Shim.Run>> calls = new java.util.ArrayList<>();
            for (String target : List.of("pg_wal/RECOVERYHISTORY", "pg_wal/OTHER")) {
                calls.add(pool.submit(() -> get.apply("00000002.history", target)));
            }
            for (var c : calls) {
                Shim.Run none = c.get(3, java.util.concurrent.TimeUnit.MINUTES);
                assertEquals(1, none.code(), none.err() + launcher.launches());
                assertEquals("", none.err());
            }
            started.addAll(prefetcherPids(launcher));
            assertFalse(Files.exists(pgWal.resolve("RECOVERYHISTORY")));
            assertEquals(1, started.size(), "the launcher started the prefetcher once: " + launcher.launches());
            List<String> racing = launcher.jvms();
            assertTrue(racing.size() <= 1, "at most the racing call went to the JVM: " + launcher.launches());
            Shim.Run again = get.apply("00000002.history", "pg_wal/RECOVERYHISTORY");
            assertEquals(1, again.code(), again.err());
            for (int i = 0; i < 2; i++) {
                Shim.Run r = get.apply(Segments.name(i), "pg_wal/RECOVERYXLOG");
                assertEquals(0, r.code(), r.err());
                assertArrayEquals(Segments.segment(i, 3), Files.readAllBytes(pgWal.resolve("RECOVERYXLOG")));
            }
            byte[] history = "1\t0/8000060\tno recovery target specified\n".getBytes(StandardCharsets.US_ASCII);
            push(conf, "00000002.history", history);
            Shim.Run found = get.apply("00000002.history", "pg_wal/RECOVERYHISTORY");
            assertEquals(0, found.code(), found.err());
            assertArrayEquals(history, Files.readAllBytes(pgWal.resolve("RECOVERYHISTORY")));
            assertEquals(racing, launcher.jvms(), "no archive-get JVM: " + launcher.launches());

            ProcessHandle first = ProcessHandle.of(started.get(0)).orElseThrow();
            new ProcessBuilder("kill", "-KILL", Long.toString(first.pid())).start().waitFor();
            first.onExit().get(10, java.util.concurrent.TimeUnit.SECONDS);
            Shim.Run two = get.apply(Segments.name(2), "pg_wal/RECOVERYXLOG");
            assertEquals(0, two.code(), two.err());
            assertArrayEquals(Segments.segment(2, 3), Files.readAllBytes(pgWal.resolve("RECOVERYXLOG")));
            Shim.Run noThree = get.apply("00000003.history", "pg_wal/RECOVERYHISTORY");
            assertEquals(1, noThree.code(), noThree.err());
            byte[] history3 = "1\t0/8000060\tno recovery target specified\n2\t0/9000060\tno recovery target specified\n"
                    .getBytes(StandardCharsets.US_ASCII);
            push(conf, "00000003.history", history3);
            Shim.Run three = get.apply("00000003.history", "pg_wal/RECOVERYHISTORY");
            assertEquals(0, three.code(), three.err());
            assertArrayEquals(history3, Files.readAllBytes(pgWal.resolve("RECOVERYHISTORY")));
            Shim.Run four = get.apply(Segments.name(3), "pg_wal/RECOVERYXLOG");
            assertEquals(0, four.code(), four.err());
            assertArrayEquals(Segments.segment(3, 3), Files.readAllBytes(pgWal.resolve("RECOVERYXLOG")));
            assertEquals(1, get.apply(Segments.name(4), "pg_wal/RECOVERYXLOG").code(), "the end of the archive");
            started.clear();
            started.addAll(prefetcherPids(launcher));
            assertEquals(2, started.size(), "the call after the kill started another: " + launcher.launches());
            assertEquals(racing, launcher.jvms(), "no archive-get JVM: " + launcher.launches());
            assertFalse(Files.exists(spoolDir.resolve(".starting")));
        } finally {
            pool.shutdownNow();
            started.addAll(prefetcherPids(launcher));
            if (Files.exists(spoolDir.resolve(PrefetchSpool.PID))) {
                started.add(Long.parseLong(Files.readString(spoolDir.resolve(PrefetchSpool.PID)).strip()));
            }
            for (long pid : started) {
                new ProcessBuilder("kill", "-KILL", Long.toString(pid)).start().waitFor();
            }
        }
    }

    /** The pids of the prefetchers the launcher started (its launch log's lines). */
    private static List<Long> prefetcherPids(io.tidemark.shim.support.InstalledLauncher launcher) throws IOException {
        return launcher.launches().stream().filter(l -> l.startsWith("prefetcher started"))
                .map(l -> Long.parseLong(l.substring(l.indexOf("pid=") + 4).strip())).toList();
    }

    /**
     * archive-get run as PostgreSQL runs restore_command, in the group its startup process leads
     * (here a shell made session and group leader by setsid): the prefetcher it starts runs in a
     * session of its own (Linux's autogroup gives a session a CPU share of its own: it no longer
     * shares replay's) and leaves once that leader has ended, not after its idle time (60 s): it no
     * longer gets the signals PostgreSQL's stop sends that group.
     */
    @Test
    void thePrefetcherRunsInASessionOfItsOwnAndLeavesWithTheRecoveryProcess() throws Exception {
        String stanza = "ask" + STANZAS.incrementAndGet();
        Path conf = setup(stanza);
        push(conf, Segments.name(0), Segments.segment(0, 3));
        PrefetchSpool spool = PrefetchSpool.open(dir.resolve("spool"), StanzaName.of(stanza)).orElseThrow();
        Path target = Files.createDirectories(dir.resolve("pg_wal")).resolve("RECOVERYXLOG");
        String javaCommand = ProcessHandle.current().info().command().orElseThrow();
        Process recovery = new ProcessBuilder("setsid", "sh", "-c",
                "\"$0\" -cp \"$1\" io.tidemark.shim.Main archive-get --config \"$2\" \"$3\" \"$4\" >/dev/null 2>&1; exec sleep 120",
                javaCommand, System.getProperty("java.class.path"), conf.toString(), Segments.name(0), target.toString())
                .redirectErrorStream(true).start();
        long pid = -1;
        try {
            for (int i = 0; i < 3000 && pid < 0; i++) {
                Thread.sleep(20);
                if (spool.locked() && Files.exists(spool.dir().resolve(PrefetchSpool.PID))) {
                    pid = Long.parseLong(Files.readString(spool.dir().resolve(PrefetchSpool.PID)).strip());
                }
            }
            assertTrue(pid > 0, "the prefetcher runs");
            for (int i = 0; i < 1500 && !Files.exists(target); i++) {
                Thread.sleep(20); // the prefetcher starts before archive-get's own fetch
            }
            assertArrayEquals(Segments.segment(0, 3), Files.readAllBytes(target));
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            assertEquals(Long.toString(pid), f[3], "the prefetcher leads a session of its own: " + stat);
            ProcessHandle prefetcher = ProcessHandle.of(pid).orElseThrow();
            String cmdline = Files.readString(Path.of("/proc", Long.toString(pid), "cmdline")).replace('\0', ' ');
            assertTrue(cmdline.contains(" --leave-with " + recovery.pid() + " "), "to leave with " + recovery.pid() + ": " + cmdline);
            recovery.destroyForcibly().waitFor();
            assertTrue(prefetcher.onExit().get(5, java.util.concurrent.TimeUnit.SECONDS) != null);
            assertFalse(spool.locked());
            assertTrue(Files.readString(spool.dir().resolve(PrefetchSpool.LOG)).contains("has ended: leaving"));
        } finally {
            recovery.destroyForcibly().waitFor();
            if (pid > 0) {
                new ProcessBuilder("kill", "-KILL", Long.toString(pid)).start().waitFor();
            }
        }
    }

    /**
     * 64 MB segments from a real PostgreSQL ({@code initdb --wal-segsize=64}): the plan-less
     * prefetcher spools them (a window of 4 by {@code archive-get.spool-max-mb} 256), the launcher
     * serves them without a JVM, and the segment after the last is a fresh "not archived".
     */
    @Test
    void sixtyFourMegabyteSegmentsFromARealClusterArePrefetchedAndAnswered() throws Exception {
        String stanza = "ask" + STANZAS.incrementAndGet();
        io.tidemark.events.wal.WalSegmentSize size = io.tidemark.events.wal.WalSegmentSize.ofBytes(64 << 20);
        try (io.tidemark.testkit.PgCluster pg = io.tidemark.testkit.PgCluster.builder().walSegmentSizeMb(64).build().start()) {
            TestCloud.catalog().put(stanza, FakeCatalog.document(stanza, pg.controlData().get("Database system identifier"),
                    Integer.parseInt(pg.sql("show server_version_num")), size.bytes()));
            Path conf = TestCloud.config(TestCloud.cloud(), dir, Map.of("stanza", stanza, "spool.dir",
                    dir.resolve("spool").toString(), "retries", "1", "archive-get.prefetch", "8",
                    "archive-get.spool-max-mb", "256"));
            pg.sql("create table t(i int)");
            List<String> names = new java.util.ArrayList<>();
            for (int i = 0; i < 3; i++) {
                pg.sql("insert into t values (" + i + ")");
                String name = pg.switchWal();
                names.add(name);
                push(conf, name, Files.readAllBytes(pg.dataDir().resolve("pg_wal").resolve(name)));
            }
            // where a starting recovery of this cluster begins, read from its real pg_control (the
            // hint archive-get starts the prefetcher from at the first history ask): the last
            // checkpoint's redo segment, as pg_controldata says; none while in archive recovery
            pg.sql("checkpoint");
            Map<String, String> control = pg.controlData();
            io.tidemark.events.wal.WalSegmentName redo = io.tidemark.events.wal.WalSegmentName.containing(
                    io.tidemark.events.wal.TimelineId.parseDecimal(control.get("Latest checkpoint's TimeLineID")),
                    io.tidemark.events.wal.Lsn.parse(control.get("Latest checkpoint's REDO location")), size);
            assertEquals(Optional.of(redo), RecoveryStart.of(pg.dataDir(), size));
            Path copy = Files.createDirectories(dir.resolve("control").resolve("global"));
            byte[] bytes = Files.readAllBytes(pg.dataDir().resolve(RecoveryStart.PG_CONTROL));
            java.nio.ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.nativeOrder()).putInt(16, 5); // DB_IN_ARCHIVE_RECOVERY
            Files.write(copy.resolve("pg_control"), bytes);
            assertEquals(Optional.empty(), RecoveryStart.of(copy.getParent(), size), "promotion asks for history files too");

            Path spoolDir = dir.resolve("spool").resolve(stanza).resolve("prefetch");
            Path pgdata = Files.createDirectories(dir.resolve("pgdata"));
            Path pgWal = Files.createDirectories(pgdata.resolve("pg_wal"));
            FakeJavaLauncher launcher = new FakeJavaLauncher(dir);
            AtomicBoolean stop = new AtomicBoolean();
            Thread t = prefetcher(conf, stop, names.get(0), size);
            try {
                for (String name : names.subList(1, 3)) {
                    assertTrue(await(spoolDir.resolve(name)), name + " prefetched: " + log);
                    Shim.Run r = launcher.run(pgdata, "archive-get", name, "pg_wal/RECOVERYXLOG",
                            "--config", conf.toString(), "--pgdata", pgdata.toString());
                    assertEquals(0, r.code(), r.err());
                    assertArrayEquals(Files.readAllBytes(dir.resolve(name)), Files.readAllBytes(pgWal.resolve("RECOVERYXLOG")), name);
                }
                String next = io.tidemark.events.wal.WalSegmentName.parse(names.get(2), size).next().toString();
                Shim.Run miss = launcher.run(pgdata, "archive-get", next, "pg_wal/RECOVERYXLOG",
                        "--config", conf.toString(), "--pgdata", pgdata.toString());
                assertEquals(1, miss.code(), miss.err());
                assertEquals("", miss.err());
            } finally {
                stop.set(true);
                t.join(20_000);
            }
        }
        assertEquals("", log.toString(StandardCharsets.UTF_8));
    }
}
