package io.tidemark.shim.restore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.events.backup.BackupManifest;
import io.tidemark.events.backup.BlockMap;
import io.tidemark.events.backup.ManifestFile;
import io.tidemark.events.backup.ManifestJson;
import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.layout.StorageLayout;
import io.tidemark.events.paths.SafeRelativePath;
import io.tidemark.localcloud.LocalCloud;
import io.tidemark.shim.archivepush.ArchivePushCommand;
import io.tidemark.shim.backup.BackupCommand;
import io.tidemark.shim.support.Shim;
import io.tidemark.testkit.PgCluster;
import io.tidemark.testkit.PgTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 16, a large relation file through a real backup and restore (real PostgreSQL 15, the real
 * local cloud under the stack's IAM, the shim's own commands in-process): a table whose file is
 * stored in more than one run of blocks ({@link BlockFiles#MAX_RUN}), so the restore fetches its
 * parts in parallel and hashes it in order while they arrive. It comes back byte for byte; a
 * damaged block and a missing object are refused, naming the file and what is wrong, and the file
 * is not written.
 */
@PgTest
@Tag("localcloud")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LargeFileCloudTest {
    private static final String STANZA = "largefile";

    @TempDir
    static Path dir;
    static StreamedStanza stanza;
    static LocalCloud cloud;
    static PgCluster primary;
    static String bigPath;
    static byte[] bigFile;
    static Path object;
    static BlockMap map;

    @BeforeAll
    static void start() throws Exception {
        stanza = StreamedStanza.start(dir, STANZA);
        cloud = stanza.cloud();
        primary = stanza.primary();
        // random hex rows (zstd keeps about half): a 70 MB file whose object holds more than 32 MB
        primary.sql("create table big (id int, pad text) with (autovacuum_enabled = off);"
                + " insert into big select g, (select string_agg(md5(random()::text || g || s), '') from generate_series(1, 28) s)"
                + " from generate_series(1, 70000) g;"
                + " vacuum freeze big; checkpoint");
        bigPath = primary.sql("select pg_relation_filepath('big')").strip();
        Thread.sleep(2100); // files older than the referencing margin of the backup
        String[] pg = {"--config", stanza.conf().toString(), "--pg-host", primary.socketDir().toString(),
                "--pg-port", String.valueOf(primary.port()), "--pg-user", "postgres",
                "--pgdata", primary.dataDir().toString(), "--type", "full", "--process-max", "2"};
        Shim.Run backup = Shim.run(new BackupCommand(Map.of(), false), pg);
        assertEquals(0, backup.code(), backup.out() + backup.err());
        // nothing writes the table after its freeze and checkpoint: the file as backed up
        bigFile = Files.readAllBytes(primary.dataDir().resolve(bigPath));

        String last = primary.switchWal();
        primary.waitForArchived(last, Duration.ofMinutes(1));
        for (Path seg : primary.archivedSegments()) {
            Shim.Run push = Shim.run(new ArchivePushCommand(Map.of()), seg.toString(), "--config", stanza.conf().toString());
            assertEquals(0, push.code(), seg + ": " + push.out() + push.err());
        }
        assertTrue(cloud.awaitQuiescent(Duration.ofMinutes(2)));

        Path backups = cloud.dir().resolve("s3").resolve(cloud.bucket()).resolve(STANZA).resolve("backup");
        BackupLabelName label;
        try (Stream<Path> s = Files.list(backups)) {
            label = s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith("F")).sorted()
                    .reduce((a, b) -> b).map(BackupLabelName::parse).orElseThrow();
        }
        BackupManifest manifest = ManifestJson.read(Files.readAllBytes(backups.resolve(label.toString()).resolve("manifest.json")));
        ManifestFile entry = manifest.files().stream().filter(f -> f.path().path().equals(bigPath)).findFirst().orElseThrow();
        map = entry.blocks().orElseThrow();
        object = cloud.dir().resolve("s3").resolve(cloud.bucket()).resolve(StorageLayout.backupFileKey(
                StanzaName.of(STANZA), label, SafeRelativePath.of(bigPath), manifest.compression()));
        assertTrue(Files.size(object) > BlockFiles.MAX_RUN, "the file's object needs more than one run: " + Files.size(object));
    }

    @AfterAll
    static void stop() {
        if (stanza != null) {
            stanza.close();
        }
    }

    private static Shim.Run restore(Path pgdata) {
        return Shim.run(new RestoreCommand(Map.of(), Clock.systemUTC(), 10, 1), "--config", stanza.conf().toString(),
                "--pgdata", pgdata.toString(), "--process-max", "2");
    }

    @Test
    @Order(1)
    void theLargeFileComesBackByteForByte() throws Exception {
        Path pgdata = dir.resolve("restored");
        Shim.Run r = restore(pgdata);
        assertEquals(0, r.code(), r.out() + r.err());
        assertArrayEquals(bigFile, Files.readAllBytes(pgdata.resolve(bigPath)), bigPath);
        try (Stream<Path> s = Files.walk(pgdata)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temp files left");
        }
    }

    @Test
    @Order(2)
    void aDamagedBlockIsRefusedNamingTheFileTheBlockAndTheObject() throws Exception {
        int index = map.blocks().size() - 2; // in the second run
        BlockMap.Block block = map.blocks().get(index);
        byte[] original = Files.readAllBytes(object);
        byte[] damaged = original.clone();
        damaged[(int) (block.offset() + block.storedSize() / 2)] ^= 0x01;
        // bit rot in the store's own file: the object keeps its metadata
        Files.write(object, damaged, StandardOpenOption.TRUNCATE_EXISTING);
        try {
            Path pgdata = dir.resolve("damaged");
            Shim.Run r = restore(pgdata);
            assertEquals(1, r.code(), r.out() + r.err());
            String expected = bigPath + ": block " + index + " (";
            assertTrue(r.err().contains(expected) && r.err().contains("at offset " + block.offset() + ") is damaged"),
                    "expected '" + expected + "... at offset " + block.offset() + ") is damaged' in: " + r.err());
            assertFalse(Files.exists(pgdata.resolve(bigPath)), "the damaged file is not written");
        } finally {
            Files.write(object, original, StandardOpenOption.TRUNCATE_EXISTING);
        }
    }

    @Test
    @Order(3)
    void aMissingObjectIsRefusedNamingIt() throws Exception {
        Path aside = object.resolveSibling(object.getFileName() + ".aside");
        Files.move(object, aside, StandardCopyOption.ATOMIC_MOVE); // a rename keeps the object's metadata
        try {
            Path pgdata = dir.resolve("missing");
            Shim.Run r = restore(pgdata);
            assertEquals(1, r.code(), r.out() + r.err());
            String key = cloud.dir().resolve("s3").resolve(cloud.bucket()).relativize(object).toString();
            assertTrue(r.err().contains(key) && r.err().contains("missing"), "expected the missing " + key + " named in: " + r.err());
            assertFalse(Files.exists(pgdata.resolve(bigPath)), "nothing is written for it");
        } finally {
            Files.move(aside, object, StandardCopyOption.ATOMIC_MOVE);
        }
    }
}
