package io.tidemark.functions.retain;

import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.layout.StorageLayout;
import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalFileName;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.functions.catalog.ObjectStore;
import io.tidemark.functions.index.TestWal;
import io.tidemark.functions.validate.TestBackup;
import io.tidemark.testkit.wal.SyntheticWal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A retention test history on a real bucket, for the local-cloud tests (local-cloud, node-shim):
 * timeline 1, segments 1..30 of real WAL (segment s commits xid 1000+s at {@link #at}(s)), then
 * three fulls over segments 2..3, 10..11 and 20..21, consistent at at(3), at(11) and at(21). The
 * indexer and validator run on the S3 events; {@code quiesce} waits for them after each step.
 * With count 2, the first full and segments 1..9 go; the window then starts at at(11).
 */
public final class ThreeFulls {

    public static final Instant T0 = Instant.parse("2026-03-02T00:00:00Z");
    static final int SIZE = TestWal.SIZE.bytes();

    private ThreeFulls() {
    }

    public static Instant at(double s) {
        return T0.plusNanos((long) (s * 1e9));
    }

    /** Uploads the WAL, then the three fulls one by one; returns the fulls' labels, oldest first. */
    public static List<BackupLabelName> upload(ObjectStore bucket, StanzaName stanza, Runnable quiesce) {
        SyntheticWal w = new SyntheticWal(SyntheticWal.PG15, SIZE, 8192, 1, 1, TestWal.SYSTEM_ID);
        for (long s = 1; s <= 30; s++) {
            w.commit(1000 + s, at(s).getEpochSecond() * 1_000_000L);
            w.switchSegment();
        }
        for (int i = 0; i < 30; i++) {
            byte[] raw = w.segment(i);
            String key = StorageLayout.walKey(stanza, new WalFileName.Segment(WalSegmentName.of(TimelineId.FIRST, i + 1,
                    TestWal.SIZE)), Compression.ZSTD);
            bucket.put(key, TestWal.compress(Compression.ZSTD, raw), "application/octet-stream",
                    Map.of("sha256", TestWal.sha256(raw)));
        }
        quiesce.run();
        List<BackupLabelName> labels = new ArrayList<>();
        long[][] spans = {{2, 3}, {10, 11}, {20, 21}};
        for (int i = 0; i < 3; i++) {
            // Labelled at its start (30 s before it stops), as the shim names backups.
            BackupLabelName label = TestBackup.fullLabelAt(at(spans[i][1]).minusSeconds(30));
            TestBackup.build(stanza, label, null, TestBackup.files(stanza.value() + i),
                    Lsn.of(spans[i][0] * SIZE + 0x28), Lsn.of(spans[i][1] * SIZE + 0x100), TimelineId.FIRST,
                    at(spans[i][1])).upload(bucket);
            quiesce.run();
            labels.add(label);
        }
        return labels;
    }
}
