package io.tidemark.functions.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.layout.StorageLayout;
import io.tidemark.events.paths.SafeRelativePath;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.functions.CloudFixture;
import io.tidemark.functions.aws.S3ObjectStore;
import io.tidemark.functions.index.TestWal;
import io.tidemark.functions.validate.TestBackup;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code verify} end to end in the local cloud: WAL through the real indexer, backups through
 * the real validator, then {@code POST /stanzas/{stanza}/verify} fans out on the in-process pool
 * of real verify handlers. Damage is done at rest, in S3Proxy's files (no S3 event, exactly as
 * bit rot or a lost object looks): each kind of object deleted, truncated, one byte changed.
 */
@Tag("localcloud")
class VerifyLocalCloudTest {

    @TempDir
    static Path dir;
    static CloudFixture f;
    static S3ObjectStore bucket;
    static final TestWal WAL = new TestWal(4, Set.of(1));
    static final AtomicInteger STANZAS = new AtomicInteger();
    static final byte[] HISTORY = "1\t0/7000100\tno recovery target specified\n".getBytes(StandardCharsets.UTF_8);

    @BeforeAll
    static void start() throws IOException {
        // The daily verify of stanza "scheduled", as an operator writes it for tidemark local-cloud.
        Files.writeString(dir.resolve("schedules.json"), "{\"schedules\": [{\"name\": \"verify-scheduled\", "
                + "\"function\": \"verify\", \"dailyAt\": \"03:00\", \"input\": {\"stanza\": \"scheduled\"}}]}");
        f = new CloudFixture(dir);
        bucket = new S3ObjectStore(f.aws.s3(), f.cloud.bucket());
    }

    @AfterAll
    static void stop() {
        if (f != null) {
            f.close();
        }
    }

    /** A stanza with segments 5..8 (zstd), the history file of timeline 2 and one valid full backup. */
    static TestBackup archive(String stanza) throws Exception {
        f.createStanza(stanza);
        StanzaName s = StanzaName.of(stanza);
        for (int i = 0; i < 4; i++) {
            f.uploadWal(stanza, WAL, i);
        }
        f.put(StorageLayout.historyKey(s, TimelineId.of(2)), HISTORY, Map.of("sha256", TestWal.sha256(HISTORY)));
        f.quiesce();
        TestBackup b = TestBackup.full(s, TestBackup.fullLabel(1), TestBackup.files("v"));
        b.upload(bucket);
        f.quiesce();
        JsonNode doc = f.call("GET", "/stanzas/" + stanza, null).json();
        assertEquals("valid", doc.get("backups").get(0).get("status").asText(), doc.toString());
        return b;
    }

    /** Starts a run through the API, waits for the pool to be idle, returns the finished run. */
    static JsonNode verify(String stanza, String body) throws Exception {
        CloudFixture.Answer started = f.call("POST", "/stanzas/" + stanza + "/verify", body);
        assertEquals(202, started.status(), String.valueOf(started.json()));
        String id = started.json().get("id").asText();
        f.quiesce();
        CloudFixture.Answer run = f.call("GET", "/stanzas/" + stanza + "/verify/" + id, null);
        assertEquals(200, run.status(), String.valueOf(run.json()));
        assertEquals("complete", run.json().get("state").asText(), run.json().toString());
        return run.json();
    }

    static Path file(String key) {
        return f.cloud.dir().resolve("s3").resolve(f.cloud.bucket()).resolve(key);
    }

    enum Damage { DELETE, TRUNCATE, FLIP_BYTE }

    static void damage(String key, Damage d) throws IOException {
        Path p = file(key);
        assertTrue(Files.exists(p), "no file for " + key + " at " + p);
        switch (d) {
            case DELETE -> Files.delete(p);
            case TRUNCATE -> {
                try (FileChannel c = FileChannel.open(p, StandardOpenOption.WRITE)) {
                    c.truncate(c.size() / 2);
                }
            }
            case FLIP_BYTE -> {
                byte[] content = Files.readAllBytes(p);
                content[content.length / 2] ^= 0x10;
                Files.write(p, content, StandardOpenOption.TRUNCATE_EXISTING);
            }
        }
    }

    enum Kind { WAL_SEGMENT, HISTORY_FILE, BACKUP_FILE, BUNDLE, MANIFEST }

    static String keyOf(Kind k, StanzaName s, TestBackup b) {
        BackupLabelName label = b.manifest.label();
        return switch (k) {
            case WAL_SEGMENT -> WAL.key(s, 1, Compression.ZSTD);
            case HISTORY_FILE -> StorageLayout.historyKey(s, TimelineId.of(2));
            case BACKUP_FILE -> StorageLayout.backupFileKey(s, label, SafeRelativePath.of("base/1/1259"),
                    Compression.ZSTD);
            case BUNDLE -> StorageLayout.bundleKey(s, label, 0, Compression.ZSTD);
            case MANIFEST -> b.manifestKey();
        };
    }

