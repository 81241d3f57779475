package io.tidemark.functions.retain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.events.layout.StorageLayout;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.functions.catalog.ExpiredWal;
import io.tidemark.functions.catalog.Keys;
import io.tidemark.functions.plan.PlanFixture;
import io.tidemark.functions.plan.TargetUnreachableException;
import io.tidemark.functions.validate.TestBackup;
import io.tidemark.functions.window.WindowService;
import java.time.Clock;
import java.time.ZoneOffset;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The service on in-memory stores with real WAL indexed by the real indexer and backups validated
 * by the real validator: three fulls, count 2.
 */
@Tag("unit")
class RetentionServiceTest {

    final PlanFixture f = new PlanFixture();
    final RetentionService service = new RetentionService(f.objects, f.catalog, new RetentionPlanner(),
            Clock.fixed(f.now, ZoneOffset.UTC));
    final RetentionPolicy countTwo = new RetentionPolicy(new RetentionPolicy.FullRetention.ByCount(2), 6);

    TestBackup first;
    TestBackup second;

    void threeFulls() {
        f.archive(1, 1, 30, Map.of());
        first = f.backup(1, 1, 2, 3, PlanFixture.at(3));
        second = f.backup(2, 1, 10, 11, PlanFixture.at(11));
        f.backup(3, 1, 20, 21, PlanFixture.at(21));
    }

    String pk() {
        return Keys.pk(PlanFixture.STANZA);
    }

    long objectsUnder(String prefix) {
        return f.objects.keys().stream().filter(k -> k.startsWith(prefix)).count();
    }

    @Test
    void dryRunDeletesNothing() {
        threeFulls();
        int items = f.catalog.all().size();
        int objects = f.objects.keys().size();
        RetentionService.Result r = service.run(PlanFixture.STANZA, countTwo, true);
        assertEquals(1, r.plan().backupDeletions().size());
        assertEquals(first.manifest.label(), r.plan().backupDeletions().getFirst().label());
        assertEquals(1, r.plan().walDeletions().size());
        assertEquals(9, r.plan().walDeletions().getFirst().through());
        assertEquals(items, f.catalog.all().size());
        assertEquals(objects, f.objects.keys().size());
    }

    @Test
    void removesObjectsAndItemsTogetherMovesTheWindowAndARerunIsANoOp() {
        threeFulls();
        assertTrue(f.plan("{\"target\":{\"type\":\"time\",\"value\":\"" + PlanFixture.at(5.5) + "\"}}") != null);
        String prefix = StorageLayout.backupPrefix(PlanFixture.STANZA, first.manifest.label());
        assertTrue(objectsUnder(prefix) > 0);

        RetentionService.Result r = service.run(PlanFixture.STANZA, countTwo, false);
        assertFalse(r.dryRun());
        assertEquals(0, objectsUnder(prefix));
        assertTrue(f.catalog.get(pk(), Keys.backup(first.manifest.label())).isEmpty());
        assertTrue(f.catalog.get(pk(), Keys.backup(second.manifest.label())).isPresent());
        String walPrefix = StorageLayout.timelineWalPrefix(PlanFixture.STANZA, TimelineId.of(1));
        assertEquals(30 - 9, objectsUnder(walPrefix));
        assertEquals(30 - 9, f.catalog.query(pk(), Keys.walPrefix(TimelineId.of(1))).size());
        assertEquals(9L, ExpiredWal.read(f.catalog, pk()).get(TimelineId.of(1)));

        // The window starts at the second full's consistent point; the planner refuses what went.
        var window = new WindowService(f.catalog).read(f.meta).orElseThrow().window();
        assertEquals(PlanFixture.at(11), window.earliest().orElseThrow().time());
        assertThrows(TargetUnreachableException.class,
                () -> f.plan("{\"target\":{\"type\":\"time\",\"value\":\"" + PlanFixture.at(5.5) + "\"}}"));
        assertEquals(second.manifest.label(),
                f.plan("{\"target\":{\"type\":\"time\",\"value\":\"" + PlanFixture.at(15.5) + "\"}}").plan().backupLabel());

        int items = f.catalog.all().size();
        RetentionService.Result again = service.run(PlanFixture.STANZA, countTwo, false);
        assertTrue(again.plan().isEmpty(), "a re-run deletes " + again.plan().deletions());
        assertEquals(0, again.objectsDeleted());
        assertEquals(items, f.catalog.all().size());
    }

