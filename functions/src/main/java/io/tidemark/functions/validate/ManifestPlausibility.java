package io.tidemark.functions.validate;

import io.tidemark.events.backup.BackupLabel;
import io.tidemark.events.backup.BackupManifest;
import io.tidemark.events.backup.ManifestFile;
import io.tidemark.events.paths.SafeRelativePath;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a manifest claims that cannot be true, judged against the cloud's own clock: the S3 event
 * time of the manifest's upload. Retention and the window order backups by when the cloud
 * accepted them, but a manifest whose times or files are impossible is refused outright, so a
 * compromised node cannot make a few bytes look like the newest full backup. See
 * {@code docs/backup-validation.md#refused-manifests}.
 *
 * <ul>
 *   <li>times: the backup cannot stop after its manifest was uploaded, and its label (the start
 *       the node named it after) cannot be after its start time, each beyond {@code skew}; a
 *       label before the start is normal (a resumed backup keeps its first label);</li>
 *   <li>the {@code backup_label} text: parses, names the manifest's start LSN and timeline, and
 *       its {@code START TIME} (when its zone is unambiguous) is the manifest's start within
 *       {@code skew}; the {@code backup_label} file of the backup holds exactly that text;</li>
 *   <li>a full backup lists {@code global/pg_control} (8192 bytes, PostgreSQL's
 *       {@code PG_CONTROL_FILE_SIZE}), {@code PG_VERSION} (a few bytes) and at least one file
 *       under {@code base/}: without them PostgreSQL cannot start from it.</li>
 * </ul>
 * Each problem is one reason starting with {@link #PREFIX}.
 */
public final class ManifestPlausibility {

    /** Every reason starts with this: the manifest was refused, not found damaged. */
    public static final String PREFIX = "refused: ";


    static final long PG_CONTROL_SIZE = 8192;
    static final long PG_VERSION_MAX_SIZE = 16;

    private ManifestPlausibility() {
    }

    /**
     * @param accepted the S3 event time of the manifest upload (the cloud's clock)
     * @param skew     how far a node's times may be ahead of it
     * @return the reasons to refuse the manifest, empty when none
     */
    public static List<String> check(BackupManifest m, Instant accepted, Duration skew) {
        List<String> out = new ArrayList<>();
        Instant latest = accepted.plus(skew);
        if (m.stopTime().isAfter(latest)) {
            out.add(PREFIX + "the backup stops at " + m.stopTime() + ", after its manifest was uploaded (" + accepted
                    + ", allowed skew " + skew + ")");
        }
        Instant labelStart = m.label().start().toInstant(ZoneOffset.UTC);
        if (labelStart.isAfter(m.startTime().plus(skew))) {
            out.add(PREFIX + "the label " + m.label() + " says the backup started at " + labelStart
                    + ", but it started at " + m.startTime() + " (allowed skew " + skew + ")");
        }
        if (labelStart.isAfter(latest)) {
            out.add(PREFIX + "the label " + m.label() + " is later than the upload of its manifest (" + accepted + ")");
        }
        checkLabel(m, skew, out);
        if (m.label().isFull()) {
            checkFullFiles(m, out);
        }
        return List.copyOf(out);
    }

    private static void checkLabel(BackupManifest m, Duration skew, List<String> out) {
        BackupLabel label;
        try {
            label = BackupLabel.parse(m.backupLabel(), m.walSegmentSize());
        } catch (IllegalArgumentException e) {
            out.add(PREFIX + "its backup_label cannot be read: " + e.getMessage());
            return;
        }
        if (!label.startLsn().equals(m.startLsn())) {
            out.add(PREFIX + "its backup_label starts at " + label.startLsn() + ", the manifest at " + m.startLsn());
        }
        if (!label.timeline().equals(m.timeline())) {
            out.add(PREFIX + "its backup_label is on timeline " + label.timeline().value() + ", the manifest on "
                    + m.timeline().value());
        }
        Optional<Instant> start = label.startTime().flatMap(t -> t.instant());
        if (start.isPresent() && Duration.between(start.get(), m.startTime()).abs().compareTo(skew) > 0) {
            out.add(PREFIX + "its backup_label says START TIME " + start.get() + ", the manifest " + m.startTime());
        }
        Map<SafeRelativePath, ManifestFile> byPath = byPath(m);
        ManifestFile file = byPath.get(SafeRelativePath.of("backup_label"));
        if (file == null) {
            out.add(PREFIX + "the backup has no backup_label file (the node stores what pg_backup_stop returned)");
        } else if (!file.sha256().equals(ObjectVerifier.sha256Hex(
                m.backupLabel().getBytes(java.nio.charset.StandardCharsets.UTF_8)))) {
            out.add(PREFIX + "its backup_label file is not the manifest's backup_label text");
        }
    }

    private static void checkFullFiles(BackupManifest m, List<String> out) {
        Map<SafeRelativePath, ManifestFile> byPath = byPath(m);
        ManifestFile control = byPath.get(SafeRelativePath.of("global/pg_control"));
        if (control == null) {
            out.add(PREFIX + "a full backup without global/pg_control");
        } else if (control.size() != PG_CONTROL_SIZE) {
            out.add(PREFIX + "global/pg_control has " + control.size() + " bytes, PostgreSQL writes " + PG_CONTROL_SIZE);
        }
        ManifestFile version = byPath.get(SafeRelativePath.of("PG_VERSION"));
        if (version == null) {
            out.add(PREFIX + "a full backup without PG_VERSION");
        } else if (version.size() < 2 || version.size() > PG_VERSION_MAX_SIZE) {
            out.add(PREFIX + "PG_VERSION has " + version.size() + " bytes (a major version and a newline)");
        }
        if (byPath.keySet().stream().noneMatch(p -> p.path().startsWith("base/"))) {
            out.add(PREFIX + "a full backup without any file under base/ (no database)");
        }
    }

    private static Map<SafeRelativePath, ManifestFile> byPath(BackupManifest m) {
        Map<SafeRelativePath, ManifestFile> out = new HashMap<>();
        m.files().forEach(f -> out.put(f.path(), f));
        return out;
    }
}