    /** The checks that may name the object: a changed byte of a zstd object can break the frame itself. */
    static Set<String> expectedChecks(Kind k, Damage d) {
        return switch (d) {
            case DELETE -> Set.of("missing");
            case TRUNCATE -> k == Kind.MANIFEST ? Set.of("sha256") : Set.of("size");
            case FLIP_BYTE -> k == Kind.WAL_SEGMENT ? Set.of("sha256", "unreadable") : Set.of("sha256");
        };
    }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (Kind k : Kind.values()) {
            for (Damage d : Damage.values()) {
                out.add(Arguments.of(k, d));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void eachDamagedObjectIsNamedWithWhatWasExpectedAndFound(Kind kind, Damage d) throws Exception {
        String stanza = "v" + STANZAS.incrementAndGet();
        StanzaName s = StanzaName.of(stanza);
        TestBackup b = archive(stanza);
        JsonNode clean = verify(stanza, "{}");
        assertEquals(0, clean.get("problemCount").asLong(), clean.toString());
        assertTrue(clean.get("clean").asBoolean());

        String key = keyOf(kind, s, b);
        damage(key, d);
        JsonNode run = verify(stanza, "{}");
        assertFalse(run.get("clean").asBoolean(), run.toString());
        JsonNode named = null;
        for (JsonNode p : run.get("problems")) {
            if (p.get("key").asText().equals(key) && expectedChecks(kind, d).contains(p.get("check").asText())) {
                named = p;
            }
        }
        assertTrue(named != null, "no " + expectedChecks(kind, d) + " problem for " + key + " in " + run);
        assertFalse(named.get("expected").asText().isBlank(), named.toString());
        assertFalse(named.get("found").asText().isBlank(), named.toString());
        assertEquals(run.get("problems").size(), run.get("problemCount").asInt(), run.toString());

        // The stanza document (tidemark info) shows the newest run and when it was last clean, and what
        // verify found lost counts as lost: a gap in the WAL, a backup no longer valid.
        JsonNode doc = f.call("GET", "/stanzas/" + stanza, null).json();
        if (kind == Kind.WAL_SEGMENT) {
            assertFalse(doc.get("timelines").get(0).get("gaps").isEmpty(), doc.toString());
        } else if (kind != Kind.HISTORY_FILE) {
            assertFalse("valid".equals(doc.get("backups").get(0).get("status").asText()), doc.toString());
        }
        JsonNode last = doc.get("verify");
        assertEquals(run.get("id").asText(), last.get("run").asText(), String.valueOf(last));
        assertEquals(run.get("problemCount").asLong(), last.get("problems").asLong());
        assertEquals(clean.get("id").asText(), last.get("lastCleanRun").asText());
    }

    @Test
    void aDamagedWalSegmentAlsoBreaksContinuityAndTheChainOfTheBackupThatNeedsIt() throws Exception {
        String stanza = "chain";
        StanzaName s = StanzaName.of(stanza);
        TestBackup b = archive(stanza);
        damage(WAL.key(s, 1, Compression.ZSTD), Damage.DELETE);
        JsonNode run = verify(stanza, "{}");
        Set<String> checks = new java.util.TreeSet<>();
        for (JsonNode p : run.get("problems")) {
            checks.add(p.get("check").asText() + " " + p.get("key").asText());
        }
        assertTrue(checks.contains("missing " + WAL.key(s, 1, Compression.ZSTD)), checks.toString());
        assertTrue(checks.contains("gap " + WAL.name(1)), checks.toString());
        assertTrue(checks.contains("chain " + b.manifestKey()), checks.toString());
    }

    @Test
    void oneBackupCanBeVerifiedAloneAndUnknownOnesAreRefused() throws Exception {
        String stanza = "scoped";
        TestBackup b = archive(stanza);
        JsonNode run = verify(stanza, "{\"backup\": \"" + b.manifest.label() + "\"}");
        assertEquals(b.manifest.label().toString(), run.get("backup").asText());
        assertEquals(0, run.get("problemCount").asLong(), run.toString());
        // manifest + 2 single files + 1 bundle + segments 5..7
        assertEquals(7, run.get("checked").asLong(), run.toString());

        CloudFixture.Answer unknown = f.call("POST", "/stanzas/" + stanza + "/verify",
                "{\"backup\": \"" + TestBackup.fullLabel(9) + "\"}");
        assertEquals(404, unknown.status(), String.valueOf(unknown.json()));
        assertEquals(404, f.call("POST", "/stanzas/nosuch/verify", "{}").status());
        assertEquals(400, f.call("POST", "/stanzas/" + stanza + "/verify", "{\"bakcup\": 1}").status());
        assertEquals(404, f.call("GET", "/stanzas/" + stanza + "/verify/20260101T000000Z-00000000", null).status());
    }

    @Test
    void theScheduledFunctionRunsAWholeVerify() throws Exception {
        String stanza = "scheduled";
        archive(stanza);
        // The daily schedule's event, through the scheduled function as EventBridge would invoke it.
        String out = f.cloud.runSchedule("verify-scheduled");
        f.quiesce();
        JsonNode last = f.call("GET", "/stanzas/" + stanza, null).json().get("verify");
        assertEquals(0, last.get("problems").asLong(), String.valueOf(last) + " " + out);
        assertEquals("complete", last.get("state").asText());
    }
}
