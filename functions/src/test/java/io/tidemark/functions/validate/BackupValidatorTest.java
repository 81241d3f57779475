package io.tidemark.functions.validate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StorageLayout;
import io.tidemark.events.paths.SafeRelativePath;
import io.tidemark.events.wal.WalSegmentSize;
import io.tidemark.functions.catalog.BackupEntry;
import io.tidemark.functions.catalog.InMemoryCatalogStore;
import io.tidemark.functions.catalog.Item;
import io.tidemark.functions.catalog.Keys;
import io.tidemark.functions.index.TestWal;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The validator's rules on an in-memory bucket and catalog, with the real WAL indexer and its hook. */
@Tag("unit")
class BackupValidatorTest extends ValidatorTestSupport {

    TestBackup uploadedFull() {
        TestBackup b = TestBackup.full(STANZA, FULL, TestBackup.files("a"));
        b.upload(objects);
        return b;
    }

    @Test
    void aCompleteFullBackupIsValid() {
        archive(0, 1, 2, 3);
        TestBackup b = uploadedFull();
        BackupEntry e = validate(b, T1);
        assertEquals(BackupEntry.VALID, e.status(), e.reasons().toString());
        assertEquals(List.of(), e.reasons());
        assertEquals("full", e.type());
        assertEquals(null, e.prior());
        assertEquals(1L, e.timeline());
        assertEquals(TestBackup.START.toString(), e.startLsn());
        assertEquals(TestBackup.STOP.toString(), e.stopLsn());
        assertEquals(b.manifest.originalSize(), e.originalSize());
        assertEquals(b.manifest.storedSize(), e.storedSize());
        assertEquals(b.manifest.originalSize(), e.deltaSize());
        assertEquals(T1.toString(), e.validatedAt());
        assertEquals(b.manifestKey(), e.manifestKey());
        assertEquals(TestWal.sha256(b.manifestBytes()), e.manifestSha256());
        assertEquals(0L, e.pageChecksumErrors());
        assertFalse(catalog.get(Keys.pk(STANZA), Keys.waiting(FULL)).isPresent(), "never waited: no WAIT item");
    }

    @Test
    void diffAndIncrChainsAreValidAndReferenceTheirFull() {
        archive(0, 1, 2, 3);
        TestBackup full = uploadedFull();
        validate(full, T1);
        Map<String, byte[]> changed = new TreeMap<>(TestBackup.files("a"));
        changed.put("base/1/1259", TestBackup.bytes("b1259", 40_000));
        TestBackup diff = TestBackup.child(full, TestBackup.childLabel(FULL, BackupLabelName.Type.DIFF, 1), changed);
        diff.upload(objects);
        BackupEntry d = validate(diff, T1.plusSeconds(1));
        assertEquals(BackupEntry.VALID, d.status(), d.reasons().toString());
        assertEquals("diff", d.type());
        assertEquals(FULL.toString(), d.prior());
        assertEquals(List.of(FULL.toString()), d.references());
        // the changed relation and the diff's own backup_label
        assertEquals(40_000L + diff.raw.get("backup_label").length, d.deltaSize());

        Map<String, byte[]> changedAgain = new TreeMap<>(changed);
        changedAgain.put("PG_VERSION", "15\n\n".getBytes());
        TestBackup incr = TestBackup.child(diff, TestBackup.childLabel(FULL, BackupLabelName.Type.INCR, 2),
                changedAgain);
        incr.upload(objects);
        BackupEntry i = validate(incr, T2.plusSeconds(60)); // uploaded after its label's start (03:00)
        assertEquals(BackupEntry.VALID, i.status(), i.reasons().toString());
        assertEquals(diff.manifest.label().toString(), i.prior());
        assertEquals(List.of(FULL.toString(), diff.manifest.label().toString()), i.references());
    }

    @Test
    void aMissingFileMakesItInvalidNamingTheFile() {
        archive(0, 1, 2, 3);
        TestBackup b = uploadedFull();
        String key = StorageLayout.backupFileKey(STANZA, FULL, SafeRelativePath.of("base/1/1259"), Compression.ZSTD);
        objects.delete(key);
        BackupEntry e = validate(b, T1);
        assertEquals(BackupEntry.INVALID, e.status());
        assertReason(e, "file base/1/1259", key, "missing");
    }

