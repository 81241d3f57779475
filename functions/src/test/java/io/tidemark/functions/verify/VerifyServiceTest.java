package io.tidemark.functions.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.functions.catalog.CatalogException;
import io.tidemark.functions.catalog.InMemoryCatalogStore;
import io.tidemark.functions.catalog.InMemoryObjectStore;
import io.tidemark.functions.catalog.Keys;
import io.tidemark.functions.catalog.StanzaMeta;
import io.tidemark.functions.index.TestWal;
import io.tidemark.functions.index.WalIndexer;
import io.tidemark.functions.validate.BackupValidator;
import io.tidemark.functions.validate.TestBackup;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The verify service over in-memory stores with real WAL (the synthetic segments, through the real
 * indexer) and a real backup (zstd files and a bundle, through the real validator). Dispatched
 * events are queued here and delivered by the test, in any order and more than once, as SQS may.
 */
@Tag("unit")
class VerifyServiceTest {

    static final StanzaName STANZA = StanzaName.of("main");
    static final Instant T1 = Instant.parse("2026-03-01T02:00:00Z");
    static final Instant NOW = Instant.parse("2026-03-02T04:00:00Z");

    InMemoryObjectStore objects;
    InMemoryCatalogStore catalog;
    TestWal wal;
    TestBackup backup;
    final Deque<VerifyEvent> queue = new ArrayDeque<>();
    final List<String> metrics = new CopyOnWriteArrayList<>();
    VerifyService service;

    @BeforeEach
    void setUp() {
        objects = new InMemoryObjectStore();
        catalog = new InMemoryCatalogStore();
        BackupValidator validator = new BackupValidator(objects, catalog, 3);
        WalIndexer indexer = new WalIndexer(objects, catalog, validator::walArchived);
        catalog.put(new StanzaMeta(STANZA, TestWal.SYSTEM_ID_TEXT, 15, 150004, TestWal.SIZE,
                Instant.parse("2026-01-01T00:00:00Z")).toItem().withRevision(), null);
        wal = new TestWal(4, Set.of(1)); // segments 5..8
        for (int i = 0; i < 4; i++) {
            // segment 8 stored raw: a changed byte is then a hash mismatch, never a broken zstd frame
            Compression c = i == 3 ? Compression.NONE : Compression.ZSTD;
            String key = wal.key(STANZA, i, c);
            byte[] raw = wal.segments.get(i);
            objects.put(key, TestWal.compress(c, raw), "application/octet-stream", Map.of("sha256", TestWal.sha256(raw)));
            indexer.index(key, T1.minusSeconds(60 - i));
        }
        backup = TestBackup.full(STANZA, TestBackup.fullLabel(1), TestBackup.files("a"));
        backup.upload(objects);
        validator.validate(backup.manifestKey(), T1);
        service = service(2);
    }

    VerifyService service(int batchObjects) {
        return new VerifyService(catalog, objects, queue::add, Clock.fixed(NOW, ZoneOffset.UTC), 3, new io.tidemark.functions.metrics.EmfMetrics(metrics::add),
                batchObjects);
    }

    /** Delivers every queued event (and what they queue), in the order given by {@code order}. */
    void deliver(boolean reversed, boolean twice) {
        while (!queue.isEmpty()) {
            List<VerifyEvent> now = new ArrayList<>(queue);
            queue.clear();
            if (reversed) {
                Collections.reverse(now);
            }
            for (VerifyEvent e : now) {
                handle(e);
                if (twice) {
                    handle(e);
                }
            }
        }
    }

    void handle(VerifyEvent e) {
        switch (e) {
            case VerifyEvent.Plan p -> service.plan(p.stanza(), p.run());
            case VerifyEvent.Batch b -> service.batch(b.stanza(), b.run(), b.batch());
            case VerifyEvent.Start s -> throw new AssertionError("a start is never dispatched: " + s);
        }
    }

