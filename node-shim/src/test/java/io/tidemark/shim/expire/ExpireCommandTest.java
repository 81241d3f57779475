package io.tidemark.shim.expire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.functions.aws.S3ObjectStore;
import io.tidemark.functions.index.TestWal;
import io.tidemark.functions.retain.StanzaPolicies;
import io.tidemark.functions.retain.ThreeFulls;
import io.tidemark.functions.runtime.AwsClients;
import io.tidemark.localcloud.LocalCloud;
import io.tidemark.localcloud.LocalCloudFunctions;
import io.tidemark.shim.cli.ExitCodes;
import io.tidemark.shim.support.Shim;
import io.tidemark.shim.support.TestCloud;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

class ExpireCommandTest {

    @TempDir
    Path dir;

    @Test
    @Tag("unit")
    void withoutDryRunItIsRefusedBeforeAnyCall() {
        // no configuration at all: the refusal comes first
        Shim.Run r = Shim.run(new ExpireCommand(Map.of()));
        assertEquals(ExitCodes.USAGE, r.code());
        assertTrue(r.err().contains("retention runs in the cloud, not on nodes: daily"), r.err());
        assertTrue(r.err().contains("after each valid backup"), r.err());
        assertTrue(r.err().contains("--dry-run"), r.err());
    }

    @Test
    @Tag("unit")
    void badOptionsAreUsageErrors() {
        for (String[] args : new String[][]{
                {"--dry-run", "--retention-full", "0"},
                {"--dry-run", "--retention-diff", "x"},
                {"--dry-run", "--retention-full-type", "age"},
                {"--dry-run", "--output", "yaml"},
                {"--dry-run", "extra"}}) {
            Shim.Run r = Shim.run(new ExpireCommand(Map.of()), args);
            assertEquals(ExitCodes.USAGE, r.code(), String.join(" ", args) + ": " + r.err());
        }
        assertTrue(Shim.run(new ExpireCommand(Map.of()), "--dry-run", "--retention-full", "0").err()
                .contains("--retention-full must be a whole number from 1 to 9999, got '0'"));
    }

    @Test
    @Tag("unit")
    void sizesForPeople() {
        assertEquals("512 B", ExpireText.size(512));
        assertEquals("1.5 KiB", ExpireText.size(1536));
        assertEquals("3.0 MiB", ExpireText.size(3L << 20));
    }

