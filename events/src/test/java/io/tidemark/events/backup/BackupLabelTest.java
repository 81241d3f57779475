package io.tidemark.events.backup;

import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalArbitraries;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.events.wal.WalSegmentSize;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Tag("unit")
@net.jqwik.api.Tag("unit")
class BackupLabelTest {

    private static final WalSegmentSize MB16 = WalSegmentSize.DEFAULT;

    static final String PG16 = """
            START WAL LOCATION: 0/2000028 (file 000000010000000000000002)
            CHECKPOINT LOCATION: 0/2000060
            BACKUP METHOD: streamed
            BACKUP FROM: primary
            START TIME: 2024-01-02 03:04:05 UTC
            LABEL: pg_basebackup base backup
            START TIMELINE: 1
            """;

    static final String PG17_INCREMENTAL_STANDBY = """
            START WAL LOCATION: 2/A4000028 (file 0000000300000002000000A4)
            CHECKPOINT LOCATION: 2/A4000080
            BACKUP METHOD: streamed
            BACKUP FROM: standby
            START TIME: 2024-07-08 14:15:16 CEST
            LABEL: tidemark 20240708-121516F_20240708-141516I
            START TIMELINE: 3
            INCREMENTAL FROM LSN: 2/10000028
            INCREMENTAL FROM TLI: 2
            """;

    /** PostgreSQL 13/14 exclusive backup (pg_start_backup), log_timezone without letters. */
    static final String PG13_EXCLUSIVE = """
            START WAL LOCATION: 0/9000028 (file 000000010000000000000009)
            CHECKPOINT LOCATION: 0/9000060
            BACKUP METHOD: pg_start_backup
            BACKUP FROM: primary
            START TIME: 2021-03-04 05:06:07 -03
            LABEL: old: style
            START TIMELINE: 1
            """;

    /** The .backup history file PostgreSQL archives at pg_backup_stop. */
    static final String BACKUP_HISTORY = """
            START WAL LOCATION: 0/2000028 (file 000000010000000000000002)
            STOP WAL LOCATION: 0/2000100 (file 000000010000000000000002)
            CHECKPOINT LOCATION: 0/2000060
            BACKUP METHOD: streamed
            BACKUP FROM: primary
            START TIME: 2024-01-02 03:04:05 UTC
            LABEL: nightly
            START TIMELINE: 1
            STOP TIME: 2024-01-02 03:09:10 UTC
            STOP TIMELINE: 1
            """;

    @Test
    void parsesPg16Label() {
        BackupLabel l = BackupLabel.parse(PG16, MB16);
        assertEquals(Lsn.parse("0/2000028"), l.startLsn());
        assertEquals("000000010000000000000002", l.startWalFile());
        assertEquals(Lsn.parse("0/2000060"), l.checkpointLsn());
        assertEquals(Optional.of("streamed"), l.backupMethod());
        assertEquals(Optional.of(BackupLabel.Source.PRIMARY), l.backupFrom());
        assertEquals(Optional.of("pg_basebackup base backup"), l.label());
        assertEquals(TimelineId.FIRST, l.timeline());
        assertEquals(Instant.parse("2024-01-02T03:04:05Z"), l.startTime().orElseThrow().instant().orElseThrow());
        assertEquals(WalSegmentName.parse("000000010000000000000002", MB16), l.startSegment(MB16));
        assertFalse(l.isIncremental());
        assertFalse(l.isFromStandby());
        assertTrue(l.extraLines().isEmpty());
        assertEquals(PG16, l.format());
    }