    VerifyRun verify(String label) {
        VerifyRun started = service.start(STANZA, label);
        assertEquals(VerifyState.PLANNING, started.state());
        deliver(false, false);
        return service.run(STANZA, started.id()).orElseThrow();
    }

    String key(VerifyProblem p) {
        return p.check().label() + " " + p.key();
    }

    @Test
    void aCleanStanzaChecksEveryObjectOnceWhateverOrderAndHowOftenBatchesArrive() throws Exception {
        VerifyRun started = service.start(STANZA, null);
        deliver(true, true);
        VerifyRun run = service.run(STANZA, started.id()).orElseThrow();
        assertEquals(VerifyState.COMPLETE, run.state(), run.toString());
        assertTrue(run.clean());
        // manifest + 2 single files + 1 bundle + 4 segments; batches of 2: WAL 2, backup 2
        assertEquals(8, run.objects());
        assertEquals(8, run.checked());
        assertEquals(4, run.batches());
        assertEquals(List.of(1L, 2L, 3L, 4L), run.doneBatches());
        assertEquals(List.of(), service.problems(STANZA, run.id(), 100));
        assertEquals(1, metrics.size(), "the metric once per run: " + metrics);
        JsonNode line = new ObjectMapper().readTree(metrics.get(0));
        assertEquals(0, line.path(io.tidemark.events.metrics.TidemarkMetric.VERIFY_PROBLEMS.metricName()).asLong());
        assertEquals(0, line.path(io.tidemark.events.metrics.TidemarkMetric.LAST_CLEAN_VERIFY_AGE.metricName()).asLong());
        assertEquals("main", line.path("Stanza").asText());
        assertEquals("Tidemark", line.path("_aws").path("CloudWatchMetrics").get(0).path("Namespace").asText());
        assertEquals(run.id(), VerifyService.last(catalog, STANZA).orElseThrow().string("lastCleanRun").orElseThrow());
    }

    @Test
    void aChangedByteIsNamedWithBothHashesAndTheSegmentCountsAsDamaged() {
        String key = wal.key(STANZA, 3, Compression.NONE);
        byte[] changed = wal.segments.get(3).clone();
        changed[4096] ^= 1;
        objects.put(key, changed, "application/octet-stream", Map.of("sha256", TestWal.sha256(wal.segments.get(3))));
        VerifyRun run = verify(null);
        List<VerifyProblem> problems = service.problems(STANZA, run.id(), 100);
        assertEquals(List.of(new VerifyProblem(key, VerifyProblem.Check.SHA256,
                "content SHA-256 " + TestWal.sha256(wal.segments.get(3)), "content SHA-256 " + TestWal.sha256(changed))),
                problems);
        assertEquals(1, run.problems());
        assertFalse(run.clean());
        // For the window and the planner, the segment is now damaged.
        assertEquals("damaged", catalog.get(Keys.pk(STANZA), Keys.wal(wal.name(3))).orElseThrow().string("status")
                .orElseThrow());
        // The next run still names it (its object is still wrong), and info's last clean run stays absent.
        VerifyRun again = verify(null);
        assertEquals(1, again.problems());
        assertTrue(VerifyService.last(catalog, STANZA).orElseThrow().string("lastCleanAt").isEmpty());
    }

    @Test
    void aMissingSegmentInsideTheBackupsRangeIsMissingAGapAndABrokenChain() {
        objects.delete(wal.key(STANZA, 1, Compression.ZSTD));
        VerifyRun run = verify(null);
        Set<String> found = new TreeSet<>();
        service.problems(STANZA, run.id(), 100).forEach(p -> found.add(key(p)));
        assertEquals(new TreeSet<>(List.of(
                "missing " + wal.key(STANZA, 1, Compression.ZSTD),
                "gap " + wal.name(1),
                "chain " + backup.manifestKey())), found);
    }

