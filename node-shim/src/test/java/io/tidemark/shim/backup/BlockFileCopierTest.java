package io.tidemark.shim.backup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.events.backup.BlockMap;
import io.tidemark.events.backup.ManifestFile;
import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.Compression;
import io.tidemark.events.paths.SafeRelativePath;
import io.tidemark.shim.storage.Codec;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Tag("unit")
class BlockFileCopierTest {
    static final BackupLabelName FULL = BackupLabelName.full(LocalDateTime.of(2026, 12, 6, 10, 0, 0));
    static final BackupLabelName INCR = BackupLabelName.childOf(FULL, BackupLabelName.Type.INCR, LocalDateTime.of(2026, 12, 6, 11, 0, 0));
    static final int BS = BlockMap.MIN_BLOCK;

    @TempDir
    Path tmp;

    private final java.util.concurrent.ExecutorService workers = java.util.concurrent.Executors.newFixedThreadPool(2);
    private final BlockFileCopier copier = new BlockFileCopier(Compression.ZSTD, 1, false, 0, workers, 2, null);

    @org.junit.jupiter.api.AfterEach
    void stop() {
        workers.shutdownNow();
    }

    private SourceFile write(byte[] content) throws Exception {
        Path p = tmp.resolve("16384");
        Files.write(p, content);
        return new SourceFile(SafeRelativePath.of("base/1/16384"), p, content.length, Instant.now());
    }

    private static ManifestFile entry(SourceFile f, BackupLabelName label, BlockFileCopier.BlockCopy c) {
        return new ManifestFile(f.path(), c.size(), c.sha256(), f.mtime(), label, OptionalInt.empty(), 0,
                c.storedSize(), c.storedSha256(), List.of(), Optional.of(c.map()));
    }

