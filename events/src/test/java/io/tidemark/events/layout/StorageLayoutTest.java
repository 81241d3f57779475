package io.tidemark.events.layout;

import io.tidemark.events.paths.SafeRelativePath;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalArbitraries;
import io.tidemark.events.wal.WalFileName;
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

import java.time.LocalDateTime;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Tag("unit")
@net.jqwik.api.Tag("unit")
class StorageLayoutTest {

    private static final WalSegmentSize MB16 = WalSegmentSize.DEFAULT;
    private static final StanzaName MAIN = StanzaName.of("main");
    private static final BackupLabelName FULL = BackupLabelName.parse("20240102-030405F");

    @Test
    void buildsTheDocumentedKeys() {
        WalFileName seg = WalFileName.parse("000000010000000000000003", MB16);
        assertEquals("main/wal/0000000100000000/000000010000000000000003.zst",
                StorageLayout.walKey(MAIN, seg, Compression.ZSTD));
        assertEquals("main/wal/000000020000000A/000000020000000A000000FE.partial.lz4",
                StorageLayout.walKey(MAIN, WalFileName.parse("000000020000000A000000FE.partial", MB16), Compression.LZ4));
        assertEquals("main/wal/0000000100000000/000000010000000000000002.00000028.backup.raw",
                StorageLayout.walKey(MAIN, WalFileName.parse("000000010000000000000002.00000028.backup", MB16),
                        Compression.NONE));
        assertEquals("main/wal/00000002.history", StorageLayout.historyKey(MAIN, TimelineId.of(2)));
        assertEquals("main/wal/00000002.history",
                StorageLayout.walKey(MAIN, new WalFileName.History(TimelineId.of(2)), Compression.NONE));
        assertEquals("main/backup/20240102-030405F/manifest.json", StorageLayout.manifestKey(MAIN, FULL));
        assertEquals("main/backup/20240102-030405F/data/base/1/1259.zst",
                StorageLayout.backupFileKey(MAIN, FULL, SafeRelativePath.of("base/1/1259"), Compression.ZSTD));
        assertEquals("main/backup/20240102-030405F/data/postgresql.auto.conf.raw",
                StorageLayout.backupFileKey(MAIN, FULL, SafeRelativePath.of("postgresql.auto.conf"), Compression.NONE));
        assertEquals("main/backup/20240102-030405F/bundle/17.zst", StorageLayout.bundleKey(MAIN, FULL, 17, Compression.ZSTD));
        assertEquals("main/stanza.json", StorageLayout.stanzaKey(MAIN));
    }

    @Test
    void streamedChunksHaveTheirOwnFolderAndRoundTrip() {
        WalSegmentName seg = WalSegmentName.parse("000000010000000000000003", MB16);
        String key = StorageLayout.walChunkKey(MAIN, seg, 0, 0x1A000, Compression.ZSTD);
        assertEquals("main/stream/0000000100000000/000000010000000000000003/00000000-0001A000.zst", key);
        assertEquals("main/stream/0000000100000000/000000010000000000000003/",
                StorageLayout.walChunkPrefix(MAIN, seg));
        StorageKey.WalChunk chunk = assertInstanceOf(StorageKey.WalChunk.class, StorageLayout.parse(key, MB16));
        assertEquals(new StorageKey.WalChunk(MAIN, seg, 0, 0x1A000, Compression.ZSTD), chunk);
        assertEquals(0x1A000, chunk.length());
        assertEquals(key, chunk.key());
        // the whole segment is one chunk at most
        assertEquals("main/stream/0000000100000000/000000010000000000000003/00000000-01000000.raw",
                StorageLayout.walChunkKey(MAIN, seg, 0, 16 << 20, Compression.NONE));
    }

    @Test
    void refusesChunkKeysThatAreNotARangeOfTheirSegment() {
        String dir = "main/stream/0000000100000000/000000010000000000000003/";
        for (String bad : new String[] {
                dir + "00001000-00001000.zst",               // empty
                dir + "00002000-00001000.zst",               // backwards
                dir + "00000000-01000001.zst",               // past the 16 MB segment
                dir + "0000000-000001000.zst",               // not 8-8
                dir + "0000abcd-0000FFFF.zst",               // lower case
                dir + "00000000-00001000",                   // no extension
                dir + "00000000-00001000.gz",                // unknown compression
                "main/stream/0000000100000001/000000010000000000000003/00000000-00001000.zst", // wrong folder
                "main/stream/0000000100000000/000000010000000000000003.zst", // no chunk name
        }) {
            assertThrows(StorageKeyException.class, () -> StorageLayout.parse(bad, MB16), bad);
        }
        WalSegmentName seg = WalSegmentName.parse("000000010000000000000003", MB16);
        assertThrows(IllegalArgumentException.class,
                () -> StorageLayout.walChunkKey(MAIN, seg, 5, 5, Compression.ZSTD));
    }

