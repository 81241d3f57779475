package io.tidemark.functions.validate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.events.backup.BackupManifest;
import io.tidemark.events.backup.ManifestFile;
import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.TimelineId;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** What a manifest may claim against the cloud's clock and PostgreSQL's needs, one rule at a time. */
@Tag("unit")
class ManifestPlausibilityTest {

    static final StanzaName STANZA = StanzaName.of("main");
    static final Duration SKEW = Duration.ofMinutes(10);
    static final Instant STOP = Instant.parse("2026-03-01T01:00:30Z");

    static BackupManifest full(BackupLabelName label, Map<String, byte[]> files, Instant stop) {
        return TestBackup.build(STANZA, label, null, files, TestBackup.START, TestBackup.STOP, TimelineId.FIRST, stop)
                .manifest;
    }

    static BackupManifest honest() {
        return full(TestBackup.fullLabel(1), TestBackup.files("a"), STOP);
    }

    static void assertOneReason(List<String> reasons, String part) {
        assertEquals(1, reasons.size(), reasons.toString());
        assertTrue(reasons.get(0).startsWith(ManifestPlausibility.PREFIX) && reasons.get(0).contains(part),
                reasons.toString());
    }

    @Test
    void anHonestBackupUploadedAfterItStoppedPasses() {
        assertEquals(List.of(), ManifestPlausibility.check(honest(), STOP.plusSeconds(5), SKEW));
        // a node clock up to the skew ahead of the cloud's
        assertEquals(List.of(), ManifestPlausibility.check(honest(), STOP.minus(SKEW), SKEW));
    }

    @Test
    void aBackupCannotStopAfterItsManifestArrived() {
        assertOneReason(ManifestPlausibility.check(honest(), STOP.minus(SKEW).minusSeconds(1), SKEW),
                "after its manifest was uploaded");
    }

    @Test
    void aLabelAfterTheStartIsRefusedOneBeforeItIsAResumedBackup() {
        BackupLabelName late = BackupLabelName.full(TestBackup.fullLabel(1).start().plusMinutes(11));
        BackupManifest m = full(late, TestBackup.files("a"), STOP);
        List<String> reasons = ManifestPlausibility.check(m, STOP.plus(Duration.ofHours(1)), SKEW);
        assertOneReason(reasons, "says the backup started at 2026-03-01T01:11:00Z, but it started at");
        // labelled a day before it started: the first attempt's label, kept by a resumed backup
        BackupManifest resumed = full(TestBackup.fullLabel(1), TestBackup.files("a"), STOP.plus(Duration.ofDays(1)));
        assertEquals(List.of(), ManifestPlausibility.check(resumed, STOP.plus(Duration.ofDays(1)), SKEW));
    }

    @Test
    void theBackupLabelMustBeTheManifestsStart() {
        Map<String, byte[]> files = new TreeMap<>(TestBackup.files("a"));
        // pg_backup_stop's label of another start LSN, stored as the backup's file and in the manifest
        String other = TestBackup.backupLabel(Lsn.of(TestBackup.START.value() + 0x1000), TimelineId.FIRST,
                STOP.minusSeconds(30));
        files.put("backup_label", other.getBytes(StandardCharsets.UTF_8));
        BackupManifest m = full(TestBackup.fullLabel(1), files, STOP);
        BackupManifest lying = new BackupManifest(m.formatVersion(), m.stanza(), m.label(), m.prior(),
                m.systemIdentifier(), m.pgVersionNum(), m.walSegmentSize(), m.timeline(), m.startLsn(), m.stopLsn(),
                m.startTime(), m.stopTime(), m.fromStandby(), m.dataChecksums(), m.compression(), other,
                m.tablespaceMap(), m.tablespaces(), m.directories(), m.bundles(), m.files());
        assertOneReason(ManifestPlausibility.check(lying, STOP, SKEW), "its backup_label starts at");
        // the text in the manifest differs from the stored file
        BackupManifest h = honest();
        BackupManifest swapped = new BackupManifest(h.formatVersion(), h.stanza(), h.label(), h.prior(),
                h.systemIdentifier(), h.pgVersionNum(), h.walSegmentSize(), h.timeline(), h.startLsn(), h.stopLsn(),
                h.startTime(), h.stopTime(), h.fromStandby(), h.dataChecksums(), h.compression(),
                h.backupLabel() + "LABEL2: x\n", h.tablespaceMap(), h.tablespaces(), h.directories(), h.bundles(),
                h.files());
        assertOneReason(ManifestPlausibility.check(swapped, STOP, SKEW), "its backup_label file is not");
    }

    @Test
    void aFullNeedsPgControlPgVersionAndADatabase() {
        Map<String, byte[]> files = new TreeMap<>(TestBackup.files("a"));
        files.put("global/pg_control", new byte[100]);
        assertOneReason(ManifestPlausibility.check(full(TestBackup.fullLabel(1), files, STOP), STOP, SKEW),
                "global/pg_control has 100 bytes, PostgreSQL writes 8192");
        files.remove("global/pg_control");
        files.remove("PG_VERSION");
        files.remove("base/1/1259");
        files.remove("base/1/1259_fsm");
        List<String> reasons = ManifestPlausibility.check(full(TestBackup.fullLabel(1), files, STOP), STOP, SKEW);
        assertEquals(3, reasons.size(), reasons.toString());
        assertTrue(reasons.contains(ManifestPlausibility.PREFIX + "a full backup without global/pg_control"), reasons.toString());
        assertTrue(reasons.contains(ManifestPlausibility.PREFIX + "a full backup without PG_VERSION"), reasons.toString());
        assertTrue(reasons.contains(ManifestPlausibility.PREFIX + "a full backup without any file under base/ (no database)"),
                reasons.toString());
        // a diff lists what it references: the file-set rule is for fulls
        assertTrue(honest().files().stream().map(ManifestFile::path).anyMatch(p -> p.path().equals("global/pg_control")));
    }
}