    /** The file as a restore assembles it: every block from the object of the backup that stores it. */
    private static byte[] assemble(BlockMap map, java.util.Map<BackupLabelName, byte[]> objects) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (BlockMap.Block b : map.blocks()) {
            byte[] stored = Arrays.copyOfRange(objects.get(b.reference()), (int) b.offset(), (int) (b.offset() + b.storedSize()));
            byte[] raw = Codec.decompress(Compression.ZSTD, stored);
            assertEquals(b.sha256(), HexFormat.of().formatHex(FileCopier.sha256().digest(raw)));
            out.write(raw);
        }
        return out.toByteArray();
    }

    /** The object's bytes, from memory or from its spool file (then deleted, as the copier's caller does). */
    private static byte[] stored(BlockFileCopier.BlockCopy c) throws Exception {
        if (c.spooled() == null) {
            return c.stored();
        }
        byte[] b = Files.readAllBytes(c.spooled());
        Files.delete(c.spooled());
        return b;
    }

    @Test
    void aLargeFileIsSpooledNotHeldAndItsBlocksComeBackInOrder() throws Exception {
        byte[] v1 = new byte[(int) BlockFileCopier.SPOOL_FROM + 3 * BS + 5];
        new Random(9).nextBytes(v1);
        for (int i = 0; i < v1.length; i += 3) {
            v1[i] = 0; // compressible, so the stored size differs per block
        }
        SourceFile f = write(v1);
        BlockFileCopier.BlockCopy full = copier.copy(f, null, FULL).orElseThrow();
        assertTrue(full.spooled() != null && full.stored() == null, "spooled to a temp file");
        assertEquals(full.storedSize(), Files.size(full.spooled()));
        assertEquals(HexFormat.of().formatHex(FileCopier.sha256().digest(Files.readAllBytes(full.spooled()))), full.storedSha256());
        assertArrayEquals(v1, assemble(full.map(), java.util.Map.of(FULL, stored(full))));
    }

    @Test
    void aFullStoresEveryBlockAnIncrementalOnlyTheChangedOnes() throws Exception {
        byte[] v1 = new byte[10 * BS + 1000];
        new Random(1).nextBytes(v1);
        SourceFile f1 = write(v1);
        BlockFileCopier.BlockCopy full = copier.copy(f1, null, FULL).orElseThrow();
        assertEquals(11, full.map().blocks().size());
        assertTrue(full.map().blocks().stream().allMatch(b -> b.reference().equals(FULL)));
        ManifestFile fullEntry = entry(f1, FULL, full);
        assertEquals(io.tidemark.events.backup.BlockDigest.ofFile(f1.absolute(), BS), fullEntry.sha256(),
                "the file's digest is over its blocks' SHA-256, each byte hashed once");

        // one byte in block 3 changes; the file grows by a block and a half
        byte[] v2 = Arrays.copyOf(v1, 12 * BS + BS / 2);
        v2[3 * BS + 17] ^= 1;
        new Random(2).nextBytes(Arrays.copyOfRange(v2, v1.length, v2.length));
        for (int i = v1.length; i < v2.length; i++) {
            v2[i] = (byte) i;
        }
        SourceFile f2 = write(v2);
        BlockFileCopier.BlockCopy incr = copier.copy(f2, fullEntry, INCR).orElseThrow();
        List<Integer> stored = new java.util.ArrayList<>();
        for (int i = 0; i < incr.map().blocks().size(); i++) {
            if (incr.map().blocks().get(i).reference().equals(INCR)) {
                stored.add(i);
            } else {
                assertEquals(full.map().blocks().get(i), incr.map().blocks().get(i), "block " + i + " kept as the full stored it");
            }
        }
        assertEquals(List.of(3, 10, 11, 12), stored, "the changed block, the last block that grew, and the new ones");
        ManifestFile incrEntry = entry(f2, INCR, incr);
        assertArrayEquals(v2, assemble(incrEntry.blocks().orElseThrow(),
                java.util.Map.of(FULL, stored(full), INCR, stored(incr))));

        // truncated to 2.5 blocks: nothing new to store, the map shrinks
        byte[] v3 = Arrays.copyOf(v2, 2 * BS + BS / 2);
        SourceFile f3 = write(v3);
        BlockFileCopier.BlockCopy trunc = copier.copy(f3, incrEntry, INCR).orElseThrow();
        assertEquals(3, trunc.map().blocks().size());
        assertEquals(FULL, trunc.map().blocks().get(1).reference());
        assertEquals(INCR, trunc.map().blocks().get(2).reference(), "the cut last block is new");
        assertArrayEquals(v3, assemble(trunc.map(), java.util.Map.of(FULL, stored(full), INCR, stored(trunc))));
    }

    @Test
    void anUnchangedFileStoresNothingAndAVanishedOneIsSkipped() throws Exception {
        byte[] v1 = new byte[8 * BS];
        new Random(3).nextBytes(v1);
        SourceFile f = write(v1);
        BlockFileCopier.BlockCopy full = copier.copy(f, null, FULL).orElseThrow();
        BlockFileCopier.BlockCopy again = copier.copy(f, entry(f, FULL, full), INCR).orElseThrow();
        assertEquals(0, again.storedSize());
        assertEquals(full.map().blocks(), again.map().blocks());
        Files.delete(f.absolute());
        assertTrue(copier.copy(f, null, FULL).isEmpty());
    }

    @Test
    void aPriorMapOfAnotherBlockSizeIsNotReused() {
        BlockMap prior = new BlockMap(BS, List.of());
        assertEquals(BS, BlockFileCopier.blockSize(200L << 20, Optional.of(prior)), "kept while at most 4x the target count");
        assertEquals(1 << 20, BlockFileCopier.blockSize(1L << 30, Optional.of(prior)));
        assertEquals(1 << 20, BlockFileCopier.blockSize(1L << 30, Optional.empty()));
    }

    /** {@code pages} pages with valid checksums as pages of the second segment of a relation (blocks from 131072). */
    private static byte[] checksummedPages(int pages) {
        byte[] b = new byte[pages * PageChecksums.PAGE_SIZE];
        new Random(7).nextBytes(b);
        java.nio.ByteBuffer bb = java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int p = 0; p < pages; p++) {
            int off = p * PageChecksums.PAGE_SIZE;
            bb.putInt(off, 0).putInt(off + 4, 0x100); // page LSN 0/100: before the backup's start
            bb.putShort(off + 14, (short) 4096);       // pd_upper: not a new page
            bb.putShort(off + 8, (short) PageChecksums.compute(b, off, PageChecksums.BLOCKS_PER_SEGMENT + p));
        }
        return b;
    }

    @Test
    void pageChecksumsAreCheckedByTheWorkersAndNamedInFileOrder() throws Exception {
        BlockFileCopier checking = new BlockFileCopier(Compression.ZSTD, 1, true, 0x10000, workers, 2, null);
        int pages = 200; // 1.6 MB: 13 blocks of 128 kB
        byte[] good = checksummedPages(pages);
        Path p = tmp.resolve("16384.1");
        Files.write(p, good);
        SourceFile f = new SourceFile(SafeRelativePath.of("base/1/16384.1"), p, good.length, Instant.now());
        BlockFileCopier.BlockCopy clean = checking.copy(f, null, FULL).orElseThrow();
        assertEquals(List.of(), clean.pageChecksumErrors());

        byte[] bad = good.clone();
        for (int page : new int[] {190, 3, 17}) { // in blocks 11, 0 and 1
            bad[page * PageChecksums.PAGE_SIZE + 5000] ^= 0x5A;
        }
        Files.write(p, bad);
        BlockFileCopier.BlockCopy c = checking.copy(f, null, FULL).orElseThrow();
        long base = PageChecksums.BLOCKS_PER_SEGMENT;
        assertEquals(List.of(base + 3, base + 17, base + 190), c.pageChecksumErrors(), "the pages' relation block numbers, in order");
        assertArrayEquals(bad, assemble(c.map(), java.util.Map.of(FULL, stored(c))));
    }
}
