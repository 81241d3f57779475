package io.tidemark.e2e.backup;

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
import io.tidemark.events.backup.BackupManifest;
import io.tidemark.events.backup.BlockMap;
import io.tidemark.events.backup.ManifestFile;
import io.tidemark.events.backup.ManifestJson;
import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.layout.StorageLayout;
import io.tidemark.events.paths.SafeRelativePath;
import io.tidemark.functions.runtime.AwsClients;
import io.tidemark.testkit.PgCluster;
import io.tidemark.testkit.PgTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Issue 16 end to end: block-level incrementals of a real PostgreSQL 15 cluster through the
 * packaged shim, validated and planned by the real functions in local-cloud, restored by
 * {@code tidemark restore}; each restored cluster is started and every table's checksum compared.
 *
 * <p>The chain: full | 1 % of {@code big} updated: diff | {@code big} extended, {@code fresh}
 * created, {@code other} rewritten by VACUUM FULL: incr 1 | {@code big}'s tail deleted and
 * truncated by VACUUM: incr 2 | {@code other} dropped, rows of {@code big} updated: incr 3 | time
 * target T | more rows, a new table: latest.
 */
@PgTest
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BlockIncrementalE2eTest {
    private static final String STANZA = "blocks";

    private static Path work;
    private static CloudFixture cloud;
    private static AwsClients aws;
    private static PgCluster pg;
    private static StanzaCli cli;
    private static final List<String> labels = new ArrayList<>();
    private static String bigPath;
    private static String targetTime;
    private static Map<String, String> atTarget;
    private static Map<String, String> atLatest;
    private static final List<PgCluster> restored = new ArrayList<>();

    @BeforeAll
    static void setUp() throws Exception {
        work = Files.createTempDirectory(Path.of("/tmp"), "tidemark-blocks-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        cloud = new CloudFixture(work.resolve("cloud")).start();
        aws = AwsClients.create(cloud.cloud().functionConfig());
        // retries=1: a damaged block is tried twice, not five times with pauses
        Path conf = cloud.nodeConfig(work.resolve("node"), STANZA, "retries=1\n");
        String push = ShimInstall.get().launcher() + " archive-push --config " + conf + " --stanza " + STANZA + " %p";
        pg = PgCluster.builder().dataChecksums(true)
                .setting("archive_mode", "on").setting("archive_command", push)
                .build().start();
        cli = new StanzaCli(work, conf, STANZA, pg);
        ok(cli.run("stanza-create"));
        pg.sql("create table big(id int primary key, pad text);"
                + " insert into big select g, repeat(md5(g::text), 3) from generate_series(1, 60000) g;"
                + " create table other(id int, v text); insert into other select g, md5(g::text) from generate_series(1, 20000) g;"
                + " vacuum freeze big; vacuum freeze other; checkpoint");
        bigPath = pg.sql("select pg_relation_filepath('big')");
        Thread.sleep(2100); // files older than the referencing margin of the full
        backup("full");

        // 1 % of the rows, contiguous, same length: the new versions do not fit in the gaps of the full
        // pages (md5(pad), a shorter row, would scatter them over most pages through the free space map)
        pg.sql("update big set pad = upper(pad) where id <= 600");
        backup("diff");

        pg.sql("insert into big select g, repeat(md5(g::text), 3) from generate_series(60001, 90000) g;"
                + " create table fresh(id int, v text); insert into fresh select g, md5(g::text) from generate_series(1, 30000) g;"
                + " vacuum full other");
        backup("incr");

        pg.sql("delete from big where id > 75000; vacuum big");
        backup("incr");

        pg.sql("drop table other; update big set pad = 'changed' where id % 1000 = 0");
        backup("incr");

        pg.sql("insert into big values (100001, 'before the target')");
        atTarget = checksums(pg);
        Thread.sleep(50);
        targetTime = pg.sql("select clock_timestamp()");
        Thread.sleep(50);
        pg.sql("insert into big values (100002, 'after the target'); create table late as select * from fresh where id < 100;"
                + " update fresh set v = 'x' where id < 50");
        atLatest = checksums(pg);
        String last = pg.switchWal();
        Waits.archived(pg, last, Duration.ofMinutes(2));
        Waits.until(() -> latestWindowCovers(last), Duration.ofMinutes(2), "the window to reach " + last);
    }

    @AfterAll
    static void tearDown() {
        List<PgCluster> all = new ArrayList<>(restored);
        all.add(pg);
        PgCluster.closeAll(all);
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
    void theDiffStoresOnlyTheChangedBlocksOfTheBigTable() {
        BackupManifest diff = manifest(labels.get(1));
        ManifestFile heap = file(diff, bigPath);
        BlockMap map = heap.blocks().orElseThrow(() -> new AssertionError(bigPath + " has no block map: " + heap));
        BackupLabelName label = diff.label();
        long stored = map.blocks().stream().filter(b -> b.reference().equals(label)).count();
        assertEquals(label, heap.reference());
        assertTrue(map.blocks().size() >= 40, "a multi-MB heap: " + map.blocks().size() + " blocks");
        assertTrue(stored >= 1 && stored <= 4, "1 % of rows at the start and their new versions at the end: "
                + stored + " of " + map.blocks().size() + " blocks stored");
        assertTrue(heap.storedSize() < heap.size() / 10, heap.storedSize() + " stored of " + heap.size());
        assertEquals(BackupManifest.BLOCK_DIGEST_FORMAT_VERSION, diff.formatVersion());
        assertEquals(io.tidemark.events.backup.BlockDigest.of(heap.size(), map), heap.sha256(), "the file's digest is over its blocks");
    }

    @Test
    @Order(2)
    void latestRestoresEveryTableThroughTheChain() throws Exception {
        PgCluster c = restore(); // no target: latest
        assertEquals(atLatest, checksums(c));
    }

    @Test
    @Order(3)
    void aTimeTargetRestoresEveryTableAsItWasThen() throws Exception {
        PgCluster c = restore("--target-time", targetTime);
        assertEquals(atTarget, checksums(c));
    }

    @Test
    @Order(4)
    void aDamagedBlockIsRefusedNamingTheFileAndTheBlock() throws Exception {
        BackupManifest latest = manifest(labels.get(labels.size() - 1));
        BlockMap map = file(latest, bigPath).blocks().orElseThrow();
        BackupLabelName full = BackupLabelName.parse(labels.get(0));
        int index = -1;
        for (int i = 0; i < map.blocks().size() && index < 0; i++) {
            if (map.blocks().get(i).reference().equals(full)) {
                index = i;
            }
        }
        assertTrue(index >= 0, "the latest still reads blocks of the full");
        BlockMap.Block block = map.blocks().get(index);
        String key = StorageLayout.backupFileKey(StanzaName.of(STANZA), full, SafeRelativePath.of(bigPath), latest.compression());
        // bit rot in the store's own file, after validation: no S3 event tells anyone
        Path object = cloud.cloud().dir().resolve("s3").resolve(cloud.cloud().bucket()).resolve(key);
        byte[] original = Files.readAllBytes(object);
        byte[] damaged = original.clone();
        damaged[(int) (block.offset() + block.storedSize() / 2)] ^= 0x01;
        Files.write(object, damaged, StandardOpenOption.TRUNCATE_EXISTING);
        try {
            PgCluster c = PgCluster.builder().emptyDataDir().setting("archive_mode", "off").build();
            restored.add(c);
            ShimProcess.Result r = cli.run("restore", "--pgdata", c.dataDir().toString());
            assertNotEquals(0, r.code(), r.toString());
            String expected = bigPath + ": block " + index + " (" + key + " at offset " + block.offset() + ") is damaged";
            assertTrue(r.err().contains(expected), "expected '" + expected + "' in: " + r);
            assertTrue(!Files.exists(c.dataDir().resolve(bigPath)), "the damaged file is not written");
        } finally {
            Files.write(object, original, StandardOpenOption.TRUNCATE_EXISTING);
        }
    }

    // ---------------------------------------------------------------- helpers

    /** Every table of the public schema: name -> row count and MD5 of its rows in text order. */
    private static Map<String, String> checksums(PgCluster c) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String t : c.sql("select relname from pg_class where relkind = 'r' and relnamespace = 'public'::regnamespace"
                + " order by 1").lines().filter(l -> !l.isBlank()).toList()) {
            out.put(t, c.sql("select count(*) || ' ' || coalesce(md5(string_agg(x::text, '|' order by x::text)), '-') from "
                    + t + " x"));
        }
        return out;
    }

    private static PgCluster restore(String... args) throws Exception {
        PgCluster c = PgCluster.builder().emptyDataDir().setting("archive_mode", "off")
                .startTimeout(Duration.ofMinutes(3)).build();
        restored.add(c);
        List<String> all = new ArrayList<>(List.of("restore", "--pgdata", c.dataDir().toString()));
        all.addAll(List.of(args));
        ShimProcess.Result r = cli.run(all.toArray(String[]::new));
        assertEquals(0, r.code(), r.toString());
        try (Stream<Path> s = Files.walk(c.dataDir())) {
            s.forEach(c.runAs()::giveOwnership);
        }
        c.start();
        Waits.until(() -> c.sql("select pg_is_in_recovery()").equals("f"), Duration.ofMinutes(3),
                "recovery of " + String.join(" ", args) + "\n" + c.logContext());
        return c;
    }

    private static void backup(String type) {
        ok(cli.run("backup", "--type", type));
        JsonNode backups = cloud.stanzaDocument(STANZA).get("backups"); // the catalog through the API: no info JVM
        String label = backups.get(backups.size() - 1).get("label").asText();
        Waits.until(() -> status(label).equals("valid"), Duration.ofMinutes(2), type + " backup " + label + " to be valid");
        labels.add(label);
    }

    private static String status(String label) {
        for (JsonNode b : cloud.stanzaDocument(STANZA).path("backups")) {
            if (b.path("label").asText().equals(label)) {
                return b.path("status").asText();
            }
        }
        return "";
    }

    private static boolean latestWindowCovers(String segment) {
        JsonNode doc = cloud.stanzaDocument(STANZA);
        JsonNode latest = doc.path("window").path("latest");
        return !latest.isMissingNode() && !latest.isNull()
                && doc.path("timelines").get(0).path("lastSegment").asText().compareTo(segment) >= 0;
    }

    private static BackupManifest manifest(String label) {
        String key = StorageLayout.manifestKey(StanzaName.of(STANZA), BackupLabelName.parse(label));
        return ManifestJson.read(aws.s3().getObjectAsBytes(b -> b.bucket(cloud.cloud().bucket()).key(key)).asByteArray());
    }

    private static ManifestFile file(BackupManifest m, String path) {
        return m.files().stream().filter(f -> f.path().path().equals(path)).findFirst()
                .orElseThrow(() -> new AssertionError(path + " is not in " + m.label()));
    }
}
