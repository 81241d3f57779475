package io.tidemark.events.plan;

import io.tidemark.events.backup.ManifestTablespace;
import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.paths.SafeRelativePath;
import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalSegmentSize;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Everything a node needs to restore a stanza to a target, decided and signed by the cloud: the
 * backup chain, every file with its checksums, every WAL file recovery will ask for, and the
 * recovery settings. The node verifies the signature ({@code sign.SignedEnvelope}), the expiry,
 * the stanza and system identifier, and every path, before it writes anything.
 *
 * <p>Download URLs are deliberately not part of the signed document: they expire sooner and are
 * renewed ({@code GET /restore-plans/{id}/urls}); a URL can only deliver bytes, which are checked
 * against the signed checksums.
 *
 * @param timeline          the timeline recovery ends on (what {@code recovery_target_timeline} resolves to)
 * @param backupLabel       the backup restored; {@code chain} lists it and every backup it references
 * @param backupLabelFile   the {@code backup_label} content to write into the data directory
 * @param recoverySettings  settings for postgresql.auto.conf, without {@code restore_command}
 * @param reachability      why the planner holds the target reachable, for people
 * @param walRanges         every WAL segment recovery needs, per timeline, including those beyond
 *                          the capped {@code wal} list (optional in the document: plans written
 *                          before it have none, and then only {@code wal} is promised)
 */
public record RestorePlan(int formatVersion,
                          String planId,
                          StanzaName stanza,
                          String systemIdentifier,
                          int pgVersionNum,
                          WalSegmentSize walSegmentSize,
                          Instant createdAt,
                          Instant expiresAt,
                          RecoveryRequest request,
                          TimelineId timeline,
                          BackupLabelName backupLabel,
                          List<BackupLabelName> chain,
                          Lsn backupStartLsn,
                          Lsn backupStopLsn,
                          TimelineId backupTimeline,
                          String backupLabelFile,
                          Optional<String> tablespaceMap,
                          List<ManifestTablespace> tablespaces,
                          List<SafeRelativePath> directories,
                          List<PlanFile> files,
                          List<PlanWal> wal,
                          Map<String, String> recoverySettings,
                          String reachability,
                          List<PlanWalRange> walRanges) {

    public static final int FORMAT_VERSION = 1;

    /** A plan without WAL ranges (as written before they existed). */
    public RestorePlan(int formatVersion, String planId, StanzaName stanza, String systemIdentifier, int pgVersionNum,
                       WalSegmentSize walSegmentSize, Instant createdAt, Instant expiresAt, RecoveryRequest request,
                       TimelineId timeline, BackupLabelName backupLabel, List<BackupLabelName> chain, Lsn backupStartLsn,
                       Lsn backupStopLsn, TimelineId backupTimeline, String backupLabelFile, Optional<String> tablespaceMap,
                       List<ManifestTablespace> tablespaces, List<SafeRelativePath> directories, List<PlanFile> files,
                       List<PlanWal> wal, Map<String, String> recoverySettings, String reachability) {
        this(formatVersion, planId, stanza, systemIdentifier, pgVersionNum, walSegmentSize, createdAt, expiresAt, request,
                timeline, backupLabel, chain, backupStartLsn, backupStopLsn, backupTimeline, backupLabelFile, tablespaceMap,
                tablespaces, directories, files, wal, recoverySettings, reachability, List.of());
    }

    public RestorePlan {
        PlanChecks.require(formatVersion == FORMAT_VERSION, "restore plan format " + formatVersion + " is not supported");
        PlanChecks.require(planId != null && planId.matches("[0-9a-f-]{8,64}"), "invalid plan id '" + planId + "'");
        PlanChecks.require(stanza != null && request != null && timeline != null && backupLabel != null,
                "stanza, request, timeline and backup are required");
        PlanChecks.require(systemIdentifier != null && systemIdentifier.matches("[0-9]{1,20}"), "invalid system identifier");
        PlanChecks.require(createdAt != null && expiresAt != null && expiresAt.isAfter(createdAt), "expiry must follow creation");
        PlanChecks.require(chain != null && chain.contains(backupLabel), "the chain must contain the backup");
        PlanChecks.require(backupLabelFile != null && !backupLabelFile.isEmpty(), "backup_label content is missing");
        PlanChecks.require(tablespaceMap != null, "tablespaceMap is missing (use Optional.empty())");
        PlanChecks.require(walSegmentSize != null && backupStartLsn != null && backupStopLsn != null && backupTimeline != null,
                "backup positions are required");
        tablespaces = List.copyOf(tablespaces);
        directories = List.copyOf(directories);
        files = List.copyOf(files);
        wal = List.copyOf(wal);
        walRanges = walRanges == null ? List.of() : List.copyOf(walRanges);
        chain = List.copyOf(chain);
        recoverySettings = Map.copyOf(recoverySettings);
        Set<SafeRelativePath> seen = new HashSet<>();
        for (PlanFile f : files) {
            PlanChecks.require(seen.add(f.path()), "file " + f.path() + " listed twice");
            PlanChecks.require(chain.contains(f.backup()), f.path() + ": stored by " + f.backup() + ", which is not in the chain");
        }
        for (String k : recoverySettings.keySet()) {
            PlanChecks.require(k.matches("recovery_target[a-z_]*"), "plan may only set recovery_target* settings, not '" + k + "'");
        }
    }

    /** Whether the plan may still be executed at {@code now}. */
    public boolean isExpired(Instant now) {
        return !now.isBefore(expiresAt);
    }
}
