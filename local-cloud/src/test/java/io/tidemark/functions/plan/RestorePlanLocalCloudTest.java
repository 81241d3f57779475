package io.tidemark.functions.plan;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.tidemark.events.json.CanonicalJson;
import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.layout.StorageLayout;
import io.tidemark.events.plan.PlanFile;
import io.tidemark.events.plan.PlanWal;
import io.tidemark.events.plan.RestorePlan;
import io.tidemark.events.plan.RestorePlanJson;
import io.tidemark.events.sign.EcKeys;
import io.tidemark.events.sign.SignedEnvelope;
import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalFileName;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.functions.CloudFixture;
import io.tidemark.functions.aws.S3ObjectStore;
import io.tidemark.functions.index.TestWal;
import io.tidemark.functions.validate.TestBackup;
import io.tidemark.testkit.wal.SyntheticWal;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Restore plans through the real local cloud: WAL indexed and a backup validated by the real
 * functions on real S3 events; plans over HTTP for every target type, verified with the public key
 * of tidemark.conf; presigned URLs that deliver the signed bytes (a Range GET on a bundle too);
 * a target outside the window refused with the nearest points; URL renewal; the window in GET /stanzas.
 *
 * <p>Timeline 1, segments 5..12; segment s commits xid 1000+s at T0+s s; segment 8 also holds the
 * restore point "rp1". The backup covers segments 5..6 and is consistent at T0+6.5 s.
 */
@Tag("localcloud")
class RestorePlanLocalCloudTest {

    @TempDir
    static Path dir;
    static CloudFixture f;
    static S3ObjectStore bucket;
    static TestBackup backup;
    static PublicKey publicKey;
    static final StanzaName STANZA = StanzaName.of("pitr");
    static final Instant T0 = Instant.parse("2026-03-02T00:00:00Z");
    static final Map<String, byte[]> stored = new HashMap<>();

    static Instant at(double s) {
        return T0.plusNanos((long) (s * 1e9));
    }

    static long micros(Instant t) {
        return t.getEpochSecond() * 1_000_000L + t.getNano() / 1000;
    }

