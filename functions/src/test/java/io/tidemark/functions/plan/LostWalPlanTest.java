package io.tidemark.functions.plan;

import static io.tidemark.functions.plan.PlanFixture.at;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StorageLayout;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalFileName;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.functions.catalog.CatalogService;
import io.tidemark.functions.catalog.Keys;
import io.tidemark.functions.catalog.StanzaView;
import io.tidemark.functions.index.LostObjects;
import io.tidemark.functions.index.TestWal;
import io.tidemark.functions.index.WalIndexer;
import io.tidemark.functions.validate.TestBackup;
import java.time.Clock;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Tag;

/**
 * A WAL object deleted from the bucket after it was indexed: the removal event makes the catalog
 * exactly what it would be had the segment never been archived (window, gaps, plans), and a new
 * upload of the segment brings everything back.
 */
@Tag("unit")
class LostWalPlanTest {

    static String key(long segment) {
        return StorageLayout.walKey(PlanFixture.STANZA, new WalFileName.Segment(
                WalSegmentName.of(TimelineId.FIRST, segment, TestWal.SIZE)), Compression.ZSTD);
    }

    static StanzaView view(PlanFixture f) {
        return new CatalogService(f.catalog, f.objects, Clock.fixed(f.now, ZoneOffset.UTC)).describe("main");
    }

    @Test
    void aDeletedSegmentInTheMiddleIsAGapAsIfItHadNeverBeenArchived() {
        PlanFixture f = new PlanFixture();
        f.archive(1, 5, 14, Map.of());
        TestBackup first = f.backup(1, 1, 5, 6, at(6.5));
        TestBackup second = f.backup(2, 1, 12, 12, at(12.5));
        assertEquals(0, view(f).window().gaps().size());
        assertEquals(at(14), view(f).window().latest().orElseThrow().time());

        f.objects.delete(key(11));
        assertEquals(WalIndexer.Outcome.LOST, f.indexer.removed(key(11), "ObjectRemoved:Delete", "00F1"));
        // repeated delivery: nothing changes
        assertEquals(WalIndexer.Outcome.REMOVAL_IGNORED, f.indexer.removed(key(11), "ObjectRemoved:Delete", "00F1"));

        PlanFixture never = new PlanFixture();
        never.archive(1, 5, 14, Map.of(), 11);
        never.backup(1, 1, 5, 6, at(6.5));
        never.backup(2, 1, 12, 12, at(12.5));
        StanzaView v = view(f);
        StanzaView expected = view(never);
        assertEquals(expected.window(), v.window());
        assertEquals(expected.timelines().getFirst().ranges(), v.timelines().getFirst().ranges());
        assertEquals(expected.timelines().getFirst().rangeEnds(), v.timelines().getFirst().rangeEnds());
        assertEquals(expected.timelines().getFirst().rangeCommits(), v.timelines().getFirst().rangeCommits());
        assertEquals("missing", f.catalog.get(Keys.pk(PlanFixture.STANZA), Keys.wal(
                WalSegmentName.of(TimelineId.FIRST, 11, TestWal.SIZE))).orElseThrow().string("status").orElseThrow());

        assertEquals(1, v.window().gaps().size());
        assertEquals(at(10), v.window().gaps().getFirst().from().time());
        // beyond the gap, before the second backup: refused with both neighbours
        TargetUnreachableException e = assertThrows(TargetUnreachableException.class,
                () -> f.plan("{\"target\":{\"type\":\"time\",\"value\":\"" + at(11) + "\"}}"));
        assertEquals(at(10), e.before().time());
        assertEquals(second.manifest.stopLsn(), e.after().lsn());
        // the first backup's WAL now ends at 10
        assertEquals(RestorePlannerTest.segments(1, 5, 10),
                RestorePlannerTest.walNames(f.plan("{\"target\":{\"type\":\"time\",\"value\":\"" + at(9.5) + "\"}}")
                        .plan()));
        assertEquals(first.manifest.label(),
                f.plan("{\"target\":{\"type\":\"time\",\"value\":\"" + at(9.5) + "\"}}").plan().backupLabel());
    }

