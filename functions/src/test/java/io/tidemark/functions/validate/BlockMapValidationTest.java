package io.tidemark.functions.validate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.github.luben.zstd.Zstd;
import io.tidemark.events.backup.BackupManifest;
import io.tidemark.events.backup.BlockMap;
import io.tidemark.events.backup.ManifestFile;
import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StorageLayout;
import io.tidemark.events.paths.SafeRelativePath;
import io.tidemark.functions.catalog.BackupEntry;
import io.tidemark.functions.index.TestWal;
import java.io.ByteArrayOutputStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The validator on block maps: kept blocks must be the ones the referenced backup stores. */
@Tag("unit")
class BlockMapValidationTest extends ValidatorTestSupport {
    static final SafeRelativePath REL = SafeRelativePath.of("base/1/16384");
    static final int BS = BlockMap.MIN_BLOCK;

    /** {@code b} with one more file stored block by block: {@code blocks[i]} null = stored by {@code b}, else kept. */
    private TestBackup withBlockFile(TestBackup b, byte[][] content, BlockMap.Block[] kept) {
        BackupLabelName label = b.manifest.label();
        ByteArrayOutputStream object = new ByteArrayOutputStream();
        List<BlockMap.Block> blocks = new ArrayList<>();
        ByteArrayOutputStream whole = new ByteArrayOutputStream();
        for (int i = 0; i < content.length; i++) {
            whole.writeBytes(content[i]);
            if (kept[i] != null) {
                blocks.add(kept[i]);
            } else {
                byte[] stored = Zstd.compress(content[i], 1);
                blocks.add(new BlockMap.Block(label, object.size(), stored.length, TestWal.sha256(content[i])));
                object.writeBytes(stored);
            }
        }
        byte[] body = object.toByteArray();
        // format 3: the file's sha256 is the digest of its block map
        ManifestFile f = new ManifestFile(REL, whole.size(), io.tidemark.events.backup.BlockDigest.of(whole.size(), BS,
                blocks.stream().map(BlockMap.Block::sha256).toList()),
                Instant.parse("2026-03-01T00:00:00Z"), label, OptionalInt.empty(), 0, body.length, TestWal.sha256(body),
                List.of(), Optional.of(new BlockMap(BS, blocks)));
        List<ManifestFile> files = new ArrayList<>(b.manifest.files());
        files.add(f);
        files.sort(java.util.Comparator.comparing(ManifestFile::path));
        BackupManifest m = b.manifest;
        BackupManifest with = new BackupManifest(BackupManifest.formatFor(files), m.stanza(), m.label(), m.prior(),
                m.systemIdentifier(), m.pgVersionNum(), m.walSegmentSize(), m.timeline(), m.startLsn(), m.stopLsn(),
                m.startTime(), m.stopTime(), m.fromStandby(), m.dataChecksums(), m.compression(), m.backupLabel(),
                m.tablespaceMap(), m.tablespaces(), m.directories(), m.bundles(), files);
        Map<String, byte[]> objects = new java.util.LinkedHashMap<>(b.objects);
        objects.put(StorageLayout.backupFileKey(STANZA, label, REL, Compression.ZSTD), body);
        return new TestBackup(STANZA, with, objects, b.raw);
    }

    private static byte[] block(String seed) {
        return TestBackup.bytes(seed, BS);
    }

    @Test
    void keptBlocksMustBeTheReferencedBackupsOwnNamingFileAndBlock() {
        archive(0, 1, 2, 3);
        TestBackup full = withBlockFile(TestBackup.full(STANZA, FULL, TestBackup.files("a")),
                new byte[][] {block("b0"), block("b1"), block("b2")}, new BlockMap.Block[3]);
        full.upload(objects);
        BackupEntry f = validate(full, T1);
        assertEquals(BackupEntry.VALID, f.status(), f.reasons().toString());
        List<BlockMap.Block> fullBlocks = full.manifest.files().stream().filter(x -> x.path().equals(REL)).findFirst()
                .orElseThrow().blocks().orElseThrow().blocks();

        // block 1 changed: the incr stores it, and keeps blocks 0 and 2 of the full
        TestBackup incr = withBlockFile(TestBackup.child(full, TestBackup.childLabel(FULL, BackupLabelName.Type.INCR, 1),
                        TestBackup.files("a")), new byte[][] {block("b0"), block("c1"), block("b2")},
                new BlockMap.Block[] {fullBlocks.get(0), null, fullBlocks.get(2)});
        incr.upload(objects);
        BackupEntry i = validate(incr, T1.plusSeconds(1));
        assertEquals(BackupEntry.VALID, i.status(), i.reasons().toString());
        assertEquals(List.of(FULL.toString()), i.references(), "its blocks need the full");

        // a map whose kept block 2 is not what the full stores (another checksum), and whose block 0
        // points into the full's object at another offset
        BlockMap.Block wrongSha = new BlockMap.Block(FULL, fullBlocks.get(2).offset(), fullBlocks.get(2).storedSize(),
                TestWal.sha256(block("zz")));
        BlockMap.Block wrongOffset = new BlockMap.Block(FULL, fullBlocks.get(0).offset() + 1, fullBlocks.get(0).storedSize(),
                fullBlocks.get(0).sha256());
        TestBackup bad = withBlockFile(TestBackup.child(full, TestBackup.childLabel(FULL, BackupLabelName.Type.INCR, 2),
                        TestBackup.files("a")), new byte[][] {block("b0"), block("c1"), block("b2")},
                new BlockMap.Block[] {wrongOffset, null, wrongSha});
        bad.upload(objects);
        BackupEntry b = validate(bad, T2.plusSeconds(60)); // uploaded after its label (03:00)
        assertEquals(BackupEntry.INVALID, b.status(), b.reasons().toString());
        assertReason(b, "file base/1/16384 block 0: differs from the block referenced backup " + FULL + " stores");
        assertReason(b, "file base/1/16384 block 2: differs from the block referenced backup " + FULL + " stores");
    }

    @Test
    void aDamagedBlockObjectIsInvalidNamingTheObject() {
        archive(0, 1, 2, 3);
        TestBackup full = withBlockFile(TestBackup.full(STANZA, FULL, TestBackup.files("a")),
                new byte[][] {block("b0"), block("b1")}, new BlockMap.Block[2]);
        full.uploadObjects(objects);
        String key = StorageLayout.backupFileKey(STANZA, FULL, REL, Compression.ZSTD);
        byte[] damaged = full.objects.get(key).clone();
        damaged[damaged.length / 2] ^= 1;
        objects.put(key, damaged, "application/octet-stream", Map.of());
        full.uploadManifest(objects, full.manifestBytes());
        BackupEntry e = validate(full, T1);
        assertEquals(BackupEntry.INVALID, e.status(), e.reasons().toString());
        assertReason(e, key);
    }
}
