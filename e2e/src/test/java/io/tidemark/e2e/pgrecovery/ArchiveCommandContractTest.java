package io.tidemark.e2e.pgrecovery;

import static io.tidemark.e2e.pgrecovery.RecoveryKit.archiveStatus;
import static io.tidemark.e2e.pgrecovery.RecoveryKit.count;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.e2e.CloudFixture;
import io.tidemark.e2e.ShimInstall;
import io.tidemark.e2e.ShimProcess;
import io.tidemark.e2e.Waits;
import io.tidemark.testkit.FileTrees;
import io.tidemark.testkit.PgCluster;
import io.tidemark.testkit.PgTest;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * What PostgreSQL expects of its archive and restore commands, run through the packaged shim
 * and the real local cloud: status files, the signals of an immediate shutdown, and a segment
 * that starts with an overwritten contrecord.
 */
@PgTest
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ArchiveCommandContractTest {
    private static final String STANZA = "contract";
    private static final String CONTREC_STANZA = "contrecord";
    private static final long SEGMENT = 16L << 20;

    private static Path work;
    private static CloudFixture cloud;
    private static Path conf;
    private static String goodConf;
    private static PgCluster primary;
    private static Blackhole blackhole;
    private static final List<PgCluster> clusters = new ArrayList<>();

    @BeforeAll
    static void setUp() throws Exception {
        work = Files.createTempDirectory(Path.of("/tmp"), "tidemark-pgrec-ac-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        cloud = new CloudFixture(work.resolve("cloud")).start();
        // the synchronous archive-push (a JVM per call) is the command whose contract this checks
        conf = cloud.nodeConfig(work.resolve("node"), STANZA, "archive-get.prefetch=0\narchive-push.async=false\n");
        goodConf = Files.readString(conf);
        primary = track(PgCluster.builder()
                .setting("archive_mode", "on")
                .setting("archive_command", RecoveryKit.archiveCommand(conf, STANZA))
                .build().start());
        ok(RecoveryKit.shim(work, conf, STANZA, primary, "stanza-create"));
        primary.sql("create table t(id int)");
        blackhole = new Blackhole();
    }

    @AfterAll
    static void tearDown() throws IOException {
        if (blackhole != null) {
            blackhole.close();
        }
        clusters.forEach(PgCluster::close);
        if (cloud != null) {
            cloud.close();
        }
        FileTrees.deleteQuietly(work);
    }

    /**
     * PostgreSQL's 020_archive_status: a segment archived by the command is marked .done; while
     * the command fails, the segment keeps its .ready, the failure is counted, and it is archived
     * once the command succeeds again.
     */
    @Test
    @Order(1)
    void statusFilesGoFromReadyToDoneAndAFailureKeepsReady() throws Exception {
        primary.sql("insert into t select generate_series(1, 100)");
        String seg = primary.switchWal();
        Waits.archived(primary, seg, Duration.ofMinutes(2));
        assertTrue(archiveStatus(primary, ".done").contains(seg), seg + ".done");
        assertFalse(archiveStatus(primary, ".ready").contains(seg));
        assertTrue(cloud.walObjectNames(STANZA).contains(seg));

        long failed = Long.parseLong(primary.sql("select failed_count from pg_stat_archiver"));
        cloud.stop();
        String down;
        try {
            primary.sql("insert into t select generate_series(101, 200)");
            down = primary.switchWal();
            Waits.until(() -> Long.parseLong(primary.sql("select failed_count from pg_stat_archiver")) > failed
                            && primary.sql("select last_failed_wal from pg_stat_archiver").equals(down),
                    Duration.ofMinutes(1), "archive-push did not fail while S3 was down\n" + primary.logContext());
            assertTrue(archiveStatus(primary, ".ready").contains(down), down + " keeps .ready");
            assertFalse(archiveStatus(primary, ".done").contains(down));
        } finally {
            cloud.start();
        }
        // after three failures the archiver rests for up to a minute; a finished segment wakes it
        primary.sql("insert into t values (0)");
        primary.switchWal();
        Waits.archived(primary, down, Duration.ofMinutes(2));
        assertTrue(archiveStatus(primary, ".done").contains(down));
        assertFalse(archiveStatus(primary, ".ready").contains(down));
        assertTrue(cloud.walObjectNames(STANZA).contains(down));
    }

    /**
     * An immediate shutdown while archive-push waits on S3 (PostgreSQL's 020_archive_status and
     * every test that stops a node with 'immediate'): the postmaster sends SIGQUIT to the
     * archiver's process group. The shim ends at once, prints no thread dump into the server log,
     * leaves no temp file in pg_wal, and after the restart the segment is archived.
     */
    @Test
    @Order(2)
    void anImmediateShutdownEndsAHangingArchivePush() throws Exception {
        Files.writeString(conf, goodConf + "\n" + blackhole.configLines());
        String seg;
        List<ProcessHandle> shims;
        long logStart = Files.size(primary.logFile());
        try {
            int accepted = blackhole.accepted();
            primary.sql("insert into t select generate_series(201, 300)");
            seg = primary.switchWal();
            Waits.until(() -> blackhole.accepted() > accepted && !shimProcesses("archive-push").isEmpty(),
                    Duration.ofMinutes(1), "archive-push did not reach the endpoint that never answers\n"
                            + primary.logContext());
            shims = shimProcesses("archive-push");
            RecoveryKit.stopImmediately(primary);
            for (ProcessHandle p : shims) {
                p.onExit().orTimeout(10, TimeUnit.SECONDS).exceptionally(t -> null).join();
                assertFalse(p.isAlive(), "archive-push " + p.pid() + " outlived the server's immediate shutdown");
            }
        } finally {
            Files.writeString(conf, goodConf);
        }
        String log = Files.readString(primary.logFile()).substring((int) logStart);
        assertFalse(log.contains("thread dump") || log.contains("Full thread"), "a thread dump in the server log:\n" + log);
        assertEquals(List.of(), RecoveryKit.tempFiles(primary.walDir()));
        assertFalse(cloud.walObjectNames(STANZA).contains(seg), "nothing reached S3");

        primary.start();
        Waits.archived(primary, seg, Duration.ofMinutes(2));
        assertTrue(cloud.walObjectNames(STANZA).contains(seg));
    }

    /**
     * PostgreSQL ends a restore command with SIGQUIT (immediate shutdown, crash restart) or
     * SIGTERM (fast shutdown; also how a promotion stops it). archive-get ends by the signal
     * itself (PostgreSQL aborts recovery on death by a signal) with no thread dump, and the next
     * run delivers the file and leaves no temp file behind, also none a killed run left.
     */
    @Test
    @Order(3)
    void archiveGetEndsByTheSignalsPostgresSendsAndTheNextRunSucceeds() throws Exception {
        String seg = primary.switchWal();
        Waits.archived(primary, seg, Duration.ofMinutes(2));
        Path pgwal = Files.createDirectories(work.resolve("get-target"));
        Path bad = work.resolve("blackhole.conf");
        Files.writeString(bad, goodConf + "\n" + blackhole.configLines());
        for (String signal : List.of("QUIT", "TERM", "INT")) {
            int accepted = blackhole.accepted();
            Process p = startShim(bad, "archive-get", seg, pgwal.resolve("RECOVERYXLOG").toString());
            Waits.until(() -> blackhole.accepted() > accepted || !p.isAlive(), Duration.ofSeconds(30),
                    "archive-get did not reach the endpoint");
            assertTrue(p.isAlive(), "archive-get ended before the signal");
            new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).start().waitFor();
            // Half the shim's own request timeout (the API's 30 s; S3's is 60 s): an exit within it
            // is the signal's doing, not a timeout's. It once took more than 5 s on a machine at
            // load 20 on 2 cores (JVM shutdown starved of CPU), so 5 s said more about the load.
            assertTrue(p.waitFor(15, TimeUnit.SECONDS), "archive-get ignored SIG" + signal);
            String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8)
                    + new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int expected = 128 + switch (signal) {
                case "QUIT" -> 3;
                case "TERM" -> 15;
                default -> 2;
            };
            assertEquals(expected, p.exitValue(), "death by SIG" + signal + "; output: " + err);
            assertFalse(err.contains("thread dump") || err.contains("Full thread"), err);
        }
        // what a run killed between write and rename leaves (its pid is gone)
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        Files.writeString(pgwal.resolve(".RECOVERYXLOG.tidemark." + gone.pid() + ".tmp"), "half a segment");
        ShimProcess.Result r = ShimProcess.run(work, Map.of(), "archive-get", seg, pgwal.resolve("RECOVERYXLOG").toString(),
                "--config", conf.toString(), "--stanza", STANZA);
        assertEquals(0, r.code(), r.toString());
        assertEquals(SEGMENT, Files.size(pgwal.resolve("RECOVERYXLOG")));
        assertEquals(List.of(), RecoveryKit.tempFiles(pgwal));
    }

    /**
     * PostgreSQL's 026_overwrite_contrecord: a record crossing into the next segment is cut off by
     * an immediate stop and the loss of that segment; the server writes an OVERWRITE_CONTRECORD
     * record where the rest should have been, and here switches WAL right after it. A standby
     * reading only the archive replays across it: both segments are archived as PostgreSQL wrote
     * them, and the standby has the rows written afterwards. 1 MB segments, as the original.
     */
    @Test
    @Order(4)
    void aWalSwitchRightAfterAnOverwrittenContrecordIsArchivedAndReplayed() throws Exception {
        // a node of its own stanza: node roles are per stanza
        Path conf = cloud.nodeConfig(work.resolve("node-contrecord"), CONTREC_STANZA, "archive-get.prefetch=0\n");
        PgCluster c = track(PgCluster.builder().walSegmentSizeMb(1)
                .setting("archive_mode", "on")
                .setting("archive_command", RecoveryKit.archiveCommand(conf, CONTREC_STANZA))
                .build().start());
        ok(RecoveryKit.shim(work, conf, CONTREC_STANZA, c, "stanza-create"));
        c.sql("create table filler (a int, b text)");
        PgCluster standby = track(RecoveryKit.standbyOf(c, false, "none", Map.of(
                "archive_mode", "off",
                "restore_command", RecoveryKit.restoreCommand(conf, CONTREC_STANZA))));
        // fill the current segment until less than two pages are left, so the next large record
        // starts in this segment and continues in the next
        c.sql("""
                do $$
                declare
                  seg int := setting::int from pg_settings where name = 'wal_segment_size';
                  page int := setting::int from pg_settings where name = 'wal_block_size';
                begin
                  loop
                    insert into filler select g, repeat(md5(g::text), (random() * 60 + 1)::int) from generate_series(1, 10) g;
                    exit when seg - (pg_current_wal_insert_lsn() - '0/0') % seg < 2 * page;
                  end loop;
                end
                $$""");
        String first = c.sql("select pg_walfile_name(pg_current_wal_insert_lsn())");
        c.sql("select pg_logical_emit_message(true, 'tidemark', repeat('xyzxz', 123456))");
        String cut = c.sql("select pg_walfile_name(pg_current_wal_insert_lsn())");
        assertNotEquals(first, cut, "the message crosses into the next segment");
        int filler = count(c, "filler");

        RecoveryKit.stopImmediately(c);
        Files.delete(c.walDir().resolve(cut));
        c.start();
        c.sql("select pg_switch_wal()"); // right after the OVERWRITE_CONTRECORD record
        c.sql("create table foo(a text); insert into foo values ('hello')");
        String last = c.switchWal();
        Waits.archived(c, last, Duration.ofMinutes(2));
        assertTrue(cloud.walObjectNames(CONTREC_STANZA).containsAll(List.of(first, cut, last)),
                "archived: " + cloud.walObjectNames(CONTREC_STANZA));

        // the indexer reads the aborted record's segment and the one starting with the overwrite
        // as ordinary archived WAL: one contiguous range, no gap, no damaged segment
        assertTrue(cloud.awaitQuiescent(Duration.ofMinutes(2)));
        ShimProcess.Result info = RecoveryKit.shim(work, conf, CONTREC_STANZA, c, "info", "--output", "json");
        assertEquals(0, info.code(), info.toString());
        JsonNode tl = new ObjectMapper().readTree(info.out()).path("timelines").get(0);
        assertEquals(1, tl.path("walRanges").size(), info.out());
        assertEquals(0, tl.path("gaps").size(), info.out());
        assertEquals(last, tl.path("lastSegment").asText(), info.out());

        standby.start();
        Waits.until(() -> standby.psql("select a from foo").stdoutTrimmed().equals("hello"), Duration.ofMinutes(2),
                "the standby did not replay past the overwritten contrecord\n" + standby.logContext());
        assertEquals(filler, count(standby, "filler"));
        assertTrue(Files.readString(standby.logFile()).contains("successfully skipped missing contrecord"),
                standby.logContext());
    }

    // ---------------------------------------------------------------- helpers

    /** A TCP endpoint that accepts connections and never answers: S3 and the API hanging. */
    static final class Blackhole implements AutoCloseable {
        private final ServerSocket server;
        private final List<Socket> held = new CopyOnWriteArrayList<>();

        Blackhole() throws IOException {
            server = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
            Thread t = new Thread(() -> {
                while (!server.isClosed()) {
                    try {
                        held.add(server.accept());
                    } catch (IOException e) {
                        return;
                    }
                }
            }, "blackhole");
            t.setDaemon(true);
            t.start();
        }

        int accepted() {
            return held.size();
        }

        String configLines() {
            String url = "http://127.0.0.1:" + server.getLocalPort();
            return "s3.endpoint=" + url + "\napi.url=" + url + "\n";
        }

        @Override
        public void close() throws IOException {
            server.close();
            for (Socket s : held) {
                s.close();
            }
        }
    }

    /** The shim's JVMs (and shells) running {@code command} with our configuration. */
    private static List<ProcessHandle> shimProcesses(String command) {
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().map(l -> l.contains(command) && l.contains(conf.toString()))
                        .orElse(false))
                .toList();
    }

    private static Process startShim(Path config, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(ShimInstall.get().launcher().toString()));
        cmd.addAll(List.of(args));
        cmd.addAll(List.of("--config", config.toString(), "--stanza", STANZA));
        Process p = new ProcessBuilder(cmd).directory(work.toFile()).start();
        p.getOutputStream().close();
        return p;
    }

    private static PgCluster track(PgCluster c) {
        clusters.add(c);
        return c;
    }

    private static void ok(ShimProcess.Result r) {
        assertEquals(0, r.code(), r.toString());
    }
}
