package io.tidemark.shim.archivepush;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.luben.zstd.Zstd;
import io.tidemark.localcloud.LocalCloud;
import io.tidemark.shim.cli.ExitCodes;
import io.tidemark.shim.storage.CreateOnly;
import io.tidemark.shim.support.FakeCatalog;
import io.tidemark.shim.support.Segments;
import io.tidemark.shim.support.Shim;
import io.tidemark.shim.support.TestCloud;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;

@Tag("localcloud")
class ArchivePushCloudTest {
    private static final AtomicInteger STANZAS = new AtomicInteger();

    @TempDir
    Path dir;

    /** A fresh stanza known to the catalog, and a config for it. */
    private Path setUp(String stanza, Map<String, String> extra) {
        LocalCloud cloud = TestCloud.cloud();
        TestCloud.catalog().put(stanza, FakeCatalog.document(stanza, Long.toUnsignedString(Segments.SYSID), 150018,
                Segments.SIZE));
        Map<String, String> all = new LinkedHashMap<>(Map.of("stanza", stanza, "spool.dir", dir.resolve("spool").toString(),
                "retries", "1"));
        all.putAll(extra);
        return TestCloud.config(cloud, dir, all);
    }

    private static String stanza() {
        return "push" + STANZAS.incrementAndGet();
    }

    private Path walFile(String name, byte[] data) throws IOException {
        Path wal = dir.resolve("pgdata/pg_wal");
        Files.createDirectories(wal);
        Path f = wal.resolve(name);
        Files.write(f, data);
        return f;
    }

    private static Shim.Run push(Path config, String path, String... more) {
        String[] args = new String[3 + more.length];
        args[0] = path;
        args[1] = "--config";
        args[2] = config.toString();
        System.arraycopy(more, 0, args, 3, more.length);
        return Shim.run(new ArchivePushCommand(Map.of()), args);
    }

    @Test
    void pushStoresTheObjectAtItsLayoutKeyWithMetadata() throws IOException {
        String stanza = stanza();
        Path config = setUp(stanza, Map.of());
        byte[] seg = Segments.segment(0, 3);
        walFile(Segments.name(0), seg);
        // relative %p resolved against --pgdata, as PostgreSQL runs it from the data directory
        Shim.Run r = push(config, "pg_wal/" + Segments.name(0), "--pgdata", dir.resolve("pgdata").toString());
        assertEquals(0, r.code(), r.err());
        assertEquals("", r.err());
        String key = stanza + "/wal/0000000100000000/" + Segments.name(0) + ".zst";
        ResponseBytes<GetObjectResponse> o = TestCloud.s3().getObjectAsBytes(g -> g.bucket("tidemark").key(key));
        Map<String, String> meta = o.response().metadata();
        assertEquals(CreateOnly.sha256(seg), meta.get("sha256"));
        assertEquals(String.valueOf(seg.length), meta.get("raw-size"));
        assertEquals("zst", meta.get("compression"));
        assertArrayEquals(seg, Zstd.decompress(o.asByteArray(), seg.length));
        // the stanza document is now cached: the next push needs no API call
        assertTrue(Files.isRegularFile(dir.resolve("spool").resolve(stanza).resolve("stanza.id")));
        TestCloud.catalog().calls.clear();
        walFile(Segments.name(1), Segments.segment(1, 1));
        assertEquals(0, push(config, dir.resolve("pgdata/pg_wal/" + Segments.name(1)).toString()).code());
        assertFalse(TestCloud.catalog().calls.stream().anyMatch(c -> c.endsWith(" " + stanza)),
                TestCloud.catalog().calls.toString());
    }

    @Test
    void identicalRepushIsANoticeAndDifferentContentIsRefused() throws IOException {
        Path config = setUp(stanza(), Map.of());
        Path f = walFile(Segments.name(0), Segments.segment(0, 2));
        assertEquals(0, push(config, f.toString()).code());
        Shim.Run again = push(config, f.toString());
        assertEquals(0, again.code(), again.err());
        assertTrue(again.err().contains("already archived with the same content"), again.err());
        Files.write(f, Segments.segment(0, 5));
        Shim.Run other = push(config, f.toString());
        assertEquals(ExitCodes.FAILED, other.code());
        assertTrue(other.err().contains("already archived with different content; refusing to replace"), other.err());
        // the report is best effort: this fake catalog has no conflicts route, and the refusal says so
        assertTrue(other.err().contains("; not reported to the cloud (HTTP "), other.err());
    }

