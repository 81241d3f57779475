package io.tidemark.functions.index;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.layout.StorageLayout;
import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalFileName;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.functions.CloudFixture;
import io.tidemark.functions.aws.S3ObjectStore;
import io.tidemark.functions.validate.TestBackup;
import io.tidemark.localcloud.LocalCloud;
import io.tidemark.localcloud.LocalCloudFunctions;
import io.tidemark.testkit.wal.SyntheticWal;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A WAL object deleted from the bucket through the S3 API of the real local cloud: S3 raises an
 * {@code ObjectRemoved:Delete} event in AWS's shape, the real indexer marks the segment missing, the
 * window shrinks at once to the WAL still contiguous, the planner answers 422 beyond the gap with
 * the nearest points, and {@code GET /stanzas} (what {@code tidemark info} prints) shows the gap and
 * the lost object. Uploading the segment again makes the window whole.
 *
 * <p>Timeline 1, segments 5..12; segment s commits xid 1000+s at T0+s s. The backup covers
 * segments 5..6 and is consistent at T0+6.5 s.
 */
@Tag("localcloud")
class LostWalLocalCloudTest {

    @TempDir
    Path dir;
    CloudFixture f;
    final List<JsonNode> removals = new CopyOnWriteArrayList<>();
    static final StanzaName STANZA = StanzaName.of("lost");
    static final Instant T0 = Instant.parse("2026-03-02T00:00:00Z");

    static Instant at(double s) {
        return T0.plusNanos((long) (s * 1e9));
    }

    static long micros(Instant t) {
        return t.getEpochSecond() * 1_000_000L + t.getNano() / 1000;
    }

    static String key(long segment) {
        return StorageLayout.walKey(STANZA, new WalFileName.Segment(
                WalSegmentName.of(TimelineId.FIRST, segment, TestWal.SIZE)), Compression.ZSTD);
    }

    @AfterEach
    void stop() {
        if (f != null) {
            f.close();
        }
    }

    int plan(Instant target) throws Exception {
        return f.call("POST", "/stanzas/lost/restore-plans", "{\"target\":{\"type\":\"time\",\"value\":\"" + target
                + "\"}}").status();
    }

    @Test
    void aDeletedSegmentInTheMiddleShrinksTheWindowAtOnceAndIsShownUntilUploadedAgain() throws Exception {
        f = new CloudFixture(dir, LocalCloudFunctions.register(LocalCloud.builder())
                .onObjectCreatedAndRemoved("removals", null, null, config -> (in, out, ctx) -> {
                    JsonNode e = CloudFixture.MAPPER.readTree(in);
                    if (e.path("Records").get(0).path("eventName").asText().startsWith("ObjectRemoved:")) {
                        removals.add(e);
                    }
                }));
        S3ObjectStore bucket = new S3ObjectStore(f.aws.s3(), f.cloud.bucket());
        assertEquals(200, f.call("PUT", "/stanzas/lost", CloudFixture.stanzaBody(TestWal.SYSTEM_ID_TEXT,
                TestWal.SIZE.bytes())).status());
        SyntheticWal w = SyntheticWal.pg15OneMb();
        for (long s = 5; s <= 12; s++) {
            w.commit(1000 + s, micros(at(s)));
            w.switchSegment();
        }
        Map<Long, byte[]> raw = new HashMap<>();
        for (int i = 0; i < 8; i++) {
            raw.put(5L + i, w.segment(i));
            f.put(key(5 + i), TestWal.compress(Compression.ZSTD, w.segment(i)), Map.of("sha256",
                    TestWal.sha256(w.segment(i))));
        }
        f.quiesce();
        int size = TestWal.SIZE.bytes();
        // labelled at its start (30 s before it stops), as the shim names backups
        TestBackup backup = TestBackup.build(STANZA, TestBackup.fullLabelAt(at(6.5).minusSeconds(30)), null,
                TestBackup.files("p"),
                Lsn.of(5L * size + 0x28), Lsn.of(6L * size + 0x100), TimelineId.FIRST, at(6.5));
        backup.upload(bucket);
        f.quiesce();
        JsonNode before = f.call("GET", "/stanzas/lost", null).json();
        assertEquals(at(12).toString(), before.path("window").path("latest").path("time").asText(), before.toString());
        assertEquals(201, plan(at(11.5)));

        // deleted through the S3 API, as a user or a script would
        f.aws.s3().deleteObject(b -> b.bucket(f.cloud.bucket()).key(key(9)));
        f.quiesce();

        // the event S3 sends for a delete: no size, no eTag, a sequencer
        assertEquals(1, removals.size());
        JsonNode r = removals.getFirst().path("Records").get(0);
        assertEquals("ObjectRemoved:Delete", r.path("eventName").asText());
        assertEquals(key(9), r.path("s3").path("object").path("key").asText());
        assertFalse(r.path("s3").path("object").has("size"), r.toString());
        assertFalse(r.path("s3").path("object").has("eTag"), r.toString());
        assertTrue(r.path("s3").path("object").path("sequencer").asText().matches("[0-9A-F]{18}"), r.toString());

        JsonNode doc = f.call("GET", "/stanzas/lost", null).json();
        JsonNode t1 = doc.path("timelines").get(0);
        assertEquals(2, t1.path("walRanges").size(), doc.toString());
        assertEquals("000000010000000000000009", t1.path("gaps").get(0).path("start").asText(), doc.toString());
        assertEquals("000000010000000000000009", t1.path("gaps").get(0).path("end").asText());
        assertEquals("000000010000000000000009", t1.path("lostWal").get(0).path("start").asText());
        JsonNode lost = doc.path("lostObjects").get(0);
        assertEquals(key(9), lost.path("key").asText(), doc.toString());
        assertEquals("missing", lost.path("status").asText());
        assertEquals("deleted from the bucket (ObjectRemoved:Delete)", lost.path("problem").asText());
        // the window ends at the last commit before the gap
        assertEquals(at(8).toString(), doc.path("window").path("latest").path("time").asText(), doc.toString());

        // beyond the gap: 422 with the nearest reachable point; before it: a plan
        CloudFixture.Answer refused = f.call("POST", "/stanzas/lost/restore-plans",
                "{\"target\":{\"type\":\"time\",\"value\":\"" + at(11.5) + "\"}}");
        assertEquals(422, refused.status(), String.valueOf(refused.json()));
        assertEquals(at(8).toString(), refused.json().path("nearest").path("before").path("time").asText(),
                refused.json().toString());
        assertTrue(refused.json().path("nearest").path("after").isNull(), refused.json().toString());
        assertEquals(201, plan(at(7.5)));

        // uploaded again (the same bytes, e.g. from a copy of pg_wal): whole again
        f.put(key(9), TestWal.compress(Compression.ZSTD, raw.get(9L)), Map.of("sha256", TestWal.sha256(raw.get(9L))));
        f.quiesce();
        JsonNode again = f.call("GET", "/stanzas/lost", null).json();
        assertEquals(1, again.path("timelines").get(0).path("walRanges").size(), again.toString());
        assertEquals(0, again.path("timelines").get(0).path("lostWal").size(), again.toString());
        assertEquals(0, again.path("lostObjects").size(), again.toString());
        assertEquals(at(12).toString(), again.path("window").path("latest").path("time").asText(), again.toString());
        assertEquals(201, plan(at(11.5)));
        assertEquals(List.of(), f.cloud.failedEvents().stream().map(String::valueOf).toList());
    }
}
