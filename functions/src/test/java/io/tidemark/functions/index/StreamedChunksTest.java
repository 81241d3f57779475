package io.tidemark.functions.index;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.layout.StorageLayout;
import io.tidemark.events.metrics.TidemarkMetric;
import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.WalFileName;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.events.wal.WalSegmentSize;
import io.tidemark.functions.catalog.CatalogService;
import io.tidemark.functions.catalog.InMemoryCatalogStore;
import io.tidemark.functions.catalog.InMemoryObjectStore;
import io.tidemark.functions.catalog.Item;
import io.tidemark.functions.catalog.Keys;
import io.tidemark.functions.catalog.ObjectStore;
import io.tidemark.functions.window.StreamTail;
import io.tidemark.functions.window.WindowService;
import io.tidemark.testkit.PgCluster;
import io.tidemark.testkit.PgTest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Streamed WAL chunks (issue 17) indexed from real PostgreSQL 15 WAL: the current segment of a
 * running primary, sliced at its flush LSN into the contiguous chunks the agent uploads, through
 * the real {@link WalIndexer} over in-memory stores.
 */
@PgTest
class StreamedChunksTest {
    private static final int CHUNK = 64 * 1024;

    static PgCluster pg;
    /** The current segment's bytes up to the flush LSN after the last commit, and what was committed. */
    static WalSegmentName segment;
    static byte[] streamed;
    static Lsn flushLsn;
    static Instant beforeLastCommit;
    static Instant afterLastCommit;
    /** The same segment once complete (after a WAL switch). */
    static byte[] complete;
    static long systemId;
    static WalSegmentSize size;

    @BeforeAll
    static void writeWal() throws IOException {
        pg = PgCluster.builder().build().start();
        systemId = pg.systemIdentifier();
        size = WalSegmentSize.ofBytes(pg.walSegmentSize());
        pg.sql("create table t (id int, v text)");
        for (int i = 0; i < 20; i++) {
            pg.sql("insert into t select g, repeat(md5(g::text), 8) from generate_series(" + (i * 500) + ", "
                    + (i * 500 + 499) + ") g");
        }
        beforeLastCommit = Instant.now();
        pg.sql("insert into t values (-1, 'the last commit')");
        afterLastCommit = Instant.now();
        String[] at = pg.sql("select pg_walfile_name(pg_current_wal_flush_lsn()) || ' ' || pg_current_wal_flush_lsn()")
                .strip().split(" ");
        segment = WalSegmentName.parse(at[0], size);
        flushLsn = Lsn.parse(at[1]);
        int end = (int) (flushLsn.value() - segment.startLsn().value());
        assertTrue(end > 3 * CHUNK, "the workload wrote " + end + " bytes into " + segment);
        streamed = Arrays.copyOf(Files.readAllBytes(pg.walDir().resolve(segment.toString())), end);
        pg.switchWal();
        complete = Files.readAllBytes(pg.walDir().resolve(segment.toString()));
        assertArrayEquals(streamed, Arrays.copyOf(complete, end), "the switch changes nothing before the flush LSN");
    }

    @AfterAll
    static void stop() {
        if (pg != null) {
            pg.close();
        }
    }

    /** A stanza of this cluster over fresh in-memory stores, with the metrics the indexer publishes. */
    static final class Stanza {
        final StanzaName name = StanzaName.of("stream");
        final InMemoryCatalogStore catalog = new InMemoryCatalogStore();
        final InMemoryObjectStore objects = new InMemoryObjectStore();
        final List<TidemarkMetric> metrics = new CopyOnWriteArrayList<>();
        final WalIndexer indexer = new WalIndexer(objects, catalog, (m, s) -> { },
                (stanza, t, values) -> metrics.addAll(values.keySet()));

        Stanza() {
            new CatalogService(catalog, objects, Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC))
                    .createStanza(name.value(), ("{\"systemIdentifier\":\"" + Long.toUnsignedString(systemId)
                            + "\",\"pgVersion\":15,\"pgVersionNum\":150000,\"walSegmentSize\":" + size.bytes() + "}")
                            .getBytes(StandardCharsets.UTF_8));
        }