    @Test
    void oneByteChangedMakesItInvalid() {
        archive(0, 1, 2, 3);
        TestBackup b = uploadedFull();
        String key = StorageLayout.backupFileKey(STANZA, FULL, SafeRelativePath.of("global/pg_control"), Compression.ZSTD);
        byte[] bytes = b.objects.get(key).clone();
        bytes[bytes.length / 2] ^= 1;
        // Same metadata as before: only the bytes tell.
        objects.put(key, bytes, "application/octet-stream", Map.of("sha256", TestWal.sha256(b.objects.get(key)),
                "stored-sha256", TestWal.sha256(b.objects.get(key))));
        BackupEntry e = validate(b, T1);
        assertEquals(BackupEntry.INVALID, e.status());
        assertReason(e, "file global/pg_control", "SHA-256 " + TestWal.sha256(bytes), "the manifest says");
        assertEquals(1, e.reasons().size(), e.reasons().toString());
    }

    @Test
    void aDifferentSizeMakesItInvalid() {
        archive(0, 1, 2, 3);
        TestBackup b = uploadedFull();
        String key = StorageLayout.backupFileKey(STANZA, FULL, SafeRelativePath.of("base/1/1259"), Compression.ZSTD);
        byte[] longer = java.util.Arrays.copyOf(b.objects.get(key), b.objects.get(key).length + 1);
        objects.put(key, longer, "application/octet-stream", Map.of());
        BackupEntry e = validate(b, T1);
        assertEquals(BackupEntry.INVALID, e.status());
        assertReason(e, "file base/1/1259", longer.length + " bytes", "the manifest says " + (longer.length - 1));
    }

    @Test
    void aWrongSliceInsideABundleMakesItInvalid() {
        archive(0, 1, 2, 3);
        TestBackup b = uploadedFull();
        String key = StorageLayout.bundleKey(STANZA, FULL, 0, Compression.ZSTD);
        byte[] bundle = b.objects.get(key).clone();
        bundle[bundle.length - 2] ^= 0x40; // inside the last bundled file
        objects.put(key, bundle, "application/octet-stream", Map.of());
        BackupEntry e = validate(b, T1);
        assertEquals(BackupEntry.INVALID, e.status());
        assertReason(e, "bundle 0", key, "SHA-256");
        assertReason(e, "file postgresql.auto.conf in bundle 0 at offset");
        assertEquals(2, e.reasons().size(), "the other slices are intact: " + e.reasons());
    }

    @Test
    void aDotDotPathMakesItInvalidNamingThePath() {
        archive(0, 1, 2, 3);
        TestBackup b = TestBackup.full(STANZA, FULL, TestBackup.files("a"));
        b.uploadObjects(objects);
        b.uploadManifest(objects, b.manifestWithPath(0, "../../etc/passwd"));
        BackupEntry e = validate(b, T1);
        assertEquals(BackupEntry.INVALID, e.status());
        assertReason(e, "/files/0/path", "unsafe path", "..");
        assertEquals("full", e.type());
        assertNotNull(e.manifestSha256());
    }

    @Test
    void aForeignSystemIdentifierMakesItInvalid() {
        archive(0, 1, 2, 3);
        TestBackup b = TestBackup.full(STANZA, FULL, TestBackup.files("a"));
        b.uploadObjects(objects);
        String json = new String(b.manifestBytes()).replace(TestWal.SYSTEM_ID_TEXT, "7300000000000000999");
        b.uploadManifest(objects, json.getBytes());
        BackupEntry e = validate(b, T1);
        assertEquals(BackupEntry.INVALID, e.status());
        assertReason(e, "system 7300000000000000999", "stanza is system " + TestWal.SYSTEM_ID_TEXT);
    }

    @Test
    void aManifestStoredUnderAnotherLabelIsInvalid() {
        archive(0, 1, 2, 3);
        TestBackup b = uploadedFull();
        String otherKey = StorageLayout.manifestKey(STANZA, TestBackup.fullLabel(2));
        objects.put(otherKey, b.manifestBytes(), "application/json", Map.of());
        validator.validate(otherKey, T1);
        BackupEntry e = entry(TestBackup.fullLabel(2));
        assertEquals(BackupEntry.INVALID, e.status());
        assertReason(e, "the manifest is of backup " + FULL);
    }

