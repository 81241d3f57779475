package io.tidemark.e2e.verify;

import static io.tidemark.e2e.StanzaCli.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.e2e.CloudFixture;
import io.tidemark.e2e.ShimInstall;
import io.tidemark.e2e.ShimProcess;
import io.tidemark.e2e.StanzaCli;
import io.tidemark.e2e.Waits;
import io.tidemark.testkit.PgCluster;
import io.tidemark.testkit.PgTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code tidemark verify} on an archive with two timelines as PostgreSQL makes them: a point-in-time
 * restore to a restore point promotes onto timeline 2 and archives it (history file, partial
 * segment of timeline 1, timeline 2's WAL) next to timeline 1, which goes on. None of that is a
 * problem: continuity per timeline and the history check must accept what PostgreSQL writes.
 */
@PgTest
class VerifyTimelineE2eTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String STANZA = "main";

    private static Path work;
    private static CloudFixture cloud;
    private static Path conf;
    private static PgCluster pg;
    private static StanzaCli cli;
    private static PgCluster promoted;

    @BeforeAll
    static void setUp() throws Exception {
        work = Files.createTempDirectory(Path.of("/tmp"), "tidemark-verify-tl-",
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
        pg.sql("insert into t select generate_series(1, 100)");
        pg.sql("select pg_create_restore_point('rp-100')");
        pg.sql("insert into t select generate_series(101, 200)");
        String last = pg.switchWal();
        Waits.archived(pg, last, Duration.ofMinutes(2));
        Waits.until(() -> cloud.stanzaDocument(STANZA).path("timelines").get(0).path("lastSegment").asText().compareTo(last) >= 0,
                Duration.ofMinutes(2), "the catalog to index " + last);

        // A point-in-time restore that promotes onto timeline 2 and archives it.
        promoted = PgCluster.builder().emptyDataDir().setting("archive_mode", "on")
                .startTimeout(Duration.ofMinutes(3)).build();
        ShimProcess.Result r = shim("restore", "--pgdata", promoted.dataDir().toString(), "--target-name", "rp-100",
                "--keep-config-commands"); // it archives with the source's archive_command
        assertEquals(0, r.code(), r.toString());
        try (Stream<Path> s = Files.walk(promoted.dataDir())) {
            s.forEach(promoted.runAs()::giveOwnership);
        }
        promoted.start();
        Waits.until(() -> promoted.sql("select pg_is_in_recovery()").equals("f"), Duration.ofMinutes(3),
                "recovery to rp-100\n" + promoted.logContext());
        assertEquals("100", promoted.sql("select count(*) from t"));
        promoted.sql("insert into t select generate_series(1001, 1100)");
        String tl2 = promoted.switchWal();
        Waits.archived(promoted, tl2, Duration.ofMinutes(2));
        Waits.until(() -> cloud.stanzaDocument(STANZA).path("timelines").size() == 2
                && cloud.stanzaDocument(STANZA).path("timelines").get(1).path("lastSegment").asText().equals(tl2), Duration.ofMinutes(2),
                "the catalog to index " + tl2 + " on timeline 2");
        // Timeline 1 goes on after the branch.
        pg.sql("insert into t select generate_series(201, 300)");
        String more = pg.switchWal();
        Waits.archived(pg, more, Duration.ofMinutes(2));
        assertTrue(cloud.awaitQuiescent(Duration.ofMinutes(2)));
    }

    @AfterAll
    static void tearDown() {
        if (promoted != null) {
            promoted.close();
        }
        if (pg != null) {
            pg.close();
        }
        if (cloud != null) {
            cloud.close();
        }
        io.tidemark.testkit.FileTrees.deleteQuietly(work);
    }

    @Test
    void twoTimelinesAsPostgresqlArchivesThemVerifyClean() throws Exception {
        ShimProcess.Result r = shim("verify", "--output", "json");
        JsonNode run = JSON.readTree(r.out());
        assertEquals(0, r.code(), r + "\n" + run.path("problems"));
        assertEquals(0, run.path("problemCount").asLong(), run.toString());
        assertEquals("complete", run.path("state").asText());
        // every segment of both timelines, the history file, the partial segment, the backup's objects
        assertTrue(run.path("checked").asLong() >= 6, run.toString());
    }

    private static ShimProcess.Result shim(String... args) {
        return cli.run(args);
    }
}
