package io.tidemark.functions.retain;

import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalSegmentSize;
import io.tidemark.functions.catalog.BackupEntry;
import io.tidemark.functions.catalog.TimelineAggregate;
import io.tidemark.functions.window.WindowCalculator;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What retention decides from: the catalog's view of one stanza at one moment. Built by
 * {@link RetentionService} from the catalog and the bucket (or by tests from anything).
 *
 * @param backups        every {@code BACKUP#} item, with the Object Lock retain-until of its manifest
 * @param orphans        backup prefixes in the bucket that have no {@code BACKUP#} item
 * @param leaseLabel     the label of a backup lease held now (not released, not expired), or null
 * @param timelines      the {@code TIMELINE#} aggregates (ranges as the indexer joined them)
 * @param facts          what the window needs beyond the aggregates (WAL items; reads only)
 * @param expiredThrough per timeline, the highest segment number an earlier run expired
 * @param walLockedFrom  per timeline, the lowest segment number found under Object Lock retention
 */
public record RetentionView(
        WalSegmentSize segmentSize,
        List<Backup> backups,
        List<OrphanPrefix> orphans,
        String leaseLabel,
        List<TimelineAggregate> timelines,
        WindowCalculator.SegmentFacts facts,
        Map<TimelineId, Long> expiredThrough,
        Map<TimelineId, Long> walLockedFrom) {

    public RetentionView {
        Objects.requireNonNull(segmentSize, "segmentSize");
        backups = List.copyOf(backups);
        orphans = List.copyOf(orphans);
        timelines = List.copyOf(timelines);
        facts = facts == null ? WindowCalculator.SegmentFacts.NONE : facts;
        expiredThrough = Map.copyOf(expiredThrough);
        walLockedFrom = Map.copyOf(walLockedFrom);
    }

    /** A {@code BACKUP#} item and the retain-until of its manifest (null: not locked). */
    public record Backup(BackupEntry entry, Instant lockedUntil) {
        public Backup {
            Objects.requireNonNull(entry, "entry");
        }

        public BackupLabelName label() {
            return BackupLabelName.parse(entry.label());
        }
    }

    /**
     * Objects under {@code <stanza>/backup/<label>/} without a catalog item: a backup still being
     * uploaded, one whose manifest event has not been processed, or one that died halfway.
     *
     * @param newest      the newest object's last-modified time
     * @param hasManifest whether {@code manifest.json} is there (then validation is pending: kept)
     * @param lockedUntil the latest Object Lock retain-until seen among its objects, or null
     */
    public record OrphanPrefix(BackupLabelName label, long objects, long size, Instant newest, boolean hasManifest,
                               Instant lockedUntil) {
        public OrphanPrefix {
            Objects.requireNonNull(label, "label");
            Objects.requireNonNull(newest, "newest");
        }
    }
}
