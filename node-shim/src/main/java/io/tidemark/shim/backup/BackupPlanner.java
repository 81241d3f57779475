package io.tidemark.shim.backup;

import io.tidemark.events.backup.ManifestFile;
import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.StorageLayout;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The pure decisions of a backup: which files an incremental or differential references instead
 * of storing, and how the files to store are split into single objects and bundles.
 */
public final class BackupPlanner {
    /** Files smaller than this go into bundles. */
    public static final long BUNDLE_THRESHOLD = 64 * 1024;
    /** A bundle is closed once adding the next file would take it past this many (original) bytes. */
    public static final long BUNDLE_MAX = 8L << 20;
    /**
     * Modification times are kept by the file system at a coarse tick (jiffies): a file written
     * twice in one tick keeps its time. A file is referenced only if its time is this much older
     * than the start of the backup that read the stored copy, so no write after that read can have
     * kept the time.
     */
    static final long MTIME_MARGIN_SECONDS = 2;

    /** A group of small files stored as one object. */
    public record Bundle(int id, List<SourceFile> files) {
        public long size() {
            return files.stream().mapToLong(SourceFile::size).sum();
        }
    }

    private BackupPlanner() {
    }

    /**
     * Whether {@code file} can be referenced to the stored copy {@code earlier} without being read:
     * same size and modification time, and that time safely before {@code storedByStart}, the
     * start of the backup that read the copy. With checksum delta the caller also compares SHA-256.
     */
    public static boolean unchanged(SourceFile file, ManifestFile earlier, Instant storedByStart) {
        return earlier != null && earlier.size() == file.size() && earlier.mtime().equals(file.mtime())
                && storedByStart != null && file.mtime().isBefore(storedByStart.minusSeconds(MTIME_MARGIN_SECONDS));
    }

    /**
     * Whether a resumed run can reuse the copy an interrupted run stored of {@code file}, read at
     * {@code readAt}: same size and modification time, and that time safely before the read
     * ({@link #MTIME_MARGIN_SECONDS}), so no write after the read can have kept the time.
     */
    public static boolean reusable(SourceFile file, ManifestFile stored, Instant readAt) {
        return resumeCheck(file, stored, readAt) == ResumeCheck.REUSABLE;
    }

    /** Why a stored copy is or is not reusable, for {@link #reusable} and for the resume report. */
    public enum ResumeCheck {
        REUSABLE,
        /** Gone, or another size or modification time than when it was read. */
        CHANGED,
        /** Same size and time, but that time is within the margin before the read: cannot be trusted. */
        TOO_RECENT
    }

    public static ResumeCheck resumeCheck(SourceFile file, ManifestFile stored, Instant readAt) {
        if (file == null || stored == null || stored.size() != file.size() || !stored.mtime().equals(file.mtime())) {
            return ResumeCheck.CHANGED;
        }
        return readAt.isAfter(Instant.MIN) && file.mtime().isBefore(readAt.minusSeconds(MTIME_MARGIN_SECONDS))
                ? ResumeCheck.REUSABLE : ResumeCheck.TOO_RECENT;
    }

    /** With checksum delta: same size, modification time and SHA-256 (read now). */
    public static boolean unchangedByChecksum(SourceFile file, ManifestFile earlier, String sha256Now) {
        return earlier != null && earlier.size() == file.size() && earlier.mtime().equals(file.mtime())
                && earlier.sha256().equals(sha256Now);
    }

    /** Whether a file to store goes into a bundle: small, or its path cannot be part of an S3 key. */
    public static boolean bundled(SourceFile f) {
        return f.size() < BUNDLE_THRESHOLD || !StorageLayout.isKeySafe(f.path());
    }

    /**
     * Packs {@code files} (in their order) into bundles of at most {@link #BUNDLE_MAX} bytes (a
     * larger file gets a bundle of its own), numbered from {@code firstId}.
     */
    public static List<Bundle> bundle(List<SourceFile> files, int firstId, long max) {
        List<Bundle> out = new ArrayList<>();
        List<SourceFile> current = new ArrayList<>();
        long size = 0;
        int id = firstId;
        for (SourceFile f : files) {
            if (!current.isEmpty() && size + f.size() > max) {
                out.add(new Bundle(id++, List.copyOf(current)));
                current.clear();
                size = 0;
            }
            current.add(f);
            size += f.size();
        }
        if (!current.isEmpty()) {
            out.add(new Bundle(id, List.copyOf(current)));
        }
        return out;
    }

    /** The start time of the backup storing each referenced copy, for {@link #unchanged}. */
    public static Instant storedByStart(ManifestFile earlier, Map<BackupLabelName, Instant> startTimes) {
        return earlier == null ? null : startTimes.get(earlier.reference());
    }
}