    @Test
    void withoutALaterBackupTheWindowEndsAtTheGapAndLaterTargetsAreRefused() {
        PlanFixture f = new PlanFixture();
        f.archive(1, 5, 14, Map.of());
        f.backup(1, 1, 5, 6, at(6.5));
        f.objects.delete(key(9));
        f.indexer.removed(key(9), "LifecycleExpiration:Delete", null);

        StanzaView v = view(f);
        assertEquals(at(8), v.window().latest().orElseThrow().time());
        TargetUnreachableException e = assertThrows(TargetUnreachableException.class,
                () -> f.plan("{\"target\":{\"type\":\"time\",\"value\":\"" + at(12) + "\"}}"));
        assertEquals(at(8), e.before().time());
        assertNull(e.after());

        // uploaded again (a later sequencer): the window is whole again
        PlanFixture whole = new PlanFixture();
        whole.archive(1, 5, 14, Map.of());
        whole.backup(1, 1, 5, 6, at(6.5));
        // (the same bytes: generated from segment 5 as the first time; other bytes would be refused)
        f.archive(1, 5, 14, Map.of(), 5, 6, 7, 8, 10, 11, 12, 13, 14);
        assertEquals(view(whole).window(), view(f).window());
        assertEquals(view(whole).timelines().getFirst().ranges(), view(f).timelines().getFirst().ranges());
        f.plan("{\"target\":{\"type\":\"time\",\"value\":\"" + at(12) + "\"}}");
    }

    @Test
    void aLostBackupFileMakesTheBackupAndEveryBackupNeedingItUnusable() {
        PlanFixture d = new PlanFixture();
        d.archive(1, 5, 14, Map.of());
        TestBackup full = d.backup(1, 1, 5, 6, at(6.5));
        TestBackup diff = d.child(full, io.tidemark.events.layout.BackupLabelName.Type.DIFF, 5,
                TestBackup.files("d1"), 9, 10, at(10.5));
        assertEquals(diff.manifest.label(), d.plan("{}").plan().backupLabel());
        String lostKey = full.objects.keySet().stream().filter(k -> !k.equals(full.manifestKey())).sorted()
                .findFirst().orElseThrow();
        d.objects.delete(lostKey);
        assertEquals(WalIndexer.Outcome.LOST, d.indexer.removed(lostKey, "ObjectRemoved:Delete", "0A"));

        var entry = view(d).backups().stream().filter(b -> b.label().equals(full.manifest.label().toString()))
                .findFirst().orElseThrow();
        assertEquals("missing", entry.status());
        assertEquals(List.of(lostKey + " is missing: deleted from the bucket (ObjectRemoved:Delete)"),
                entry.reasons().subList(entry.reasons().size() - 1, entry.reasons().size()));
        var listed = view(d).lost();
        assertEquals(1, listed.size(), listed.toString());
        assertEquals(lostKey, listed.getFirst().key());
        assertEquals("missing", listed.getFirst().status());
        assertEquals("deleted from the bucket (ObjectRemoved:Delete)", listed.getFirst().problem());
        // neither the full nor the diff that needs it: no backup left, no window, every target refused
        assertTrue(view(d).window().earliest().isEmpty());
        assertThrows(TargetUnreachableException.class, () -> d.plan("{}"));
        assertThrows(TargetUnreachableException.class,
                () -> d.plan("{\"backup\":\"" + diff.manifest.label() + "\"}"));
        // repeated: nothing changes
        assertEquals(WalIndexer.Outcome.REMOVAL_IGNORED, d.indexer.removed(lostKey, "ObjectRemoved:Delete", "0A"));
        // the same manifest upload concluded again (as a resumed validation does): still missing
        d.validator.validate(full.manifestKey(), java.time.Instant.parse(entry.manifestEventTime()));
        assertEquals("missing", status(d, full));
        // the file and then the manifest uploaded again: validated afresh, usable again
        full.upload(d.objects);
        d.validator.validate(full.manifestKey(), java.time.Instant.parse(entry.manifestEventTime()).plusSeconds(60));
        assertEquals("valid", status(d, full));
        assertEquals(diff.manifest.label(), d.plan("{}").plan().backupLabel());
    }

