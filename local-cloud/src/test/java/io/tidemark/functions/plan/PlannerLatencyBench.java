package io.tidemark.functions.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tidemark.events.backup.BackupManifest;
import io.tidemark.events.backup.ManifestBundle;
import io.tidemark.events.backup.ManifestFile;
import io.tidemark.events.backup.ManifestJson;
import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.layout.StorageLayout;
import io.tidemark.events.paths.SafeRelativePath;
import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalFileName;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.events.wal.WalSegmentSize;
import io.tidemark.functions.CloudFixture;
import io.tidemark.functions.aws.DynamoDbCatalogStore;
import io.tidemark.functions.catalog.BackupEntry;
import io.tidemark.functions.catalog.Item;
import io.tidemark.functions.catalog.Keys;
import io.tidemark.functions.catalog.SegmentRanges;
import io.tidemark.functions.catalog.StanzaMeta;
import io.tidemark.functions.catalog.TimelineAggregate;
import io.tidemark.functions.index.TestWal;
import io.tidemark.functions.window.WindowService;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.PutRequest;
import software.amazon.awssdk.services.dynamodb.model.WriteRequest;

/**
 * Planner latency for a stanza with 100,000 indexed segments (16 MB) and 500 valid backups, on
 * the real local cloud (DynamoDB Local, S3Proxy, the local HTTP API). The catalog is filled
 * directly with batch writes (WAL#, COMMITTIME#, TIMELINE#, BACKUP#, one RESTOREPOINT#, then the
 * WINDOW item computed by {@link WindowService}); 500 manifests of 1,000 files go to S3.
 *
 * <p>Run by hand (takes a few minutes to fill):
 * <pre>./mvnw -B -o -pl functions,local-cloud -am verify -Dtidemark.aot.skip=true -Dtidemark.bench=true -Dtidemark.testJvmFlags= \
 *   -Dtest=PlannerLatencyBench -Dsurefire.failIfNoSpecifiedTests=false</pre>
 * Prints median and p95 of the POST round trip per target (the handler is warm: one-time init excluded).
 */
@Tag("slow")
@EnabledIfSystemProperty(named = "tidemark.bench", matches = "true")
class PlannerLatencyBench {

    static final int SEGMENTS = Integer.getInteger("tidemark.bench.segments", 100_000);
    static final int BACKUPS = Integer.getInteger("tidemark.bench.backups", 500);
    static final WalSegmentSize SIZE = WalSegmentSize.ofMegabytes(16);
    static final StanzaName STANZA = StanzaName.of("bench");
    static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    static final String SHA = "ab".repeat(32);

    @TempDir
    Path dir;

    static Instant commitTime(long seg) {
        return T0.plusSeconds(seg * 10);
    }