    @Test
    void aBundleSliceAndAReplacedManifestAreNamed() {
        String bundle = backup.objects.keySet().stream().filter(k -> k.contains("/bundle/")).findFirst().orElseThrow();
        byte[] b = backup.objects.get(bundle).clone();
        b[b.length - 3] ^= 1; // inside the last file of the bundle
        objects.put(bundle, b, "application/octet-stream", Map.of());
        VerifyRun run = verify(null);
        Map<String, String> byCheck = new TreeMap<>();
        service.problems(STANZA, run.id(), 100).forEach(p -> byCheck.put(p.check().label(), p.key() + " " + p.expected()));
        assertTrue(byCheck.get("sha256").startsWith(bundle + " SHA-256 " + TestWal.sha256(backup.objects.get(bundle))),
                byCheck.toString());
        assertTrue(byCheck.get("slice").contains("postgresql.auto.conf"), byCheck.toString());

        objects.put(backup.manifestKey(), "{}".getBytes(), "application/json", Map.of());
        VerifyRun second = verify(null);
        List<VerifyProblem> problems = service.problems(STANZA, second.id(), 100);
        assertTrue(problems.stream().anyMatch(p -> p.key().equals(backup.manifestKey())
                && p.check() == VerifyProblem.Check.SHA256 && p.found().contains("(2 bytes)")), problems.toString());
    }

    @Test
    void oneBackupIsVerifiedWithItsWalOnly() {
        VerifyRun run = verify(backup.manifest.label().toString());
        assertEquals(VerifyState.COMPLETE, run.state());
        // manifest + 3 objects + segments 5..7 (not 8)
        assertEquals(7, run.checked());
        assertEquals(List.of(), metrics, "a partial run publishes no stanza metric");
        CatalogException e = assertThrows(CatalogException.class,
                () -> service.start(STANZA, TestBackup.fullLabel(9).toString()));
        assertEquals(CatalogException.Kind.NOT_FOUND, e.kind());
    }

    @Test
    void whatRetentionRemovesWhileARunIsUnderWayIsNoProblem() {
        VerifyRun started = service.start(STANZA, null);
        VerifyEvent.Plan plan = (VerifyEvent.Plan) queue.poll();
        service.plan(plan.stanza(), plan.run());
        // Retention, between the plan and the batches: the backup's objects and item, the oldest segment and item.
        backup.objects.keySet().forEach(objects::delete);
        objects.delete(backup.manifestKey());
        catalog.delete(Keys.pk(STANZA), Keys.backup(backup.manifest.label()));
        objects.delete(wal.key(STANZA, 0, Compression.ZSTD));
        catalog.delete(Keys.pk(STANZA), Keys.wal(wal.name(0)));
        deliver(false, false);
        VerifyRun run = service.run(STANZA, started.id()).orElseThrow();
        assertEquals(List.of(), service.problems(STANZA, run.id(), 100));
        assertTrue(run.clean(), run.toString());

        // Retention's markers, written before it deletes: the backup expiring, the WAL watermark.
        TestBackup second = TestBackup.full(STANZA, TestBackup.fullLabel(2), TestBackup.files("b"));
        second.upload(objects);
        new BackupValidator(objects, catalog, 3).validate(second.manifestKey(), T1.plusSeconds(5));
        VerifyRun planned = service.start(STANZA, null);
        VerifyEvent.Plan p2 = (VerifyEvent.Plan) queue.poll();
        service.plan(p2.stanza(), p2.run());
        String pk = Keys.pk(STANZA);
        catalog.put(catalog.get(pk, Keys.backup(second.manifest.label())).orElseThrow()
                .with(io.tidemark.functions.catalog.BackupEntry.EXPIRING, true).withRevision(),
                catalog.get(pk, Keys.backup(second.manifest.label())).orElseThrow().revision());
        second.objects.keySet().forEach(objects::delete);
        catalog.put(io.tidemark.functions.catalog.ExpiredWal.item(pk, wal.name(1).timeline(), wal.name(1).segmentNumber())
                .withRevision(), null);
        objects.delete(wal.key(STANZA, 1, Compression.ZSTD));
        deliver(false, false);
        assertEquals(List.of(), service.problems(STANZA, planned.id(), 100));

        // The same deletion without retention's markers is a lost object (and a hole in the WAL).
        objects.delete(wal.key(STANZA, 2, Compression.ZSTD));
        VerifyRun after = verify(null);
        assertEquals(List.of("missing " + wal.key(STANZA, 2, Compression.ZSTD), "gap " + wal.name(2)),
                service.problems(STANZA, after.id(), 100).stream().map(this::key).toList());
    }

