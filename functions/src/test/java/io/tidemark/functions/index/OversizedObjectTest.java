package io.tidemark.functions.index;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.Decompression;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.layout.StorageLayout;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.functions.catalog.BackupEntry;
import io.tidemark.functions.catalog.InMemoryCatalogStore;
import io.tidemark.functions.catalog.InMemoryObjectStore;
import io.tidemark.functions.catalog.Item;
import io.tidemark.functions.catalog.Keys;
import io.tidemark.functions.catalog.ObjectStore;
import io.tidemark.functions.catalog.StanzaMeta;
import io.tidemark.functions.validate.BackupValidator;
import java.io.InputStream;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * An object larger than its kind can be stored is refused before any GET: the indexer marks a WAL
 * segment or history file corrupt with the reason, the validator makes the backup invalid. The
 * store counts its reads, so "not read" is proven, not assumed.
 */
@Tag("unit")
class OversizedObjectTest {

    static final StanzaName STANZA = StanzaName.of("main");
    static final Instant AT = Instant.parse("2026-03-01T02:00:00Z");
    /** 1.5 GB: what a compromised node could put under a WAL key to exhaust the indexer's memory. */
    static final long HUGE = 1_610_612_736L;

    /** Counts GETs (and opens) and HEADs of the wrapped store. */
    static final class CountingStore implements ObjectStore {
        final InMemoryObjectStore inner = new InMemoryObjectStore();
        final AtomicInteger gets = new AtomicInteger();
        final AtomicInteger heads = new AtomicInteger();
        /** What a HEAD reports as the size instead of the real one (-1: the real one). */
        long headSize = -1;

        @Override
        public Optional<StoredObject> get(String key) {
            gets.incrementAndGet();
            return inner.get(key);
        }

        @Override
        public Optional<InputStream> open(String key) {
            gets.incrementAndGet();
            return inner.open(key);
        }

        @Override
        public Optional<ObjectInfo> head(String key) {
            heads.incrementAndGet();
            return inner.head(key).map(i -> headSize < 0 ? i
                    : new ObjectInfo(headSize, i.metadata(), i.lastModified(), i.retainUntil()));
        }

        @Override
        public void delete(String key) {
            inner.delete(key);
        }

        @Override
        public List<ListedObject> list(String prefix) {
            return inner.list(prefix);
        }

        @Override
        public List<String> childPrefixes(String prefix) {
            return inner.childPrefixes(prefix);
        }

        @Override
        public void put(String key, byte[] content, String contentType, Map<String, String> metadata) {
            inner.put(key, content, contentType, metadata);
        }
    }

    final CountingStore objects = new CountingStore();
    final InMemoryCatalogStore catalog = new InMemoryCatalogStore();
    final WalIndexer indexer = new WalIndexer(objects, catalog);
    final BackupValidator validator = new BackupValidator(objects, catalog, 1);
    final TestWal wal = new TestWal(2, Set.of());

    OversizedObjectTest() {
        catalog.put(new StanzaMeta(STANZA, TestWal.SYSTEM_ID_TEXT, 15, 150004, TestWal.SIZE,
                Instant.parse("2026-01-01T00:00:00Z")).toItem().withRevision(), null);
    }

    String upload(int i) {
        String key = wal.key(STANZA, i, Compression.ZSTD);
        byte[] raw = wal.segments.get(i);
        objects.put(key, TestWal.compress(Compression.ZSTD, raw), "application/octet-stream",
                Map.of(ObjectStore.SHA256, TestWal.sha256(raw)));
        return key;
    }

    @Test
    void aWalSegmentTheEventSaysIsHugeIsMarkedCorruptWithoutAGet() {
        String key = upload(0); // a real, intact segment: had it been read, it would be archived
        assertEquals(WalIndexer.Outcome.OVERSIZED, indexer.index(key, AT, null, HUGE));
        assertEquals(0, objects.gets.get(), "no GET of the oversized object");
        assertEquals(0, objects.heads.get(), "the event's size decides, no HEAD");

        Item item = catalog.get(Keys.pk(STANZA), Keys.wal(wal.name(0))).orElseThrow();
        assertEquals("corrupt", item.string("status").orElseThrow());
        assertEquals(HUGE, item.number("storedSize").orElseThrow());
        String problem = item.string("problem").orElseThrow();
        assertTrue(problem.contains("object is " + HUGE + " bytes") && problem.contains("refused without reading it")
                && problem.contains("a " + TestWal.SIZE.bytes() + "-byte segment plus zst framing"), problem);
    }

    @Test
    void withoutASizeInTheEventAHeadDecidesBeforeAnyGet() {
        String key = upload(0);
        objects.headSize = HUGE;
        assertEquals(WalIndexer.Outcome.OVERSIZED, indexer.index(key, AT, null, -1));
        assertEquals(1, objects.heads.get());
        assertEquals(0, objects.gets.get());
    }

    @Test
    void aSegmentWithinTheBoundIsIndexedAsBefore() {
        String key = upload(0);
        long stored = objects.inner.head(key).orElseThrow().size();
        assertEquals(WalIndexer.Outcome.SEGMENT_ARCHIVED, indexer.index(key, AT, null, stored));
        assertTrue(objects.gets.get() > 0);
        // the bound itself: a segment plus the codec's worst-case framing, exactly the segment when raw
        long segment = TestWal.SIZE.bytes();
        assertEquals(segment, Decompression.maxStoredSize(Compression.NONE, segment));
        // zstd's own worst case for incompressible data fits, and the bound stays near a 16 MiB segment
        assertTrue(com.github.luben.zstd.Zstd.compressBound(segment) <= Decompression.maxStoredSize(Compression.ZSTD, segment));
        long sixteen = 16L << 20;
        assertTrue(Decompression.maxStoredSize(Compression.ZSTD, sixteen) < sixteen + sixteen / 50);
    }

    @Test
    void anOversizedHistoryFileIsRefusedToo() {
        String key = StorageLayout.historyKey(STANZA, TimelineId.of(2));
        objects.put(key, "1\t0/5800000\tno recovery target specified\n".getBytes(), "text/plain", Map.of());
        assertEquals(WalIndexer.Outcome.OVERSIZED, indexer.index(key, AT, null, 2L << 20));
        assertEquals(0, objects.gets.get());
        assertEquals("corrupt", catalog.get(Keys.pk(STANZA), Keys.history(TimelineId.of(2))).orElseThrow()
                .string("status").orElseThrow());
    }

    @Test
    void anOversizedManifestMakesTheBackupInvalidWithoutAGet() {
        BackupLabelName label = BackupLabelName.parse("20260301-020000F");
        String key = StorageLayout.manifestKey(STANZA, label);
        objects.put(key, "{}".getBytes(), "application/json", Map.of());
        assertEquals(BackupValidator.Outcome.OVERSIZED,
                validator.validate(key, AT, BackupValidator.MAX_MANIFEST_BYTES + 1));
        assertEquals(0, objects.gets.get());
        BackupEntry e = validator.entry(STANZA, label).orElseThrow();
        assertEquals(BackupEntry.INVALID, e.status());
        assertTrue(e.reasons().stream().anyMatch(r -> r.contains("more than the " + BackupValidator.MAX_MANIFEST_BYTES)
                && r.contains("refused without reading it")), e.reasons().toString());
    }
}
