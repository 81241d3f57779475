package io.tidemark.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

@PgTest
class PgClusterTest {

    @Test
    void startRunSqlStopAndCloseRemovesEverything() throws Exception {
        Path base;
        try (PgCluster pg = PgCluster.builder().dataChecksums(true).build()) {
            base = pg.baseDir();
            assertTrue(Files.isDirectory(pg.dataDir()), "initdb made the data dir");
            assertFalse(pg.isRunning());
            pg.start();
            assertTrue(pg.port() > 0);
            assertEquals("1", pg.sql("select 1"));
            assertEquals("2|b\n3|c", pg.sql("""
                    create table t(id int, v text);
                    insert into t values (2, 'b'), (3, 'c');
                    select * from t order by id;
                    """));
            assertEquals("on", pg.sql("show data_checksums"));
            assertEquals("UTC", pg.sql("show timezone"));
            assertEquals(pg.binaries().majorVersion(),
                    Integer.parseInt(pg.sql("show server_version_num")) / 10000);
            pg.stop();
            assertFalse(pg.isRunning());
            assertTrue(Files.isDirectory(pg.dataDir()), "stop keeps the data");
            pg.start();
            assertEquals("2", pg.sql("select count(*) from t"), "data survives a restart");
        }
        assertFalse(Files.exists(base), "close deletes the cluster dir");
    }

    @Test
    void twoClustersRunSideBySide() {
        try (PgCluster a = PgCluster.builder().build().start();
             PgCluster b = PgCluster.builder().build().start()) {
            assertNotEquals(a.port(), b.port());
            assertNotEquals(a.systemIdentifier(), b.systemIdentifier());
            a.sql("create table only_in_a(id int)");
            assertEquals("1", a.sql("select count(*) from pg_class where relname = 'only_in_a'"));
            assertEquals("0", b.sql("select count(*) from pg_class where relname = 'only_in_a'"));
        }
    }

    @Test
    void controlDataMatchesTheServer() {
        try (PgCluster pg = PgCluster.builder().walSegmentSizeMb(1).build().start()) {
            assertEquals(1 << 20, pg.walSegmentSize());
            assertEquals(pg.sql("select setting from pg_settings where name = 'wal_segment_size'"),
                    String.valueOf(pg.walSegmentSize()));
            assertEquals(pg.sql("select system_identifier from pg_control_system()"),
                    Long.toUnsignedString(pg.systemIdentifier()));
            assertEquals(8192, pg.walBlockSize());
        }
    }

    @Test
    void failedSqlNamesTheCommandAndShowsServerLog() {
        try (PgCluster pg = PgCluster.builder().build().start()) {
            CommandFailedException e = assertThrows(CommandFailedException.class,
                    () -> pg.sql("select * from no_such_table"));
            assertTrue(e.getMessage().contains("psql"), e.getMessage());
            assertTrue(e.getMessage().contains("no_such_table"), e.getMessage());
            assertTrue(e.getMessage().contains("server log"), e.getMessage());
            assertEquals(3, e.result().orElseThrow().exitCode(), "ON_ERROR_STOP exit code");
        }
    }

    @Test
    void failedStartShowsServerLogAndCloseStillCleansUp() {
        PgCluster pg = PgCluster.builder().setting("shared_buffers", "not-a-size").build();
        Path base = pg.baseDir();
        try (pg) {
            CommandFailedException e = assertThrows(CommandFailedException.class, pg::start);
            assertTrue(e.getMessage().contains("shared_buffers"), e.getMessage());
            assertFalse(pg.isRunning());
        }
        assertFalse(Files.exists(base));
    }

    @Test
    void jdbcSessionCanHoldAPreparedTransaction() throws Exception {
        try (PgCluster pg = PgCluster.builder().setting("max_prepared_transactions", "5").build().start()) {
            pg.sql("create table t(id int)");
            try (Connection c = pg.connect(); Statement s = c.createStatement()) {
                s.execute("begin");
                s.execute("insert into t values (1)");
                try (ResultSet rs = s.executeQuery("select pg_current_xact_id()")) {
                    assertTrue(rs.next());
                }
                s.execute("prepare transaction 'held'");
                assertEquals("held", pg.sql("select gid from pg_prepared_xacts"));
            }
            assertEquals("0", pg.sql("select count(*) from t"), "prepared, not yet committed");
            pg.sql("commit prepared 'held'");
            assertEquals("1", pg.sql("select count(*) from t"));
        }
    }

    @Test
    void archivesSwitchedSegmentsAndTheJvmCanReadWalDirectly() throws Exception {
        try (PgCluster pg = PgCluster.builder().archiving().build().start()) {
            pg.sql("create table t(id int); insert into t values (1)");
            String current = pg.currentWalFile();
            String switched = pg.switchWal();
            assertEquals(current, switched);
            Path archived = pg.waitForArchived(switched, Duration.ofSeconds(30));
            assertEquals(pg.walSegmentSize(), Files.size(archived));
            assertEquals(List.of(archived), pg.archivedSegments());

            // the JVM (root or not) reads WAL straight from pg_wal: check the long page header magic
            try (InputStream in = Files.newInputStream(pg.walDir().resolve(switched))) {
                ByteBuffer header = ByteBuffer.wrap(in.readNBytes(8)).order(ByteOrder.LITTLE_ENDIAN);
                int magic = header.getShort(0) & 0xFFFF;
                assertTrue(magic >= 0xD000, "XLOG_PAGE_MAGIC, got 0x" + Integer.toHexString(magic));
            }
        }
    }

    @Test
    void runExecutesToolsAsTheServerUser() {
        try (PgCluster pg = PgCluster.builder().build().start()) {
            CommandResult r = pg.run(List.of("id", "-un"));
            assertEquals(pg.runAs().userName(), r.stdoutTrimmed());
            CommandResult failed = pg.tryRun(List.of(pg.bin("pg_ctl").toString(), "--no-such-option"), Duration.ofSeconds(10));
            assertFalse(failed.succeeded());
            assertThrows(CommandFailedException.class, () -> pg.run(List.of("false")));
        }
    }
}
