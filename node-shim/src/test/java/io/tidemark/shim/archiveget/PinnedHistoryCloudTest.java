package io.tidemark.shim.archiveget;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.events.json.CanonicalJson;
import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.layout.StorageLayout;
import io.tidemark.events.metrics.TidemarkMetric;
import io.tidemark.events.plan.PlanWal;
import io.tidemark.events.plan.RestorePlan;
import io.tidemark.events.plan.RestorePlanJson;
import io.tidemark.events.sign.SignedEnvelope;
import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalFileName;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.functions.aws.DynamoDbCatalogStore;
import io.tidemark.functions.aws.S3ObjectStore;
import io.tidemark.functions.catalog.Item;
import io.tidemark.functions.catalog.Keys;
import io.tidemark.functions.index.TestWal;
import io.tidemark.functions.runtime.AwsClients;
import io.tidemark.functions.validate.TestBackup;
import io.tidemark.localcloud.LocalCloud;
import io.tidemark.localcloud.LocalCloudFunctions;
import io.tidemark.shim.cli.ExitCodes;
import io.tidemark.shim.support.Shim;
import io.tidemark.shim.support.TestCloud;
import io.tidemark.testkit.wal.SyntheticWal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14, history pinned to what the cloud accepted, through the real local cloud: WAL indexed
 * and a backup validated by the real functions on real S3 events, a plan from the real planner,
 * and {@code archive-get --plan}. Objects are written again by the bucket's owner through the S3
 * API: S3 without our bucket policy (which would refuse a node's overwrite), raising the ObjectCreated
 * events an attacker's overwrite raises.
 *
 * <p>Timeline 1, segments 5..8, each committing one transaction; the backup covers 5..6.
 */
@Tag("localcloud")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PinnedHistoryCloudTest {
    private static final StanzaName STANZA = StanzaName.of("pinned");
    private static final Instant T0 = Instant.parse("2026-03-02T00:00:00Z");
    private static final ObjectMapper MAPPER = new ObjectMapper();

    @TempDir
    static Path dir;
    static LocalCloud cloud;
    static AwsClients aws;
    static S3ObjectStore bucket;
    static DynamoDbCatalogStore catalog;
    static TestBackup backup;
    static final List<byte[]> segments = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        cloud = LocalCloudFunctions.register(LocalCloud.builder()).dir(dir.resolve("cloud")).start();
        aws = AwsClients.create(cloud.functionConfig());
        bucket = new S3ObjectStore(aws.s3(), cloud.bucket());
        catalog = new DynamoDbCatalogStore(aws.dynamoDb(), cloud.functionConfig().table());
        String stanzaJson = "{\"systemIdentifier\":\"" + TestWal.SYSTEM_ID_TEXT + "\",\"pgVersion\":15,"
                + "\"pgVersionNum\":150004,\"walSegmentSize\":" + TestWal.SIZE.bytes() + "}";
        HttpResponse<String> put = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create(cloud.apiUrl() + "/stanzas/" + STANZA)).PUT(HttpRequest.BodyPublishers.ofString(stanzaJson))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, put.statusCode(), put.body());
        segments.addAll(wal(1000));
        for (int i = 0; i < segments.size(); i++) {
            upload(i, segments.get(i));
        }
        quiesce();
        int size = TestWal.SIZE.bytes();
        backup = TestBackup.build(STANZA, TestBackup.fullLabelAt(T0.plusMillis(6500).minusSeconds(30)), null, TestBackup.files("p"), Lsn.of(5L * size + 0x28),
                Lsn.of(6L * size + 0x100), TimelineId.FIRST, T0.plusMillis(6500));
        backup.upload(bucket);
        quiesce();
        assertEquals("valid", backupItem().string("status").orElse(null), backupItem().describe());
    }

    @AfterAll
    static void stop() {
        if (aws != null) {
            aws.close();
        }
        if (cloud != null) {
            cloud.close();
        }
    }

    /** Segments 5..8; segment s commits xid {@code xidBase}+s: another base gives other WAL at the same positions. */
    static List<byte[]> wal(long xidBase) {
        SyntheticWal w = SyntheticWal.pg15OneMb();
        for (long s = 5; s <= 8; s++) {
            w.commit(xidBase + s, (T0.getEpochSecond() + s) * 1_000_000L);
            w.switchSegment();
        }
        List<byte[]> out = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            out.add(w.segment(i));
        }
        return out;
    }

    static String name(int i) {
        return WalSegmentName.of(TimelineId.FIRST, 5 + i, TestWal.SIZE).toString();
    }

    static String key(int i) {
        return StorageLayout.walKey(STANZA, new WalFileName.Segment(WalSegmentName.parse(name(i), TestWal.SIZE)),
                Compression.ZSTD);
    }

    /** Writes segment {@code i} with {@code raw}, its metadata saying the SHA-256 of exactly those bytes. */
    static void upload(int i, byte[] raw) {
        bucket.put(key(i), TestWal.compress(Compression.ZSTD, raw), "application/octet-stream",
                Map.of("sha256", TestWal.sha256(raw)));
    }

    static void quiesce() throws InterruptedException {
        assertTrue(cloud.awaitQuiescent(Duration.ofSeconds(60)), "events not handled");
        assertEquals(List.of(), cloud.failedEvents(), "no handler failed");
    }

    static long conflicts() {
        return cloud.metrics().of(TidemarkMetric.NAMESPACE, TidemarkMetric.HISTORY_CONFLICTS.metricName(),
                Map.of(TidemarkMetric.DIMENSION, STANZA.value())).stream().mapToLong(p -> (long) p.value()).sum();
    }

    static Item backupItem() {
        return catalog.get(Keys.pk(STANZA), Keys.backup(backup.manifest.label())).orElseThrow();
    }

    @Test
    @Order(1)
    void aWalObjectReplacedWithMatchingMetadataKeepsTheOriginalInThePlanAndArchiveGetRefusesIt() throws Exception {
        String original = TestWal.sha256(segments.get(2));
        Item before = catalog.get(Keys.pk(STANZA), Keys.wal(WalSegmentName.parse(name(2), TestWal.SIZE))).orElseThrow();
        assertEquals(original, before.string("sha256").orElse(null), "the cloud's own hash of what it read");

        // two other bodies for segment 7, each with metadata that matches it: valid WAL of the same system
        byte[] forged = wal(5000).get(2);
        upload(2, wal(7000).get(2));
        quiesce();
        upload(2, forged);
        quiesce();
        Item after = catalog.get(Keys.pk(STANZA), Keys.wal(WalSegmentName.parse(name(2), TestWal.SIZE))).orElseThrow();
        assertEquals(before.without(Item.REV), after.without(Item.REV), "the accepted item stays as it was");
        assertEquals(2, conflicts(), "each different upload counted");

        HttpResponse<String> post = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create(cloud.apiUrl() + "/stanzas/" + STANZA + "/restore-plans"))
                .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(201, post.statusCode(), post.body());
        JsonNode envelope = MAPPER.readTree(post.body()).get("plan");
        RestorePlan plan = RestorePlanJson.read(SignedEnvelope.verify(CanonicalJson.canonicalize(envelope),
                io.tidemark.events.sign.EcKeys.readPublic(cloud.clientConfig().get("plan.publicKey"))));
        PlanWal w = plan.wal().stream().filter(p -> p.name().equals(name(2))).findFirst().orElseThrow();
        assertEquals(original, w.sha256(), "the plan carries the SHA-256 the cloud accepted");

        Path pgdata = Files.createDirectories(dir.resolve("pgdata/pg_wal")).getParent();
        Path planFile = pgdata.resolve(WalPlan.FILE_NAME);
        Files.writeString(planFile, envelope.toString());
        Path conf = TestCloud.config(cloud, dir, Map.of("stanza", STANZA.value()));
        Shim.Run r = Shim.run(new ArchiveGetCommand(Map.of()), name(2), "pg_wal/RECOVERYXLOG", "--config",
                conf.toString(), "--pgdata", pgdata.toString(), "--plan", planFile.toString());
        assertEquals(ExitCodes.ABORT_RECOVERY, r.code(), r.err());
        assertTrue(r.err().contains("ABORTING RECOVERY: " + name(2) + " (" + key(2) + "): damaged: SHA-256 of its content"
                + " is " + TestWal.sha256(forged) + ", the plan says " + original), r.err());
        assertTrue(Files.notExists(pgdata.resolve("pg_wal/RECOVERYXLOG")), "nothing written for PostgreSQL");

        // the original bytes again: served
        upload(2, segments.get(2));
        quiesce();
        assertEquals(2, conflicts(), "the accepted bytes again are no conflict");
        Shim.Run ok = Shim.run(new ArchiveGetCommand(Map.of()), name(2), "pg_wal/RECOVERYXLOG", "--config",
                conf.toString(), "--pgdata", pgdata.toString(), "--plan", planFile.toString());
        assertEquals(ExitCodes.OK, ok.code(), ok.err());
    }

    @Test
    @Order(2)
    void theSameManifestAgainIsANoOpAndAnotherManifestForTheLabelIsRefusedAndCounted() throws Exception {
        Item validated = backupItem();
        long before = conflicts();

        backup.uploadManifest(bucket, backup.manifestBytes());
        quiesce();
        assertEquals(validated.without(Item.REV), backupItem().without(Item.REV),
                "the same manifest again: not validated again, its acceptance time unchanged");
        assertEquals(before, conflicts());

        // another manifest for the label, its files not even uploaded: validated again it would be invalid
        TestBackup other = TestBackup.build(STANZA, backup.manifest.label(), null, TestBackup.files("q"),
                Lsn.of(5L * TestWal.SIZE.bytes() + 0x28), Lsn.of(6L * TestWal.SIZE.bytes() + 0x100), TimelineId.FIRST,
                T0.plusMillis(6500));
        assertNotEquals(TestWal.sha256(other.manifestBytes()), TestWal.sha256(backup.manifestBytes()));
        other.uploadManifest(bucket, other.manifestBytes());
        quiesce();
        assertEquals(validated.without(Item.REV), backupItem().without(Item.REV), "the label stays validated once");
        assertEquals(before + 1, conflicts(), "the refused manifest counted");
    }
}
