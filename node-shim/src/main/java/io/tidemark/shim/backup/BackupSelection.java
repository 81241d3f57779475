package io.tidemark.shim.backup;

import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.BackupLabelName.Type;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Which backup to take: the type (asked, or the default {@code incr}) and the prior backup it
 * builds on, from the catalog's list. Only {@code valid} backups count.
 * <ul>
 *   <li>{@code full}: no prior.</li>
 *   <li>{@code diff}: prior = the newest valid full; none: a full instead.</li>
 *   <li>{@code incr}: prior = the newest valid backup of any type of the newest valid full's chain;
 *       no valid full: a full instead.</li>
 * </ul>
 *
 * @param note why the type differs from what was asked, or empty
 */
public record BackupSelection(Type type, Optional<BackupLabelName> prior, Optional<String> note) {

    public static BackupSelection select(Optional<Type> requested, List<CatalogBackup> backups) {
        Type asked = requested.orElse(Type.INCR);
        if (asked == Type.FULL) {
            return new BackupSelection(Type.FULL, Optional.empty(), Optional.empty());
        }
        Optional<BackupLabelName> full = backups.stream().filter(CatalogBackup::isValid).map(CatalogBackup::label)
                .filter(BackupLabelName::isFull).max(Comparator.naturalOrder());
        if (full.isEmpty()) {
            return new BackupSelection(Type.FULL, Optional.empty(), Optional.of("no valid full backup exists: taking a full"
                    + " backup instead of " + (asked == Type.DIFF ? "a differential" : "an incremental")));
        }
        if (asked == Type.DIFF) {
            return new BackupSelection(Type.DIFF, full, Optional.empty());
        }
        BackupLabelName f = full.get();
        Optional<BackupLabelName> last = backups.stream().filter(CatalogBackup::isValid).map(CatalogBackup::label)
                .filter(l -> l.full().equals(f)).max(Comparator.naturalOrder());
        return new BackupSelection(Type.INCR, last, Optional.empty());
    }

    /**
     * The label of a new backup of this selection starting at {@code now} (UTC, whole seconds),
     * moved to one second after the prior when the clock says otherwise: labels must grow.
     */
    public BackupLabelName label(Instant now) {
        LocalDateTime t = LocalDateTime.ofInstant(now.truncatedTo(ChronoUnit.SECONDS), ZoneOffset.UTC);
        if (type == Type.FULL) {
            return BackupLabelName.full(t);
        }
        BackupLabelName p = prior.orElseThrow();
        if (!t.isAfter(p.start())) {
            t = p.start().plusSeconds(1);
        }
        return BackupLabelName.childOf(p.full(), type, t);
    }
}
