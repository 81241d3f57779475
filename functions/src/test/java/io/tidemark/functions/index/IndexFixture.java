package io.tidemark.functions.index;

import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.functions.catalog.CatalogService;
import io.tidemark.functions.catalog.InMemoryCatalogStore;
import io.tidemark.functions.catalog.InMemoryObjectStore;
import io.tidemark.functions.catalog.Item;
import io.tidemark.functions.catalog.Keys;
import io.tidemark.functions.catalog.ObjectStore;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;

/** A stanza "main" (the synthetic WAL's system, PostgreSQL 15, 1 MB segments) over in-memory stores. */
final class IndexFixture {

    static final StanzaName MAIN = StanzaName.of("main");
    static final Instant CREATED = Instant.parse("2026-05-01T00:00:00Z");

    final InMemoryCatalogStore catalog = new InMemoryCatalogStore();
    final InMemoryObjectStore objects = new InMemoryObjectStore();
    final CatalogService service = new CatalogService(catalog, objects, Clock.fixed(CREATED, ZoneOffset.UTC));
    final WalIndexer indexer = new WalIndexer(objects, catalog);

    IndexFixture() {
        service.createStanza("main", ("{\"systemIdentifier\":\"" + TestWal.SYSTEM_ID_TEXT
                + "\",\"pgVersion\":15,\"pgVersionNum\":150004,\"walSegmentSize\":1048576}")
                .getBytes(StandardCharsets.UTF_8));
    }

    /** Uploads raw content compressed with {@code c}, with its sha256 (or {@code sha} when not null). */
    void upload(String key, Compression c, byte[] raw, String sha) {
        objects.put(key, TestWal.compress(c, raw), "application/octet-stream",
                Map.of(ObjectStore.SHA256, sha != null ? sha : TestWal.sha256(raw)));
    }

    String upload(TestWal wal, int i) {
        String key = wal.key(MAIN, i, Compression.ZSTD);
        upload(key, Compression.ZSTD, wal.segments.get(i), null);
        return key;
    }

    /** The event time of object {@code i} in these tests: fixed per object, as S3 repeats an event's time. */
    static Instant eventTime(int i) {
        // after TestWal's commits (T0 + i s): a segment arrives after the commits it records
        return Instant.ofEpochSecond(TestWal.T0 / 1_000_000L).plusSeconds(100 + i);
    }

    List<Item> items() {
        return catalog.query(Keys.pk(MAIN), "");
    }

    Item item(String sk) {
        return catalog.get(Keys.pk(MAIN), sk).orElseThrow(() -> new AssertionError("no item " + sk));
    }
}
