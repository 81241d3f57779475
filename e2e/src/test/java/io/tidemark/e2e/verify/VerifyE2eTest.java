package io.tidemark.e2e.verify;

import static io.tidemark.e2e.StanzaCli.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.e2e.CloudFixture;
import io.tidemark.e2e.ShimInstall;
import io.tidemark.e2e.ShimProcess;
import io.tidemark.e2e.StanzaCli;
import io.tidemark.e2e.Waits;
import io.tidemark.functions.aws.S3ObjectStore;
import io.tidemark.functions.catalog.ObjectStore;
import io.tidemark.functions.runtime.AwsClients;
import io.tidemark.testkit.PgCluster;
import io.tidemark.testkit.PgTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * {@code tidemark verify} end to end: a PostgreSQL 15 cluster archiving and backing up through the
 * packaged shim into local-cloud with the real functions; a clean run exits 0; then one byte of an
 * archived WAL segment the backup needs is changed at rest (in the object store's file, no S3
 * event, as bit rot would) and the next run names it, exits 1, and the catalog no longer offers it.
 */
@PgTest
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class VerifyE2eTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String STANZA = "main";

    private static Path work;
    private static CloudFixture cloud;
    private static AwsClients aws;
    private static ObjectStore bucket;
    private static Path conf;
    private static PgCluster pg;
    private static StanzaCli cli;
    private static JsonNode backup;

    @BeforeAll
    static void setUp() throws Exception {
        work = Files.createTempDirectory(Path.of("/tmp"), "tidemark-verify-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        cloud = new CloudFixture(work.resolve("cloud")).start();
        aws = AwsClients.create(cloud.cloud().functionConfig());
        bucket = new S3ObjectStore(aws.s3(), cloud.cloud().bucket());
        conf = cloud.nodeConfig(work.resolve("node"), STANZA, "");
        String push = ShimInstall.get().launcher() + " archive-push --config " + conf + " --stanza " + STANZA + " %p";
        pg = PgCluster.builder().setting("archive_mode", "on").setting("archive_command", push).build().start();
        cli = new StanzaCli(work, conf, STANZA, pg);
        ok(shim("stanza-create"));
        pg.sql("create table t(id int primary key)");
        ok(shim("backup", "--type", "full"));
        Waits.until(() -> cloud.stanzaDocument(STANZA).path("backups").size() == 1
                && cloud.stanzaDocument(STANZA).path("backups").get(0).path("status").asText().equals("valid"), Duration.ofMinutes(2),
                "the full backup to be valid");
        backup = cloud.stanzaDocument(STANZA).path("backups").get(0);
        pg.sql("insert into t select generate_series(1, 1000)");
        String last = pg.switchWal();
        Waits.archived(pg, last, Duration.ofMinutes(2));
        Waits.until(() -> cloud.stanzaDocument(STANZA).path("timelines").get(0).path("lastSegment").asText().compareTo(last) >= 0,
                Duration.ofMinutes(2), "the catalog to index " + last);
        assertTrue(cloud.awaitQuiescent(Duration.ofMinutes(2)));
    }

    @AfterAll
    static void tearDown() {
        if (pg != null) {
            pg.close();
        }
        if (aws != null) {
            aws.close();
        }
        if (cloud != null) {
            cloud.close();
        }
        io.tidemark.testkit.FileTrees.deleteQuietly(work);
    }

    @Test
    @Order(1)
    void aCleanArchiveVerifiesCleanAndInfoSaysWhen() {
        ShimProcess.Result r = shim("verify");
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.out().contains("no problems"), r.out());
        String info = shim("info").out();
        assertTrue(info.contains("no problems"), info);
        assertFalse(info.contains("last clean verify  never"), info);
    }

    @Test
    @Order(2)
    void aChangedByteInAnArchivedSegmentIsNamedAndMakesAGap() throws Exception {
        // The segment the backup starts in: its start-to-stop WAL.
        String startSegment = backup.path("startLsn").asText();
        String key = null;
        String startName = segmentOf(startSegment);
        for (ObjectStore.ListedObject o : bucket.list(STANZA + "/wal/")) {
            String name = o.key().substring(o.key().lastIndexOf('/') + 1);
            if (name.matches("[0-9A-F]{24}(\\.[a-z0-9]+)?") && name.substring(0, 24).equals(startName)) {
                key = o.key();
            }
        }
        assertTrue(key != null, "the backup's start segment " + segmentOf(startSegment) + " is archived");
        Path file = cloud.cloud().dir().resolve("s3").resolve(cloud.cloud().bucket()).resolve(key);
        Assumptions.assumeTrue(Files.exists(file), "objects are local files (no external storage)");
        byte[] content = Files.readAllBytes(file);
        content[content.length / 2] ^= 0x40;
        Files.write(file, content, StandardOpenOption.TRUNCATE_EXISTING);

        ShimProcess.Result r = shim("verify");
        assertEquals(1, r.code(), r.toString());
        assertTrue(r.out().contains("  " + key + "\n"), r.out());
        assertTrue(r.out().matches("(?s).*(sha256|unreadable): expected .*"), r.out());

        ShimProcess.Result json = shim("verify", "--output", "json");
        assertEquals(1, json.code(), json.toString());
        JsonNode run = JSON.readTree(json.out());
        List<String> keys = new ArrayList<>(run.path("problems").findValuesAsText("key"));
        assertTrue(keys.contains(key), keys.toString());

        // verify marked it damaged: no archived WAL range holds it any more (a gap, or the range starts
        // after it), and info says the last run found problems.
        JsonNode doc = cli.info();
        String damaged = segmentOf(startSegment);
        for (JsonNode range : doc.path("timelines").get(0).path("walRanges")) {
            assertFalse(range.path("start").asText().compareTo(damaged) <= 0
                    && damaged.compareTo(range.path("end").asText()) <= 0, doc.path("timelines").toString());
        }
        assertTrue(doc.path("verify").path("problems").asLong() > 0, doc.path("verify").toString());
        assertTrue(shim("info").out().contains("PROBLEM"));
    }

    private static String segmentOf(String lsn) {
        // the catalog through the API: this runs once per listed WAL object (an info JVM each before)
        long size = cloud.stanzaDocument(STANZA).path("walSegmentSize").asLong();
        long value = io.tidemark.events.wal.Lsn.parse(lsn).value();
        return io.tidemark.events.wal.WalSegmentName.of(io.tidemark.events.wal.TimelineId.FIRST, value / size,
                io.tidemark.events.wal.WalSegmentSize.ofBytes(size)).toString();
    }

    private static ShimProcess.Result shim(String... args) {
        return cli.run(args);
    }
}