    @Test
    void anInvalidPriorMakesItInvalid() {
        archive(0, 1, 2, 3);
        TestBackup full = uploadedFull();
        objects.delete(StorageLayout.bundleKey(STANZA, FULL, 0, Compression.ZSTD));
        assertEquals(BackupEntry.INVALID, validate(full, T1).status());
        TestBackup diff = TestBackup.child(full, TestBackup.childLabel(FULL, BackupLabelName.Type.DIFF, 1),
                TestBackup.files("a"));
        diff.upload(objects);
        BackupEntry d = validate(diff, T1.plusSeconds(1));
        assertEquals(BackupEntry.INVALID, d.status());
        assertReason(d, "prior backup " + FULL + " is invalid");
    }

    @Test
    void aMissingPriorMakesItInvalid() {
        archive(0, 1, 2, 3);
        TestBackup full = TestBackup.full(STANZA, FULL, TestBackup.files("a")); // never uploaded
        TestBackup diff = TestBackup.child(full, TestBackup.childLabel(FULL, BackupLabelName.Type.DIFF, 1),
                TestBackup.files("a"));
        diff.upload(objects);
        BackupEntry d = validate(diff, T1);
        assertEquals(BackupEntry.INVALID, d.status());
        assertReason(d, "prior backup " + FULL + " does not exist");
    }

    @Test
    void missingWalWaitsThenTheIndexerMakesItValid() {
        archive(0); // segment 5 only; 6 and 7 are needed too
        TestBackup b = uploadedFull();
        BackupEntry e = validate(b, T1);
        assertEquals(BackupEntry.WAITING_WAL, e.status());
        assertEquals(List.of(wal.names.get(1), wal.names.get(2)), e.missingWal());
        assertReason(e, "2 of 3 segments", "first missing " + wal.names.get(1));
        Item wait = catalog.get(Keys.pk(STANZA), Keys.waiting(FULL)).orElseThrow();
        assertFalse(wait.flag("done"));

        archive(1);
        assertEquals(List.of(wal.names.get(2)), entry(FULL).missingWal());
        // The manifest is not read again: even if it were gone, the resume works from the WAIT item.
        objects.delete(b.manifestKey());
        archive(2);
        BackupEntry v = entry(FULL);
        assertEquals(BackupEntry.VALID, v.status(), v.reasons().toString());
        assertEquals(T1.toString(), v.validatedAt(), "the manifest event was the latest");
        assertTrue(catalog.get(Keys.pk(STANZA), Keys.waiting(FULL)).orElseThrow().flag("done"));
    }

    @Test
    void aDependentWaitsForItsPriorAndFollowsIt() {
        archive(0);
        TestBackup full = uploadedFull();
        assertEquals(BackupEntry.WAITING_WAL, validate(full, T1).status());
        TestBackup diff = TestBackup.child(full, TestBackup.childLabel(FULL, BackupLabelName.Type.DIFF, 1),
                TestBackup.files("a"));
        diff.upload(objects);
        BackupEntry d = validate(diff, T1.plusSeconds(1));
        assertEquals(BackupEntry.WAITING_WAL, d.status());
        assertEquals(List.of(FULL.toString()), d.waitingFor());
        assertReason(d, "prior backup " + FULL + " is waiting for WAL");
        archive(1, 2);
        assertEquals(BackupEntry.VALID, entry(FULL).status());
        assertEquals(BackupEntry.VALID, entry(diff.manifest.label()).status(), entry(diff.manifest.label()).toString());
    }

    @Test
    void theSameEventTwiceGivesTheSameItems() {
        archive(0, 1, 2, 3);
        TestBackup b = uploadedFull();
        validate(b, T1);
        List<Item> once = catalog.all();
        validate(b, T1);
        assertEquals(once, catalog.all());

        // And for a backup that waits, then resumes: same items as validating it after the WAL.
        InMemoryCatalogStore direct = catalog;
        setUp();
        archive(0);
        b.upload(objects);
        validate(b, T1);
        validate(b, T1);
        archive(1, 2, 3);
        List<Item> resumed = catalog.all().stream().filter(i -> i.sk().startsWith(Keys.BACKUP_PREFIX)).toList();
        List<Item> validated = direct.all().stream().filter(i -> i.sk().startsWith(Keys.BACKUP_PREFIX)).toList();
        assertEquals(validated, resumed);
    }