        /** Uploads bytes [start, end) of the segment as the agent does: zstd, with the raw bytes' SHA-256. */
        String put(long start, byte[] raw) {
            String key = StorageLayout.walChunkKey(name, segment, start, start + raw.length, Compression.ZSTD);
            objects.put(key, TestWal.compress(Compression.ZSTD, raw), "application/octet-stream",
                    Map.of(ObjectStore.SHA256, TestWal.sha256(raw)));
            return key;
        }

        WalIndexer.Outcome index(String key) {
            return indexer.index(key, afterLastCommit.plusSeconds(1));
        }

        Item stream() {
            return catalog.get(Keys.pk(name), Keys.stream(segment)).orElseThrow();
        }

        Item chunk(long start, long end) {
            return catalog.get(Keys.pk(name), Keys.chunk(segment, start, end)).orElseThrow();
        }
    }

    /** Contiguous chunks of {@code streamed}: [0, CHUNK), [CHUNK, 2 CHUNK), ..., the last ending at the flush LSN. */
    static List<long[]> ranges() {
        List<long[]> out = new ArrayList<>();
        for (long s = 0; s < streamed.length; s += CHUNK) {
            out.add(new long[] {s, Math.min(streamed.length, s + CHUNK)});
        }
        return out;
    }

    static Lsn aligned(Lsn l) {
        return Lsn.of((l.value() + 7) & ~7L);
    }

    static byte[] slice(long[] r) {
        return Arrays.copyOfRange(streamed, (int) r[0], (int) r[1]);
    }

    @Test
    void chunksInAnyOrderMoveTheStreamToTheLastCommitAndEndAtTheFlushLsn() {
        Stanza inOrder = new Stanza();
        List<long[]> ranges = ranges();
        // the first chunk alone: its records are scanned, a record cut at its end waits
        assertEquals(WalIndexer.Outcome.CHUNK, inOrder.index(inOrder.put(0, slice(ranges.getFirst()))));
        Item first = inOrder.stream();
        assertEquals(CHUNK, first.number("covered").orElseThrow());
        Lsn firstEnd = Lsn.parse(first.string("endLsn").orElseThrow());
        assertTrue(firstEnd.value() <= segment.startLsn().value() + CHUNK, "a record cut at the chunk's end is not counted");
        for (long[] r : ranges.subList(1, ranges.size())) {
            assertEquals(WalIndexer.Outcome.CHUNK, inOrder.index(inOrder.put(r[0], slice(r))));
        }
        Item s = inOrder.stream();
        assertEquals(streamed.length, s.number("covered").orElseThrow());
        // the flush LSN is the end of the last record rounded up to PostgreSQL's 8-byte alignment
        assertEquals(flushLsn, aligned(Lsn.parse(s.string("endLsn").orElseThrow())), "the last record ends at the flush LSN");
        Instant commit = Instant.parse(s.string("lastCommitTime").orElseThrow());
        assertFalse(commit.isBefore(beforeLastCommit.minusMillis(5)) || commit.isAfter(afterLastCommit.plusMillis(5)),
                "the last commit's time " + commit + " is the last insert's (" + beforeLastCommit + " .. " + afterLastCommit + ")");
        assertTrue(s.string("problem").isEmpty(), s.describe());
        StreamTail tail = new WindowService(inOrder.catalog).streamTails(
                io.tidemark.functions.catalog.StanzaMeta.fromItem(inOrder.catalog.get(Keys.pk(inOrder.name), Keys.META)
                        .orElseThrow())).getFirst();
        assertEquals(flushLsn, aligned(tail.endLsn()));
        assertTrue(tail.lastRecordLsn().isBefore(flushLsn));
        assertEquals(java.util.Set.of(TidemarkMetric.STREAM_LAG, TidemarkMetric.STREAM_GAPS),
                java.util.Set.copyOf(inOrder.metrics), "each chunk publishes how far the latest restorable point trails"
                        + " and how many breaks the window has past its end");

        // shuffled, one delivered twice: the same stream
        Stanza shuffled = new Stanza();
        List<long[]> order = new ArrayList<>(ranges);
        Collections.shuffle(order, new Random(17));
        order.add(order.get(order.size() / 2));
        for (long[] r : order) {
            assertEquals(WalIndexer.Outcome.CHUNK, shuffled.index(shuffled.put(r[0], slice(r))));
        }
        Item t = shuffled.stream();
        for (String a : List.of("covered", "endLsn", "lastRecordLsn", "lastCommitTime", "endOffset")) {
            assertEquals(s.attributes().get(a), t.attributes().get(a), a + ": " + t.describe());
        }
    }

    @Test
    void aChunkThatDisagreesWithAnOverlappingOneIsRefusedAndCountedAnIdenticalOverlapIsAccepted() {
        Stanza st = new Stanza();
        for (long[] r : ranges()) {
            st.index(st.put(r[0], slice(r)));
        }
        Item before = st.stream();
        // an agent restart re-sends from inside chunk 1 to inside chunk 2: the same bytes
        long from = CHUNK + 1000;
        long to = 2L * CHUNK + 500;
        byte[] same = Arrays.copyOfRange(streamed, (int) from, (int) to);
        assertEquals(WalIndexer.Outcome.CHUNK, st.index(st.put(from, same)));
        assertTrue(st.metrics.stream().noneMatch(m -> m == TidemarkMetric.HISTORY_CONFLICTS), st.metrics.toString());

        // other bytes where they overlap (record data, page headers intact): refused, counted once
        byte[] other = Arrays.copyOfRange(streamed, (int) from, (int) to + 8);
        other[5000] ^= 0x5A;
        String key = st.put(from, other);
        assertEquals(WalIndexer.Outcome.CONFLICT, st.index(key));
        assertEquals(WalIndexer.Outcome.CONFLICT, st.index(key), "delivered again");
        assertEquals(1, st.metrics.stream().filter(m -> m == TidemarkMetric.HISTORY_CONFLICTS).count(), st.metrics.toString());
        String sk = Keys.chunk(segment, from, to + 8);
        assertTrue(st.catalog.get(Keys.pk(st.name), sk).isEmpty(), "a refused chunk is never a CHUNK# item");
        assertEquals(1, st.catalog.query(Keys.pk(st.name), Keys.refused(sk, "")).size(), "recorded under REFUSED#");
        assertEquals(before.attributes().get("endLsn"), st.stream().attributes().get("endLsn"));

        // a chunk whose page headers are not the pages of its range is refused as invalid
        // pages 1 and 2 put where pages P and P+1 belong: their headers name other addresses
        byte[] misplaced = Arrays.copyOfRange(streamed, 8192, 3 * 8192);
        long p = (streamed.length / 8192 + 2) * 8192L;
        String bad = st.put(p, misplaced);
        assertEquals(WalIndexer.Outcome.REJECTED, st.index(bad));
        Item refused = st.catalog.get(Keys.pk(st.name), Keys.chunk(segment, p, p + misplaced.length)).orElseThrow();
        assertEquals("invalid", refused.string("status").orElseThrow());
        assertTrue(refused.string("problem").orElseThrow().contains("not a page of " + segment), refused.describe());
    }

    /**
     * Two disagreeing, overlapping chunks indexed at once (two invocations, as Lambda runs them):
     * both read the segment's chunks at the same moment (a barrier in the catalog holds each one's
     * Query until the other's arrived). Checking before storing, both saw nothing and both were
     * accepted: two CHUNK# items with other bytes for one range, silently. Now at most one is.
     */
    @Test
    void twoDisagreeingChunksIndexedAtOnceAreNeverBothAccepted() throws Exception {
        Stanza st = new Stanza();
        List<long[]> ranges = ranges();
        st.index(st.put(0, slice(ranges.getFirst())));
        Item before = st.stream();
        // as an agent restart re-sends: from inside the first chunk; the other bytes are record data
        long from = CHUNK - 1000;
        long to = 2L * CHUNK + 500;
        byte[] theirs = Arrays.copyOfRange(streamed, (int) from, (int) to + 8);
        theirs[5000] ^= 0x5A;
        String right = st.put(from, Arrays.copyOfRange(streamed, (int) from, (int) to));
        String other = st.put(from, theirs);
        java.util.concurrent.CyclicBarrier together = new java.util.concurrent.CyclicBarrier(2);
        java.util.concurrent.atomic.AtomicInteger arrivals = new java.util.concurrent.atomic.AtomicInteger();
        io.tidemark.functions.catalog.CatalogStore racing = new io.tidemark.functions.catalog.CatalogStore() {
            @Override
            public java.util.Optional<Item> get(String pk, String sk) {
                return st.catalog.get(pk, sk);
            }

            @Override
            public boolean put(Item item, String expectedRevision) {
                return st.catalog.put(item, expectedRevision);
            }

            @Override
            public void delete(String pk, String sk) {
                st.catalog.delete(pk, sk);
            }

            @Override
            public List<Item> query(String pk, String skPrefix) {
                if (skPrefix.equals(Keys.chunkPrefix(segment)) && arrivals.getAndIncrement() < 2) {
                    try {
                        together.await(20, java.util.concurrent.TimeUnit.SECONDS);
                    } catch (Exception e) {
                        // the other invocation never came: go on alone (the test then fails below)
                    }
                }
                return st.catalog.query(pk, skPrefix);
            }

            @Override
            public List<Item> queryBetween(String pk, String fromSk, String toSk) {
                return st.catalog.queryBetween(pk, fromSk, toSk);
            }
        };
        java.util.concurrent.ExecutorService two = java.util.concurrent.Executors.newFixedThreadPool(2);
        try {
            List<java.util.concurrent.Future<WalIndexer.Outcome>> outcomes = new ArrayList<>();
            for (String key : List.of(right, other)) {
                WalIndexer instance = new WalIndexer(st.objects, racing, (m, s) -> { },
                        (stanza, t, values) -> st.metrics.addAll(values.keySet()));
                outcomes.add(two.submit(() -> instance.index(key, afterLastCommit.plusSeconds(1))));
            }
            WalIndexer.Outcome a = outcomes.get(0).get(60, java.util.concurrent.TimeUnit.SECONDS);
            WalIndexer.Outcome b = outcomes.get(1).get(60, java.util.concurrent.TimeUnit.SECONDS);
            assertEquals(2, arrivals.get(), "each invocation read the chunks once: " + a + ", " + b);
            assertFalse(together.isBroken(), "both invocations read the chunks at the same moment");
            long accepted = st.catalog.query(Keys.pk(st.name), Keys.chunkPrefix(segment)).stream()
                    .filter(i -> i.number("start").orElseThrow() == from)
                    .filter(i -> "archived".equals(i.string("status").orElse(null))).count();
            assertTrue(accepted <= 1, "two chunks with other bytes for [" + from + ", " + to + ") accepted: " + a + ", " + b);
            assertTrue(a == WalIndexer.Outcome.CONFLICT || b == WalIndexer.Outcome.CONFLICT, a + ", " + b);
            assertTrue(st.metrics.contains(TidemarkMetric.HISTORY_CONFLICTS), "the conflict is counted: " + st.metrics);
            assertTrue(st.catalog.query(Keys.pk(st.name), Keys.chunkPrefix(segment)).stream()
                    .noneMatch(i -> "pending".equals(i.string("status").orElse(null))), "no chunk is left pending");
            if (accepted == 0) {
                assertEquals(before.attributes().get("endLsn"), st.stream().attributes().get("endLsn"),
                        "neither is trusted: the stream stays where it was");
            }
        } finally {
            two.shutdownNow();
        }
    }

    @Test
    void theCompleteSegmentSupersedesItsChunksAndADisagreementRaisesTheAlarmMetric() {
        Stanza agree = new Stanza();
        for (long[] r : ranges()) {
            agree.index(agree.put(r[0], slice(r)));
        }
        String segKey = StorageLayout.walKey(agree.name, new WalFileName.Segment(segment), Compression.ZSTD);
        agree.objects.put(segKey, TestWal.compress(Compression.ZSTD, complete), "application/octet-stream",
                Map.of(ObjectStore.SHA256, TestWal.sha256(complete)));
        WalIndexer.Outcome o = agree.indexer.index(segKey, afterLastCommit.plusSeconds(2));
        assertTrue(o == WalIndexer.Outcome.SEGMENT_ARCHIVED || o == WalIndexer.Outcome.SEGMENT_PENDING_TAIL, o.toString());
        for (long[] r : ranges()) {
            assertTrue(agree.chunk(r[0], r[1]).flag("superseded"), agree.chunk(r[0], r[1]).describe());
        }
        assertFalse(agree.metrics.contains(TidemarkMetric.STREAM_MISMATCH), agree.metrics.toString());

        // chunks whose bytes are not what PostgreSQL wrote (one record byte changed), then the segment
        Stanza differ = new Stanza();
        List<long[]> ranges = ranges();
        long[] damaged = ranges.get(1);
        for (long[] r : ranges) {
            byte[] b = slice(r);
            if (r == damaged) {
                for (int i = 3000; i < 3016; i++) {
                    b[i] ^= 0x01; // 16 bytes: more than the padding between two records
                }
            }
            assertEquals(WalIndexer.Outcome.CHUNK, differ.index(differ.put(r[0], b)));
        }
        Item stream = differ.stream();
        assertNotNull(stream.string("problem").orElse(null), "the stream stops at the damaged record: " + stream.describe());
        assertTrue(Lsn.parse(stream.string("endLsn").orElseThrow()).value() < segment.startLsn().value() + damaged[0] + 3000,
                "the window ends before it: " + stream.describe());
        // the complete segment first, then a late chunk: compared in both orders
        differ.objects.put(segKey, TestWal.compress(Compression.ZSTD, complete), "application/octet-stream",
                Map.of(ObjectStore.SHA256, TestWal.sha256(complete)));
        differ.indexer.index(segKey, afterLastCommit.plusSeconds(2));
        assertEquals(1, differ.metrics.stream().filter(m -> m == TidemarkMetric.STREAM_MISMATCH).count(),
                differ.metrics.toString());
        Item marked = differ.chunk(damaged[0], damaged[1]);
        assertTrue(marked.string("mismatch").orElse("").contains("other bytes than the archived segment"), marked.describe());
        assertTrue(differ.chunk(ranges.getFirst()[0], ranges.getFirst()[1]).flag("superseded"));
    }

    @Test
    void retentionRemovesSupersededChunksAndKeepsOneThatDisagreesAsEvidence() {
        Stanza st = new Stanza();
        List<long[]> ranges = ranges();
        long[] damaged = ranges.get(2);
        List<String> keys = new ArrayList<>();
        for (long[] r : ranges) {
            byte[] b = slice(r);
            if (r == damaged) {
                for (int i = 100; i < 116; i++) {
                    b[i] ^= 0x01;
                }
            }
            String key = st.put(r[0], b);
            keys.add(key);
            st.index(key);
        }
        io.tidemark.functions.retain.RetentionService retention = new io.tidemark.functions.retain.RetentionService(
                st.objects, st.catalog, new io.tidemark.functions.retain.RetentionPlanner(), Clock.systemUTC());
        // before the complete segment: the chunks are the only copy of this WAL, nothing goes
        retention.run(st.name, io.tidemark.functions.retain.RetentionPolicy.DEFAULT, false);
        assertTrue(keys.stream().allMatch(st.objects::contains), "no chunk removed before its segment is archived");

        String segKey = StorageLayout.walKey(st.name, new WalFileName.Segment(segment), Compression.ZSTD);
        st.objects.put(segKey, TestWal.compress(Compression.ZSTD, complete), "application/octet-stream",
                Map.of(ObjectStore.SHA256, TestWal.sha256(complete)));
        st.indexer.index(segKey, afterLastCommit.plusSeconds(2));
        retention.run(st.name, io.tidemark.functions.retain.RetentionPolicy.DEFAULT, false);
        String kept = keys.get(2);
        for (String k : keys) {
            assertEquals(k.equals(kept), st.objects.contains(k), k);
        }
        assertEquals(List.of(Keys.chunk(segment, damaged[0], damaged[1])),
                st.catalog.query(Keys.pk(st.name), Keys.chunkPrefix(segment)).stream().map(Item::sk).toList(),
                "the chunk that disagrees with its segment stays, as evidence");
        assertTrue(st.catalog.get(Keys.pk(st.name), Keys.stream(segment)).isPresent(), "and so does its stream item");
        assertTrue(st.objects.contains(segKey), "the archived segment is what stays");
        // the chunk's removal event is nothing lost for the catalog
        assertEquals(WalIndexer.Outcome.IGNORED, st.indexer.removed(keys.getFirst(), "ObjectRemoved:Delete", "00AA"));
    }

    /**
     * What one chunk and its segment cost in calls (the indexer's time per chunk is mostly its calls:
     * docs/benchmarks.md, "WAL streaming"). A chunk reads its own object once: the stream's scan gets
     * its bytes from the check, not from S3 again; the catalog items it just read or wrote are not
     * read again. The complete segment compares its chunks by the SHA-256 their items hold: no chunk
     * is read again from S3, and each chunk item costs one conditional write.
     */
    @Test
    void aChunkReadsItsObjectOnceAndTheSegmentSupersedesItsChunksWithoutReadingThem() {
        Stanza st = new Stanza();
        CountingStores counting = new CountingStores();
        WalIndexer counted = new WalIndexer(counting.objects(st.objects), counting.catalog(st.catalog), (m, s) -> { },
                (stanza, t, values) -> st.metrics.addAll(values.keySet()));
        List<long[]> ranges = ranges();
        for (long[] r : ranges) {
            String key = st.put(r[0], slice(r));
            counting.take();
            assertEquals(WalIndexer.Outcome.CHUNK, counted.index(key, afterLastCommit.plusSeconds(1)));
            Map<String, Integer> calls = counting.take();
            // its own object, and the chunk holding the last complete record's end (the scan resumes there)
            assertTrue(calls.getOrDefault("s3.get stream", 0) <= (r[0] == 0 ? 1 : 2), r[0] + ": " + calls);
            int catalogCalls = calls.entrySet().stream().filter(e -> e.getKey().startsWith("ddb."))
                    .mapToInt(Map.Entry::getValue).sum();
            // the chunk (get, two writes), the overlap query, the stream (two gets, query, write), the archived
            // segment's item, the window (get, backups, timelines, streams, write); the first chunk also
            // reads the stanza, and with no backups yet the window queries them
            assertTrue(catalogCalls <= 16, r[0] + ": " + catalogCalls + " catalog calls: " + calls);
            assertEquals(1, (int) calls.getOrDefault("ddb.get CHUNK#", 0), r[0] + ": " + calls);
            // the page size, then the merge's read (the stream's lag comes from what the merge wrote)
            assertEquals(2, (int) calls.getOrDefault("ddb.get STREAM#", 0), r[0] + ": " + calls);
        }
        assertEquals(streamed.length, st.stream().number("covered").orElseThrow());
        assertEquals(flushLsn, aligned(Lsn.parse(st.stream().string("endLsn").orElseThrow())));

        String segKey = StorageLayout.walKey(st.name, new WalFileName.Segment(segment), Compression.ZSTD);
        st.objects.put(segKey, TestWal.compress(Compression.ZSTD, complete), "application/octet-stream",
                Map.of(ObjectStore.SHA256, TestWal.sha256(complete)));
        counting.take();
        counted.index(segKey, afterLastCommit.plusSeconds(2));
        Map<String, Integer> calls = counting.take();
        assertEquals(0, (int) calls.getOrDefault("s3.get stream", 0), calls.toString());
        assertEquals(0, (int) calls.getOrDefault("ddb.get CHUNK#", 0), calls.toString());
        assertEquals(ranges.size(), (int) calls.getOrDefault("ddb.put CHUNK#", 0), calls.toString());
        for (long[] r : ranges) {
            assertTrue(st.chunk(r[0], r[1]).flag("superseded"), st.chunk(r[0], r[1]).describe());
        }
    }
}
