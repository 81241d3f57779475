package io.tidemark.shim.stanzacreate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tidemark.shim.api.StanzaDoc;
import io.tidemark.shim.cli.ExitCodes;
import io.tidemark.shim.support.FakeCatalog;
import io.tidemark.shim.support.Shim;
import io.tidemark.shim.support.TestCloud;
import io.tidemark.testkit.PgCluster;
import io.tidemark.testkit.PgTest;
import io.tidemark.testkit.RunAs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@PgTest
class StanzaCreateTest {
    @TempDir
    Path dir;

    // one cluster for the class: each test creates its own stanzas (names, spool) on it, and none
    // claims anything of a fresh cluster
    static PgCluster pg;

    @BeforeAll
    static void start() throws Exception {
        pg = PgCluster.builder().walSegmentSizeMb(4).build().start();
    }

    @AfterAll
    static void stop() {
        if (pg != null) {
            pg.close();
        }
    }

    @Test
    void createsOnceCachesAndRefusesAnotherCluster() throws IOException {
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

    /**
     * {@code sudo tidemark stanza-create} with a configured spool: the stanza's directory and the
     * cached document go to the user PostgreSQL runs as (the data directory's owner, learnt from
     * the server), whose archive-push uses only a spool of its own; before, root took it and every
     * segment was pushed synchronously.
     */
    @Test
    void rootLeavesTheStanzasSpoolToPostgresUser() throws IOException {
        RunAs as = RunAs.detect();
        assumeTrue(as.switchesUser() && "root".equals(System.getProperty("user.name")), "needs root");
        // a node's shared spool.dir (as /var/spool/tidemark): root's, others may enter
        Files.createDirectory(dir.resolve("spool"), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        Path config = TestCloud.config(TestCloud.cloud(), dir, Map.of("stanza", "sc-root",
                "spool.dir", dir.resolve("spool").toString()));
        Shim.Run r = Shim.run(new StanzaCreateCommand(Map.of()), "--config", config.toString(), "--pg-host",
                pg.socketDir().toString(), "--pg-port", String.valueOf(pg.port()), "--pg-user", "postgres");
        assertEquals(0, r.code(), r.err());
        assertEquals("", r.err(), "cached without a warning");
        String postgres = Files.getOwner(pg.dataDir()).getName();
        assertNotEquals("root", postgres);
        Path stanzaDir = dir.resolve("spool/sc-root");
        assertEquals(postgres, Files.getOwner(stanzaDir, LinkOption.NOFOLLOW_LINKS).getName());
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(stanzaDir)));
        assertEquals(postgres, Files.getOwner(stanzaDir.resolve("stanza.id"), LinkOption.NOFOLLOW_LINKS).getName());
        assertEquals(pg.systemIdentifier(), StanzaDoc.fromCacheText(Files.readString(stanzaDir.resolve("stanza.id")))
                .systemIdentifier());
        // run again (the directory is now postgres's): still postgres's, the document rewritten as theirs
        Shim.Run again = Shim.run(new StanzaCreateCommand(Map.of("PGDATA", pg.dataDir().toString())), "--config",
                config.toString(), "--pg-host", pg.socketDir().toString(), "--pg-port", String.valueOf(pg.port()),
                "--pg-user", "postgres");
        assertEquals(0, again.code(), again.err());
        assertEquals(postgres, Files.getOwner(stanzaDir, LinkOption.NOFOLLOW_LINKS).getName());
        assertEquals(postgres, Files.getOwner(stanzaDir.resolve("stanza.id"), LinkOption.NOFOLLOW_LINKS).getName());

        // a link planted as the stanza's directory is neither followed nor given away
        Path target = Files.createDirectories(dir.resolve("elsewhere"));
        Path linked = TestCloud.config(TestCloud.cloud(), dir, Map.of("stanza", "sc-link",
                "spool.dir", dir.resolve("spool").toString()));
        Files.createSymbolicLink(dir.resolve("spool/sc-link"), target);
        Shim.Run viaLink = Shim.run(new StanzaCreateCommand(Map.of()), "--config", linked.toString(), "--pg-host",
                pg.socketDir().toString(), "--pg-port", String.valueOf(pg.port()), "--pg-user", "postgres");
        assertEquals(0, viaLink.code(), viaLink.err());
        assertTrue(viaLink.err().contains("cannot cache the stanza document"), viaLink.err());
        assertEquals("root", Files.getOwner(target).getName());
        assertTrue(Files.notExists(target.resolve("stanza.id")));
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
