package io.tidemark.functions.validate;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.functions.catalog.BackupEntry;
import io.tidemark.functions.catalog.InMemoryCatalogStore;
import io.tidemark.functions.catalog.InMemoryObjectStore;
import io.tidemark.functions.catalog.StanzaMeta;
import io.tidemark.functions.index.TestWal;
import io.tidemark.functions.index.WalIndexer;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;

/**
 * What the validator's unit tests share: an in-memory bucket and catalog, the real validator and
 * the real WAL indexer with the validator's hook, a stanza whose WAL segments 5..8 are at hand.
 */
abstract class ValidatorTestSupport {

    static final StanzaName STANZA = StanzaName.of("main");
    static final Instant T1 = Instant.parse("2026-03-01T02:00:00Z");
    static final Instant T2 = Instant.parse("2026-03-01T03:00:00Z");
    static final BackupLabelName FULL = TestBackup.fullLabel(1);

    InMemoryObjectStore objects;
    InMemoryCatalogStore catalog;
    BackupValidator validator;
    WalIndexer indexer;
    TestWal wal;

    @BeforeEach
    void setUp() {
        objects = new InMemoryObjectStore();
        catalog = new InMemoryCatalogStore();
        validator = new BackupValidator(objects, catalog, 3);
        indexer = new WalIndexer(objects, catalog, validator::walArchived);
        catalog.put(new StanzaMeta(STANZA, TestWal.SYSTEM_ID_TEXT, 15, 150004, TestWal.SIZE,
                Instant.parse("2026-01-01T00:00:00Z")).toItem().withRevision(), null);
        wal = new TestWal(4, Set.of(1)); // segments 5..8
    }

    /** Archives WAL segments {@code i} (0 = segment 5) through the real indexer. */
    void archive(int... indexes) {
        for (int i : indexes) {
            String key = wal.key(STANZA, i, Compression.ZSTD);
            byte[] raw = wal.segments.get(i);
            objects.put(key, TestWal.compress(Compression.ZSTD, raw), "application/octet-stream", Map.of("sha256", TestWal.sha256(raw)));
            indexer.index(key, T1.minusSeconds(60 - i));
        }
    }

    BackupEntry validate(TestBackup b, Instant at) {
        validator.validate(b.manifestKey(), at);
        return entry(b.manifest.label());
    }

    BackupEntry entry(BackupLabelName label) {
        return validator.entry(STANZA, label).orElseThrow();
    }

    static void assertReason(BackupEntry e, String... parts) {
        assertTrue(e.reasons().stream().anyMatch(r -> List.of(parts).stream().allMatch(r::contains)),
                "a reason with " + List.of(parts) + " in " + e.reasons());
    }

}