    @Test
    void buildsListingPrefixes() {
        assertEquals("main/", StorageLayout.stanzaPrefix(MAIN));
        assertEquals("main/wal/", StorageLayout.walPrefix(MAIN));
        assertEquals("main/wal/00000003", StorageLayout.timelineWalPrefix(MAIN, TimelineId.of(3)));
        assertTrue(StorageLayout.historyKey(MAIN, TimelineId.of(3))
                .startsWith(StorageLayout.timelineWalPrefix(MAIN, TimelineId.of(3))));
        assertEquals("main/wal/000000030000000A/", StorageLayout.walDirectoryPrefix(MAIN,
                WalSegmentName.parse("000000030000000A00000001", MB16)));
        assertEquals("main/backup/", StorageLayout.backupsPrefix(MAIN));
        assertEquals("main/backup/20240102-030405F/", StorageLayout.backupPrefix(MAIN, FULL));
        BackupLabelName diff = BackupLabelName.parse("20240102-030405F_20240103-000000D");
        assertTrue(!StorageLayout.manifestKey(MAIN, diff).startsWith(StorageLayout.backupPrefix(MAIN, FULL)),
                "a full's prefix must not list its diffs");
    }

    @Test
    void historyFilesAreUncompressed() {
        WalFileName.History h = new WalFileName.History(TimelineId.of(2));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> StorageLayout.walKey(MAIN, h, Compression.ZSTD));
        assertTrue(e.getMessage().contains("uncompressed"), e.getMessage());
        assertEquals(Compression.NONE, StorageLayout.compressionFor(h, Compression.ZSTD));
        assertEquals(Compression.LZ4,
                StorageLayout.compressionFor(WalFileName.parse("000000010000000000000003", MB16), Compression.LZ4));
    }

    @Test
    void parsesEachKind() {
        assertEquals(new StorageKey.WalObject(MAIN, WalFileName.parse("000000010000000000000003", MB16), Compression.ZSTD),
                StorageLayout.parse("main/wal/0000000100000000/000000010000000000000003.zst", MB16));
        assertEquals(new StorageKey.HistoryObject(MAIN, TimelineId.of(10)),
                StorageLayout.parse("main/wal/0000000A.history", MB16));
        assertEquals(new StorageKey.ManifestObject(MAIN, FULL),
                StorageLayout.parse("main/backup/20240102-030405F/manifest.json", MB16));
        assertEquals(new StorageKey.BackupFileObject(MAIN, FULL, SafeRelativePath.of("base/1/1259"), Compression.LZ4),
                StorageLayout.parse("main/backup/20240102-030405F/data/base/1/1259.lz4", MB16));
        assertEquals(new StorageKey.BundleObject(MAIN, FULL, 0, Compression.NONE),
                StorageLayout.parse("main/backup/20240102-030405F/bundle/0.raw", MB16));
        assertEquals(new StorageKey.StanzaObject(MAIN), StorageLayout.parse("main/stanza.json", MB16));
        assertEquals(MAIN, StorageLayout.stanzaOf("main/anything/else"));
    }

    @Test
    void segmentSizeIsResolvedOnlyForWalObjects() {
        AtomicInteger calls = new AtomicInteger();
        java.util.function.Function<StanzaName, WalSegmentSize> resolver = s -> {
            calls.incrementAndGet();
            return WalSegmentSize.ofMegabytes(1);
        };
        StorageLayout.parse("main/stanza.json", resolver);
        StorageLayout.parse("main/wal/00000002.history", resolver);
        StorageLayout.parse("main/backup/20240102-030405F/manifest.json", resolver);
        assertEquals(0, calls.get());
        StorageKey k = StorageLayout.parse("main/wal/0000000100000000/000000010000000000000FFF.zst", resolver);
        assertEquals(1, calls.get());
        // valid with 1 MB segments, not with 16 MB ones
        assertInstanceOf(StorageKey.WalObject.class, k);
        assertRefused("main/wal/0000000100000000/000000010000000000000FFF.zst", "must be below 00000100");
    }

    @Test
    void refusesBadKeys() {
        assertRefused("../main/stanza.json", "'..' component");
        assertRefused("main/../other/stanza.json", "'..' component");
        assertRefused("main/./stanza.json", "'.' component");
        assertRefused("main//stanza.json", "empty component");
        assertRefused("/main/stanza.json", "empty component");
        assertRefused("main/stanza.json/", "empty component");
        assertRefused("main/wal/", "empty component");
        assertRefused("", "key is empty");
        assertRefused("main/stanza json", "U+0020 at index 11");
        assertRefused("main/caf\u00e9/stanza.json", "U+00E9");
        assertRefused("main/backup/20240102-030405F/data/a\\b.zst", "U+005C");
        assertRefused("main/wal/0000000100000000/000000010000000000000003.zst\n", "U+000A");
        assertRefused("main/wal/0000000100000000/000000010000000000000003%2Ezst", "U+0025");
        assertRefused("main", "stanza name alone");
        assertRefused(".main/stanza.json", "invalid stanza name");
        assertRefused("main/stanza.json/x", "directly under the stanza");
        assertRefused("main/other/x", "unknown folder 'other'");
        assertRefused("main/wal/00000001.history", "timeline 1 has no history file");
        assertRefused("main/wal/0000000a.history", "8 upper-case hex digits");
        assertRefused("main/wal/000000010000000000000003.zst", "only TTTTTTTT.history");
        assertRefused("main/wal/0000000100000001/000000010000000000000003.zst", "belongs in folder 0000000100000000");
        assertRefused("main/wal/0000000200000000/000000010000000000000003.zst", "belongs in folder 0000000100000000");
        assertRefused("main/wal/0000000100000000/000000010000000000000003", "no compression extension");
        assertRefused("main/wal/0000000100000000/000000010000000000000003.gz", "unknown compression extension 'gz'");
        assertRefused("main/wal/0000000100000000/00000002.history.raw", "stored as wal/TTTTTTTT.history");
        assertRefused("main/wal/0000000100000000/x/000000010000000000000003.zst", "WAL keys are");
        assertRefused("main/backup/2024-01-02F/manifest.json", "invalid backup label");
        assertRefused("main/backup/20240102-030405F", "backup keys are");
        assertRefused("main/backup/20240102-030405F/manifest.json/x", "directly under the backup");
        assertRefused("main/backup/20240102-030405F/other", "unknown object 'other'");
        assertRefused("main/backup/20240102-030405F/data", "needs a file path");
        assertRefused("main/backup/20240102-030405F/data/base/1", "no compression extension");
        assertRefused("main/backup/20240102-030405F/data/base.d/1", "no compression extension");
        assertRefused("main/backup/20240102-030405F/data/base/...zst", "'..' component");
        assertRefused("main/backup/20240102-030405F/data/base/.zst", "empty component");
        assertRefused("main/backup/20240102-030405F/bundle/01.zst", "without leading zeros");
        assertRefused("main/backup/20240102-030405F/bundle/-1.zst", "decimal number");
        assertRefused("main/backup/20240102-030405F/bundle/1", "decimal number");
        assertRefused("main/backup/20240102-030405F/bundle/99999999999999999999.zst", "decimal number");
        assertRefused("main/" + "a/".repeat(600) + "x", "longer than 1024");
        StorageKeyException e = assertThrows(StorageKeyException.class, () -> StorageLayout.parse(null, MB16));
        assertTrue(e.getMessage().contains("missing"));
    }

    private static void assertRefused(String key, String expected) {
        StorageKeyException e = assertThrows(StorageKeyException.class, () -> StorageLayout.parse(key, MB16), key);
        assertEquals(key, e.key());
        assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
        assertTrue(e.getMessage().chars().allMatch(c -> c >= 0x20 && c < 0x7F), "message must be printable ASCII");
    }

    @Test
    void backupFilesOutsideTheKeyAlphabetGoToBundles() {
        SafeRelativePath odd = SafeRelativePath.of("my notes/\u00e9t\u00e9.txt");
        assertTrue(!StorageLayout.isKeySafe(odd));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> StorageLayout.backupFileKey(MAIN, FULL, odd, Compression.ZSTD));
        assertTrue(e.getMessage().contains("bundle"), e.getMessage());
        assertTrue(StorageLayout.isKeySafe(SafeRelativePath.of("pg_tblspc/16400/PG_16_202307071/5/16401_fsm")));
    }

    // ---- property: every builder's key parses back to the same object ----------------------

    @Provide
    Arbitrary<StanzaName> stanzas() {
        Arbitrary<Character> first = Arbitraries.chars().with("abcXYZ019".toCharArray());
        Arbitrary<String> rest = Arbitraries.strings().withChars("abcXYZ019_.-".toCharArray()).ofMaxLength(62);
        return Combinators.combine(first, rest).as((f, r) -> f + r).filter(s -> !s.contains("..")).map(StanzaName::of);
    }

    @Provide
    Arbitrary<BackupLabelName> labels() {
        Arbitrary<LocalDateTime> times = Arbitraries.longs().between(0, 4_000_000_000L)
                .map(s -> LocalDateTime.ofEpochSecond(s, 0, java.time.ZoneOffset.UTC));
        return times.flatMap(t -> Arbitraries.oneOf(
                Arbitraries.just(BackupLabelName.full(t)),
                Arbitraries.longs().between(1, 1_000_000).map(d -> BackupLabelName.childOf(BackupLabelName.full(t),
                        d % 2 == 0 ? BackupLabelName.Type.DIFF : BackupLabelName.Type.INCR, t.plusSeconds(d)))));
    }

    @Provide
    Arbitrary<SafeRelativePath> keySafePaths() {
        Arbitrary<String> component = Arbitraries.strings().withChars("abzAZ09_.-".toCharArray()).ofMinLength(1)
                .ofMaxLength(20).filter(c -> !c.equals(".") && !c.equals(".."));
        return component.list().ofMinSize(1).ofMaxSize(6).map(l -> SafeRelativePath.of(String.join("/", l)));
    }

    @Provide
    Arbitrary<StorageKey> storageKeys() {
        Arbitrary<Compression> compressions = Arbitraries.of(Compression.values());
        Arbitrary<StorageKey> wal = Combinators.combine(stanzas(), WalArbitraries.walFileNames(), compressions)
                .as((s, n, c) -> n instanceof WalFileName.History h
                        ? new StorageKey.HistoryObject(s, h.timeline())
                        : new StorageKey.WalObject(s, n, c));
        Arbitrary<StorageKey> manifests = Combinators.combine(stanzas(), labels()).as(StorageKey.ManifestObject::new);
        Arbitrary<StorageKey> files = Combinators.combine(stanzas(), labels(), keySafePaths(), compressions)
                .as(StorageKey.BackupFileObject::new);
        Arbitrary<StorageKey> bundles = Combinators.combine(stanzas(), labels(),
                Arbitraries.oneOf(Arbitraries.longs().between(0, 1000), Arbitraries.just(Long.MAX_VALUE)), compressions)
                .as(StorageKey.BundleObject::new);
        Arbitrary<StorageKey> stanzaObjects = stanzas().map(StorageKey.StanzaObject::new);
        return Arbitraries.oneOf(wal, manifests, files, bundles, stanzaObjects);
    }

    @Property(tries = 2000)
    void everyBuiltKeyParsesBackToTheSameObject(@ForAll("storageKeys") StorageKey k) {
        WalSegmentSize size = k instanceof StorageKey.WalObject w ? sizeOf(w.name()) : MB16;
        String key = k.key();
        assertTrue(key.startsWith(StorageLayout.stanzaPrefix(k.stanza())));
        assertTrue(key.chars().allMatch(c -> StorageLayout.isKeyChar((char) c)), key);
        assertEquals(k, StorageLayout.parse(key, size));
        assertEquals(k.stanza(), StorageLayout.stanzaOf(key));
    }

    @Property
    void walKeysLieUnderTheirTimelineAndFolderPrefixes(@ForAll("stanzas") StanzaName s,
                                                      @ForAll("segments") WalSegmentName seg) {
        String key = StorageLayout.walKey(s, new WalFileName.Segment(seg), Compression.ZSTD);
        assertTrue(key.startsWith(StorageLayout.walDirectoryPrefix(s, seg)));
        assertTrue(key.startsWith(StorageLayout.timelineWalPrefix(s, seg.timeline())));
        assertTrue(key.startsWith(StorageLayout.walPrefix(s)));
    }

    @Provide
    Arbitrary<WalSegmentName> segments() {
        return WalArbitraries.segmentNames();
    }

    @Property
    void keysWithForeignCharactersAreRefused(@ForAll("storageKeys") StorageKey k,
                                             @ForAll("foreign") char c, @ForAll int where) {
        String key = k.key();
        int at = Math.floorMod(where, key.length() + 1);
        String bad = key.substring(0, at) + c + key.substring(at);
        StorageKeyException e = assertThrows(StorageKeyException.class, () -> StorageLayout.parse(bad, MB16));
        assertTrue(e.getMessage().contains("outside [0-9A-Za-z/_.-]"), e.getMessage());
    }

    @Provide
    Arbitrary<Character> foreign() {
        return Arbitraries.chars().filter(c -> !StorageLayout.isKeyChar(c));
    }

    private static WalSegmentSize sizeOf(WalFileName n) {
        return switch (n) {
            case WalFileName.Segment s -> s.segment().segmentSize();
            case WalFileName.Partial p -> p.segment().segmentSize();
            case WalFileName.BackupHistory b -> b.segment().segmentSize();
            case WalFileName.History h -> MB16;
        };
    }

    @Test
    void compressionExtensions() {
        for (Compression c : Compression.values()) {
            assertEquals(c, Compression.fromExtension(c.extension()));
        }
        assertEquals("raw", Compression.NONE.extension());
        assertThrows(IllegalArgumentException.class, () -> Compression.fromExtension("ZST"));
    }
}
