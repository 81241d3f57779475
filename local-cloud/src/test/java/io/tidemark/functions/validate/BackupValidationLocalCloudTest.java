package io.tidemark.functions.validate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.layout.StorageLayout;
import io.tidemark.events.paths.SafeRelativePath;
import io.tidemark.functions.CloudFixture;
import io.tidemark.functions.aws.S3ObjectStore;
import io.tidemark.functions.index.TestWal;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backups uploaded to the local cloud as the shim stores them (zstd objects, a bundle, the
 * manifest last) are validated by the real function through real S3 events; WAL goes through
 * the real indexer; results show in {@code GET /stanzas/{stanza}}; the lease over HTTP.
 */
@Tag("localcloud")
class BackupValidationLocalCloudTest {

    @TempDir
    static Path dir;
    static CloudFixture f;
    static S3ObjectStore bucket;
    static final TestWal WAL = new TestWal(4, Set.of(1));

    @BeforeAll
    static void start() {
        f = new CloudFixture(dir);
        bucket = new S3ObjectStore(f.aws.s3(), f.cloud.bucket());
    }

    @AfterAll
    static void stop() {
        if (f != null) {
            f.close();
        }
    }

    static void createStanza(String stanza) throws Exception {
        f.createStanza(stanza);
    }

    static void uploadWal(String stanza, int... indexes) {
        for (int i : indexes) {
            f.uploadWal(stanza, WAL, i);
        }
    }

    static JsonNode backup(String stanza, BackupLabelName label) throws Exception {
        f.quiesce();
        CloudFixture.Answer a = f.call("GET", "/stanzas/" + stanza, null);
        assertEquals(200, a.status(), String.valueOf(a.json()));
        for (JsonNode b : a.json().get("backups")) {
            if (b.get("label").asText().equals(label.toString())) {
                return b;
            }
        }
        throw new AssertionError("no backup " + label + " in " + a.json());
    }

    static void assertReason(JsonNode b, String... parts) {
        for (JsonNode r : b.get("reasons")) {
            boolean all = true;
            for (String p : parts) {
                all &= r.asText().contains(p);
            }
            if (all) {
                return;
            }
        }
        throw new AssertionError("no reason with " + String.join(", ", parts) + " in " + b);
    }

    @Test
    void aBackupIsValidThenInvalidWhenAnObjectChangesOrDisappears() throws Exception {
        createStanza("main");
        uploadWal("main", 0, 1, 2, 3);
        f.quiesce();
        BackupLabelName label = TestBackup.fullLabel(1);
        TestBackup b = TestBackup.full(StanzaName.of("main"), label, TestBackup.files("a"));
        b.upload(bucket);
        JsonNode valid = backup("main", label);
        assertEquals("valid", valid.get("status").asText(), valid.toString());
        assertEquals("full", valid.get("type").asText());
        assertEquals(TestBackup.START.toString(), valid.get("startLsn").asText());
        assertEquals(b.manifest.storedSize(), valid.get("storedSize").asLong());
        assertEquals(0, valid.get("reasons").size());

        // Removed after validation: the removal event marks the backup missing; the same manifest
        // uploaded again validates it afresh (a label is otherwise validated once) and says why.
        String bundle = StorageLayout.bundleKey(StanzaName.of("main"), label, 0, Compression.ZSTD);
        f.aws.s3().deleteObject(r -> r.bucket(f.cloud.bucket()).key(bundle));
        assertEquals("missing", backup("main", label).get("status").asText());
        b.uploadManifest(bucket, b.manifestBytes());
        JsonNode gone = backup("main", label);
        assertEquals("invalid", gone.get("status").asText(), gone.toString());
        assertReason(gone, "bundle 0", bundle, "missing");

        // One byte changed after upload, through the S3 API, metadata untouched, before the manifest.
        BackupLabelName other = TestBackup.fullLabel(4);
        TestBackup c = TestBackup.full(StanzaName.of("main"), other, TestBackup.files("c"));
        c.uploadObjects(bucket);
        String key = StorageLayout.backupFileKey(StanzaName.of("main"), other, SafeRelativePath.of("base/1/1259"),
                Compression.ZSTD);
        byte[] original = c.objects.get(key);
        byte[] changed = original.clone();
        changed[100] ^= 1;
        f.put(key, changed, Map.of("sha256", TestWal.sha256(original), "stored-sha256", TestWal.sha256(original)));
        c.uploadManifest(bucket, c.manifestBytes());
        JsonNode invalid = backup("main", other);
        assertEquals("invalid", invalid.get("status").asText(), invalid.toString());
        assertReason(invalid, "file base/1/1259", key, "SHA-256 " + TestWal.sha256(changed));
        // repaired, the same manifest again: not validated again (validated once; only a lost backup is)
        f.put(key, original, Map.of());
        c.uploadManifest(bucket, c.manifestBytes());
        assertEquals("invalid", backup("main", other).get("status").asText());

        // A manifest with a ../ path.
        BackupLabelName evil = TestBackup.fullLabel(2);
        TestBackup e = TestBackup.full(StanzaName.of("main"), evil, TestBackup.files("e"));
        e.uploadObjects(bucket);
        e.uploadManifest(bucket, e.manifestWithPath(1, "../../../etc/cron.d/x"));
        JsonNode unsafe = backup("main", evil);
        assertEquals("invalid", unsafe.get("status").asText(), unsafe.toString());
        assertReason(unsafe, "/files/1/path", "unsafe path");
    }

