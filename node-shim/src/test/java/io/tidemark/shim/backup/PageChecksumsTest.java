package io.tidemark.shim.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.testkit.CommandResult;
import io.tidemark.testkit.PgCluster;
import io.tidemark.testkit.PgTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Against a real cluster with data checksums, and pg_checksums as the second opinion. */
@PgTest
class PageChecksumsTest {

    @Test
    void realPagesVerifyAndACorruptedPageIsNamedLikePgChecksumsDoes() throws Exception {
        try (PgCluster pg = PgCluster.builder().dataChecksums(true).build().start()) {
            pg.sql("create table t(id int, v text)");
            pg.sql("insert into t select g, repeat('x', 200) from generate_series(1, 20000) g");
            pg.checkpoint();
            String rel = pg.sql("select pg_relation_filepath('t')");
            pg.stop();
            Path file = pg.dataDir().resolve(rel);
            byte[] data = Files.readAllBytes(file);
            assertTrue(data.length >= 40 * PageChecksums.PAGE_SIZE);
            assertTrue(PageChecksums.isRelationFile(rel), rel);
            assertEquals(List.of(), PageChecksums.verify(data, data.length, 0, -1L));

            int block = 17;
            data[block * PageChecksums.PAGE_SIZE + 3000] ^= 0x5A;
            assertEquals(List.of((long) block), PageChecksums.verify(data, data.length, 0, -1L));
            // a page changed after the backup started is not judged
            assertEquals(List.of(), PageChecksums.verify(data, data.length, 0, 0L));

            Files.write(file, data);
            CommandResult r = pg.tryRun(List.of(pg.bin("pg_checksums").toString(), "--check", "-D", pg.dataDir().toString()),
                    java.time.Duration.ofSeconds(60));
            assertTrue(r.exitCode() != 0, r.stdout());
            assertTrue((r.stdout() + r.stderr()).contains("block " + block), r.stdout() + r.stderr());
        }
    }

    @Test
    void relationFileNames() {
        assertTrue(PageChecksums.isRelationFile("base/16384/16385"));
        assertTrue(PageChecksums.isRelationFile("base/16384/16385_fsm"));
        assertTrue(PageChecksums.isRelationFile("base/16384/16385.3"));
        assertTrue(PageChecksums.isRelationFile("global/1262"));
        assertTrue(PageChecksums.isRelationFile("pg_tblspc/16400/PG_15_202209061/16384/16401"));
        assertFalse(PageChecksums.isRelationFile("base/16384/pg_filenode.map"));
        assertFalse(PageChecksums.isRelationFile("global/pg_control"));
        assertFalse(PageChecksums.isRelationFile("base/16384/PG_VERSION"));
        assertFalse(PageChecksums.isRelationFile("pg_wal/000000010000000000000001"));
        assertEquals(3, PageChecksums.segmentOf("16385.3"));
        assertEquals(0, PageChecksums.segmentOf("16385"));
    }
}
