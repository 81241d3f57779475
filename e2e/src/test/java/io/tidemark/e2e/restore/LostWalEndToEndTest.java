package io.tidemark.e2e.restore;

import static io.tidemark.e2e.StanzaCli.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.tidemark.e2e.CloudFixture;
import io.tidemark.e2e.ShimInstall;
import io.tidemark.e2e.ShimProcess;
import io.tidemark.e2e.StanzaCli;
import io.tidemark.e2e.Waits;
import io.tidemark.functions.runtime.AwsClients;
import io.tidemark.testkit.PgCluster;
import io.tidemark.testkit.PgTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 12, "the catalog follows what happens to objects", end to end: PostgreSQL 15 archives
 * through the packaged shim into the local cloud; a full backup, then three batches of rows, each
 * in its own segment. The middle batch's WAL object is deleted from the bucket through S3: the
 * removal event reaches the indexer, {@code tidemark info} shows the gap and the lost object, a
 * restore to a time beyond the gap is refused with the nearest reachable point and writes nothing,
 * and a restore to a time before the gap still works.
 */
@PgTest
class LostWalEndToEndTest {
    private static final String STANZA = "main";

    private static Path work;
    private static CloudFixture cloud;
    private static Path conf;
    private static PgCluster pg;
    private static StanzaCli cli;
    private static final List<PgCluster> restored = new ArrayList<>();

    @BeforeAll
    static void setUp() throws Exception {
        work = Files.createTempDirectory(Path.of("/tmp"), "tidemark-lost-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        cloud = new CloudFixture(work.resolve("cloud")).start();
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
    }

    @AfterAll
    static void tearDown() {
        PgCluster.closeAll(restored);
        if (pg != null) {
            pg.close();
        }
        if (cloud != null) {
            cloud.close();
        }
        io.tidemark.testkit.FileTrees.deleteQuietly(work);
    }

    @Test
    void aSegmentDeletedInTheMiddleIsAGapThatInfoShowsAndRestoresBeyondItAreRefused() throws Exception {
        pg.sql("insert into t select generate_series(1, 100)");
        String time100 = pg.sql("select clock_timestamp()");
        // a commit after time100 in the same segment: a time target needs one to stop at
        pg.sql("insert into t values (100000)");
        String first = pg.switchWal();
        pg.sql("insert into t select generate_series(101, 200)");
        String middle = pg.switchWal();
        pg.sql("insert into t select generate_series(201, 300)");
        String time300 = pg.sql("select clock_timestamp()");
        String last = pg.switchWal();
        Waits.archived(pg, last, Duration.ofMinutes(2));
        Waits.until(() -> cloud.stanzaDocument(STANZA).path("timelines").get(0).path("lastSegment").asText().compareTo(last) >= 0
                && cloud.stanzaDocument(STANZA).path("timelines").get(0).path("gaps").isEmpty(), Duration.ofMinutes(2),
                "the catalog to hold every segment through " + last);
        assertTrue(first.compareTo(middle) < 0 && middle.compareTo(last) < 0, first + " " + middle + " " + last);

        // one WAL object in the middle disappears from the bucket (deleted as the retention function,
        // the only principal the bucket policy lets delete)
        try (AwsClients aws = cloud.clientsAs("Retention")) {
            String key = aws.s3().listObjectsV2Paginator(b -> b.bucket(cloud.cloud().bucket()).prefix(STANZA + "/wal/"))
                    .contents().stream().map(o -> o.key()).filter(k -> k.contains("/" + middle + "."))
                    .findFirst().orElseThrow(() -> new AssertionError("no object for " + middle));
            aws.s3().deleteObject(b -> b.bucket(cloud.cloud().bucket()).key(key));
        }
        Waits.until(() -> cloud.stanzaDocument(STANZA).path("lostObjects").size() == 1, Duration.ofMinutes(1),
                "the catalog to mark " + middle + " missing");

        JsonNode doc = cli.info();
        JsonNode t1 = doc.path("timelines").get(0);
        assertEquals(middle, t1.path("gaps").get(0).path("start").asText(), doc.toString());
        assertEquals(middle, t1.path("lostWal").get(0).path("start").asText(), doc.toString());
        assertEquals("missing", doc.path("lostObjects").get(0).path("status").asText());
        ShimProcess.Result text = shim("info");
        ok(text);
        assertTrue(text.out().contains("!!! GAP !!!        " + middle + " .. " + middle), text.out());
        assertTrue(text.out().contains("!!! LOST !!!       " + middle), text.out());
        assertTrue(text.out().contains("WARNING: 1 archived object is LOST"), text.out());
        // a versioned bucket (the stack's; RGW's in the e2e pass) keeps the object under a delete marker
        String how;
        try (AwsClients aws = AwsClients.create(cloud.cloud().functionConfig())) {
            boolean versioned;
            try {
                versioned = aws.s3().getBucketVersioning(b -> b.bucket(cloud.cloud().bucket())).status()
                        == software.amazon.awssdk.services.s3.model.BucketVersioningStatus.ENABLED;
            } catch (software.amazon.awssdk.services.s3.model.S3Exception e) {
                assertEquals(501, e.statusCode(), e.toString()); // S3Proxy knows no versioning
                versioned = false;
            }
            how = versioned ? "hidden by a delete marker (ObjectRemoved:DeleteMarkerCreated)"
                    : "deleted from the bucket (ObjectRemoved:Delete)";
        }
        assertTrue(text.out().contains(how), text.out());

        // beyond the gap: refused before anything is written, with the nearest reachable point
        Path beyond = work.resolve("beyond");
        Files.createDirectories(beyond);
        ShimProcess.Result r = shim("restore", "--pgdata", beyond.toString(), "--target-time", time300);
        assertNotEquals(0, r.code(), r.toString());
        assertTrue((r.out() + r.err()).contains("nearest reachable point before"), r.toString());
        try (Stream<Path> s = Files.list(beyond)) {
            assertEquals(List.of(), s.toList(), "nothing written");
        }

        // before the gap: restores, with the rows of the first batch
        PgCluster c = PgCluster.builder().emptyDataDir().setting("archive_mode", "off")
                .startTimeout(Duration.ofMinutes(3)).build();
        restored.add(c);
        ShimProcess.Result ok = shim("restore", "--pgdata", c.dataDir().toString(), "--target-time", time100);
        assertEquals(0, ok.code(), ok.toString());
        try (Stream<Path> s = Files.walk(c.dataDir())) {
            s.forEach(c.runAs()::giveOwnership);
        }
        c.start();
        Waits.until(() -> c.sql("select pg_is_in_recovery()").equals("f"), Duration.ofMinutes(3),
                "recovery to " + time100 + "\n" + c.logContext());
        assertEquals("100", c.sql("select count(*) from t"));
    }

    private static ShimProcess.Result shim(String... args) {
        return cli.run(args);
    }
}
