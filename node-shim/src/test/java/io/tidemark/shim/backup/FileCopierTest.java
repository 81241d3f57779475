package io.tidemark.shim.backup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.events.layout.Compression;
import io.tidemark.events.paths.SafeRelativePath;
import io.tidemark.shim.storage.Codec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Tag("unit")
class FileCopierTest {
    @TempDir
    Path tmp;

    /** {@code pages} pages with valid checksums as blocks {@code firstBlock...}, LSN 0/100. */
    static byte[] relation(int pages, long firstBlock) {
        byte[] data = new byte[pages * PageChecksums.PAGE_SIZE];
        Random r = new Random(7);
        ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < pages; i++) {
            int off = i * PageChecksums.PAGE_SIZE;
            b.putInt(off, 0).putInt(off + 4, 0x100);           // pd_lsn
            b.putShort(off + 12, (short) 40).putShort(off + 14, (short) 4000); // pd_lower, pd_upper
            for (int j = 4000; j < PageChecksums.PAGE_SIZE; j++) {
                data[off + j] = (byte) (r.nextInt(4) + 'a');
            }
            b.putShort(off + 8, (short) PageChecksums.compute(data, off, firstBlock + i));
        }
        return data;
    }

    @ParameterizedTest
    @EnumSource(Compression.class)
    void bigRelationFileStreamsThroughChunksWithPageChecksumsOfItsSegment(Compression c) throws Exception {
        long first = PageChecksums.BLOCKS_PER_SEGMENT; // segment 1
        byte[] data = relation(300, first); // 2.3 MB: three chunks
        data[150 * PageChecksums.PAGE_SIZE + 5000] ^= 1;
        Path f = tmp.resolve("16384.1");
        Files.write(f, data);
        FileCopier.Copy copy = new FileCopier(c, 1, true, 0x1000).copy(
                new SourceFile(SafeRelativePath.of("base/5/16384.1"), f, data.length, Instant.EPOCH)).orElseThrow();
        assertEquals(data.length, copy.size());
        assertEquals(List.of(first + 150), copy.pageChecksumErrors());
        assertEquals(FileCopier.hex(FileCopier.sha256().digest(data)), copy.sha256());
        assertEquals(FileCopier.hex(FileCopier.sha256().digest(copy.stored())), copy.storedSha256());
        assertArrayEquals(data, Codec.decompress(c, copy.stored()));
    }

    @Test
    void smallFilesInOneCallAndNoChecksumsOutsideRelations() throws Exception {
        byte[] data = relation(3, 0);
        data[100] ^= 1;
        Path f = tmp.resolve("x");
        Files.write(f, data);
        FileCopier copier = new FileCopier(Compression.ZSTD, 1, true, 0x1000);
        FileCopier.Copy asConfig = copier.copy(new SourceFile(SafeRelativePath.of("postgresql.conf"), f, data.length,
                Instant.EPOCH)).orElseThrow();
        assertTrue(asConfig.pageChecksumErrors().isEmpty());
        FileCopier.Copy asRelation = copier.copy(new SourceFile(SafeRelativePath.of("global/1262"), f, data.length,
                Instant.EPOCH)).orElseThrow();
        assertEquals(List.of(0L), asRelation.pageChecksumErrors());
        assertArrayEquals(data, Codec.decompress(Compression.ZSTD, asRelation.stored()));
        // pages written after the backup started are not judged
        FileCopier late = new FileCopier(Compression.ZSTD, 1, true, 0x100);
        assertTrue(late.copy(new SourceFile(SafeRelativePath.of("global/1262"), f, data.length, Instant.EPOCH))
                .orElseThrow().pageChecksumErrors().isEmpty());
    }

    @Test
    void aVanishedFileIsEmpty() throws Exception {
        assertTrue(new FileCopier(Compression.NONE, 0, false, 0).copy(new SourceFile(SafeRelativePath.of("base/5/1"),
                tmp.resolve("gone"), 10, Instant.EPOCH)).isEmpty());
        assertTrue(FileCopier.sha256Of(tmp.resolve("gone")).isEmpty());
    }

    @Test
    void checksumDeltaComparesByTheKindOfDigestTheEarlierEntryHolds() throws Exception {
        int bs = io.tidemark.events.backup.BlockMap.MIN_BLOCK;
        byte[] data = new byte[2 * bs + 10];
        new Random(3).nextBytes(data);
        Path f = Files.write(tmp.resolve("16384"), data);
        io.tidemark.events.layout.BackupLabelName full = io.tidemark.events.layout.BackupLabelName.parse("20261121-060000F");
        List<io.tidemark.events.backup.BlockMap.Block> blocks = new java.util.ArrayList<>();
        for (int at = 0; at < data.length; at += bs) {
            blocks.add(new io.tidemark.events.backup.BlockMap.Block(full, 0, 0, FileCopier.hex(FileCopier.sha256()
                    .digest(java.util.Arrays.copyOfRange(data, at, Math.min(data.length, at + bs))))));
        }
        var map = new io.tidemark.events.backup.BlockMap(bs, blocks);
        String digest = io.tidemark.events.backup.BlockDigest.of(data.length, map);
        String whole = FileCopier.hex(FileCopier.sha256().digest(data));
        assertEquals(java.util.Optional.of(digest), FileCopier.digestLike(f, entry(data.length, digest, full, map)), "format 3");
        assertEquals(java.util.Optional.of(whole), FileCopier.digestLike(f, entry(data.length, whole, full, map)), "format 2");
        Files.delete(f);
        assertEquals(java.util.Optional.empty(), FileCopier.digestLike(f, entry(data.length, digest, full, map)), "vanished");
    }

    private static io.tidemark.events.backup.ManifestFile entry(long size, String sha, io.tidemark.events.layout.BackupLabelName ref,
                                                               io.tidemark.events.backup.BlockMap map) {
        return new io.tidemark.events.backup.ManifestFile(SafeRelativePath.of("base/1/16384"), size, sha, Instant.EPOCH, ref,
                java.util.OptionalInt.empty(), 0, 0, "0".repeat(64), List.of(), java.util.Optional.of(map));
    }
}