    /**
     * Against a real local cloud with the real functions: stanza {@code shim} with three fulls and
     * WAL ({@link ThreeFulls}), configured to keep 9 fulls, so the runs after its backups keep all.
     */
    @Nested
    @Tag("localcloud")
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    class AgainstTheRealApi {
        LocalCloud cloud;
        AwsClients aws;
        S3ObjectStore bucket;
        List<BackupLabelName> fulls;

        @BeforeAll
        void start() throws Exception {
            cloud = LocalCloudFunctions.register(LocalCloud.builder())
                    .dir(java.nio.file.Files.createTempDirectory("tidemark-expire-cloud"))
                    .functionSetting(StanzaPolicies.SETTING, "{\"shim\":{\"fullType\":\"count\",\"full\":9}}")
                    // these backups are seconds old: no minimum age, so the policy alone decides
                    .functionSetting(io.tidemark.functions.retain.RetentionHandler.MIN_FULL_AGE_HOURS, "0")
                    // one full per run: count 1 would take two
                    .functionSetting(io.tidemark.functions.retain.RetentionHandler.MAX_FULLS_PER_RUN, "1")
                    .start();
            aws = AwsClients.create(cloud.functionConfig());
            bucket = new S3ObjectStore(aws.s3(), cloud.bucket());
            String stanzaJson = "{\"systemIdentifier\":\"" + TestWal.SYSTEM_ID_TEXT + "\",\"pgVersion\":15,"
                    + "\"pgVersionNum\":150004,\"walSegmentSize\":" + TestWal.SIZE.bytes() + "}";
            java.net.http.HttpResponse<String> put = java.net.http.HttpClient.newHttpClient().send(
                    java.net.http.HttpRequest.newBuilder(java.net.URI.create(cloud.apiUrl() + "/stanzas/shim"))
                            .PUT(java.net.http.HttpRequest.BodyPublishers.ofString(stanzaJson)).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertEquals(200, put.statusCode(), put.body());
            fulls = ThreeFulls.upload(bucket, StanzaName.of("shim"), () -> {
                try {
                    assertTrue(cloud.awaitQuiescent(Duration.ofSeconds(60)));
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            });
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
        void jsonListsWhatCountTwoWouldRemoveAndDeletesNothing() throws IOException {
            List<String> before = bucket.list("shim/").stream().map(o -> o.key()).toList();
            Shim.Run r = Shim.run(new ExpireCommand(Map.of()), "--dry-run", "--output", "json", "--config",
                    config("shim").toString(), "--retention-full", "2");
            assertEquals(0, r.code(), r.err());
            JsonNode j = new ObjectMapper().readTree(r.out());
            assertTrue(j.path("dryRun").asBoolean());
            assertEquals("count", j.path("policy").path("fullType").asText());
            assertEquals(2, j.path("policy").path("full").asInt());
            JsonNode d = j.path("deletions");
            assertEquals(2, d.size(), d.toString());
            assertEquals(fulls.get(0).toString(), d.get(0).path("label").asText());
            assertTrue(d.get(0).path("bytes").asLong() > 0);
            assertEquals("000000010000000000000002", d.get(1).path("from").asText());
            assertEquals("000000010000000000000009", d.get(1).path("through").asText());
            assertEquals(ThreeFulls.at(3).toString(), j.path("windowBefore").path("earliest").path("time").asText());
            assertEquals(ThreeFulls.at(11).toString(), j.path("windowAfter").path("earliest").path("time").asText());
            assertEquals(before, bucket.list("shim/").stream().map(o -> o.key()).toList());
        }

        @Test
        void textShowsDeletionsKeptBackupsAndTheWindowAfter() {
            Shim.Run r = Shim.run(new ExpireCommand(Map.of()), "--dry-run", "--config", config("shim").toString(),
                    "--retention-full", "2", "--retention-full-type", "count");
            assertEquals(0, r.code(), r.err());
            String out = r.out();
            assertTrue(out.contains("stanza shim: retention preview (dry run, nothing deleted)"), out);
            assertTrue(out.contains("policy             full by count 2, diff 6"), out);
            assertTrue(out.contains("would remove\n  backup  " + fulls.get(0) + " (valid)"), out);
            assertTrue(out.contains("  WAL     000000010000000000000002 .. 000000010000000000000009 (8 segments)"), out);
            assertTrue(out.contains("kept backups\n  " + fulls.get(1) + "  full 2 of 2 kept by count"), out);
            assertTrue(out.contains("  " + fulls.get(2) + "  the newest valid full"), out);
            assertTrue(out.contains("recovery window now   " + ThreeFulls.at(3)), out);
            assertTrue(out.contains("recovery window after " + ThreeFulls.at(11)), out);
        }

        @Test
        void theCapHoldsAFullBackAndAConfirmedRunIsPreviewedWithConfirm() throws IOException {
            Shim.Run r = Shim.run(new ExpireCommand(Map.of()), "--dry-run", "--config", config("shim").toString(),
                    "--retention-full", "1");
            assertEquals(0, r.code(), r.err());
            assertTrue(r.out().contains("would remove\n  backup  " + fulls.get(0) + " (valid)"), r.out());
            assertTrue(r.out().contains("held back by the cap on fulls per run (an operator confirms a run to expire "
                    + "them)\n  " + fulls.get(1)), r.out());
            assertTrue(r.out().contains("cap reached: 2 fulls were due, 1 expire now, 1 held back"), r.out());
            Shim.Run c = Shim.run(new ExpireCommand(Map.of()), "--dry-run", "--confirm", "--output", "json",
                    "--config", config("shim").toString(), "--retention-full", "1");
            assertEquals(0, c.code(), c.err());
            JsonNode j = new ObjectMapper().readTree(c.out());
            assertEquals(0, j.path("heldBack").size(), j.toString());
            assertEquals(List.of(fulls.get(1).toString(), fulls.get(0).toString()),
                    java.util.stream.StreamSupport.stream(j.path("deletions").spliterator(), false)
                            .filter(d -> d.path("kind").asText().equals("backup")).map(d -> d.path("label").asText())
                            .toList());
            // without --dry-run, --confirm is refused like any deletion from a node
            Shim.Run refused = Shim.run(new ExpireCommand(Map.of()), "--confirm", "--config", config("shim").toString());
            assertEquals(ExitCodes.USAGE, refused.code());
        }

        @Test
        void withoutPolicyOptionsTheStanzasConfiguredPolicyApplies() {
            Shim.Run r = Shim.run(new ExpireCommand(Map.of()), "--dry-run", "--config", config("shim").toString());
            assertEquals(0, r.code(), r.err());
            assertTrue(r.out().contains("policy             full by count 9, diff 6"), r.out());
            assertTrue(r.out().contains("nothing to expire"), r.out());
        }

        @Test
        void anUnknownStanzaIsExitOne() {
            Shim.Run r = Shim.run(new ExpireCommand(Map.of()), "--dry-run", "--config", config("nosuch").toString());
            assertEquals(ExitCodes.FAILED, r.code());
            assertTrue(r.err().contains("stanza nosuch does not exist"), r.err());
        }
    }
}
