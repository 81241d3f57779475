package io.tidemark.shim.restore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import io.tidemark.shim.stanzacreate.StanzaCreateCommand;
import io.tidemark.shim.support.Shim;
import io.tidemark.shim.support.TestCloud;
import io.tidemark.testkit.PgCluster;
import io.tidemark.testkit.RunAs;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;
import org.awaitility.Awaitility;

/**
 * What the streamed-WAL cloud tests start from: the real local cloud enforcing the stack's IAM, a
 * PostgreSQL 15 primary with archiving, the stanza created by the shim's own stanza-create, a table
 * {@code t} with 100 rows and a full backup of it; and the restore they end with.
 */
record StreamedStanza(LocalCloud cloud, PgCluster primary, Path conf, WalSegmentSize size) implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    static StreamedStanza start(Path dir, String stanza) throws Exception {
        io.tidemark.localcloud.iam.StackAccess access = LocalCloud.defaultStackAccess();
        LocalCloud cloud = LocalCloudFunctions.register(LocalCloud.builder()).dir(dir.resolve("cloud"))
                .enforce(access, access).nodeStanza(stanza).start();
        PgCluster primary = PgCluster.builder().archiving().build().start();
        Path conf = TestCloud.config(cloud, dir, Map.of("spool.dir", dir.resolve("spool").toString(), "retries", "2"));
        StreamedStanza s = new StreamedStanza(cloud, primary, conf, WalSegmentSize.ofBytes(primary.walSegmentSize()));
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
        return s;
    }

    /** The node's configuration as the shim reads it. */
    ShimConfig nodeConfig() throws IOException {
        return nodeConfig(conf);
    }

    /** The configuration in {@code file} (a node of this stanza configured otherwise) as the shim reads it. */
    static ShimConfig nodeConfig(Path file) throws IOException {
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(file)) {
            p.load(in);
        }
        return ShimConfig.of(file, p, null, Map.of());
    }

    /**
     * Restores into {@code restored}'s empty data directory (with {@code target}'s options), fetches
     * the plan's WAL and history files with the real archive-get {@code --plan} into pg_wal (what restore_command
     * would write), then starts the server with {@code restore_command = 'false'} so recovery can
     * never use more than the plan gave it, and waits until it is promoted.
     */
    RestorePlan restoreAndRecover(PgCluster restored, String... target) throws Exception {
        Path pgdata = restored.dataDir();
        List<String> args = new ArrayList<>(List.of("--config", conf.toString(), "--pgdata", pgdata.toString()));
        args.addAll(List.of(target));
        Shim.Run r = Shim.run(new RestoreCommand(Map.of(), Clock.systemUTC(), 10, 1), args.toArray(String[]::new));
        assertEquals(0, r.code(), r.out() + r.err());
        Path planFile = pgdata.resolve(WalPlan.FILE_NAME);
        RestorePlan plan = RestorePlanJson.read(JSON.readTree(Files.readAllBytes(planFile)).path("document"));
        for (PlanWal w : plan.wal()) { // segments, and the history files of a later timeline
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
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (!restored.sql("select pg_is_in_recovery()").strip().equals("f")) {
            assertTrue(System.nanoTime() < deadline, "recovery did not finish\n" + restored.logContext());
            Thread.sleep(200);
        }
        return plan;
    }

    /** Archives {@code file} into the stanza with the shim's own archive-push, as archive_command would. */
    void push(Path file) {
        Shim.Run push = Shim.run(new ArchivePushCommand(Map.of()), file.toString(),
                "--config", conf.toString());
        assertEquals(0, push.code(), file + ": " + push.out() + push.err());
    }

    /** Pushes what the primary's archive_command archived so far, once it archived the segment before the current one. */
    void pushArchivedBeforeTheCurrentSegment() {
        WalSegmentName segment = WalSegmentName.parse(
                primary.currentWalFile(), size);
        primary.waitForArchived(segment.previous().toString(), Duration.ofMinutes(1));
        for (Path seg : primary.archivedSegments()) {
            push(seg);
        }
    }

    /** {@code tidemark info --output json}: the catalog's stanza document as a node reads it. */
    JsonNode info() throws IOException {
        Shim.Run json = Shim.run(new InfoCommand(Map.of(), Clock.systemUTC()), "--config",
                conf.toString(), "--output", "json");
        assertEquals(0, json.code(), json.err());
        return JSON.readTree(json.out());
    }

    /** {@code tidemark info}'s text. */
    String infoText() {
        Shim.Run text = Shim.run(new InfoCommand(Map.of(), Clock.systemUTC()), "--config",
                conf.toString());
        assertEquals(0, text.code(), text.err());
        return text.out();
    }

    /** Waits until the window's right edge covers {@code lsn} (a commit's flush LSN). */
    void awaitLatestAtLeast(Lsn lsn, Duration atMost) {
        Awaitility.await().atMost(atMost).pollInterval(Duration.ofMillis(250)).until(() -> {
            JsonNode l = info().path("window").path("latest").path("lsn");
            // a commit's flush LSN may lie in the padding after its record: compare aligned
            return l.isTextual() && Lsn.of((Lsn.parse(l.asText())
                    .value() + 7) & ~7L).compareTo(lsn) >= 0;
        });
    }

    @Override
    public void close() {
        try {
            primary.close();
        } finally {
            cloud.close();
        }
    }
}
