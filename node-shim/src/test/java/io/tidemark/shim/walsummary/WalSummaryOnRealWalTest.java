package io.tidemark.shim.walsummary;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.testkit.PgCluster;
import io.tidemark.testkit.PgTest;
import io.tidemark.testkit.PgWalDump;
import io.tidemark.testkit.WalDumpStats;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code tidemark wal-summary --output json} on a segment a real cluster archived, against pg_waldump. */
@PgTest
class WalSummaryOnRealWalTest {

    @Test
    void jsonAgreesWithPgWaldump() throws Exception {
        try (PgCluster pg = PgCluster.builder().archiving().setting("max_prepared_transactions", "5").build().start()) {
            pg.sql("create table t(id int primary key, v text)");
            pg.sql("insert into t select g, md5(g::text) from generate_series(1, 20000) g");
            pg.sql("begin; insert into t values (-1, 'x'); rollback;");
            pg.sql("begin; insert into t values (-2, 'y'); prepare transaction 'p'; commit prepared 'p';");
            pg.sql("select pg_create_restore_point('cli-check')");
            pg.sql("update t set v = 'z' where id <= 100");
            String segment = pg.switchWal();
            Path file = pg.waitForArchived(segment, Duration.ofSeconds(30));

            WalSummaryCommandTest.Run r = WalSummaryCommandTest.run("wal-summary", file.toString(), "--output", "json");
            assertEquals(0, r.code(), r.err());
            JsonNode j = new ObjectMapper().readTree(r.out());
            WalDumpStats dump = PgWalDump.locate().file(file);

            assertEquals(segment, j.get("segment").asText());
            assertEquals(dump.recordCount(), j.get("records").asLong());
            assertEquals(dump.commitCount() + dump.commitPreparedXids().size(), j.get("commits").asLong());
            assertEquals(dump.abortCount() + dump.abortPreparedXids().size(), j.get("aborts").asLong());
            assertEquals(dump.lastCommitTime().orElseThrow().toString(), j.get("lastCommitTime").asText());
            List<String> names = new ArrayList<>();
            j.get("restorePoints").forEach(rp -> names.add(rp.get("name").asText()));
            assertEquals(dump.restorePoints(), names);
            assertEquals("switch", j.get("stopReason").asText());
            assertEquals(Long.toUnsignedString(pg.systemIdentifier()), j.get("systemIdentifier").asText());
        }
    }
}