    @Test
    void parsesPg17IncrementalFromStandby() {
        BackupLabel l = BackupLabel.parse(PG17_INCREMENTAL_STANDBY, MB16);
        assertTrue(l.isIncremental());
        assertTrue(l.isFromStandby());
        assertEquals(Optional.of(Lsn.parse("2/10000028")), l.incrementalFromLsn());
        assertEquals(Optional.of(TimelineId.of(2)), l.incrementalFromTimeline());
        assertEquals(TimelineId.of(3), l.timeline());
        BackupTimestamp t = l.startTime().orElseThrow();
        assertEquals("CEST", t.zone());
        assertEquals(Optional.empty(), t.instant());
        assertEquals(Instant.parse("2024-07-08T12:15:16Z"), t.toInstant(ZoneId.of("Europe/Paris")));
        assertEquals(PG17_INCREMENTAL_STANDBY, l.format());
    }

    @Test
    void parsesPg13ExclusiveLabelWithNumericZone() {
        BackupLabel l = BackupLabel.parse(PG13_EXCLUSIVE, MB16);
        assertEquals(Optional.of("pg_start_backup"), l.backupMethod());
        assertEquals(Optional.of("old: style"), l.label());
        assertEquals(Optional.of(ZoneOffset.ofHours(-3)), l.startTime().orElseThrow().offset());
        assertEquals(Instant.parse("2021-03-04T08:06:07Z"), l.startTime().orElseThrow().toInstant(ZoneId.of("UTC")));
    }

    @Test
    void parsesBackupHistoryFile() {
        BackupLabel l = BackupLabel.parse(BACKUP_HISTORY, MB16);
        assertEquals(Optional.of(Lsn.parse("0/2000100")), l.stopLsn());
        assertEquals(Optional.of("000000010000000000000002"), l.stopWalFile());
        assertEquals(Optional.of(TimelineId.FIRST), l.stopTimeline());
        assertEquals(LocalDateTime.of(2024, 1, 2, 3, 9, 10), l.stopTime().orElseThrow().local());
        assertEquals(BACKUP_HISTORY, l.format());
    }

    @Test
    void keepsUnknownLinesAndToleratesCrlf() {
        String text = PG16.replace("\n", "\r\n") + "FUTURE FIELD: 42\r\nno colon here\r\n\r\n";
        BackupLabel l = BackupLabel.parse(text, MB16);
        assertEquals(List.of("FUTURE FIELD: 42", "no colon here"), l.extraLines());
        assertEquals(PG16 + "FUTURE FIELD: 42\nno colon here\n", l.format());
        assertEquals(Optional.of("pg_basebackup base backup"), l.label());
    }

    @Test
    void refusesMissingRequiredLines() {
        assertRefused(PG16.replaceAll("START WAL LOCATION.*\n", ""), null, "no START WAL LOCATION");
        assertRefused(PG16.replaceAll("CHECKPOINT LOCATION.*\n", ""), null, "no CHECKPOINT LOCATION");
        assertRefused("", null, "no START WAL LOCATION");
    }

    @Test
    void refusesMalformedOrInconsistentLines() {
        assertRefused(PG16 + "LABEL: again\n", null, "duplicate LABEL");
        assertRefused(PG16.replace("(file 000000010000000000000002)", "000000010000000000000002"), null, "line 1");
        assertRefused(PG16.replace("(file 000000010000000000000002)", "(file 00000001000000000000002)"), null,
                "not a WAL segment file name");
        assertRefused(PG16.replace("0/2000028 (", "0/20000zz ("), null, "not an LSN");
        assertRefused(PG16.replace("BACKUP FROM: primary", "BACKUP FROM: replica"), null, "'primary' or 'standby'");
        assertRefused(PG16.replace("START TIMELINE: 1", "START TIMELINE: 2"), null, "is on timeline 1");
        assertRefused(PG16.replace("START TIMELINE: 1", "START TIMELINE: zero"), null, "line 7");
        assertRefused(PG16.replace("03:04:05 UTC", "03:04:65 UTC"), null, "not a valid date and time");
        assertRefused(PG16.replace("03:04:05 UTC", "03:04:05"), null, "YYYY-MM-DD HH:MM:SS ZONE");
        assertRefused(PG16 + "INCREMENTAL FROM LSN: 0/1000028\n", null, "must appear together");
    }

