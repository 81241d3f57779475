package io.tidemark.events.backup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.paths.SafeRelativePath;
import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalSegmentSize;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class BackupManifestTest {
    static final BackupLabelName FULL = BackupLabelName.full(LocalDateTime.of(2026, 11, 21, 6, 0, 0));
    static final BackupLabelName INCR = BackupLabelName.childOf(FULL, BackupLabelName.Type.INCR, LocalDateTime.of(2026, 11, 21, 7, 0, 0));
    static final String SHA_A = "a".repeat(64);
    static final String SHA_B = "0123456789abcdef".repeat(4);

    static ManifestFile file(String path, BackupLabelName ref, OptionalInt bundle, long offset) {
        return new ManifestFile(SafeRelativePath.of(path), 8192, SHA_A, Instant.parse("2026-11-21T05:59:00Z"), ref,
                bundle, offset, 100, SHA_B, List.of());
    }

    static BackupManifest manifest(BackupLabelName label, Optional<BackupLabelName> prior, List<ManifestFile> files) {
        return new BackupManifest(1, StanzaName.of("main"), label, prior, "7710501133698690623", 150018,
                WalSegmentSize.DEFAULT, TimelineId.FIRST, Lsn.parse("0/2000028"), Lsn.parse("0/2000100"),
                Instant.parse("2026-11-21T06:00:00Z"), Instant.parse("2026-11-21T06:00:05Z"), false, true,
                Compression.ZSTD, "START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\n", Optional.empty(),
                List.of(new ManifestTablespace(16400, "fast", "/mnt/fast")), List.of(SafeRelativePath.of("pg_wal")),
                List.of(new ManifestBundle(0, 300, SHA_B)), files);
    }

    @Test
    void roundTripIsExactAndCanonical() {
        BackupManifest m = manifest(INCR, Optional.of(FULL), List.of(
                file("base/1/1259", INCR, OptionalInt.empty(), 0),
                file("base/1/1249", INCR, OptionalInt.of(0), 100),
                new ManifestFile(SafeRelativePath.of("base/1/2608"), 16384, SHA_A, Instant.parse("2026-11-21T05:00:00Z"), FULL,
                        OptionalInt.empty(), 0, 900, SHA_B, List.of(1L, 7L))));
        byte[] json = ManifestJson.write(m);
        BackupManifest back = ManifestJson.read(json);
        assertEquals(m, back);
        assertArrayEquals(json, ManifestJson.write(back));
        assertEquals(8192 + 8192 + 16384, m.originalSize());
        assertEquals(16384, m.deltaSize());
        assertEquals(100 + 300, m.storedSize());
        assertEquals(List.of(FULL), m.references());
        String text = new String(json, StandardCharsets.UTF_8);
        assertTrue(text.startsWith("{\"backupLabel\":"), text);
        assertTrue(text.contains("\"type\":\"incr\""), text);
    }

    @Test
    void anEscapingPathIsRefusedWithTheReason() {
        String good = new String(ManifestJson.write(manifest(FULL, Optional.empty(),
                List.of(file("base/1/1259", FULL, OptionalInt.empty(), 0)))), StandardCharsets.UTF_8);
        String evil = good.replace("\"base/1/1259\"", "\"../../etc/passwd\"");
        ManifestException e = assertThrows(ManifestException.class, () -> ManifestJson.read(evil.getBytes(StandardCharsets.UTF_8)));
        assertTrue(e.getMessage().contains("/files/0/path"), e.getMessage());
        assertTrue(e.getMessage().contains(".."), e.getMessage());
        for (String bad : new String[] {"/etc/passwd", "base//1", "base/./1", "a\u0001b", "a\\b"}) {
            String m = good.replace("\"base/1/1259\"", "\"" + bad.replace("\\", "\\\\").replace("\u0001", "\\u0001") + "\"");
            assertThrows(ManifestException.class, () -> ManifestJson.read(m.getBytes(StandardCharsets.UTF_8)), bad);
        }
    }

    @Test
    void chainRulesAreEnforced() {
        assertThrows(ManifestException.class, () -> manifest(INCR, Optional.empty(), List.of()), "incr without prior");
        assertThrows(ManifestException.class, () -> manifest(FULL, Optional.of(FULL), List.of()), "full with prior");
        BackupLabelName otherFull = BackupLabelName.full(LocalDateTime.of(2026, 11, 20, 6, 0, 0));
        ManifestException e = assertThrows(ManifestException.class,
                () -> manifest(INCR, Optional.of(FULL), List.of(file("base/1/1", otherFull, OptionalInt.empty(), 0))));
        assertTrue(e.getMessage().contains("reference"), e.getMessage());
        assertThrows(ManifestException.class,
                () -> manifest(FULL, Optional.empty(), List.of(file("a", FULL, OptionalInt.of(9), 0))), "unknown bundle");
        assertThrows(ManifestException.class, () -> manifest(FULL, Optional.empty(),
                List.of(file("a", FULL, OptionalInt.empty(), 0), file("a", FULL, OptionalInt.empty(), 0))), "duplicate");
        BackupLabelName diff = BackupLabelName.childOf(FULL, BackupLabelName.Type.DIFF, LocalDateTime.of(2026, 11, 21, 8, 0, 0));
        assertThrows(ManifestException.class, () -> manifest(diff, Optional.of(INCR), List.of()), "diff after incr");
    }

    @Test
    void badFieldsAreNamed() {
        String good = new String(ManifestJson.write(manifest(FULL, Optional.empty(),
                List.of(file("base/1/1259", FULL, OptionalInt.empty(), 0)))), StandardCharsets.UTF_8);
        assertMessage(good.replace("\"formatVersion\":1", "\"formatVersion\":4"), "format 4"); // 2 and 3 are the formats with block maps
        assertMessage(good.replace("\"size\":8192", "\"size\":8192.5"), "");
        assertMessage(good.replace("\"startLsn\":\"0/2000028\"", "\"startLsn\":\"zz\""), "/startLsn");
        assertMessage(good.replace(SHA_A, "XYZ"), "sha256");
        assertMessage("[1,2]", "object");
        assertMessage("{not json", "not valid JSON");
    }

    private static void assertMessage(String json, String fragment) {
        ManifestException e = assertThrows(ManifestException.class, () -> ManifestJson.read(json.getBytes(StandardCharsets.UTF_8)));
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
    }
}