    @Test
    void plannerLatency() throws Exception {
        try (CloudFixture f = new CloudFixture(dir)) {
            assertEquals(200, f.call("PUT", "/stanzas/bench", CloudFixture.stanzaBody(TestWal.SYSTEM_ID_TEXT,
                    SIZE.bytes())).status());
            DynamoDbCatalogStore store = new DynamoDbCatalogStore(f.aws.dynamoDb(), f.cloud.table());
            String pk = Keys.pk(STANZA);
            TimelineId tli = TimelineId.FIRST;
            long t0 = System.nanoTime();
            List<Item> items = new ArrayList<>();
            for (long s = 1; s <= SEGMENTS; s++) {
                WalSegmentName n = WalSegmentName.of(tli, s, SIZE);
                items.add(walItem(pk, n));
                Map<String, Object> c = new TreeMap<>();
                c.put("kind", "commitTime");
                c.put("timeline", 1L);
                c.put("segment", n.toString());
                c.put("segmentNumber", s);
                c.put("maxCommitTime", commitTime(s).toString());
                items.add(Item.of(pk, Keys.commitTime(n, Keys.epochMicros(commitTime(s))), c).withRevision());
            }
            Map<String, Object> rp = new TreeMap<>();
            rp.put("kind", "restorePoint");
            rp.put("name", "before-drop");
            Lsn rpLsn = Lsn.of((SEGMENTS / 2L) * SIZE.bytes() + 0x2000);
            rp.put("lsn", rpLsn.toString());
            rp.put("timeline", 1L);
            rp.put("segmentNumber", SEGMENTS / 2L);
            items.add(Item.of(pk, Keys.restorePoint("before-drop", rpLsn), rp).withRevision());
            TimelineAggregate agg = new TimelineAggregate(tli, SegmentRanges.of(List.of(new SegmentRanges.Range(1, SEGMENTS))),
                    WalSegmentName.of(tli, SEGMENTS, SIZE), end(SEGMENTS), commitTime(SEGMENTS), T0, new TreeSet<>(), null,
                    null, List.of(new TimelineAggregate.EndMark(SEGMENTS, end(SEGMENTS))),
                    List.of(new TimelineAggregate.CommitMark(SEGMENTS, commitTime(SEGMENTS))));
            items.add(agg.toItem(pk).withRevision());
            List<BackupLabelName> labels = new ArrayList<>();
            for (int i = 0; i < BACKUPS; i++) {
                long start = 100 + (long) i * ((SEGMENTS - 200) / BACKUPS);
                BackupLabelName label = BackupLabelName.full(LocalDateTime.of(2026, 1, 1, 0, 0).plusHours(i));
                labels.add(label);
                byte[] manifest = ManifestJson.write(manifest(label, start));
                // Not under .../manifest.json: the validator must not see these (their objects do not exist).
                f.put(benchManifestKey(label), manifest, Map.of());
                items.add(backupItem(pk, label, start, manifest));
            }
            batchWrite(f, items);
            long filled = System.nanoTime();
            StanzaMeta meta = StanzaMeta.fromItem(store.get(pk, Keys.META).orElseThrow());
            new WindowService(store).refreshBackups(meta);
            System.out.printf("filled %d items in %.1f s, window in %d ms%n", items.size(), (filled - t0) / 1e9,
                    (System.nanoTime() - filled) / 1_000_000);

            Map<String, String> bodies = new java.util.LinkedHashMap<>();
            bodies.put("latest", "{}");
            bodies.put("immediate", "{\"target\":{\"type\":\"immediate\"}}");
            bodies.put("time (middle)", "{\"target\":{\"type\":\"time\",\"value\":\""
                    + commitTime(SEGMENTS / 2).plusSeconds(3) + "\"}}");
            bodies.put("lsn (middle)", "{\"target\":{\"type\":\"lsn\",\"value\":\""
                    + Lsn.of((SEGMENTS / 3L) * SIZE.bytes() + 0x100) + "\"}}");
            bodies.put("name", "{\"target\":{\"type\":\"name\",\"value\":\"before-drop\"}}");
            bodies.put("latest from the oldest backup (WAL capped)", "{\"backup\":\"" + labels.getFirst() + "\"}");
            bodies.put("time outside (422)", "{\"target\":{\"type\":\"time\",\"value\":\"2025-01-01T00:00:00Z\"}}");
            StringBuilder report = new StringBuilder();
            for (Map.Entry<String, String> e : bodies.entrySet()) {
                long[] ms = new long[15];
                int status = 0;
                int wal = 0;
                for (int i = -3; i < ms.length; i++) {
                    long a = System.nanoTime();
                    CloudFixture.Answer r = f.call("POST", "/stanzas/bench/restore-plans", e.getValue());
                    long took = System.nanoTime() - a;
                    status = r.status();
                    if (status == 201) {
                        wal = r.json().get("plan").get("document").get("wal").size();
                    }
                    if (i >= 0) {
                        ms[i] = took / 1_000_000;
                    }
                }
                Arrays.sort(ms);
                report.append(String.format("%-45s HTTP %d  wal %5d  median %4d ms  p95 %4d ms  max %4d ms%n", e.getKey(),
                        status, wal, ms[ms.length / 2], ms[(int) Math.ceil(ms.length * 0.95) - 1], ms[ms.length - 1]));
            }
            System.out.println("planner latency, " + SEGMENTS + " segments, " + BACKUPS + " backups:\n" + report);
        }
    }

    static String benchManifestKey(BackupLabelName label) {
        return StorageLayout.manifestKey(STANZA, label) + ".bench";
    }

    static Lsn end(long seg) {
        return Lsn.of(seg * SIZE.bytes() + SIZE.bytes() - 0x100);
    }

