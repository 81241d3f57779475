package io.tidemark.shim.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.BackupLabelName.Type;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class BackupSelectionTest {
    private static final String F1 = "20240101-000000F";
    private static final String F1_D = "20240101-000000F_20240102-000000D";
    private static final String F1_I = "20240101-000000F_20240102-120000I";
    private static final String F2 = "20240103-000000F";
    private static final String F2_I = "20240103-000000F_20240103-060000I";
    private static final String F2_I_BAD = "20240103-000000F_20240103-070000I";

    private static CatalogBackup b(String label, String status) {
        return new CatalogBackup(BackupLabelName.parse(label), status, Optional.empty(), List.of());
    }

    private static Optional<BackupLabelName> l(String s) {
        return Optional.of(BackupLabelName.parse(s));
    }

    @Test
    void defaultIsIncrementalOnTheNewestValidBackupOfTheNewestFull() {
        List<CatalogBackup> list = List.of(b(F1, "valid"), b(F1_D, "valid"), b(F1_I, "valid"), b(F2, "valid"),
                b(F2_I, "valid"), b(F2_I_BAD, "invalid"));
        BackupSelection s = BackupSelection.select(Optional.empty(), list);
        assertEquals(Type.INCR, s.type());
        assertEquals(l(F2_I), s.prior());
        assertTrue(s.note().isEmpty());
        BackupSelection d = BackupSelection.select(Optional.of(Type.DIFF), list);
        assertEquals(Type.DIFF, d.type());
        assertEquals(l(F2), d.prior());
        assertEquals(Optional.empty(), BackupSelection.select(Optional.of(Type.FULL), list).prior());
    }

    @Test
    void withoutAValidFullItIsAFull() {
        for (Optional<Type> t : List.of(Optional.<Type>empty(), Optional.of(Type.DIFF), Optional.of(Type.INCR))) {
            BackupSelection s = BackupSelection.select(t, List.of(b(F1, "invalid"), b(F2, "waiting-wal")));
            assertEquals(Type.FULL, s.type());
            assertTrue(s.note().orElseThrow().contains("no valid full backup"));
        }
        assertEquals(Type.FULL, BackupSelection.select(Optional.empty(), List.of()).type());
    }

    @Test
    void incrementalSkipsBackupsNotValidYet() {
        BackupSelection s = BackupSelection.select(Optional.empty(), List.of(b(F2, "valid"), b(F2_I, "validating")));
        assertEquals(l(F2), s.prior());
    }

    @Test
    void labelsAreUtcSecondsAndGrow() {
        BackupSelection full = new BackupSelection(Type.FULL, Optional.empty(), Optional.empty());
        assertEquals("20240105-102030F", full.label(Instant.parse("2024-01-05T10:20:30.999Z")).toString());
        BackupSelection incr = new BackupSelection(Type.INCR, l(F2_I), Optional.empty());
        assertEquals("20240103-000000F_20240105-102030I", incr.label(Instant.parse("2024-01-05T10:20:30Z")).toString());
        // a clock behind the prior: one second after it
        assertEquals("20240103-000000F_20240103-060001I", incr.label(Instant.parse("2024-01-03T05:00:00Z")).toString());
        BackupSelection diff = new BackupSelection(Type.DIFF, l(F2), Optional.empty());
        assertEquals("20240103-000000F_20240103-000001D", diff.label(Instant.parse("2024-01-03T00:00:00Z")).toString());
    }

    @Test
    void catalogEntriesAreReadFromTheStanzaDocument() throws Exception {
        String doc = "{\"backups\":[{\"label\":\"" + F1 + "\",\"type\":\"full\",\"prior\":null,\"status\":\"valid\",\"reasons\":[]},"
                + "{\"label\":\"" + F1_I + "\",\"prior\":\"" + F1 + "\",\"status\":\"invalid\",\"reasons\":[\"x\"]},"
                + "{\"label\":\"junk\",\"status\":\"valid\"}]}";
        List<CatalogBackup> list = CatalogBackup.fromStanzaDocument(new ObjectMapper().readTree(doc));
        assertEquals(2, list.size());
        assertTrue(list.get(0).isValid());
        assertEquals(l(F1), list.get(1).prior());
        assertEquals(List.of("x"), list.get(1).reasons());
    }
}
