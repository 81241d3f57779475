package io.tidemark.shim.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.layout.StorageLayout;
import io.tidemark.events.paths.SafeRelativePath;
import io.tidemark.functions.aws.S3ObjectStore;
import io.tidemark.functions.index.TestWal;
import io.tidemark.functions.runtime.AwsClients;
import io.tidemark.functions.validate.TestBackup;
import io.tidemark.localcloud.LocalCloud;
import io.tidemark.localcloud.LocalCloudFunctions;
import io.tidemark.shim.cli.ExitCodes;
import io.tidemark.shim.info.InfoCommand;
import io.tidemark.shim.support.Shim;
import io.tidemark.shim.support.TestCloud;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

class VerifyCommandTest {

    @TempDir
    Path dir;

    @Test
    @Tag("unit")
    void badOptionsAreUsageErrorsBeforeAnyCall() {
        for (String[] args : new String[][]{
                {"--backup", "yesterday"},
                {"--timeout", "0"},
                {"--timeout", "x"},
                {"--output", "yaml"},
                {"extra"}}) {
            Shim.Run r = Shim.run(new VerifyCommand(Map.of()), args);
            assertEquals(ExitCodes.USAGE, r.code(), String.join(" ", args) + ": " + r.err());
        }
    }

    /** Against a real local cloud with the real functions: WAL and a backup archived, then checked. */
    @Nested
    @Tag("localcloud")
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    class AgainstTheRealCloud {
        final TestWal wal = new TestWal(4, Set.of(1));
        LocalCloud cloud;
        AwsClients aws;
        S3ObjectStore bucket;
        TestBackup backup;

        @BeforeAll
        void start() throws Exception {
            cloud = LocalCloudFunctions.register(LocalCloud.builder())
                    .dir(Files.createTempDirectory("tidemark-verify-cloud"))
                    .start();
            aws = AwsClients.create(cloud.functionConfig());
            bucket = new S3ObjectStore(aws.s3(), cloud.bucket());
            String stanzaJson = "{\"systemIdentifier\":\"" + TestWal.SYSTEM_ID_TEXT + "\",\"pgVersion\":15,"
                    + "\"pgVersionNum\":150004,\"walSegmentSize\":" + TestWal.SIZE.bytes() + "}";
            for (String stanza : new String[] {"good", "bad"}) {
                java.net.http.HttpResponse<String> put = java.net.http.HttpClient.newHttpClient().send(
                        java.net.http.HttpRequest.newBuilder(java.net.URI.create(cloud.apiUrl() + "/stanzas/" + stanza))
                                .PUT(java.net.http.HttpRequest.BodyPublishers.ofString(stanzaJson)).build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString());
                assertEquals(200, put.statusCode(), put.body());
                StanzaName s = StanzaName.of(stanza);
                for (int i = 0; i < 4; i++) {
                    byte[] raw = wal.segments.get(i);
                    bucket.put(wal.key(s, i, Compression.ZSTD), TestWal.compress(Compression.ZSTD, raw),
                            "application/octet-stream", Map.of("sha256", TestWal.sha256(raw)));
                }
                assertTrue(cloud.awaitQuiescent(Duration.ofSeconds(60)));
                backup = TestBackup.full(s, TestBackup.fullLabel(1), TestBackup.files("c"));
                backup.upload(bucket);
                assertTrue(cloud.awaitQuiescent(Duration.ofSeconds(60)));
            }
        }

        @AfterAll
        void stop() {
            if (aws != null) {
                aws.close();
            }
            if (cloud != null) {
                cloud.close();
            }
        }

        Path config(String stanza) {
            return TestCloud.config(cloud, dir, Map.of("stanza", stanza));
        }

        @Test
        void aCleanStanzaExitsZeroAndInfoShowsWhenItWasVerified() {
            Shim.Run r = Shim.run(new VerifyCommand(Map.of()), "--config", config("good").toString());
            assertEquals(ExitCodes.OK, r.code(), r.out() + r.err());
            assertTrue(r.out().contains("no problems"), r.out());
            assertTrue(r.out().contains("checked            8 of 8 objects"), r.out());

            Shim.Run info = Shim.run(new InfoCommand(Map.of(), Clock.systemUTC()), "--config", config("good").toString());
            assertEquals(ExitCodes.OK, info.code(), info.err());
            assertTrue(info.out().contains("no problems"), info.out());
            assertFalse(info.out().contains("last clean verify  never"), info.out());
        }

        @Test
        void aChangedByteAtRestIsNamedWithExpectedAndFoundAndTheExitIsNonZero() throws Exception {
            StanzaName s = StanzaName.of("bad");
            String key = StorageLayout.backupFileKey(s, TestBackup.fullLabel(1), SafeRelativePath.of("base/1/1259"),
                    Compression.ZSTD);
            Path file = cloud.dir().resolve("s3").resolve(cloud.bucket()).resolve(key);
            byte[] content = Files.readAllBytes(file);
            content[10] ^= 1;
            Files.write(file, content, StandardOpenOption.TRUNCATE_EXISTING);

            Shim.Run r = Shim.run(new VerifyCommand(Map.of()), "--config", config("bad").toString());
            assertEquals(ExitCodes.FAILED, r.code(), r.out() + r.err());
            assertTrue(r.out().contains("1 problem"), r.out());
            assertTrue(r.err().contains("found 1 problem in stanza bad"), r.err());
            assertTrue(r.out().contains("  " + key + "\n"), r.out());
            assertTrue(r.out().contains("sha256: expected SHA-256 " + TestWal.sha256(backup.objects.get(key))),
                    r.out());
            assertTrue(r.out().contains("found    SHA-256 " + TestWal.sha256(content)), r.out());

            Shim.Run json = Shim.run(new VerifyCommand(Map.of()), "--config", config("bad").toString(), "--output",
                    "json", "--backup", TestBackup.fullLabel(1).toString());
            assertEquals(ExitCodes.FAILED, json.code(), json.err());
            JsonNode run = new ObjectMapper().readTree(json.out());
            assertEquals(TestBackup.fullLabel(1).toString(), run.path("backup").asText());
            assertEquals(key, run.path("problems").get(0).path("key").asText(), run.toString());

            Shim.Run info = Shim.run(new InfoCommand(Map.of(), Clock.systemUTC()), "--config", config("bad").toString());
            assertTrue(info.out().contains("1 PROBLEM"), info.out());
            assertTrue(info.out().contains("last clean verify  never"), info.out());
        }

        @Test
        void anUnknownBackupIsRefused() {
            Shim.Run r = Shim.run(new VerifyCommand(Map.of()), "--config", config("good").toString(), "--backup",
                    TestBackup.fullLabel(20).toString());
            assertEquals(ExitCodes.FAILED, r.code(), r.out() + r.err());
            assertTrue(r.err().contains("has no backup " + TestBackup.fullLabel(20)), r.err());
        }
    }
}
