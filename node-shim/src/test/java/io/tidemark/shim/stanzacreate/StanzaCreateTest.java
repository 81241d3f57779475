package io.tidemark.shim.stanzacreate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.shim.api.StanzaDoc;
import io.tidemark.shim.cli.ExitCodes;
import io.tidemark.shim.support.FakeCatalog;
import io.tidemark.shim.support.Shim;
import io.tidemark.shim.support.TestCloud;
import io.tidemark.testkit.PgCluster;
import io.tidemark.testkit.PgTest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@PgTest
class StanzaCreateTest {
    @TempDir
    Path dir;

    @Test
    void createsOnceCachesAndRefusesAnotherCluster() throws IOException {
        try (PgCluster pg = PgCluster.builder().walSegmentSizeMb(4).build().start()) {
            Path config = TestCloud.config(TestCloud.cloud(), dir, Map.of("stanza", "sc-main",
                    "spool.dir", dir.resolve("spool").toString()));
            String[] args = {"--config", config.toString(), "--pg-host", pg.socketDir().toString(),
                    "--pg-port", String.valueOf(pg.port()), "--pg-user", "postgres"};
            Shim.Run first = Shim.run(new StanzaCreateCommand(Map.of()), args);
            assertEquals(0, first.code(), first.err());
            assertTrue(first.out().startsWith("stanza sc-main created: system " + Long.toUnsignedString(pg.systemIdentifier())),
                    first.out());
            Path cached = dir.resolve("spool/sc-main/stanza.id");
            StanzaDoc doc = StanzaDoc.fromCacheText(Files.readString(cached));
            assertEquals(pg.systemIdentifier(), doc.systemIdentifier());
            assertEquals(4 << 20, doc.walSegmentSize().bytes());
            assertEquals(15, doc.pgVersion());
            assertTrue(doc.pgVersionNum() >= 150000 && doc.pgVersionNum() < 160000);

            Shim.Run again = Shim.run(new StanzaCreateCommand(Map.of()), args);
            assertEquals(0, again.code(), again.err());
            assertEquals("stanza sc-main already exists for this cluster", again.out().strip());

            TestCloud.catalog().put("sc-other", FakeCatalog.document("sc-other", "123", 150000, 16 << 20));
            Path other = TestCloud.config(TestCloud.cloud(), dir, Map.of("stanza", "sc-other",
                    "spool.dir", dir.resolve("spool").toString()));
            Shim.Run refused = Shim.run(new StanzaCreateCommand(Map.of("PGHOST", pg.socketDir().toString(),
                    "PGPORT", String.valueOf(pg.port()), "PGUSER", "postgres")), "--config", other.toString());
            assertEquals(ExitCodes.FAILED, refused.code());
            assertTrue(refused.err().contains("belongs to another cluster")
                    && refused.err().contains("exists for system identifier 123"), refused.err());
        }
    }

    @Test
    void unreachablePostgresIsOneClearLine() {
        Path config = TestCloud.config(TestCloud.cloud(), dir, Map.of("stanza", "sc-none"));
        Shim.Run r = Shim.run(new StanzaCreateCommand(Map.of()), "--config", config.toString(), "--pg-port", "1");
        assertEquals(ExitCodes.FAILED, r.code());
        assertTrue(r.err().contains("cannot read the cluster's identity from PostgreSQL at 127.0.0.1:1"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
    }
}