    static Item walItem(String pk, WalSegmentName n) {
        long s = n.segmentNumber();
        Map<String, Object> a = new TreeMap<>();
        a.put("kind", "segment");
        a.put("segment", n.toString());
        a.put("timeline", 1L);
        a.put("key", StorageLayout.walKey(STANZA, new WalFileName.Segment(n), Compression.ZSTD));
        a.put("compression", "zst");
        a.put("storedSize", 3_500_000L);
        a.put("sha256", HexFormat.of().formatHex(java.nio.ByteBuffer.allocate(32).putLong(s).array()));
        a.put("status", "archived");
        a.put("pendingTail", false);
        a.put("archivedAt", commitTime(s).plusSeconds(1).toString());
        a.put("pgVersion", 15L);
        a.put("systemIdentifier", TestWal.SYSTEM_ID_TEXT);
        a.put("records", 52_000L);
        a.put("fullPageImages", 1200L);
        a.put("commits", 900L);
        a.put("aborts", 3L);
        a.put("firstCommitTime", commitTime(s).minusSeconds(9).toString());
        a.put("lastCommitTime", commitTime(s).toString());
        a.put("minXid", 10_000L + s * 900);
        a.put("maxXid", 10_000L + s * 900 + 899);
        a.put("restorePoints", List.of());
        a.put("checkpoints", 0L);
        a.put("backupEnds", List.of());
        a.put("endsOfRecovery", List.of());
        a.put("firstRecordLsn", Lsn.of(s * SIZE.bytes() + 0x28).toString());
        a.put("lastRecordLsn", Lsn.of(s * SIZE.bytes() + SIZE.bytes() - 0x200).toString());
        a.put("endLsn", end(s).toString());
        a.put("skippedLeadingBytes", 0L);
        a.put("stopReason", "end-of-segment");
        return Item.of(pk, Keys.wal(n), a).withRevision();
    }

    static BackupManifest manifest(BackupLabelName label, long startSeg) {
        List<ManifestFile> files = new ArrayList<>();
        Instant mtime = T0;
        for (int i = 0; i < 1000; i++) {
            boolean bundled = i % 4 != 0;
            files.add(new ManifestFile(SafeRelativePath.of("base/16384/" + (16384 + i)), 8192L * (i + 1), SHA, mtime,
                    label, bundled ? OptionalInt.of(i / 100) : OptionalInt.empty(), bundled ? 100L * i : 0, 3000, SHA,
                    List.of()));
        }
        List<ManifestBundle> bundles = new ArrayList<>();
        for (int b = 0; b < 10; b++) {
            bundles.add(new ManifestBundle(b, 300_000, SHA));
        }
        Lsn start = Lsn.of(startSeg * SIZE.bytes() + 0x28);
        Lsn stop = Lsn.of((startSeg + 1) * SIZE.bytes() + 0x100);
        Instant stopTime = commitTime(startSeg + 1).plusSeconds(5);
        return new BackupManifest(BackupManifest.FORMAT_VERSION, STANZA, label, Optional.empty(), TestWal.SYSTEM_ID_TEXT,
                150004, SIZE, TimelineId.FIRST, start, stop, stopTime.minusSeconds(60), stopTime, false, true,
                Compression.ZSTD, "START WAL LOCATION: " + start + "\n", Optional.empty(), List.of(),
                List.of(SafeRelativePath.of("base/16384")), bundles, files);
    }

    static Item backupItem(String pk, BackupLabelName label, long startSeg, byte[] manifest) {
        BackupManifest m = ManifestJson.read(manifest);
        BackupEntry e = new BackupEntry(label.toString(), "full", null, BackupEntry.VALID, List.of(), 1L,
                m.startLsn().toString(), m.stopLsn().toString(), m.startTime().toString(), m.stopTime().toString(),
                m.originalSize(), m.storedSize(), m.deltaSize(), List.of(), false, 0L, List.of(), TestWal.SYSTEM_ID_TEXT,
                150004L, "zst", (long) m.files().size(), (long) m.bundles().size(), m.stopTime().toString(),
                benchManifestKey(label), TestWal.sha256(manifest), m.stopTime().toString(), List.of(),
                List.of());
        return e.toItem(pk, Keys.backup(label)).withRevision();
    }

    static void batchWrite(CloudFixture f, List<Item> items) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int i = 0; i < items.size(); i += 25) {
                List<Item> batch = items.subList(i, Math.min(items.size(), i + 25));
                futures.add(pool.submit(() -> {
                    List<WriteRequest> reqs = new ArrayList<>();
                    for (Item it : batch) {
                        Map<String, AttributeValue> av = DynamoDbCatalogStore.toAttributes(it);
                        reqs.add(WriteRequest.builder().putRequest(PutRequest.builder().item(av).build()).build());
                    }
                    Map<String, List<WriteRequest>> pending = Map.of(f.cloud.table(), reqs);
                    while (!pending.isEmpty() && !pending.getOrDefault(f.cloud.table(), List.of()).isEmpty()) {
                        Map<String, List<WriteRequest>> now = pending;
                        pending = f.aws.dynamoDb().batchWriteItem(b -> b.requestItems(now)).unprocessedItems();
                    }
                    return null;
                }));
            }
            for (Future<?> fu : futures) {
                fu.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
