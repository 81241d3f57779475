package io.tidemark.events.backup;

import static io.tidemark.events.backup.BackupManifestTest.FULL;
import static io.tidemark.events.backup.BackupManifestTest.INCR;
import static io.tidemark.events.backup.BackupManifestTest.SHA_A;
import static io.tidemark.events.backup.BackupManifestTest.SHA_B;
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
class BlockMapTest {
    static final int BS = BlockMap.MIN_BLOCK;
    static final BackupLabelName INCR2 = BackupLabelName.childOf(FULL, BackupLabelName.Type.INCR, LocalDateTime.of(2026, 11, 21, 8, 0, 0));

    /** A 3.5-block file stored by INCR: block 1 new in INCR (100 stored bytes), the others kept from FULL. */
    static ManifestFile blockFile(BackupLabelName ref, List<BlockMap.Block> blocks, long storedSize) {
        return new ManifestFile(SafeRelativePath.of("base/1/16384"), 3L * BS + BS / 2, SHA_A, Instant.parse("2026-11-21T05:59:00Z"),
                ref, OptionalInt.empty(), 0, storedSize, SHA_B, List.of(), Optional.of(new BlockMap(BS, blocks)));
    }

    static BackupManifest manifest(int format, BackupLabelName label, BackupLabelName prior, List<ManifestFile> files) {
        return new BackupManifest(format, StanzaName.of("main"), label, Optional.ofNullable(prior), "7710501133698690623", 150018,
                WalSegmentSize.DEFAULT, TimelineId.FIRST, Lsn.parse("0/2000028"), Lsn.parse("0/2000100"),
                Instant.parse("2026-11-21T06:00:00Z"), Instant.parse("2026-11-21T06:00:05Z"), false, true,
                Compression.ZSTD, "START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\n", Optional.empty(),
                List.of(), List.of(), List.of(), files);
    }

    static List<BlockMap.Block> incrBlocks() {
        return List.of(new BlockMap.Block(FULL, 0, 50, SHA_A), new BlockMap.Block(INCR, 0, 100, SHA_B),
                new BlockMap.Block(FULL, 90, 60, SHA_A), new BlockMap.Block(FULL, 150, 30, SHA_B));
    }

    @Test
    void blockSizeGrowsWithTheFileSoMapsStaySmall() {
        assertEquals(BlockMap.MIN_BLOCK, BlockMap.blockSizeFor(1L << 20));
        assertEquals(BlockMap.MIN_BLOCK, BlockMap.blockSizeFor(128L << 20));
        assertEquals(256 * 1024, BlockMap.blockSizeFor((128L << 20) + 1));
        assertEquals(1 << 20, BlockMap.blockSizeFor(1L << 30));
        assertEquals(1024, BlockMap.blockCount(1L << 30, BlockMap.blockSizeFor(1L << 30)));
        assertEquals(BlockMap.MAX_BLOCK, BlockMap.blockSizeFor(1L << 40));
    }

    @Test
    void roundTripAsFormat2AndReferencesCountBlocks() {
        BackupManifest m = manifest(2, INCR, FULL, List.of(blockFile(INCR, incrBlocks(), 100)));
        assertEquals(2, BackupManifest.formatFor(m.files()));
        byte[] json = ManifestJson.write(m);
        BackupManifest back = ManifestJson.read(json);
        assertEquals(m, back);
        assertArrayEquals(json, ManifestJson.write(back));
        assertEquals(List.of(FULL), m.references(), "the file is INCR's, but three of its blocks are FULL's");
        assertTrue(new String(json, StandardCharsets.UTF_8).contains("\"blocks\":{\"blockSize\":131072,\"map\":[[\""), new String(json, StandardCharsets.UTF_8));
    }

    @Test
    void aFormat1ManifestWithoutMapsStillReads() {
        BackupManifest old = manifest(1, FULL, null, List.of(BackupManifestTest.file("base/1/1259", FULL, OptionalInt.empty(), 0)));
        assertEquals(1, BackupManifest.formatFor(old.files()));
        assertEquals(old, ManifestJson.read(ManifestJson.write(old)));
        ManifestException e = assertThrows(ManifestException.class,
                () -> manifest(1, INCR, FULL, List.of(blockFile(INCR, incrBlocks(), 100))));
        assertTrue(e.getMessage().contains("needs manifest format 2"), e.getMessage());
    }

    @Test
    void aMapThatDoesNotFitTheFileIsRefusedNamingTheBlock() {
        ManifestException few = assertThrows(ManifestException.class,
                () -> blockFile(INCR, incrBlocks().subList(0, 3), 100));
        assertTrue(few.getMessage().contains("base/1/16384: block map has 3 blocks"), few.getMessage());
        ManifestException gap = assertThrows(ManifestException.class, () -> blockFile(INCR, List.of(
                new BlockMap.Block(FULL, 0, 50, SHA_A), new BlockMap.Block(INCR, 10, 100, SHA_B),
                new BlockMap.Block(FULL, 90, 60, SHA_A), new BlockMap.Block(FULL, 150, 30, SHA_B)), 110));
        assertTrue(gap.getMessage().contains("block 1 starts at 10"), gap.getMessage());
        ManifestException size = assertThrows(ManifestException.class, () -> blockFile(INCR, incrBlocks(), 99));
        assertTrue(size.getMessage().contains("add up to 100 bytes, the file's stored size is 99"), size.getMessage());
        ManifestException later = assertThrows(ManifestException.class, () -> blockFile(INCR, List.of(
                new BlockMap.Block(FULL, 0, 50, SHA_A), new BlockMap.Block(INCR2, 0, 100, SHA_B),
                new BlockMap.Block(FULL, 90, 60, SHA_A), new BlockMap.Block(INCR, 0, 0, SHA_B)), 0));
        assertTrue(later.getMessage().contains("block 1 is in " + INCR2), later.getMessage());
        String json = new String(ManifestJson.write(manifest(2, INCR, FULL, List.of(blockFile(INCR, incrBlocks(), 100)))),
                StandardCharsets.UTF_8);
        ManifestException bad = assertThrows(ManifestException.class, () -> ManifestJson.read(
                json.replaceFirst(",50,\"", ",\"50\",\"").getBytes(StandardCharsets.UTF_8)));
        assertTrue(bad.getMessage().contains("/files/0/blocks/map/0 must be [reference, offset, storedSize, sha256]"), bad.getMessage());
    }
}
