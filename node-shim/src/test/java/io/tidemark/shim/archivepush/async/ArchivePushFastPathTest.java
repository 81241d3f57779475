package io.tidemark.shim.archivepush.async;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.events.layout.StanzaName;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher's archive-push fast path, run as PostgreSQL runs it. The launcher is copied into
 * an install without the shim's jar: answering without a JVM is exit 0; falling through to the
 * JVM shows as "the shim is not built" (exit 1), so no test here can pass by starting Java.
 */
@Tag("unit")
class ArchivePushFastPathTest {
    private static final String SEG = "00000001000000000000002A";

    @TempDir
    Path dir;

    private Path launcher;
    private Path spoolDir;
    private Path launchLog;

    record Run(int code, String err) {
        boolean fellThrough() {
            return code == 1 && err.contains("the shim is not built");
        }
    }

    @BeforeEach
    void install() throws IOException {
        Path repoBin = Path.of("..", "bin").toAbsolutePath().normalize();
        Path bin = Files.createDirectories(dir.resolve("install/bin/lib"));
        Files.copy(repoBin.resolve("tidemark"), bin.getParent().resolve("tidemark"), StandardCopyOption.COPY_ATTRIBUTES);
        Files.copy(repoBin.resolve("lib/find-java.sh"), bin.resolve("find-java.sh"));
        launcher = bin.getParent().resolve("tidemark");
        spoolDir = dir.resolve("spool");
        launchLog = dir.resolve("launch.log");
    }

    private Path conf(String text) throws IOException {
        Path f = Files.createTempFile(dir, "tm", ".conf");
        Files.writeString(f, text);
        return f;
    }

    private String base(String stanza) {
        return "s3.region=us-east-1\ns3.bucket=b\nstanza=" + stanza + "\nspool.dir=" + spoolDir + "\n";
    }

    private ArchiveSpool spool(String stanza) {
        return ArchiveSpool.open(spoolDir, StanzaName.of(stanza)).orElseThrow();
    }

    /** Writes {@code pg_wal/<name>} (below the test's working directory) unless it exists. */
    private Path segment(String name, String content) throws IOException {
        Path f = Files.createDirectories(dir.resolve("pg_wal")).resolve(name);
        if (!Files.exists(f)) {
            Files.writeString(f, content);
        }
        return f;
    }

    /** What the worker records once S3 confirmed the file: its size and SHA-256. */
    private void pushed(ArchiveSpool s, String name) throws IOException {
        byte[] b = Files.readAllBytes(segment(name, "segment " + name));
        s.markOk(name, b.length, io.tidemark.shim.storage.CreateOnly.sha256(b));
    }