    /**
     * The removal event of each object retention deletes reaches the indexer at the worst moment:
     * right after the delete, before retention removed the object's items and moved its watermark.
     * Retention's own deletes are not losses: no segment is lost, no gap, the same window.
     */
    @Test
    void theRemovalEventsOfRetentionsOwnDeletesAreNoLosses() {
        threeFulls();
        io.tidemark.functions.index.WalIndexer indexer = new io.tidemark.functions.index.WalIndexer(f.objects, f.catalog);
        java.util.List<io.tidemark.functions.index.WalIndexer.Outcome> outcomes = new java.util.ArrayList<>();
        io.tidemark.functions.catalog.ObjectStore eventing = new io.tidemark.functions.catalog.ObjectStore() {
            @Override
            public java.util.Optional<StoredObject> get(String key) {
                return f.objects.get(key);
            }

            @Override
            public java.util.Optional<ObjectInfo> head(String key) {
                return f.objects.head(key);
            }

            @Override
            public void delete(String key) {
                f.objects.delete(key);
                outcomes.add(indexer.removed(key, "ObjectRemoved:Delete", null));
            }

            @Override
            public java.util.List<ListedObject> list(String prefix) {
                return f.objects.list(prefix);
            }

            @Override
            public java.util.List<String> childPrefixes(String prefix) {
                return f.objects.childPrefixes(prefix);
            }

            @Override
            public void put(String key, byte[] content, String contentType, Map<String, String> metadata) {
                f.objects.put(key, content, contentType, metadata);
            }
        };
        new RetentionService(eventing, f.catalog, new RetentionPlanner(), Clock.fixed(f.now, ZoneOffset.UTC))
                .run(PlanFixture.STANZA, countTwo, false);
        assertTrue(outcomes.size() > 9, outcomes.toString());
        assertTrue(outcomes.stream().noneMatch(o -> o == io.tidemark.functions.index.WalIndexer.Outcome.LOST),
                outcomes.toString());
        var t1 = io.tidemark.functions.catalog.TimelineAggregate.fromItem(
                f.catalog.get(pk(), Keys.timeline(TimelineId.of(1))).orElseThrow(), f.meta.walSegmentSize());
        assertTrue(t1.lost().isEmpty(), t1.lost().toString());
        assertTrue(t1.ranges().gaps().isEmpty(), t1.ranges().toString());
        var window = new WindowService(f.catalog).read(f.meta).orElseThrow().window();
        assertEquals(PlanFixture.at(11), window.earliest().orElseThrow().time());
        assertTrue(window.gaps().isEmpty(), window.gaps().toString());
        assertTrue(f.catalog.get(pk(), Keys.backup(first.manifest.label())).isEmpty());
    }

    @Test
    void aLockedBackupIsKeptWithTheWalItNeeds() {
        threeFulls();
        f.objects.lock(first.manifestKey(), f.now.plusSeconds(86400));
        RetentionService.Result r = service.run(PlanFixture.STANZA, countTwo, false);
        assertTrue(r.plan().backupDeletions().isEmpty());
        assertTrue(r.plan().kept().stream().anyMatch(k -> k.reason().contains("Object Lock")));
        assertTrue(f.objects.contains(first.manifestKey()));
        assertEquals(1, r.plan().walDeletions().getFirst().through());
    }

    @Test
    void anEventWithoutAPolicyTakesTheStanzasConfiguredOne() {
        threeFulls();
        StanzaPolicies configured = StanzaPolicies.parse("{\"" + PlanFixture.STANZA.value()
                + "\": {\"fullType\": \"count\", \"full\": 3, \"diff\": 0}}");
        RetentionService keepsThree = new RetentionService(f.objects, f.catalog, new RetentionPlanner(),
                Clock.fixed(f.now, ZoneOffset.UTC), configured);
        RetentionService.Result r = keepsThree.run(PlanFixture.STANZA, null, true);
        assertEquals("count 3, diff 0", r.plan().policy().toString());
        assertTrue(r.plan().backupDeletions().isEmpty(), r.plan().deletions().toString());
        // without a configured policy: the default, count 2
        assertEquals(1, service.run(PlanFixture.STANZA, null, true).plan().backupDeletions().size());
    }

    @Test
    void configuredPoliciesAreCheckedWithClearMessages() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> StanzaPolicies.parse("{\"main\": {\"fullType\": \"count\", \"full\": 0}}"));
        assertEquals("TIDEMARK_RETENTION_POLICIES: stanza 'main': retention.full: must be between 1 and 9999, got 0",
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> StanzaPolicies.parse("[1]"));
        assertThrows(IllegalArgumentException.class, () -> StanzaPolicies.parse("{\"main\": 3}"));
        assertEquals(RetentionPolicy.DEFAULT, StanzaPolicies.parse("").of(PlanFixture.STANZA));
    }
}
