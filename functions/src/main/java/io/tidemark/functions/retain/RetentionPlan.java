package io.tidemark.functions.retain;

import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.functions.window.RecoveryWindow;
import java.time.Instant;
import java.util.List;

/**
 * What one retention run removes, in order, what it keeps and why, and the recovery window after it.
 *
 * @param deletions    in the order they must run: backups dependents-first (newest first), then
 *                     orphaned prefixes, then WAL
 * @param kept         every backup that stays, with the first rule that kept it
 * @param notes        why WAL was held back, and other things an operator should know
 * @param windowBefore the window from the backups valid now
 * @param windowAfter  the window from the kept backups and the WAL left after the run
 * @param heldBack     fulls the policy would expire but the cap on fulls per run holds back until
 *                     an operator confirms a run (also in {@code kept}, with that reason)
 */
public record RetentionPlan(RetentionPolicy policy, Instant now, List<Deletion> deletions, List<Kept> kept,
                            List<String> notes, RecoveryWindow windowBefore, RecoveryWindow windowAfter,
                            List<String> heldBack) {

    public RetentionPlan {
        heldBack = List.copyOf(heldBack);
        deletions = List.copyOf(deletions);
        kept = List.copyOf(kept);
        notes = List.copyOf(notes);
    }

    /** One thing to remove. */
    public sealed interface Deletion {
    }

    /** A backup with a catalog item: every object under its prefix, then its {@code BACKUP#}/{@code WAIT#} items. */
    public record BackupDeletion(BackupLabelName label, String status, long storedSize, String reason)
            implements Deletion {
    }

    /** Objects under a backup prefix that has no catalog item and is older than the safe age. */
    public record OrphanDeletion(BackupLabelName label, long objects, long size, String reason) implements Deletion {
    }

    /**
     * The WAL of one timeline from after the previous watermark through {@code through} (segment
     * numbers): {@code segments} archived ones among them. {@code through} becomes the timeline's
     * expired-through watermark.
     */
    public record WalDeletion(TimelineId timeline, long from, long through, long segments, String reason)
            implements Deletion {
    }

    /** A backup that stays and the first rule that kept it. */
    public record Kept(String label, String reason) {
    }

    public List<BackupDeletion> backupDeletions() {
        return deletions.stream().filter(d -> d instanceof BackupDeletion).map(d -> (BackupDeletion) d).toList();
    }

    public List<OrphanDeletion> orphanDeletions() {
        return deletions.stream().filter(d -> d instanceof OrphanDeletion).map(d -> (OrphanDeletion) d).toList();
    }

    public List<WalDeletion> walDeletions() {
        return deletions.stream().filter(d -> d instanceof WalDeletion).map(d -> (WalDeletion) d).toList();
    }

    public boolean isEmpty() {
        return deletions.isEmpty();
    }
}