    @Test
    void theSameManifestUploadedAgainIsANoOpUntilTheBackupIsLost() {
        archive(0, 1, 2, 3);
        TestBackup b = uploadedFull();
        assertEquals(BackupEntry.VALID, validate(b, T2).status());
        Item validated = catalog.get(Keys.pk(STANZA), Keys.backup(FULL)).orElseThrow().without(Item.REV);
        String key = StorageLayout.backupFileKey(STANZA, FULL, SafeRelativePath.of("base/1/1259"), Compression.ZSTD);
        objects.delete(key);
        // A late redelivery of an older event does not override the newer result...
        assertEquals(BackupEntry.VALID, validate(b, T1).status());
        // ...and a new upload of the same manifest is not validated again (nor made younger)...
        assertEquals(BackupValidator.Outcome.UNCHANGED, validator.validate(b.manifestKey(), T2.plusSeconds(1)));
        assertEquals(validated, catalog.get(Keys.pk(STANZA), Keys.backup(FULL)).orElseThrow().without(Item.REV));
        // ...until the backup was found lost: then the same bytes are validated afresh.
        new io.tidemark.functions.index.LostObjects(catalog, java.time.Clock.systemUTC())
                .markLost(STANZA, key, io.tidemark.functions.index.LostObjects.MISSING, "deleted");
        BackupEntry e = validate(b, T2.plusSeconds(2));
        assertEquals(BackupEntry.INVALID, e.status());
        assertReason(e, "file base/1/1259", "missing");
    }

    @Test
    void aDifferentManifestForALabelAlreadyValidatedOrBeingValidatedIsRefusedAndCounted() {
        List<Map<io.tidemark.events.metrics.TidemarkMetric, Long>> published = new java.util.concurrent.CopyOnWriteArrayList<>();
        validator = new BackupValidator(objects, catalog, 3, io.tidemark.functions.retain.RetentionTrigger.NONE,
                (stanza, at, values) -> published.add(values));
        archive(0, 1, 2, 3);
        TestBackup b = uploadedFull();
        assertEquals(BackupEntry.VALID, validate(b, T1).status());
        Item validated = catalog.get(Keys.pk(STANZA), Keys.backup(FULL)).orElseThrow().without(Item.REV);

        TestBackup other = TestBackup.full(STANZA, FULL, TestBackup.files("z"));
        other.upload(objects); // its own files too: on its own it would be valid
        assertEquals(BackupValidator.Outcome.CONFLICT, validator.validate(other.manifestKey(), T2));
        // the same event delivered again (S3 delivers at least once): refused again, counted once
        assertEquals(BackupValidator.Outcome.CONFLICT, validator.validate(other.manifestKey(), T2));
        assertEquals(validated, catalog.get(Keys.pk(STANZA), Keys.backup(FULL)).orElseThrow().without(Item.REV));
        assertEquals(1, catalog.query(Keys.pk(STANZA), Keys.REFUSED_PREFIX).size());
        assertEquals(List.of(Map.of(io.tidemark.events.metrics.TidemarkMetric.HISTORY_CONFLICTS, 1L)),
                published.stream().filter(m -> m.containsKey(io.tidemark.events.metrics.TidemarkMetric.HISTORY_CONFLICTS))
                        .toList());

        // being validated (its marker stored, its objects not yet hashed): refused the same way
        BackupLabelName second = TestBackup.fullLabel(2);
        catalog.put(Item.of(Keys.pk(STANZA), Keys.backup(second), Map.of("label", second.toString(), "status",
                BackupEntry.VALIDATING, "manifestSha256", "0".repeat(64), "manifestEventTime", T1.toString()))
                .withRevision(), null);
        TestBackup late = TestBackup.full(STANZA, second, TestBackup.files("y"));
        late.upload(objects);
        assertEquals(BackupValidator.Outcome.CONFLICT, validator.validate(late.manifestKey(), T2));
        assertEquals(BackupEntry.VALIDATING, entry(second).status());
    }

    @Test
    void otherKeysAreIgnored() {
        assertEquals(BackupValidator.Outcome.IGNORED, validator.validate("main/wal/00000002.history", T1));
        assertEquals(BackupValidator.Outcome.IGNORED, validator.validate("not a key", T1));
        assertEquals(BackupValidator.Outcome.MISSING, validator.validate(
                StorageLayout.manifestKey(STANZA, FULL), T1));
        assertEquals(WalSegmentSize.ofMegabytes(1), TestWal.SIZE);
    }
}