    @BeforeAll
    static void start() throws Exception {
        f = new CloudFixture(dir, true);
        bucket = new S3ObjectStore(f.aws.s3(), f.cloud.bucket());
        Properties conf = new Properties();
        try (InputStream in = Files.newInputStream(f.cloud.configFile())) {
            conf.load(in);
        }
        publicKey = EcKeys.readPublic(conf.getProperty("plan.publicKey"));
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(dir.resolve("plan-key.pem"))));

        assertEquals(200, f.call("PUT", "/stanzas/pitr", CloudFixture.stanzaBody(TestWal.SYSTEM_ID_TEXT,
                TestWal.SIZE.bytes())).status());
        SyntheticWal w = SyntheticWal.pg15OneMb();
        for (long s = 5; s <= 12; s++) {
            w.commit(1000 + s, micros(at(s)));
            if (s == 8) {
                w.restorePoint("rp1", micros(at(8.5)));
            }
            w.switchSegment();
        }
        for (int i = 0; i < 8; i++) {
            byte[] raw = w.segment(i);
            String key = StorageLayout.walKey(STANZA, new WalFileName.Segment(
                    WalSegmentName.parse(w.segmentName(i), TestWal.SIZE)), Compression.ZSTD);
            byte[] z = TestWal.compress(Compression.ZSTD, raw);
            stored.put(key, z);
            f.put(key, z, Map.of("sha256", TestWal.sha256(raw)));
        }
        f.quiesce();
        // labelled at its start (30 s before it stops), as the shim names backups
        BackupLabelName label = TestBackup.fullLabelAt(at(6.5).minusSeconds(30));
        int size = TestWal.SIZE.bytes();
        backup = TestBackup.build(STANZA, label, null, TestBackup.files("p"), Lsn.of(5L * size + 0x28),
                Lsn.of(6L * size + 0x100), TimelineId.FIRST, at(6.5));
        backup.upload(bucket);
        stored.putAll(backup.objects);
        f.quiesce();
        JsonNode st = f.call("GET", "/stanzas/pitr", null).json();
        assertEquals("valid", st.get("backups").get(0).get("status").asText(), st.toString());
    }

    @AfterAll
    static void stop() {
        if (f != null) {
            f.close();
        }
    }

    static RestorePlan post(String body, int expect, String... settings) throws Exception {
        CloudFixture.Answer a = f.call("POST", "/stanzas/pitr/restore-plans", body);
        assertEquals(expect, a.status(), String.valueOf(a.json()));
        JsonNode envelope = a.json().get("plan");
        JsonNode doc = SignedEnvelope.verify(CanonicalJson.canonicalize(envelope), publicKey);
        RestorePlan p = RestorePlanJson.read(doc);
        assertEquals(backup.manifest.label(), p.backupLabel());
        for (PlanFile file : p.files()) {
            assertTrue(a.json().get("urls").has(file.key()), file.key());
        }
        for (PlanWal wal : p.wal()) {
            assertTrue(a.json().get("urls").has(wal.key()), wal.key());
        }
        for (int i = 0; i < settings.length; i += 2) {
            assertEquals(settings[i + 1], p.recoverySettings().get(settings[i]), p.recoverySettings().toString());
        }
        return p;
    }

    static String lastWal(RestorePlan p) {
        return p.wal().getLast().name();
    }

    @Test
    void everyTargetTypeGivesASignedPlan() throws Exception {
        assertEquals("00000001000000000000000C", lastWal(post("{\"target\":{\"type\":\"latest\",\"value\":null}}", 201,
                "recovery_target_timeline", "1")));
        assertEquals("000000010000000000000006", lastWal(post("{\"target\":{\"type\":\"immediate\"}}", 201,
                "recovery_target", "immediate")));
        assertEquals("000000010000000000000009", lastWal(post("{\"target\":{\"type\":\"time\",\"value\":\"" + at(7.5)
                + "\"},\"exclusive\":false,\"timeline\":\"latest\",\"action\":\"promote\",\"backup\":null}", 201,
                "recovery_target_inclusive", "on", "recovery_target_action", "promote")));
        assertEquals("00000001000000000000000B", lastWal(post("{\"target\":{\"type\":\"xid\",\"value\":\"1010\"}}", 201,
                "recovery_target_xid", "1010")));
        assertEquals("000000010000000000000008", lastWal(post("{\"target\":{\"type\":\"lsn\",\"value\":\"0/700100\"},"
                + "\"exclusive\":true}", 201, "recovery_target_lsn", "0/700100", "recovery_target_inclusive", "off")));
        assertEquals("000000010000000000000009", lastWal(post("{\"target\":{\"type\":\"name\",\"value\":\"rp1\"},"
                + "\"action\":\"shutdown\"}", 201, "recovery_target_name", "rp1", "recovery_target_action", "shutdown")));
    }

    @Test
    void urlsDeliverTheSignedBytesAndRangeGetsWorkOnBundles() throws Exception {
        CloudFixture.Answer a = f.call("POST", "/stanzas/pitr/restore-plans", "{}");
        assertEquals(201, a.status(), String.valueOf(a.json()));
        RestorePlan p = RestorePlanJson.read(SignedEnvelope.verify(CanonicalJson.canonicalize(a.json().get("plan")),
                publicKey));
        JsonNode urls = a.json().get("urls");
        assertTrue(Instant.parse(a.json().get("urlsExpireAt").asText()).isAfter(Instant.now().plusSeconds(50 * 60)));
        for (PlanWal wal : p.wal()) {
            assertArrayEquals(stored.get(wal.key()), get(urls.get(wal.key()).asText(), null), wal.key());
        }
        PlanFile bundled = p.files().stream().filter(PlanFile::bundled).filter(x -> x.bundleOffset() > 0).findFirst()
                .orElseThrow();
        String range = "bytes=" + bundled.bundleOffset() + "-" + (bundled.bundleOffset() + bundled.storedSize() - 1);
        byte[] slice = get(urls.get(bundled.key()).asText(), range);
        assertEquals(bundled.storedSize(), slice.length);
        assertEquals(bundled.storedSha256(), TestWal.sha256(slice));
        // the store checks the signature: a URL for another key with this signature is refused
        String url = urls.get(p.wal().getFirst().key()).asText();
        String forged = url.replace(p.wal().getFirst().key(), p.wal().getLast().key());
        HttpResponse<byte[]> refused = f.http.send(HttpRequest.newBuilder(URI.create(forged)).GET().build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(403, refused.statusCode());
        PlanFile single = p.files().stream().filter(x -> !x.bundled()).findFirst().orElseThrow();
        assertEquals(single.storedSha256(), TestWal.sha256(get(urls.get(single.key()).asText(), null)));

        // renewal: the same keys, fresh URLs; unknown ids are 404
        CloudFixture.Answer r = f.call("GET", "/restore-plans/" + p.planId() + "/urls", null);
        assertEquals(200, r.status(), String.valueOf(r.json()));
        assertEquals(p.planId(), r.json().get("planId").asText());
        java.util.Set<String> before = new java.util.TreeSet<>();
        urls.fieldNames().forEachRemaining(before::add);
        java.util.Set<String> after = new java.util.TreeSet<>();
        r.json().get("urls").fieldNames().forEachRemaining(after::add);
        assertEquals(before, after);
        String walKey = p.wal().getFirst().key();
        assertArrayEquals(stored.get(walKey), get(r.json().get("urls").get(walKey).asText(), null));
        assertEquals(404, f.call("GET", "/restore-plans/00000000-0000-0000-0000-000000000000/urls", null).status());
    }

    @Test
    void aTargetOutsideTheWindowIs422WithTheNearestPoints() throws Exception {
        CloudFixture.Answer early = f.call("POST", "/stanzas/pitr/restore-plans",
                "{\"target\":{\"type\":\"time\",\"value\":\"" + at(2) + "\"}}");
        assertEquals(422, early.status(), String.valueOf(early.json()));
        assertTrue(early.json().get("nearest").get("before").isNull());
        assertEquals(at(6.5).toString(), early.json().get("nearest").get("after").get("time").asText());
        assertEquals(backup.manifest.stopLsn().toString(), early.json().get("window").get("earliest").get("lsn").asText());

        CloudFixture.Answer late = f.call("POST", "/stanzas/pitr/restore-plans",
                "{\"target\":{\"type\":\"time\",\"value\":\"" + at(30) + "\"}}");
        assertEquals(422, late.status());
        assertTrue(late.json().get("message").asText().contains("no commit after"), late.json().toString());
        assertEquals(at(12).toString(), late.json().get("nearest").get("before").get("time").asText());
        assertTrue(late.json().get("nearest").get("after").isNull());

        assertEquals(422, f.call("POST", "/stanzas/pitr/restore-plans",
                "{\"target\":{\"type\":\"xid\",\"value\":\"77\"}}").status());
        assertEquals(400, f.call("POST", "/stanzas/pitr/restore-plans",
                "{\"target\":{\"type\":\"time\",\"value\":\"2026-03-02 00:00:00\"}}").status());
        assertEquals(404, f.call("POST", "/stanzas/nope/restore-plans", "{}").status());
    }

    @Test
    void theStanzaShowsItsWindow() throws Exception {
        JsonNode w = f.call("GET", "/stanzas/pitr", null).json().get("window");
        assertEquals(backup.manifest.stopLsn().toString(), w.get("earliest").get("lsn").asText());
        assertEquals(at(6.5).toString(), w.get("earliest").get("time").asText());
        assertEquals(1, w.get("earliest").get("timeline").asInt());
        assertEquals(at(12).toString(), w.get("latest").get("time").asText());
        assertEquals(0, w.get("gaps").size());
        assertEquals(1, w.get("timelines").size());
        assertEquals(w.get("latest"), w.get("timelines").get(0).get("latest"));
    }

    static byte[] get(String url, String range) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).GET();
        if (range != null) {
            b.header("Range", range);
        }
        HttpResponse<byte[]> r = f.http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(range == null ? 200 : 206, r.statusCode(), url + ": " + new String(r.body()));
        return r.body();
    }
}