    /** The LSN the refusal tells the user to restore to explicitly. */
    static String suggestedLsn(TargetUnreachableException e) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("--target-lsn (\\S+)").matcher(e.getMessage());
        assertTrue(m.find(), e.getMessage());
        return m.group(1);
    }

    @Test
    void latestIsRefusedWhenASegmentOnItsWayIsDeletedAndNamesTheNearestPoint() {
        PlanFixture f = new PlanFixture();
        f.archive(1, 5, 14, Map.of());
        f.backup(1, 1, 5, 6, at(6.5));
        f.objects.delete(key(11));
        f.indexer.removed(key(11), "ObjectRemoved:Delete", "00F1");

        TargetUnreachableException e = assertThrows(TargetUnreachableException.class, () -> f.plan("{}"));
        String m = e.getMessage();
        assertTrue(m.contains("the WAL of timeline 1 breaks off after 00000001000000000000000A"), m);
        assertTrue(m.contains("00000001000000000000000B is missing (deleted from the bucket (ObjectRemoved:Delete))"), m);
        assertTrue(m.contains("archived WAL continues at 00000001000000000000000C"), m);
        assertEquals(at(10), e.before().time());
        assertEquals(TimelineId.FIRST, e.before().timeline());
        assertNull(e.after());
        assertTrue(m.contains("LSN " + e.before().lsn() + " on timeline 1 (last commit " + at(10) + ")"), m);
        // the same with the timeline asked for by number: the WAL on its path is what counts
        assertThrows(TargetUnreachableException.class, () -> f.plan("{\"timeline\":\"1\"}"));

        // accepting the loss: the explicit LSN plans the WAL before the gap, pinned where latest would have stopped
        String lsn = suggestedLsn(e);
        RestorePlanner.Created c = f.plan("{\"target\":{\"type\":\"lsn\",\"value\":\"" + lsn + "\"}}");
        assertEquals(RestorePlannerTest.segments(1, 5, 10), RestorePlannerTest.walNames(c.plan()));
        assertEquals(lsn, c.plan().recoverySettings().get("recovery_target_lsn"));

        // uploaded again: latest is whole again
        f.archive(1, 5, 14, Map.of(), 5, 6, 7, 8, 9, 10, 12, 13, 14); // segment 11, its original bytes
        assertEquals(RestorePlannerTest.segments(1, 5, 14), RestorePlannerTest.walNames(f.plan("{}").plan()));
    }

    @Test
    void latestIsRefusedWhenItsLastSegmentIsLostEvenWithNothingAfterIt() {
        PlanFixture f = new PlanFixture();
        f.archive(1, 5, 14, Map.of());
        f.backup(1, 1, 5, 6, at(6.5));
        new LostObjects(f.catalog, Clock.fixed(f.now, ZoneOffset.UTC)).markLost(PlanFixture.STANZA, key(14), "damaged",
                "sha256 of the content is 00ff, the catalog recorded 1234");
        TargetUnreachableException e = assertThrows(TargetUnreachableException.class, () -> f.plan("{}"));
        String m = e.getMessage();
        assertTrue(m.contains("00000001000000000000000E is damaged (sha256 of the content is 00ff, the catalog recorded 1234)"),
                m);
        assertFalse(m.contains("continues at"), m);
        assertEquals(at(13), e.before().time());
    }

    @Test
    void aPlainEndIsTheEndAndLostWalOffThePathDoesNotCount() {
        PlanFixture t = new PlanFixture();
        t.archive(1, 5, 11, Map.of()); // the old primary went on to segment 11 on timeline 1
        t.history(2, "1\t" + io.tidemark.events.wal.Lsn.of(10L * TestWal.SIZE.bytes() + 0x28)
                + "\tno recovery target specified\n");
        t.archive(2, 10, 12, Map.of());
        t.backup(1, 1, 5, 6, at(6.5));
        // timeline 1's own segment 11 is not on timeline 2's path
        t.objects.delete(key(11));
        t.indexer.removed(key(11), "ObjectRemoved:Delete", "00F1");
        RestorePlanner.Created c = t.plan("{}");
        assertEquals(2, c.plan().timeline().value());
        assertEquals(RestorePlannerTest.segments(2, 12, 12), RestorePlannerTest.walNames(c.plan()).subList(
                RestorePlannerTest.walNames(c.plan()).size() - 1, RestorePlannerTest.walNames(c.plan()).size()));
        // but staying on timeline 1, it is: refused there
        TargetUnreachableException e = assertThrows(TargetUnreachableException.class,
                () -> t.plan("{\"timeline\":\"current\"}"));
        assertTrue(e.getMessage().contains("00000001000000000000000B is missing"), e.getMessage());
    }

    @Test
    void latestNeverFallsBackToAnOlderTimelineWhenTheNewerOnesHistoryIsLost() {
        PlanFixture t = new PlanFixture();
        t.archive(1, 5, 11, Map.of());
        t.history(2, "1\t" + io.tidemark.events.wal.Lsn.of(10L * TestWal.SIZE.bytes() + 0x28)
                + "\tno recovery target specified\n");
        t.archive(2, 10, 12, Map.of());
        t.backup(1, 1, 5, 6, at(6.5));
        assertEquals(2, t.plan("{}").plan().timeline().value());
        String historyKey = StorageLayout.historyKey(PlanFixture.STANZA, TimelineId.of(2));
        t.objects.delete(historyKey);
        assertEquals(WalIndexer.Outcome.LOST, t.indexer.removed(historyKey, "ObjectRemoved:Delete", "00F2"));

        TargetUnreachableException e = assertThrows(TargetUnreachableException.class, () -> t.plan("{}"));
        String m = e.getMessage();
        assertTrue(m.contains("timeline 2 follows timeline 1 but its history file 00000002.history is missing"
                + " (deleted from the bucket (ObjectRemoved:Delete))"), m);
        assertTrue(m.contains("its WAL is archived from 00000002000000000000000A"), m);
        assertTrue(m.contains(" --target-timeline 1"), m);
        assertEquals(TimelineId.FIRST, e.before().timeline());
        assertEquals(at(11), e.before().time());
        // asked for timeline 1 explicitly (current: the backup's), latest there is its own end
        assertEquals(1, t.plan("{\"timeline\":\"current\"}").plan().timeline().value());
        // the explicit point the refusal names
        String lsn = suggestedLsn(e);
        RestorePlanner.Created c = t.plan("{\"target\":{\"type\":\"lsn\",\"value\":\"" + lsn
                + "\"},\"timeline\":\"1\"}");
        assertEquals(RestorePlannerTest.segments(1, 5, 11), RestorePlannerTest.walNames(c.plan()));

        // damaged (verify's finding) says so too
        t.history(2, "1\t" + io.tidemark.events.wal.Lsn.of(10L * TestWal.SIZE.bytes() + 0x28)
                + "\tno recovery target specified\n");
        assertEquals(2, t.plan("{}").plan().timeline().value());
        new LostObjects(t.catalog, Clock.fixed(t.now, ZoneOffset.UTC)).markLost(PlanFixture.STANZA, historyKey,
                "damaged", "size 20, the catalog recorded 42");
        TargetUnreachableException d = assertThrows(TargetUnreachableException.class, () -> t.plan("{}"));
        assertTrue(d.getMessage().contains("00000002.history is damaged (size 20, the catalog recorded 42)"),
                d.getMessage());
    }

    /**
     * The same loss for the other targets: an xid, a time, an LSN or a restore point name on
     * timeline latest would be looked for on timeline 1 alone, where the same xid is another
     * transaction (an e2e run restored timeline 1's xid for timeline 2's: 150 rows, not 400).
     */
    @Test
    void aTargetOnTimelineLatestIsNotLookedForOnTheOlderTimelineWhenTheNewerOnesHistoryIsLost() {
        PlanFixture t = new PlanFixture();
        t.archive(1, 5, 11, Map.of(9L, "rp"));
        t.history(2, "1\t" + io.tidemark.events.wal.Lsn.of(10L * TestWal.SIZE.bytes() + 0x28)
                + "\tno recovery target specified\n");
        t.archive(2, 10, 12, Map.of());
        t.backup(1, 1, 5, 6, at(6.5));
        String xid = "{\"target\":{\"type\":\"xid\",\"value\":\"1011\"}";
        List<String> targets = List.of(xid,
                "{\"target\":{\"type\":\"time\",\"value\":\"" + at(8) + "\"}",
                "{\"target\":{\"type\":\"lsn\",\"value\":\"" + io.tidemark.events.wal.Lsn.of(8L * TestWal.SIZE.bytes() + 0x28) + "\"}",
                "{\"target\":{\"type\":\"name\",\"value\":\"rp\"}");
        for (String target : targets) {
            assertEquals(2, t.plan(target + "}").plan().timeline().value(), target);
        }
        String historyKey = StorageLayout.historyKey(PlanFixture.STANZA, TimelineId.of(2));
        t.objects.delete(historyKey);
        assertEquals(WalIndexer.Outcome.LOST, t.indexer.removed(historyKey, "ObjectRemoved:Delete", "00F2"));

        for (String target : targets) {
            TargetUnreachableException e = assertThrows(TargetUnreachableException.class, () -> t.plan(target + "}"),
                    target);
            String m = e.getMessage();
            assertTrue(m.contains("the target cannot be looked for on timeline latest: timeline 2 follows timeline 1"
                    + " but its history file 00000002.history is missing (deleted from the bucket"
                    + " (ObjectRemoved:Delete)) and its WAL is archived from 00000002000000000000000A"), m);
            assertTrue(m.contains("put the history file back, or to look for the target on timeline 1 alone:"
                    + " --target-timeline 1"), m);
        }
        // named explicitly, timeline 1 is searched: xid 1011 is timeline 1's own transaction there
        assertEquals(1, t.plan(xid + ",\"timeline\":\"1\"}").plan().timeline().value());
        // immediate is the backup's consistent point, whichever timeline follows
        assertEquals(1, t.plan("{\"target\":{\"type\":\"immediate\"}}").plan().timeline().value());
    }

    static String status(PlanFixture f, TestBackup b) {
        return view(f).backups().stream().filter(e -> e.label().equals(b.manifest.label().toString())).findFirst()
                .orElseThrow().status();
    }
}
