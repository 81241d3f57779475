package io.tidemark.functions.plan;

import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.layout.StorageLayout;
import io.tidemark.events.sign.EcKeys;
import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.TimelineHistory;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalFileName;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.functions.catalog.InMemoryCatalogStore;
import io.tidemark.functions.catalog.InMemoryObjectStore;
import io.tidemark.functions.catalog.StanzaMeta;
import io.tidemark.functions.index.TestWal;
import io.tidemark.functions.index.WalIndexer;
import io.tidemark.functions.validate.BackupValidator;
import io.tidemark.functions.validate.TestBackup;
import io.tidemark.testkit.wal.SyntheticWal;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A stanza on in-memory stores with real WAL (SyntheticWal, PostgreSQL 15, 1 MB segments) indexed
 * by the real indexer, backups validated by the real validator, and a planner signing with a local
 * key. Segment {@code s} of a run commits xid {@code 1000 + s} at {@code T0 + s} seconds (unless
 * said otherwise), then switches.
 */
public final class PlanFixture {

    public static final StanzaName STANZA = StanzaName.of("main");
    public static final Instant T0 = Instant.ofEpochSecond(1_790_000_000L);
    static final int SIZE = TestWal.SIZE.bytes();

    public final InMemoryObjectStore objects = new InMemoryObjectStore();
    public final InMemoryCatalogStore catalog = new InMemoryCatalogStore();
    final BackupValidator validator = new BackupValidator(objects, catalog, 2);
    final WalIndexer indexer = new WalIndexer(objects, catalog, validator::walArchived);
    final KeyPair keys = EcKeys.generate();
    public final Instant now = T0.plusSeconds(3600);
    final RestorePlanner planner;
    public final StanzaMeta meta;
    private int events;

    public PlanFixture() {
        this(RestorePlanner.Settings.DEFAULT);
    }

    PlanFixture(RestorePlanner.Settings settings) {
        meta = new StanzaMeta(STANZA, TestWal.SYSTEM_ID_TEXT, 15, 150004, TestWal.SIZE, Instant.parse("2026-01-01T00:00:00Z"));
        catalog.put(meta.toItem().withRevision(), null);
        planner = new RestorePlanner(catalog, objects, new io.tidemark.events.sign.LocalSigner(keys),
                (key, ttl) -> "https://s3.test/" + key + "?ttl=" + ttl.toMinutes(), Clock.fixed(now, ZoneOffset.UTC),
                settings);
    }

    public static Instant at(double seconds) {
        return T0.plusNanos((long) (seconds * 1e9));
    }

    static long micros(Instant t) {
        return t.getEpochSecond() * 1_000_000L + t.getNano() / 1000;
    }

    /** Segments {@code first..last} of {@code tli}: each commits xid 1000+segno at T0+segno s; restore points by segment. */
    List<byte[]> segments(long tli, long first, long last, Map<Long, String> restorePoints) {
        SyntheticWal w = new SyntheticWal(SyntheticWal.PG15, SIZE, 8192, tli, first, TestWal.SYSTEM_ID);
        for (long s = first; s <= last; s++) {
            w.commit(1000 + s, micros(at(s)));
            String rp = restorePoints.get(s);
            if (rp != null) {
                w.restorePoint(rp, micros(at(s + 0.5)));
            }
            w.switchSegment();
        }
        List<byte[]> out = new ArrayList<>();
        for (int i = 0; i <= last - first; i++) {
            out.add(w.segment(i));
        }
        return out;
    }

    /** Archives segments {@code first..last} of {@code tli} except {@code skip}, through the real indexer. */
    public void archive(long tli, long first, long last, Map<Long, String> restorePoints, long... skip) {
        List<byte[]> segs = segments(tli, first, last, restorePoints);
        for (long s = first; s <= last; s++) {
            final long seg = s;
            if (java.util.Arrays.stream(skip).anyMatch(x -> x == seg)) {
                continue;
            }
            byte[] raw = segs.get((int) (s - first));
            WalSegmentName name = WalSegmentName.of(TimelineId.of(tli), s, TestWal.SIZE);
            String key = StorageLayout.walKey(STANZA, new WalFileName.Segment(name), Compression.ZSTD);
            objects.put(key, TestWal.compress(Compression.ZSTD, raw), "application/octet-stream",
                    Map.of("sha256", TestWal.sha256(raw)));
            indexer.index(key, T0.plusSeconds(100 + events++));
        }
    }

    /**
     * Streams segments {@code only} of the run {@code first..last} of {@code tli} as the agent's
     * chunks (issue 17): each whole segment as one chunk, through the real indexer; never archived.
     */
    public void stream(long tli, long first, long last, long... only) {
        List<byte[]> segs = segments(tli, first, last, Map.of());
        for (long s : only) {
            byte[] raw = segs.get((int) (s - first));
            WalSegmentName name = WalSegmentName.of(TimelineId.of(tli), s, TestWal.SIZE);
            String key = StorageLayout.walChunkKey(STANZA, name, 0, raw.length, Compression.ZSTD);
            objects.put(key, TestWal.compress(Compression.ZSTD, raw), "application/octet-stream",
                    Map.of("sha256", TestWal.sha256(raw)));
            indexer.index(key, T0.plusSeconds(100 + events++));
        }
    }

    void history(long tli, String content) {
        byte[] raw = content.getBytes(StandardCharsets.UTF_8);
        String key = StorageLayout.historyKey(STANZA, TimelineId.of(tli));
        objects.put(key, raw, "text/plain", Map.of("sha256", TestWal.sha256(raw)));
        indexer.index(key, T0.plusSeconds(100 + events++));
        TimelineHistory.parse(TimelineId.of(tli), content); // the fixture's own check
    }

    /** A full backup from segment {@code startSeg} (+0x28) to {@code stopSeg} (+0x100), stopped at {@code stopTime}. */
    public TestBackup backup(int day, long tli, long startSeg, long stopSeg, Instant stopTime) {
        BackupLabelName label = TestBackup.fullLabel(day);
        TestBackup b = TestBackup.build(STANZA, label, null, TestBackup.files("d" + day),
                Lsn.of(startSeg * SIZE + 0x28), Lsn.of(stopSeg * SIZE + 0x100), TimelineId.of(tli), stopTime);
        b.upload(objects);
        validator.validate(b.manifestKey(), T0.plusSeconds(100 + events++));
        return b;
    }

    TestBackup child(TestBackup prior, BackupLabelName.Type type, int hour, Map<String, byte[]> content, long startSeg,
                     long stopSeg, Instant stopTime) {
        BackupLabelName label = TestBackup.childLabel(prior.manifest.label(), type, hour);
        TestBackup b = TestBackup.build(STANZA, label, prior, content, Lsn.of(startSeg * SIZE + 0x28),
                Lsn.of(stopSeg * SIZE + 0x100), prior.manifest.timeline(), stopTime);
        b.upload(objects);
        validator.validate(b.manifestKey(), T0.plusSeconds(100 + events++));
        return b;
    }

    public RestorePlanner.Created plan(String json) {
        return planner.create("main", PlanRequest.parse(json.getBytes(StandardCharsets.UTF_8)), null);
    }
}
