package io.tidemark.functions.index;

import static io.tidemark.functions.index.IndexFixture.MAIN;
import static io.tidemark.functions.index.IndexFixture.eventTime;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StorageLayout;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalFileName;
import io.tidemark.functions.catalog.Item;
import io.tidemark.functions.catalog.Keys;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * The catalog is a function of the set of objects: any order of events, any repeats, uploads
 * interleaved with events, or events handled concurrently give exactly the same items.
 */
@net.jqwik.api.Tag("unit")
class WalIndexerOrderTest {

    /** Segments 0-5 of timeline 1; records cross the boundaries 0/1, 1/2 and 3/4; segment 4 is never archived. */
    private static final TestWal WAL = new TestWal(6, Set.of(0, 1, 3));

    private record Upload(String key, Compression compression, byte[] raw, String sha) {
    }

    private static List<Upload> objects() {
        List<Upload> u = new ArrayList<>();
        for (int i : new int[] {0, 1, 2, 3, 5}) {
            u.add(new Upload(WAL.key(MAIN, i, Compression.ZSTD), Compression.ZSTD, WAL.segments.get(i), null));
        }
        // A second, corrupt copy of segment 2 under another extension: the intact one must win.
        u.add(new Upload(WAL.key(MAIN, 2, Compression.LZ4), Compression.LZ4, WAL.segments.get(2), "ab".repeat(32)));
        u.add(new Upload(StorageLayout.historyKey(MAIN, TimelineId.of(2)), Compression.NONE,
                "1\t0/5400000\tno recovery target specified\n".getBytes(StandardCharsets.UTF_8), null));
        u.add(new Upload(StorageLayout.walKey(MAIN, new WalFileName.Partial(WAL.name(5)), Compression.ZSTD),
                Compression.ZSTD, WAL.segments.get(5), null));
        return u;
    }

    private static final List<Upload> OBJECTS = objects();
    private static final List<Item> BASELINE = baseline();

    private static List<Item> baseline() {
        IndexFixture f = new IndexFixture();
        for (int i = 0; i < OBJECTS.size(); i++) {
            upload(f, OBJECTS.get(i));
        }
        for (int i = 0; i < OBJECTS.size(); i++) {
            f.indexer.index(OBJECTS.get(i).key(), eventTime(i));
        }
        return f.items();
    }

    private static void upload(IndexFixture f, Upload u) {
        f.upload(u.key(), u.compression(), u.raw(), u.sha());
    }

    @Example
    void theBaselineIsWhatItShouldBe() {
        Item seg0 = find(Keys.wal(WAL.name(0)));
        Item seg3 = find(Keys.wal(WAL.name(3)));
        Item seg2 = find(Keys.wal(WAL.name(2)));
        assertFalse(seg0.flag("pendingTail"));
        assertTrue(seg3.flag("pendingTail"), "segment 4 never arrives");
        assertEquals("archived", seg2.string("status").orElseThrow());
        assertEquals("zst", seg2.string("compression").orElseThrow());
        Item t1 = find(Keys.timeline(TimelineId.FIRST));
        assertEquals(List.of(List.of(5L, 8L), List.of(10L, 10L)), t1.list("ranges"));
        assertEquals(List.of(WAL.names.get(5) + ".partial"), t1.list("partials"));
        Item t2 = find(Keys.timeline(TimelineId.of(2)));
        assertEquals(1L, t2.number("parent").orElseThrow());
    }

    @Property(tries = 25)
    void anyOrderRepeatsAndInterleavedUploadsGiveTheSameCatalog(@ForAll long seed) {
        Random random = new Random(seed);
        List<Integer> events = new ArrayList<>();
        for (int i = 0; i < OBJECTS.size(); i++) {
            int times = 1 + random.nextInt(3);
            for (int k = 0; k < times; k++) {
                events.add(i);
            }
        }
        Collections.shuffle(events, random);
        IndexFixture f = new IndexFixture();
        boolean[] uploaded = new boolean[OBJECTS.size()];
        for (int e : events) {
            // Upload some objects early, at random; every object before its first event.
            for (int i = 0; i < OBJECTS.size(); i++) {
                if (!uploaded[i] && (i == e || random.nextInt(8) == 0)) {
                    upload(f, OBJECTS.get(i));
                    uploaded[i] = true;
                }
            }
            f.indexer.index(OBJECTS.get(e).key(), eventTime(e));
        }
        assertEquals(BASELINE, f.items(), "seed " + seed + ", events " + events);
    }

    @Example
    void concurrentEventsGiveTheSameCatalog() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            for (long seed = 1; seed <= 4; seed++) {
                IndexFixture f = new IndexFixture();
                OBJECTS.forEach(u -> upload(f, u));
                List<Integer> events = new ArrayList<>();
                for (int i = 0; i < OBJECTS.size(); i++) {
                    events.add(i);
                    events.add(i);
                }
                Collections.shuffle(events, new Random(seed));
                List<Future<?>> done = new ArrayList<>();
                for (int e : events) {
                    done.add(pool.submit(() -> f.indexer.index(OBJECTS.get(e).key(), eventTime(e))));
                }
                for (Future<?> d : done) {
                    d.get();
                }
                assertEquals(BASELINE, f.items(), "seed " + seed);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static Item find(String sk) {
        return BASELINE.stream().filter(i -> i.sk().equals(sk)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + sk));
    }
}