    @Test
    void aPlanDeliveredAgainSendsTheBatchesNotDoneYet() {
        VerifyRun started = service.start(STANZA, null);
        VerifyEvent.Plan plan = (VerifyEvent.Plan) queue.poll();
        service.plan(plan.stanza(), plan.run());
        assertEquals(4, queue.size());
        handle(queue.poll()); // batch 1 done; the other three messages are lost with the invocation that sent them
        queue.clear();
        service.plan(plan.stanza(), plan.run()); // SQS delivers the plan again
        assertEquals(List.of(2, 3, 4), queue.stream().map(e -> ((VerifyEvent.Batch) e).batch()).toList());
        deliver(false, false);
        VerifyRun run = service.run(STANZA, started.id()).orElseThrow();
        assertTrue(run.clean(), run.toString());
        assertEquals(8, run.checked());
    }

    @Test
    void aRunWhoseBatchesCannotBeSentFailsWithTheReason() {
        VerifyService broken = new VerifyService(catalog, objects, e -> {
            if (e instanceof VerifyEvent.Batch) {
                throw new IllegalStateException("queue unreachable");
            }
            queue.add(e);
        }, Clock.fixed(NOW, ZoneOffset.UTC), 3, new io.tidemark.functions.metrics.EmfMetrics(metrics::add), 2);
        VerifyRun started = broken.start(STANZA, null);
        VerifyEvent.Plan plan = (VerifyEvent.Plan) queue.poll();
        broken.plan(plan.stanza(), plan.run());
        VerifyRun run = broken.run(STANZA, started.id()).orElseThrow();
        assertEquals(VerifyState.FAILED, run.state());
        assertEquals("batch 1 of 4 could not be started: queue unreachable", run.message());
        assertFalse(run.clean());
    }

    @Test
    void gapsAreOneProblemPerHole() {
        Map<Long, TreeSet<Long>> present = new TreeMap<>();
        present.put(1L, new TreeSet<>(List.of(5L, 6L, 9L, 10L, 12L)));
        List<VerifyProblem> gaps = ArchiveChecks.gaps(TestWal.SIZE, present);
        assertEquals(2, gaps.size());
        assertEquals(WalSegmentName.parse("000000010000000000000007", TestWal.SIZE).toString(), gaps.get(0).key());
        assertTrue(gaps.get(0).found().startsWith("2 segments 000000010000000000000007 to 000000010000000000000008"),
                gaps.get(0).found());
        assertEquals("segment 00000001000000000000000B absent or damaged", gaps.get(1).found());
    }

    @Test
    void eventsRoundTripAndBadOnesAreNamed() {
        VerifyEvent b = new VerifyEvent.Batch(STANZA, "20260302T040000Z-0a0b0c0d", 7);
        assertEquals(b, VerifyEvent.parse(b.json()));
        assertEquals(new VerifyEvent.Start(STANZA, null), VerifyEvent.parse("{\"stanza\":\"main\"}".getBytes()));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> VerifyEvent.parse(
                "{\"stanza\":\"main\",\"run\":\"x\",\"step\":\"plan\"}".getBytes())).getMessage()
                .contains("run: 'x' is not a verify run id"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> VerifyEvent.parse(
                "{\"stanza\":\"main\",\"color\":1}".getBytes())).getMessage().contains("color: unknown field"));
    }
}
