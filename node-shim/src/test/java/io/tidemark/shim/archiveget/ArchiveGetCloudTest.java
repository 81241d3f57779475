package io.tidemark.shim.archiveget;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.shim.archivepush.ArchivePushCommand;
import io.tidemark.shim.cli.ExitCodes;
import io.tidemark.shim.support.FakeCatalog;
import io.tidemark.shim.support.Segments;
import io.tidemark.shim.support.Shim;
import io.tidemark.shim.support.TestCloud;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import software.amazon.awssdk.core.sync.RequestBody;

@Tag("localcloud")
class ArchiveGetCloudTest {
    private static final AtomicInteger STANZAS = new AtomicInteger();

    @TempDir
    Path dir;

    private Path config(String stanza, String compression) {
        TestCloud.catalog().put(stanza, FakeCatalog.document(stanza, Long.toUnsignedString(Segments.SYSID), 150018,
                Segments.SIZE));
        return TestCloud.config(TestCloud.cloud(), dir, Map.of("stanza", stanza, "compress-type", compression,
                "spool.dir", dir.resolve("spool-" + compression).toString(), "retries", "1"));
    }

    private Path pushed(Path config, String name, byte[] data) throws IOException {
        Path f = dir.resolve(name);
        Files.write(f, data);
        assertEquals(0, Shim.run(new ArchivePushCommand(Map.of()), f.toString(), "--config", config.toString()).code());
        return f;
    }

    private static Shim.Run get(Path config, String name, Path target) {
        return Shim.run(new ArchiveGetCommand(Map.of()), name, target.toString(), "--config", config.toString());
    }

    @ParameterizedTest
    @CsvSource({"zst", "lz4", "none"})
    void roundTripIsByteIdentical(String compression) throws IOException {
        String stanza = "get" + STANZAS.incrementAndGet();
        Path config = config(stanza, compression);
        byte[] seg = Segments.segment(0, 4);
        pushed(config, Segments.name(0), seg);
        Path target = dir.resolve("restore/pg_wal/RECOVERYXLOG");
        Files.createDirectories(target.getParent());
        Shim.Run r = get(config, Segments.name(0), target);
        assertEquals(0, r.code(), r.err());
        assertArrayEquals(seg, Files.readAllBytes(target));
        try (var s = Files.list(target.getParent())) {
            assertEquals(1, s.count(), "no temp files left");
        }
        // relative %p against --pgdata, and a history file
        byte[] history = "1\t0/5000000\tno recovery target specified\n".getBytes();
        pushed(config, "00000002.history", history);
        Shim.Run h = Shim.run(new ArchiveGetCommand(Map.of()), "00000002.history", "pg_wal/RECOVERYHISTORY",
                "--config", config.toString(), "--pgdata", dir.resolve("restore").toString());
        assertEquals(0, h.code(), h.err());
        assertArrayEquals(history, Files.readAllBytes(dir.resolve("restore/pg_wal/RECOVERYHISTORY")));
    }

    @Test
    void otherCompressionIsFoundWhenTheConfiguredOneIsMissing() throws IOException {
        String stanza = "get" + STANZAS.incrementAndGet();
        byte[] seg = Segments.segment(0, 2);
        pushed(config(stanza, "lz4"), Segments.name(0), seg);
        Path target = dir.resolve("RECOVERYXLOG");
        assertEquals(0, get(config(stanza, "zst"), Segments.name(0), target).code());
        assertArrayEquals(seg, Files.readAllBytes(target));
    }

    @Test
    void missingFilesExitOneSilently() {
        Path config = config("get" + STANZAS.incrementAndGet(), "zst");
        for (String name : new String[] {Segments.name(3), "00000009.history", "00000001.history", Segments.name(3) + ".partial"}) {
            Path target = dir.resolve("RECOVERYXLOG");
            Shim.Run r = get(config, name, target);
            assertEquals(ExitCodes.FAILED, r.code(), name);
            assertEquals("", r.err(), name);
            assertEquals("", r.out(), name);
            assertFalse(Files.exists(target));
        }
    }

    @Test
    void corruptedObjectExitsThreeAndWritesNothing() throws IOException {
        String stanza = "get" + STANZAS.incrementAndGet();
        Path config = config(stanza, "none");
        byte[] seg = Segments.segment(0, 2);
        pushed(config, Segments.name(0), seg);
        String key = stanza + "/wal/0000000100000000/" + Segments.name(0) + ".raw";
        var s3 = TestCloud.s3();
        Map<String, String> meta = s3.headObject(h -> h.bucket("tidemark").key(key)).metadata();
        byte[] damaged = seg.clone();
        damaged[5000] ^= 1;
        s3.putObject(p -> p.bucket("tidemark").key(key).metadata(meta), RequestBody.fromBytes(damaged));
        Path target = dir.resolve("RECOVERYXLOG");
        Shim.Run r = get(config, Segments.name(0), target);
        assertEquals(ExitCodes.GET_ERROR, r.code());
        assertTrue(r.err().contains("is damaged: SHA-256"), r.err());
        assertEquals(1, r.err().strip().lines().count());
        assertFalse(Files.exists(target));
        // an object without tidemark's metadata is not restored unverified
        s3.putObject(p -> p.bucket("tidemark").key(key), RequestBody.fromBytes(seg));
        Shim.Run n = get(config, Segments.name(0), target);
        assertEquals(ExitCodes.GET_ERROR, n.code());
        assertTrue(n.err().contains("no sha256 metadata"), n.err());
    }

    @Test
    void storageDownExitsThree() {
        Path config = TestCloud.config(TestCloud.cloud(), dir, Map.of("stanza", "x", "retries", "0",
                "s3.endpoint", "http://127.0.0.1:1"));
        Shim.Run r = get(config, Segments.name(0), dir.resolve("RECOVERYXLOG"));
        assertEquals(ExitCodes.GET_ERROR, r.code());
        assertTrue(r.err().startsWith("tidemark archive-get: "), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
    }
}
