package io.tidemark.shim.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.layout.StorageLayout;
import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.events.wal.WalSegmentSize;
import io.tidemark.shim.storage.ObjectStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Where a restarted stream goes on, and the stream keys of tidemark.conf. */
@Tag("unit")
class ChunkStoreTest {
    static final StanzaName STANZA = StanzaName.of("main");
    static final WalSegmentSize SIZE = WalSegmentSize.ofMegabytes(1);
    static final TimelineId TL = TimelineId.of(1);

    /** Keys only: what listing needs. */
    static class Keys implements ObjectStore {
        final TreeMap<String, byte[]> objects = new TreeMap<>();

        @Override
        public PutOutcome putIfAbsent(String key, byte[] body, Map<String, String> metadata) {
            return objects.putIfAbsent(key, body) == null ? PutOutcome.CREATED : PutOutcome.ALREADY_EXISTS;
        }

        @Override
        public Optional<Head> head(String key) {
            return Optional.ofNullable(objects.get(key)).map(b -> new Head(b.length, Map.of()));
        }

        @Override
        public Optional<Fetched> get(String key) {
            return Optional.ofNullable(objects.get(key)).map(b -> new Fetched(b, Map.of()));
        }

        @Override
        public List<String> list(String prefix) {
            List<String> out = new ArrayList<>();
            objects.keySet().stream().filter(k -> k.startsWith(prefix)).forEach(out::add);
            return out;
        }

        void chunk(long segment, long start, long end) {
            objects.put(StorageLayout.walChunkKey(STANZA, WalSegmentName.of(TL, segment, SIZE), start, end,
                    Compression.ZSTD), new byte[0]);
        }
    }

    static Lsn at(long segment, long offset) {
        return SIZE.segmentStart(segment).plus(offset);
    }

    @Test
    void aRestartGoesOnWhereTheStoredChunksCoveringItsPositionEnd() {
        Keys s3 = new Keys();
        ChunkStore chunks = new ChunkStore(s3, STANZA, Compression.ZSTD, 1);
        assertEquals(at(3, 0x100), chunks.resumeFrom(TL, at(3, 0x100), SIZE), "nothing stored: from the slot");
        s3.chunk(3, 0x100, 0x2000);
        s3.chunk(3, 0x2000, 0x5000);
        s3.chunk(3, 0x9000, 0xA000); // after a gap: does not continue the chain
        assertEquals(at(3, 0x5000), chunks.resumeFrom(TL, at(3, 0x100), SIZE));
        assertEquals(at(3, 0x5000), chunks.resumeFrom(TL, at(3, 0x1800), SIZE), "the slot inside a stored chunk");
        s3.chunk(3, 0x5000, SIZE.bytes());
        s3.chunk(4, 0, 0x300);
        assertEquals(at(4, 0x300), chunks.resumeFrom(TL, at(3, 0x2000), SIZE), "across the segment's end");
        s3.chunk(4, 0x300, SIZE.bytes());
        assertEquals(at(5, 0), chunks.resumeFrom(TL, at(4, 0), SIZE), "a full segment: from the next one's start");
        assertEquals(at(3, 0x80), chunks.resumeFrom(TL, at(3, 0x80), SIZE), "before the first chunk: from there");
    }

    @Test
    void aChunkKeyHoldingOtherBytesIsRefusedAndTheSameBytesAreSuccess() {
        Keys s3 = new Keys() {
            final Map<String, String> sha = new TreeMap<>();

            @Override
            public PutOutcome putIfAbsent(String key, byte[] body, Map<String, String> metadata) {
                PutOutcome o = super.putIfAbsent(key, body, metadata);
                sha.putIfAbsent(key, metadata.get("sha256"));
                return o;
            }

            @Override
            public Optional<Head> head(String key) {
                return Optional.ofNullable(sha.get(key)).map(h -> new Head(1, Map.of("sha256", h)));
            }
        };
        ChunkStore chunks = new ChunkStore(s3, STANZA, Compression.ZSTD, 1);
        WalSegmentName seg = WalSegmentName.of(TL, 3, SIZE);
        chunks.store(new Chunk(seg, 0x100, new byte[] {1, 2, 3}));
        chunks.store(new Chunk(seg, 0x100, new byte[] {1, 2, 3}));
        ChunkStore.Conflict c = assertThrows(ChunkStore.Conflict.class,
                () -> chunks.store(new Chunk(seg, 0x100, new byte[] {1, 2, 4})));
        assertTrue(c.getMessage().contains("already exists with other bytes"), c.getMessage());
        assertEquals(1, s3.objects.size());
    }

    @Test
    void theStreamKeysAreCheckedAndNamed() {
        Properties p = new Properties();
        assertEquals(StreamSettings.OFF, StreamSettings.of(p));
        p.setProperty("stream.enabled", "true");
        p.setProperty("stream.interval", "250ms");
        StreamSettings s = StreamSettings.of(p);
        assertTrue(s.enabled());
        assertEquals(Duration.ofMillis(250), s.interval());
        assertEquals("tidemark_main", s.slotFor(STANZA));
        assertEquals("tidemark_db_2", StreamSettings.OFF.slotFor(StanzaName.of("db-2")));
        assertFalse(s.synchronous());
        assertEquals("tidemark_main", s.applicationNameFor(STANZA), "an identifier synchronous_standby_names can name");
        p.setProperty("stream.synchronous", "true");
        assertTrue(StreamSettings.of(p).synchronous());
        for (String[] bad : new String[][] {{"stream.enabled", "yes", "true or false"},
                {"stream.synchronous", "on", "stream.synchronous must be true or false"},
                {"stream.interval", "0s", "from 100ms to 60s"}, {"stream.interval", "fast", "a duration"},
                {"stream.slot", "Bad-Slot", "not a replication slot name"}, {"stream.lease-ttl", "5", "10 to 600"},
                {"stream.typo", "1", "unknown key stream.typo"}}) {
            Properties q = new Properties();
            q.setProperty(bad[0], bad[1]);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StreamSettings.of(q));
            assertTrue(e.getMessage().contains(bad[2]), e.getMessage());
        }
    }
}
