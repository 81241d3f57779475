package io.tidemark.functions.index;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.events.layout.Compression;
import io.tidemark.events.metrics.TidemarkMetric;
import io.tidemark.functions.catalog.InMemoryObjectStore;
import io.tidemark.functions.catalog.Item;
import io.tidemark.functions.catalog.Keys;
import io.tidemark.functions.catalog.ObjectStore;
import io.tidemark.testkit.wal.SyntheticWal;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The indexer reads the version its event names, records it with the SHA-256 of the bytes it read,
 * and keeps what it accepted once: another body for the same file (its metadata matching it) is
 * refused and counted, the same body again changes nothing, and a lost segment comes back only
 * with the bytes it was accepted with. On a bucket in memory that keeps versions, as S3's does.
 */
@Tag("unit")
class VersionPinningTest {

    private static final TestWal WAL = new TestWal(2, java.util.Set.of());

    final IndexFixture f = new IndexFixture();
    final VersionedStore bucket = new VersionedStore();
    final List<Map<TidemarkMetric, Long>> published = new CopyOnWriteArrayList<>();
    final WalIndexer indexer = new WalIndexer(bucket, f.catalog, (meta, segment) -> { },
            (stanza, at, values) -> published.add(values));

    /** Segment {@code i} of other WAL at the same position: commits of other transactions. */
    static byte[] forged(int i) {
        SyntheticWal w = SyntheticWal.pg15OneMb();
        for (int s = 0; s < 2; s++) {
            w.commit(5000 + s, TestWal.T0 + s * 1_000_000L);
            w.switchSegment();
        }
        return w.segment(i);
    }

    String put(int i, byte[] raw) {
        return bucket.putVersion(WAL.key(IndexFixture.MAIN, i, Compression.ZSTD), TestWal.compress(Compression.ZSTD, raw),
                Map.of(ObjectStore.SHA256, TestWal.sha256(raw)));
    }

    long conflicts() {
        return published.stream().filter(m -> m.containsKey(TidemarkMetric.HISTORY_CONFLICTS)).count();
    }

    Item item(int i) {
        return f.item(Keys.wal(WAL.name(i))).without(Item.REV);
    }

    @Test
    void theEventsVersionIsReadAndRecordedWithTheHashOfItsBytesAndAnotherBodyIsRefused() {
        String key = WAL.key(IndexFixture.MAIN, 0, Compression.ZSTD);
        String v1 = put(0, WAL.segments.get(0));
        String v2 = put(0, forged(0)); // overwritten before the first event was handled
        assertEquals(WalIndexer.Outcome.SEGMENT_ARCHIVED, indexer.index(key, IndexFixture.eventTime(0), "01", v1));
        Item accepted = item(0);
        assertEquals(v1, accepted.string("versionId").orElseThrow());
        assertEquals(TestWal.sha256(WAL.segments.get(0)), accepted.string("sha256").orElseThrow());

        assertEquals(WalIndexer.Outcome.CONFLICT, indexer.index(key, IndexFixture.eventTime(1), "02", v2));
        assertEquals(accepted, item(0), "the accepted version stays");
        assertEquals(1, conflicts());

        // the same bytes again, a new version: a repeat, nothing changes (the first version stays named)
        String v3 = put(0, WAL.segments.get(0));
        assertEquals(WalIndexer.Outcome.SEGMENT_ARCHIVED, indexer.index(key, IndexFixture.eventTime(2), "03", v3));
        assertEquals(accepted.without("sequencer"), item(0).without("sequencer"));
        assertEquals(1, conflicts());
    }

    @Test
    void aRefusedUploadDeliveredAgainIsCountedOnceAndRecordedWithItsVersion() {
        String key = WAL.key(IndexFixture.MAIN, 0, Compression.ZSTD);
        String v1 = put(0, WAL.segments.get(0));
        String v2 = put(0, forged(0));
        indexer.index(key, IndexFixture.eventTime(0), "01", v1);
        assertEquals(WalIndexer.Outcome.CONFLICT, indexer.index(key, IndexFixture.eventTime(1), "02", v2));
        // S3 delivers at least once: the same event again is still refused, but it is one upload
        assertEquals(WalIndexer.Outcome.CONFLICT, indexer.index(key, IndexFixture.eventTime(1), "02", v2));
        assertEquals(1, conflicts(), "one refused upload, one HistoryConflicts point");

        List<Item> refused = f.catalog.query(Keys.pk(IndexFixture.MAIN), Keys.REFUSED_PREFIX);
        assertEquals(1, refused.size(), refused.toString());
        assertEquals(v2, refused.get(0).string("versionId").orElseThrow());
        assertEquals(TestWal.sha256(forged(0)), refused.get(0).string("sha256").orElseThrow());
        assertEquals(TestWal.sha256(WAL.segments.get(0)), refused.get(0).string("acceptedSha256").orElseThrow());

        // another different upload is another refusal
        String v3 = put(0, forged(0));
        assertEquals(WalIndexer.Outcome.CONFLICT, indexer.index(key, IndexFixture.eventTime(2), "03", v3));
        assertEquals(2, conflicts());
        assertEquals(2, f.catalog.query(Keys.pk(IndexFixture.MAIN), Keys.REFUSED_PREFIX).size());
    }