    @Test
    void aBackupWaitsForItsWalAndBecomesValidWhenItIsIndexed() throws Exception {
        createStanza("waits");
        uploadWal("waits", 0);
        f.quiesce();
        BackupLabelName label = TestBackup.fullLabel(3);
        TestBackup b = TestBackup.full(StanzaName.of("waits"), label, TestBackup.files("w"));
        b.upload(bucket);
        JsonNode waiting = backup("waits", label);
        assertEquals("waiting-wal", waiting.get("status").asText(), waiting.toString());
        assertEquals(WAL.names.get(1), waiting.get("missingWal").get(0).asText());
        assertReason(waiting, "2 of 3 segments");

        uploadWal("waits", 1, 2); // the manifest is not uploaded again
        JsonNode valid = backup("waits", label);
        assertEquals("valid", valid.get("status").asText(), valid.toString());
        assertTrue(valid.get("missingWal") == null, valid.toString());
    }

    @Test
    void aSecondBackupLeaseIsRefusedOverHttp() throws Exception {
        createStanza("leased");
        CloudFixture.Answer first = f.call("POST", "/stanzas/leased/backup-lease",
                "{\"holder\":\"db1:100\",\"label\":\"20260301-010000F\",\"ttlSeconds\":900}");
        assertEquals(200, first.status(), String.valueOf(first.json()));
        String id = first.json().get("leaseId").asText();
        CloudFixture.Answer second = f.call("POST", "/stanzas/leased/backup-lease",
                "{\"holder\":\"db2:200\",\"label\":\"20260301-020000F\",\"ttlSeconds\":900}");
        assertEquals(409, second.status());
        assertEquals("backup 20260301-010000F is running on db1:100 since " + first.json().get("acquiredAt").asText()
                + "; its lease expires at " + first.json().get("expiresAt").asText(),
                second.json().get("message").asText());
        assertEquals("db1:100", f.call("GET", "/stanzas/leased", null).json().get("lease").get("holder").asText());
        assertEquals(200, f.call("PUT", "/stanzas/leased/backup-lease",
                "{\"leaseId\":\"" + id + "\",\"ttlSeconds\":900}").status());
        CloudFixture.Answer released = f.call("DELETE", "/stanzas/leased/backup-lease?leaseId=" + id, null);
        assertEquals(200, released.status());
        assertTrue(released.json().get("released").asBoolean());
        assertEquals(200, f.call("POST", "/stanzas/leased/backup-lease",
                "{\"holder\":\"db2:200\",\"label\":\"20260301-020000F\",\"ttlSeconds\":900}").status());
    }
}