    private Run run(Map<String, String> env, String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("archive-push"));
        all.addAll(List.of(args));
        return launch(env, all.toArray(String[]::new));
    }

    /** The launcher with exactly these arguments (the command's name among them). */
    private Run launch(Map<String, String> env, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("bash", launcher.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile());
        pb.environment().remove("TIDEMARK_CONFIG");
        pb.environment().put("TIDEMARK_LAUNCH_LOG", launchLog.toString());
        pb.environment().putAll(env);
        Process p = pb.start();
        p.getOutputStream().close();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Run(p.waitFor(), err);
    }

    @Test
    void aFileTheWorkerArchivedIsAnsweredWithoutAJvm() throws Exception {
        Path c = conf(base("main") + "archive-push.async = true\n");
        pushed(spool("main"), SEG);
        Run r = run(Map.of(), "--config", c.toString(), "pg_wal/" + SEG);
        assertEquals(new Run(0, ""), r);
        assertEquals("fast archive-push " + SEG + "\n", Files.readString(launchLog));
        // the option forms PostgreSQL's archive_command may use
        assertEquals(0, run(Map.of(), "--config=" + c, "--stanza=main", "--pgdata", dir.toString(), dir + "/pg_wal/" + SEG).code());
        assertEquals(0, run(Map.of("TIDEMARK_CONFIG", c.toString()), "--pg-port", "5433", "pg_wal/" + SEG).code());
        // common options before the command, as pgBackRest allows: answered by the fast path too
        assertEquals(new Run(0, ""), launch(Map.of(), "--stanza=main", "--config", c.toString(), "archive-push", "pg_wal/" + SEG));
        assertEquals(new Run(0, ""), launch(Map.of(), "--config=" + c, "archive-push", "--stanza", "main", "pg_wal/" + SEG));
        assertEquals(List.of("fast"), Files.readAllLines(launchLog).stream().map(l -> l.split(" ")[0]).distinct().toList());
        assertEquals(5, Files.readAllLines(launchLog).size());
        assertTrue(launch(Map.of(), "--stanza", "other", "--config", c.toString(), "archive-push", "pg_wal/" + SEG)
                .fellThrough(), "the stanza before the command counts: another stanza's spool");
    }

    @Test
    void everyOtherFileGoesToTheJvm() throws Exception {
        Path c = conf(base("main") + "archive-push.async=true\n");
        ArchiveSpool s = spool("main");
        pushed(s, SEG);
        s.markError("00000001000000000000002B", "S3 said no");
        assertTrue(run(Map.of(), "--config", c.toString(), "pg_wal/00000001000000000000002B").fellThrough(), "an error");
        assertTrue(run(Map.of(), "--config", c.toString(), "pg_wal/00000001000000000000002C").fellThrough(), "not done");
        assertTrue(run(Map.of(), "--config", c.toString(), "--stanza", "other", "pg_wal/" + SEG).fellThrough(),
                "another stanza's spool");
        assertTrue(run(Map.of(), "--config", c.toString(), "pg_wal/" + SEG + ".ok").fellThrough(), "not a WAL name");
        assertTrue(run(Map.of("TIDEMARK_NO_FAST_PATH", "1"), "--config", c.toString(), "pg_wal/" + SEG).fellThrough());
        assertTrue(run(Map.of(), "--config", c.toString(), "--verbose", "pg_wal/" + SEG).fellThrough(), "unknown option");
        assertTrue(run(Map.of(), "--config", c.toString(), "pg_wal/" + SEG, "extra").fellThrough(), "two files");
        assertTrue(run(Map.of(), "pg_wal/" + SEG).fellThrough(), "no configuration");
        assertTrue(Files.notExists(launchLog) || !Files.readString(launchLog).contains("fast"));
    }

    @Test
    void theConfigurationDecidesAndAnythingUnusualFallsThrough() throws Exception {
        pushed(spool("main"), SEG);
        for (String conf : List.of(
                base("main") + "archive-push.async=false\n",
                base("main") + "archive-push.async  false\n",            // the space separator: still off
                base("main") + "archive-push.async=true\narchive-push.async=false\n", // the last one wins, as in Java
                base("main") + "archive-push.async=tru\\\n e\n",          // a continuation line: Java's business
                base("ma\\u0069n") + "archive-push.async=true\n")) {     // an escape
            assertTrue(run(Map.of(), "--config", conf(conf).toString(), "pg_wal/" + SEG).fellThrough(), conf);
        }
        assertEquals(0, run(Map.of(), "--config", conf(base("main") + "archive-push.async=false\narchive-push.async=true\n")
                .toString(), "pg_wal/" + SEG).code());
        assertEquals(0, run(Map.of(), "--config", conf(base("main")).toString(), "pg_wal/" + SEG).code(), "async by default");
        assertEquals(0, run(Map.of(), "--config", conf(base("main") + "archive-push.async true\n").toString(),
                "pg_wal/" + SEG).code(), "the space separator, as Java reads it");
    }

    @Test
    void aRecordForOtherContentUnderTheSameNameIsNotAnAnswer() throws Exception {
        Path c = conf(base("main") + "archive-push.async=true\n");
        ArchiveSpool s = spool("main");
        pushed(s, SEG);
        assertEquals(0, run(Map.of(), "--config", c.toString(), "pg_wal/" + SEG).code(), "the content that was pushed");
        // the same name, the same size, one byte changed: the record is not for this file
        Path wal = dir.resolve("pg_wal").resolve(SEG);
        byte[] b = Files.readAllBytes(wal);
        b[0] ^= 1;
        Files.write(wal, b);
        assertTrue(run(Map.of(), "--config", c.toString(), "pg_wal/" + SEG).fellThrough(), "other bytes");
        Files.write(wal, java.util.Arrays.copyOf(b, b.length + 1));
        assertTrue(run(Map.of(), "--config", c.toString(), "pg_wal/" + SEG).fellThrough(), "other size");
        Files.delete(wal);
        assertTrue(run(Map.of(), "--config", c.toString(), "pg_wal/" + SEG).fellThrough(), "no file");
        Files.writeString(s.dir().resolve(SEG + ".ok"), "archived 2026-12-06T10:00:00Z\n");
        segment(SEG, "x");
        assertTrue(run(Map.of(), "--config", c.toString(), "pg_wal/" + SEG).fellThrough(), "a record without size and checksum");
    }

    @Test
    void aSymlinkedOrForeignRecordIsNotTrusted() throws Exception {
        Path c = conf(base("main") + "archive-push.async=true\n");
        ArchiveSpool s = spool("main");
        Path elsewhere = Files.writeString(dir.resolve("fake.ok"), "archived now\n");
        Files.createSymbolicLink(s.dir().resolve(SEG + ".ok"), elsewhere);
        assertTrue(run(Map.of(), "--config", c.toString(), "pg_wal/" + SEG).fellThrough());
        Files.writeString(s.dir().resolve("00000001000000000000002B.ok"), "garbage\n");
        assertTrue(run(Map.of(), "--config", c.toString(), "pg_wal/00000001000000000000002B").fellThrough());
    }

    @Test
    void aDroppedFileIsAnsweredWithALoudWarning() throws Exception {
        Path c = conf(base("main") + "archive-push.async=true\n");
        spool("main").markDropped(SEG, Files.size(segment(SEG, "a dropped segment")), "archive-push.queue-max=0 exceeded");
        Run r = run(Map.of(), "--config", c.toString(), "pg_wal/" + SEG);
        assertEquals(0, r.code());
        assertTrue(r.err().contains("WARNING: " + SEG + " was NOT archived: dropped by archive-push.queue-max"), r.err());
        try (Stream<Path> l = Files.list(spoolDir.resolve("main/archive"))) {
            assertTrue(l.anyMatch(p -> p.getFileName().toString().equals(SEG + ".dropped")));
        }
    }

    @Test
    void whileAWorkerRunsTheLauncherWaitsForItInsteadOfStartingAJvm() throws Exception {
        Path c = conf(base("main") + "archive-push.async=true\n");
        ArchiveSpool s = spool("main");
        s.writePid(dir); // this test's JVM plays the live worker, following this data directory
        Thread pusher = new Thread(() -> {
            try {
                Thread.sleep(400);
                pushed(s, SEG);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        pusher.start();
        Run r = run(Map.of(), "--config", c.toString(), "pg_wal/" + SEG);
        pusher.join();
        assertEquals(new Run(0, ""), r);
        assertEquals("wait archive-push " + SEG + "\n", Files.readString(launchLog));

        // the worker's error: the JVM reports it
        s.markError("00000001000000000000002B", "S3 said no");
        assertTrue(run(Map.of(), "--config", c.toString(), "pg_wal/00000001000000000000002B").fellThrough());
        // a live worker that follows another data directory (a restored copy of the stanza beside
        // this one) never sees this file: the JVM, at once, not after waiting for that worker
        s.writePid(dir.resolve("other-cluster"));
        long t1 = System.nanoTime();
        assertTrue(run(Map.of(), "--config", c.toString(), "pg_wal/00000001000000000000002C").fellThrough());
        assertTrue(System.nanoTime() - t1 < 5_000_000_000L, "no wait for a worker of another cluster");
        // no live worker behind the pid file: the JVM starts one
        Files.writeString(s.dir().resolve("worker.pid"), "999999999\n");
        long t0 = System.nanoTime();
        assertTrue(run(Map.of(), "--config", c.toString(), "pg_wal/00000001000000000000002C").fellThrough());
        assertTrue(System.nanoTime() - t0 < 5_000_000_000L, "no wait for a process that is gone");
        s.removePid();
        assertTrue(run(Map.of(), "--config", c.toString(), "pg_wal/00000001000000000000002C").fellThrough());
    }
}
