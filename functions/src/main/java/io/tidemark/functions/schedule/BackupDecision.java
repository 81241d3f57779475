package io.tidemark.functions.schedule;

import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.functions.catalog.BackupEntry;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * The scheduler's policy: which type of backup a schedule run asks for.
 * <ul>
 *   <li>no valid full backup: full (also instead of an explicit diff or incr, which would have
 *       nothing to build on);</li>
 *   <li>an explicit type: that type;</li>
 *   <li>else full when the newest valid full is older than the full interval, incr otherwise.</li>
 * </ul>
 * A full's age runs from its stop time (when it became restorable), or its label's start time
 * when the catalog has no stop time.
 */
public record BackupDecision(String type, String reason) {

    public static BackupDecision decide(Optional<String> requested, int fullIntervalDays, List<BackupEntry> backups,
                                        Instant now) {
        Optional<BackupEntry> newestFull = backups.stream()
                .filter(b -> BackupEntry.VALID.equals(b.status()))
                .filter(b -> label(b).map(BackupLabelName::isFull).orElse(false))
                .max(Comparator.comparing(b -> label(b).orElseThrow()));
        if (newestFull.isEmpty()) {
            return new BackupDecision("full", requested.filter(t -> !t.equals("full"))
                    .map(t -> "no valid full backup exists: a full instead of the requested " + t)
                    .orElse("no valid full backup exists"));
        }
        BackupEntry full = newestFull.get();
        Duration age = Duration.between(completedAt(full), now);
        String ageText = days(age);
        if (requested.isPresent()) {
            return new BackupDecision(requested.get(), "requested by the schedule (newest valid full " + full.label()
                    + " is " + ageText + " old)");
        }
        if (age.compareTo(Duration.ofDays(fullIntervalDays)) > 0) {
            return new BackupDecision("full", "the newest valid full " + full.label() + " is " + ageText
                    + " old, more than the full interval of " + fullIntervalDays + " days");
        }
        return new BackupDecision("incr", "incremental on the chain of " + full.label() + " (" + ageText
                + " old; a full every " + fullIntervalDays + " days)");
    }

    private static Optional<BackupLabelName> label(BackupEntry b) {
        try {
            return Optional.of(BackupLabelName.parse(b.label()));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    private static Instant completedAt(BackupEntry b) {
        if (b.stopTime() != null) {
            try {
                return Instant.parse(b.stopTime());
            } catch (RuntimeException e) {
                // the label below
            }
        }
        return label(b).orElseThrow().start().toInstant(ZoneOffset.UTC);
    }

    private static String days(Duration d) {
        long hours = Math.max(0, d.toHours());
        return hours < 48 ? hours + " h" : String.format(java.util.Locale.ROOT, "%.1f days", hours / 24.0);
    }
}
