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
        assertEquals(BackupManifest.BLOCK_DIGEST_FORMAT_VERSION, BackupManifest.formatFor(m.files()), "written as format 3 now");
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

    /** {@link #blockFile} with {@code sha256} set to {@code sha}. */
    static ManifestFile withSha(ManifestFile f, String sha) {
        return new ManifestFile(f.path(), f.size(), sha, f.mtime(), f.reference(), f.bundle(), f.bundleOffset(), f.storedSize(),
                f.storedSha256(), f.pageChecksumErrors(), f.blocks());
    }

    @Test
    void format3StoresTheBlockDigestOfTheFilesItStoresAndRefusesAnythingElse() {
        ManifestFile f = blockFile(INCR, incrBlocks(), 100);
        String digest = BlockDigest.of(f.size(), f.blocks().orElseThrow());
        BackupManifest m = manifest(3, INCR, FULL, List.of(withSha(f, digest)));
        assertEquals(m, ManifestJson.read(ManifestJson.write(m)));
        // the whole content's SHA-256 (format 2's meaning) in a format 3 manifest, for a file it stores itself
        ManifestException e = assertThrows(ManifestException.class, () -> manifest(3, INCR, FULL, List.of(f)));
        assertTrue(e.getMessage().contains("base/1/16384: sha256 " + SHA_A + " is not the digest of its block map (" + digest + ")"),
                e.getMessage());
        // a file kept whole from a format 2 backup keeps that backup's SHA-256 of the content
        BackupManifest referencing = manifest(3, INCR2, INCR, List.of(blockFile(INCR, incrBlocks(), 100)));
        assertEquals(SHA_A, referencing.files().get(0).sha256());
        // format 4 is not known to this build
        ManifestException newer = assertThrows(ManifestException.class, () -> manifest(4, INCR, FULL, List.of(withSha(f, digest))));
        assertTrue(newer.getMessage().contains("manifest format 4 is not supported (this build reads 1 to 3)"), newer.getMessage());
    }

    @Test
    void theBlockDigestCoversSizeBlockSizeAndEveryBlockInOrder(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        byte[] content = new byte[2 * BS + 1000];
        new java.util.Random(7).nextBytes(content);
        java.nio.file.Path file = java.nio.file.Files.write(dir.resolve("f"), content);
        List<String> shas = List.of(sha(content, 0, BS), sha(content, BS, BS), sha(content, 2 * BS, 1000));
        String digest = BlockDigest.of(content.length, BS, shas);
        assertEquals(digest, BlockDigest.ofFile(file, BS), "read from a file: the same digest");
        assertTrue(BlockDigest.matches(digest, content.length, BS, shas));
        assertTrue(!BlockDigest.matches(sha(content, 0, content.length), content.length, BS, shas),
                "the whole content's SHA-256 is not the block digest");
        assertTrue(!BlockDigest.matches(digest, content.length, BS, List.of(shas.get(1), shas.get(0), shas.get(2))), "order counts");
        assertTrue(!BlockDigest.matches(digest, content.length + 1, BS, shas), "size counts");
        assertTrue(!BlockDigest.matches(digest, content.length, 2 * BS, shas), "block size counts");
        content[BS + 17] ^= 1;
        java.nio.file.Files.write(file, content);
        assertTrue(!BlockDigest.ofFile(file, BS).equals(digest), "one bit in one block changes it");
        assertEquals(BlockDigest.of(0, BS, List.of()), BlockDigest.ofFile(java.nio.file.Files.write(dir.resolve("empty"), new byte[0]), BS));
    }

    private static String sha(byte[] b, int off, int len) throws Exception {
        java.security.MessageDigest d = java.security.MessageDigest.getInstance("SHA-256");
        d.update(b, off, len);
        return java.util.HexFormat.of().formatHex(d.digest());
    }
}