    @Test
    void checksTheFileNameAgainstTheSegmentSize() {
        String wrong = PG16.replace("(file 000000010000000000000002)", "(file 000000010000000000000003)");
        BackupLabel lenient = BackupLabel.parse(wrong);
        assertEquals("000000010000000000000003", lenient.startWalFile());
        assertRefused(wrong, MB16, "is in segment 000000010000000000000002");
        // 0/2000028 is in segment 0 with 64 MB segments, so the 16 MB name is wrong there.
        assertRefused(PG16, WalSegmentSize.ofMegabytes(64), "with 64MB segments");
        String histWrong = BACKUP_HISTORY.replace("STOP WAL LOCATION: 0/2000100", "STOP WAL LOCATION: 0/3000100");
        assertRefused(histWrong, MB16, "STOP WAL LOCATION 0/3000100");
    }

    private static void assertRefused(String text, WalSegmentSize size, String expected) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BackupLabel.parse(text, size));
        assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
    }

    @Test
    void timestampZones() {
        assertEquals(Optional.of(ZoneOffset.ofHoursMinutes(5, 45)), BackupTimestamp.parse("2024-01-01 00:00:00 +0545").offset());
        assertEquals(Optional.of(ZoneOffset.ofHoursMinutes(-3, -30)), BackupTimestamp.parse("2024-01-01 00:00:00 -03:30").offset());
        assertEquals(Optional.of(ZoneOffset.UTC), BackupTimestamp.parse("2024-01-01 00:00:00 GMT").offset());
        assertEquals(Optional.empty(), BackupTimestamp.parse("2024-01-01 00:00:00 IST").offset());
        assertEquals("2024-01-01 00:00:00 IST", BackupTimestamp.parse("2024-01-01 00:00:00 IST").toString());
        assertThrows(IllegalArgumentException.class, () -> BackupTimestamp.parse("2024-02-30 00:00:00 UTC"));
        assertThrows(IllegalArgumentException.class, () -> BackupTimestamp.parse("2024-01-01 00:00:00 U T C"));
        assertThrows(IllegalArgumentException.class, () -> BackupTimestamp.parse("2024-01-01T00:00:00 UTC"));
    }

    @Provide
    Arbitrary<BackupLabel> labels() {
        Arbitrary<WalSegmentSize> sizes = WalArbitraries.segmentSizes();
        Arbitrary<BackupTimestamp> times = Combinators.combine(
                Arbitraries.longs().between(0, 253402300799L),
                Arbitraries.of("UTC", "CEST", "+03", "-0330", "EST", "+05:30"))
                .as((s, z) -> new BackupTimestamp(LocalDateTime.ofEpochSecond(s, 0, ZoneOffset.UTC), z));
        Arbitrary<String> labelText = Arbitraries.strings().withCharRange(' ', '~').ofMaxLength(30)
                .filter(s -> !s.startsWith(" "));
        return Combinators.combine(sizes, WalArbitraries.timelines(), WalArbitraries.lsns(), WalArbitraries.lsns(),
                        times, labelText, Arbitraries.of(BackupLabel.Source.values()), Arbitraries.of(true, false))
                .as((size, tli, start, checkpoint, time, text, from, incremental) -> new BackupLabel(
                        start, WalSegmentName.containing(tli, start, size).toString(), checkpoint,
                        Optional.of("streamed"), Optional.of(from), Optional.of(time), Optional.of(text),
                        Optional.of(tli), Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(),
                        incremental ? Optional.of(Lsn.of(checkpoint.value() >>> 1)) : Optional.empty(),
                        incremental ? Optional.of(tli) : Optional.empty(), List.of("EXTRA: x")));
    }

    @Property
    void formatThenParseIsIdentity(@ForAll("labels") BackupLabel label) {
        assertEquals(label, BackupLabel.parse(label.format()));
    }
}