    @Test
    void aLostSegmentComesBackOnlyWithTheBytesItWasAcceptedWith() {
        String key = WAL.key(IndexFixture.MAIN, 1, Compression.ZSTD);
        String v1 = put(1, WAL.segments.get(1));
        indexer.index(key, IndexFixture.eventTime(0), "01", v1);
        bucket.delete(key);
        assertEquals(WalIndexer.Outcome.LOST, indexer.removed(key, "ObjectRemoved:Delete", "02"));

        String v2 = put(1, forged(1));
        assertEquals(WalIndexer.Outcome.CONFLICT, indexer.index(key, IndexFixture.eventTime(1), "03", v2));
        assertEquals("missing", item(1).string("status").orElseThrow(), "other bytes do not end the loss");
        assertEquals(1, conflicts());

        String v3 = put(1, WAL.segments.get(1));
        assertEquals(WalIndexer.Outcome.SEGMENT_ARCHIVED, indexer.index(key, IndexFixture.eventTime(2), "04", v3));
        assertEquals("archived", item(1).string("status").orElseThrow());
        assertEquals(v3, item(1).string("versionId").orElseThrow(), "the version that is there now");
        assertEquals(TestWal.sha256(WAL.segments.get(1)), item(1).string("sha256").orElseThrow());
    }

    @Test
    void metadataThatDisagreesWithTheBytesIsDamageNeverTheRecordedHash() {
        String key = WAL.key(IndexFixture.MAIN, 0, Compression.ZSTD);
        String v1 = bucket.putVersion(key, TestWal.compress(Compression.ZSTD, WAL.segments.get(0)),
                Map.of(ObjectStore.SHA256, TestWal.sha256(forged(0))));
        assertEquals(WalIndexer.Outcome.SEGMENT_CORRUPT, indexer.index(key, IndexFixture.eventTime(0), "01", v1));
        assertEquals(TestWal.sha256(WAL.segments.get(0)), item(0).string("sha256").orElseThrow(),
                "the hash of the bytes read");
        assertTrue(item(0).string("problem").orElseThrow().startsWith("sha256 mismatch"));
    }

    /** An in-memory bucket that keeps every version (a delete hides the key, the versions stay). */
    static final class VersionedStore implements ObjectStore {
        private final InMemoryObjectStore current = new InMemoryObjectStore();
        private final Map<String, LinkedHashMap<String, StoredObject>> versions = new HashMap<>();
        private final Map<String, String> currentVersion = new HashMap<>();
        private int next;

        synchronized String putVersion(String key, byte[] content, Map<String, String> metadata) {
            String v = "v" + ++next;
            current.put(key, content, "application/octet-stream", metadata);
            versions.computeIfAbsent(key, k -> new LinkedHashMap<>())
                    .put(v, new StoredObject(content, metadata, Instant.parse("2026-01-01T00:00:00Z"), v));
            currentVersion.put(key, v);
            return v;
        }

        @Override
        public synchronized Optional<StoredObject> get(String key) {
            return current.get(key).map(o -> new StoredObject(o.content(), o.metadata(), o.lastModified(),
                    currentVersion.get(key)));
        }

        @Override
        public synchronized Optional<StoredObject> get(String key, String versionId) {
            return versionId == null ? get(key)
                    : Optional.ofNullable(versions.getOrDefault(key, new LinkedHashMap<>()).get(versionId));
        }

        @Override
        public Optional<ObjectInfo> head(String key) {
            return current.head(key);
        }

        @Override
        public Optional<InputStream> open(String key) {
            return get(key).map(o -> new ByteArrayInputStream(o.content()));
        }

        @Override
        public synchronized void delete(String key) {
            current.delete(key);
            currentVersion.remove(key);
        }

        @Override
        public List<ListedObject> list(String prefix) {
            return current.list(prefix);
        }

        @Override
        public List<String> childPrefixes(String prefix) {
            return current.childPrefixes(prefix);
        }

        @Override
        public void put(String key, byte[] content, String contentType, Map<String, String> metadata) {
            putVersion(key, content, metadata);
        }
    }
}