    @Test
    void refusalsStoreNothing() throws IOException {
        String stanza = stanza();
        Path config = setUp(stanza, Map.of());
        // another cluster's segment: refused even after re-reading the stanza from the API
        TestCloud.catalog().put(stanza, FakeCatalog.document(stanza, "42", 150018, Segments.SIZE));
        Path f = walFile(Segments.name(0), Segments.segment(0, 1));
        Shim.Run foreign = push(config, f.toString());
        assertEquals(ExitCodes.FAILED, foreign.code());
        assertTrue(foreign.err().contains("belongs to database system " + Long.toUnsignedString(Segments.SYSID)),
                foreign.err());
        Path truncated = walFile(Segments.name(1), new byte[4096]);
        Shim.Run t = push(config, truncated.toString());
        assertEquals(ExitCodes.FAILED, t.code());
        assertTrue(t.err().contains("truncated"), t.err());
        Shim.Run missing = push(config, dir.resolve("pgdata/pg_wal/" + Segments.name(2)).toString());
        assertEquals(ExitCodes.FAILED, missing.code());
        assertTrue(missing.err().contains("no such file"), missing.err());
        Shim.Run badName = push(config, walFile("RECOVERYXLOG", new byte[10]).toString());
        assertEquals(ExitCodes.FAILED, badName.code());
        assertTrue(TestCloud.s3().listObjectsV2(l -> l.bucket("tidemark").prefix(stanza + "/")).contents().isEmpty());
        Shim.Run unknown = push(TestCloud.config(TestCloud.cloud(), dir, Map.of("stanza", "nosuchstanza",
                "spool.dir", dir.resolve("spool2").toString())), f.toString());
        assertEquals(ExitCodes.FAILED, unknown.code());
        assertTrue(unknown.err().contains("stanza-create"), unknown.err());
    }

    @Test
    void historyFilesAreStoredUncompressed() throws IOException {
        String stanza = stanza();
        Path config = setUp(stanza, Map.of("compress-type", "lz4"));
        byte[] history = "1\t0/5000000\tno recovery target specified\n".getBytes(StandardCharsets.UTF_8);
        assertEquals(0, push(config, walFile("00000002.history", history).toString()).code());
        byte[] stored = TestCloud.s3().getObjectAsBytes(g -> g.bucket("tidemark").key(stanza + "/wal/00000002.history"))
                .asByteArray();
        assertArrayEquals(history, stored);
    }

    @Test
    void storageDownExitsOneAndRecordsNothing() throws IOException {
        FakeCatalog catalog = new FakeCatalog();
        Path cloudDir = dir.resolve("cloud");
        String stanza = "down";
        Path f = walFile(Segments.name(0), Segments.segment(0, 1));
        Path config;
        try (LocalCloud c = TestCloud.start(cloudDir, catalog)) {
            catalog.put(stanza, FakeCatalog.document(stanza, Long.toUnsignedString(Segments.SYSID), 150018, Segments.SIZE));
            config = TestCloud.config(c, dir, Map.of("stanza", stanza, "spool.dir", dir.resolve("spool").toString(),
                    "retries", "1"));
            assertEquals(0, push(config, walFile("00000002.history", "1\t0/5000000\tx\n".getBytes()).toString()).code());
        }
        long t0 = System.nanoTime();
        Shim.Run r = push(config, f.toString());
        assertEquals(ExitCodes.FAILED, r.code());
        assertTrue(r.err().contains("cannot archive " + Segments.name(0)) && r.err().contains("after 2 attempts"), r.err());
        assertTrue(System.nanoTime() - t0 < 10_000_000_000L);
        try (LocalCloud c = TestCloud.start(cloudDir, catalog);
             var s3 = TestCloud.client(c)) {
            assertThrows(NoSuchKeyException.class, () -> s3.headObject(h -> h.bucket("tidemark")
                    .key(stanza + "/wal/0000000100000000/" + Segments.name(0) + ".zst")));
            // and once it is back, the same push succeeds
            Path back = TestCloud.config(c, dir, Map.of("stanza", stanza, "spool.dir", dir.resolve("spool").toString()));
            assertEquals(0, push(back, f.toString()).code());
        }
    }

    @Test
    void apiCallsAreSignedWithSigV4() throws IOException {
        String stanza = stanza();
        Path config = setUp(stanza, Map.of());
        TestCloud.catalog().authorizations.clear();
        assertEquals(0, push(config, walFile(Segments.name(0), Segments.segment(0, 1)).toString()).code());
        String auth = TestCloud.catalog().authorizations.get(0);
        assertTrue(auth != null && auth.startsWith("AWS4-HMAC-SHA256 Credential=")
                && auth.contains("/us-east-1/execute-api/aws4_request"), auth);
    }
}
