package io.tidemark.shim.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.events.layout.Compression;
import io.tidemark.shim.cli.CommandFailure;
import io.tidemark.shim.cli.ExitCodes;
import io.tidemark.shim.cli.UsageException;
import io.tidemark.shim.support.Shim;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Tag("unit")
class ShimConfigTest {
    @TempDir
    Path dir;

    private static final String BASE = """
            s3.endpoint=http://127.0.0.1:9000
            s3.region=us-east-1
            s3.bucket=tidemark
            s3.pathStyle=true
            s3.accessKeyId=AK
            s3.secretAccessKey=SK
            api.url=http://127.0.0.1:9001
            """;

    private Path file(String name, String text) throws IOException {
        Path f = dir.resolve(name);
        Files.writeString(f, text);
        Files.setPosixFilePermissions(f, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        return f;
    }

    @Test
    void aFileWithStaticKeysThatOthersCanReadIsRefusedWithTheChmodToRun() throws IOException {
        Path f = file("keys.conf", BASE);
        for (String mode : List.of("rw-r--r--", "rw-r-----", "rw----r--", "rw--w----")) {
            Files.setPosixFilePermissions(f, java.nio.file.attribute.PosixFilePermissions.fromString(mode));
            CommandFailure e = assertThrows(CommandFailure.class, () -> load(Map.of(), "--config", f.toString(),
                    "--stanza", "main"), mode);
            assertEquals(ExitCodes.FAILED, e.exitCode());
            assertTrue(e.getMessage().contains("holds static keys") && e.getMessage().contains("chmod 600 " + f),
                    e.getMessage());
        }
        Files.setPosixFilePermissions(f, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        assertTrue(load(Map.of(), "--config", f.toString(), "--stanza", "main").keys().isPresent(), "owner-only: accepted");
        // without keys, a readable file is fine (it holds no secret)
        Path open = file("open.conf", "s3.region=us-east-1\ns3.bucket=tidemark\n");
        Files.setPosixFilePermissions(open, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        assertFalse(load(Map.of(), "--config", open.toString(), "--stanza", "main").keys().isPresent());
    }

    private static ShimConfig load(Map<String, String> env, String... args) {
        return ShimConfig.load(io.tidemark.shim.config.CommonOptions.parse(args), env);
    }

    @Test
    void optionBeatsEnvironmentAndStanzaOptionBeatsFile() throws IOException {
        Path a = file("a.conf", BASE + "stanza=fromfile\n");
        Path b = file("b.conf", BASE.replace("tidemark\n", "other-bucket\n"));
        ShimConfig c = load(Map.of("TIDEMARK_CONFIG", b.toString()), "--config", a.toString());
        assertEquals(a, c.file());
        assertEquals("fromfile", c.stanza().value());
        assertEquals("tidemark", c.bucket());
        ShimConfig d = load(Map.of("TIDEMARK_CONFIG", a.toString()), "--stanza", "main");
        assertEquals(a, d.file());
        assertEquals("main", d.stanza().value());
    }

    @Test
    void defaults() throws IOException {
        ShimConfig c = load(Map.of(), "--config", file("a.conf", BASE).toString(), "--stanza", "main");
        assertEquals(Compression.ZSTD, c.compression());
        assertEquals(1, c.compressLevel());
        assertEquals(3, c.retries());
        assertTrue(c.pathStyle());
        assertEquals("us-east-1", c.apiRegion());
        assertTrue(c.keys().isPresent());
        assertTrue(c.spoolDir().toString().contains("tidemark-"));
        ShimConfig aws = load(Map.of(), "--config", file("aws.conf", "s3.region=eu-west-1\ns3.bucket=b-1\n").toString(),
                "--stanza", "main");
        assertEquals("https://s3.eu-west-1.amazonaws.com", aws.effectiveS3Endpoint().toString());
        assertFalse(aws.pathStyle());
        assertTrue(aws.keys().isEmpty());
        assertTrue(aws.credentialsUri().isEmpty());
        ShimConfig endpoint = load(Map.of(), "--config", file("ep.conf", "s3.region=eu-west-1\ns3.bucket=b-1\n"
                + "credentials.uri=http://127.0.0.1:9851/credentials/node/main\n").toString(), "--stanza", "main");
        assertEquals("http://127.0.0.1:9851/credentials/node/main", endpoint.credentialsUri().orElseThrow().toString());
    }

    @Test
    void compressionChoices() throws IOException {
        for (String[] t : new String[][] {{"zst", "ZSTD", "7"}, {"lz4", "LZ4", "1"}, {"none", "NONE", "0"}}) {
            ShimConfig c = load(Map.of(), "--config", file(t[0] + ".conf", BASE + "compress-type=" + t[0] + "\n"
                    + (t[0].equals("zst") ? "compress-level=7\n" : "")).toString(), "--stanza", "main");
            assertEquals(Compression.valueOf(t[1]), c.compression());
            assertEquals(Integer.parseInt(t[2]), c.compressLevel());
        }
    }

    @Test
    void noConfigAtAllIsAUsageError() {
        UsageException e = assertThrows(UsageException.class, () -> load(Map.of(), "--stanza", "main"));
        assertTrue(e.getMessage().contains("--config") && e.getMessage().contains("TIDEMARK_CONFIG"), e.getMessage());
    }

    @Test
    void noStanzaAnywhereIsAUsageError() throws IOException {
        Path a = file("a.conf", BASE);
        UsageException e = assertThrows(UsageException.class, () -> load(Map.of(), "--config", a.toString()));
        assertTrue(e.getMessage().contains("--stanza"), e.getMessage());
        assertThrows(UsageException.class, () -> load(Map.of(), "--config", a.toString(), "--stanza", "../x"));
    }

    @Test
    void badFilesFailWithOneLineNamingTheProblem() throws IOException {
        String[][] cases = {
            {"missing", null, "no such file"},
            {"unknown.conf", BASE + "s3.bukket=x\n", "unknown key s3.bukket"},
            {"noregion.conf", BASE.replace("s3.region=us-east-1\n", ""), "s3.region is not set"},
            {"badtype.conf", BASE + "compress-type=gzip\n", "compress-type must be zst, lz4 or none"},
            {"badlevel.conf", BASE + "compress-level=99\n", "compress-level must be an integer from 1 to 19"},
            {"halfkeys.conf", BASE.replace("s3.secretAccessKey=SK\n", ""), "set both or neither"},
            {"badurl.conf", BASE + "api.url=ftp://x\n", "api.url must be an http(s) URL"},
            {"badbool.conf", BASE + "s3.pathStyle=yes\n", "s3.pathStyle must be true or false"},
            {"badbucket.conf", BASE.replace("s3.bucket=tidemark", "s3.bucket=Bad_Bucket"), "not a valid bucket name"},
            {"oldclient.conf", BASE + "s3.client=http\n", "s3.client is no longer a setting"},
            {"badcreds.conf", BASE.replace("s3.accessKeyId=AK\ns3.secretAccessKey=SK\n", "") + "credentials.uri=file:/x\n",
                "credentials.uri must be an http(s) URL"},
            {"twocreds.conf", BASE + "credentials.uri=http://127.0.0.1:9/credentials\n",
                "credentials.uri and s3.accessKeyId exclude each other"},
        };
        for (String[] c : cases) {
            Path f = c[1] == null ? dir.resolve(c[0]) : file(c[0], c[1]);
            CommandFailure e = assertThrows(CommandFailure.class, () -> load(Map.of(), "--config", f.toString(),
                    "--stanza", "main"), c[0]);
            assertEquals(ExitCodes.FAILED, e.exitCode());
            assertTrue(e.getMessage().contains(c[2]), c[0] + ": " + e.getMessage());
            assertFalse(e.getMessage().contains("\n"));
        }
    }

    @Test
    void commandsReportConfigProblemsWithExitCodes() throws IOException {
        Shim.Run r = Shim.main("archive-push", "pg_wal/000000010000000000000001", "--stanza", "main",
                "--config", dir.resolve("nope.conf").toString());
        assertEquals(ExitCodes.FAILED, r.code());
        assertTrue(r.err().contains("no such file"), r.err());
        assertEquals(1, r.err().strip().lines().count());
        Shim.Run u = Shim.main("info", "--stanza", "main", "--config");
        assertEquals(ExitCodes.USAGE, u.code());
        // archive-get: every failure other than "not archived" is 3
        Shim.Run g = Shim.main("archive-get", "000000010000000000000001", "pg_wal/RECOVERYXLOG",
                "--stanza", "main", "--config", dir.resolve("nope.conf").toString());
        assertEquals(ExitCodes.GET_ERROR, g.code());
        assertTrue(g.err().contains("no such file"), g.err());
    }

    @Test
    void asyncArchivePushIsOnByDefaultAndQueueMaxOnlyWhenSet() throws IOException {
        ShimConfig d = load(Map.of(), "--config", file("d.conf", BASE + "stanza=s\n").toString());
        assertTrue(d.asyncPush().enabled());
        assertFalse(load(Map.of(), "--config", file("sync.conf", BASE + "stanza=s\narchive-push.async=false\n").toString())
                .asyncPush().enabled(), "synchronous when configured");
        assertEquals(2, d.asyncPush().process());
        assertTrue(d.asyncPush().queueMax().isEmpty(), "no limit unless the operator sets one: WAL is never dropped");
        assertEquals(60, d.asyncPush().timeoutSeconds());
        ShimConfig a = load(Map.of(), "--config", file("a.conf", BASE + "stanza=s\narchive-push.async=true\n"
                + "archive-push.process=4\narchive-push.queue-max=1GB\narchive-push.timeout=5\n").toString());
        assertTrue(a.asyncPush().enabled());
        assertEquals(4, a.asyncPush().process());
        assertEquals(1L << 30, a.asyncPush().queueMax().getAsLong());
        assertEquals(5, a.asyncPush().timeoutSeconds());
        assertEquals(512L << 20, ShimConfig.bytes(dir, "k", "512MB"));
        assertEquals(0, ShimConfig.bytes(dir, "k", "0"));
        for (String bad : List.of("archive-push.async=yes", "archive-push.process=0", "archive-push.queue-max=1TB",
                "archive-push.queue-max=-1", "archive-push.timeout=0")) {
            CommandFailure f = assertThrows(CommandFailure.class,
                    () -> load(Map.of(), "--config", file("bad.conf", BASE + "stanza=s\n" + bad + "\n").toString()), bad);
            assertTrue(f.getMessage().contains(bad.substring(0, bad.indexOf('='))), f.getMessage());
        }
    }

    @Test
    void largeObjectsGoInPartsAboveTheThresholdAndTheLimitsAreS3s() throws IOException {
        ShimConfig d = load(Map.of(), "--config", file("mp.conf", BASE + "stanza=s\n").toString());
        assertEquals(io.tidemark.shim.storage.Multipart.DEFAULT, d.multipart());
        assertEquals(256L << 20, d.multipart().threshold());
        assertEquals(64L << 20, d.multipart().partSize());
        ShimConfig small = load(Map.of(), "--config", file("mp2.conf", BASE + "stanza=s\ns3.multipart-threshold=5MB\n"
                + "s3.multipart-part-size=5MB\ns3.multipart-process=2\n").toString());
        assertEquals(new io.tidemark.shim.storage.Multipart(5L << 20, 5L << 20, 2), small.multipart());
        assertFalse(small.multipart().applies(5L << 20), "an object of exactly the threshold is one PUT");
        assertTrue(small.multipart().applies((5L << 20) + 1));
        // a part size above the default threshold raises it: a part is never larger than the whole
        assertEquals(512L << 20, load(Map.of(), "--config", file("mp3.conf", BASE + "stanza=s\n"
                + "s3.multipart-part-size=512MB\n").toString()).multipart().threshold());
        // 10,000 parts at most: a 1 TiB object gets parts of 105 MiB rather than 64
        assertEquals(((1L << 40) + 9_999) / 10_000, d.multipart().partSizeFor(1L << 40));
        for (String bad : List.of("s3.multipart-part-size=4MB", "s3.multipart-part-size=6GB", "s3.multipart-threshold=6GB",
                "s3.multipart-threshold=1MB", "s3.multipart-process=0", "s3.multipart-threshold=big")) {
            CommandFailure f = assertThrows(CommandFailure.class,
                    () -> load(Map.of(), "--config", file("bad.conf", BASE + "stanza=s\n" + bad + "\n").toString()), bad);
            assertTrue(f.getMessage().contains(bad.substring(0, bad.indexOf('='))), f.getMessage());
        }
    }

    @Test
    void thePrefetchSpoolHoldsTwoSegmentsByDefaultWhenTheyAreLargeAndWhatTheOperatorSetOtherwise() throws Exception {
        io.tidemark.events.wal.WalSegmentSize mb16 = io.tidemark.events.wal.WalSegmentSize.ofMegabytes(16);
        io.tidemark.events.wal.WalSegmentSize gb1 = io.tidemark.events.wal.WalSegmentSize.ofMegabytes(1024);
        ShimConfig d = load(Map.of(), "--config", file("d.conf", BASE).toString(), "--stanza", "main");
        assertEquals(256, d.prefetchSpoolMaxMb(mb16));
        assertEquals(256, d.prefetchSpoolMaxMb(io.tidemark.events.wal.WalSegmentSize.ofMegabytes(128)));
        assertEquals(1024, d.prefetchSpoolMaxMb(io.tidemark.events.wal.WalSegmentSize.ofMegabytes(512)));
        assertEquals(2048, d.prefetchSpoolMaxMb(gb1));
        ShimConfig set = load(Map.of(), "--config", file("s.conf", BASE + "archive-get.spool-max-mb=64\n").toString(),
                "--stanza", "main");
        assertEquals(64, set.prefetchSpoolMaxMb(mb16));
        assertEquals(64, set.prefetchSpoolMaxMb(gb1), "the operator's bound is kept");
    }

    @Test
    void theAgentHostsThePrefetcherUnlessTold() throws Exception {
        Path on = file("on.conf", BASE);
        load(Map.of(), "--config", on.toString(), "--stanza", "main");
        assertTrue(ShimConfig.agentPrefetch(on), "on by default");
        Path off = file("off.conf", BASE + "archive-get.agent-prefetch=false\n");
        load(Map.of(), "--config", off.toString(), "--stanza", "main");
        assertFalse(ShimConfig.agentPrefetch(off));
        CommandFailure e = assertThrows(CommandFailure.class, () -> load(Map.of(), "--config",
                file("bad.conf", BASE + "archive-get.agent-prefetch=yes\n").toString(), "--stanza", "main"));
        assertTrue(e.getMessage().contains("archive-get.agent-prefetch must be true or false, got 'yes'"), e.getMessage());
    }
}
