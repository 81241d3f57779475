package io.tidemark.shim.backup;

import io.tidemark.events.backup.ManifestBundle;
import io.tidemark.events.backup.ManifestFile;
import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.layout.StorageLayout;
import io.tidemark.events.paths.SafeRelativePath;
import io.tidemark.shim.storage.ObjectStore;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Backup, resuming an interrupted run of the same label: what it stored is reused when the file
 * and the object still match what the resume record says.
 *
 * @param reused         the files not read again (singles and the files of reused bundles)
 * @param reusedBundles  the bundles not written again
 * @param nextBundleId   the first bundle id the earlier run did not use
 */
record ResumeReuse(List<ManifestFile> reused, List<ManifestBundle> reusedBundles, int nextBundleId) {

    /** A fresh backup: nothing to reuse. */
    static ResumeReuse none() {
        return new ResumeReuse(new ArrayList<>(), new ArrayList<>(), 0);
    }

    /** Reuses what {@code p} recorded and still matches; takes it out of {@code toStore}; tells the operator. */
    static ResumeReuse check(ResumeRecord.Previous p, List<SourceFile> toStore, ObjectStore store, StanzaName stanza,
                             BackupLabelName label, Compression compression, int processMax, PrintStream out) {
        List<ManifestFile> reused = new ArrayList<>();
        List<ManifestBundle> reusedBundles = new ArrayList<>();
        Map<SafeRelativePath, SourceFile> byPath = new HashMap<>();
        toStore.forEach(f -> byPath.put(f.path(), f));
        Set<SafeRelativePath> taken = new HashSet<>();
        // Reused only when the file's time is safely before the read that stored it (the
        // mtime margin, as for incrementals): a write in the same clock tick keeps the time.
        List<ManifestFile> singleCandidates = new ArrayList<>();
        // why stored copies are not reused, for the operator (and for a test that expects some to be)
        Map<BackupPlanner.ResumeCheck, Integer> why = new java.util.EnumMap<>(BackupPlanner.ResumeCheck.class);
        for (ResumeRecord.StoredFile stored : p.files().values()) {
            ManifestFile r = stored.file();
            SourceFile f = byPath.get(r.path());
            BackupPlanner.ResumeCheck check = BackupPlanner.resumeCheck(f, r, stored.readAt());
            // a mapped copy recorded by a build before manifest format 3 (the whole content's
            // SHA-256, not the block digest) cannot go into this run's manifest: read again
            if (r.blocks().isPresent() && !r.digestByBlocks()) {
                check = BackupPlanner.ResumeCheck.CHANGED;
            }
            if (check == BackupPlanner.ResumeCheck.REUSABLE && !BackupPlanner.bundled(f)) {
                singleCandidates.add(r);
            } else {
                why.merge(check, 1, Integer::sum);
            }
        }
        int nextBundleId = p.firstUnusedBundleId();
        List<ResumeRecord.StoredBundle> bundleCandidates = new ArrayList<>();
        for (ResumeRecord.StoredBundle b : p.bundles().values()) {
            List<BackupPlanner.ResumeCheck> checks = b.files().stream()
                    .map(r -> BackupPlanner.resumeCheck(byPath.get(r.path()), r, b.readAt())).toList();
            if (checks.stream().allMatch(c -> c == BackupPlanner.ResumeCheck.REUSABLE)) {
                bundleCandidates.add(b);
            } else {
                checks.forEach(c -> why.merge(c, 1, Integer::sum));
            }
        }
        int storedCopyDiffers = 0;
        Map<SafeRelativePath, Optional<String>> heads = ParallelFiles.apply(singleCandidates.stream()
                .map(r -> byPath.get(r.path())).toList(), processMax, f -> storedSha(store,
                StorageLayout.backupFileKey(stanza, label, f.path(), compression)));
        for (ManifestFile r : singleCandidates) {
            if (heads.get(r.path()).map(r.storedSha256()::equals).orElse(false)) {
                reused.add(r);
                taken.add(r.path());
            } else {
                storedCopyDiffers++;
            }
        }
        for (ResumeRecord.StoredBundle b : bundleCandidates) {
            boolean free = b.files().stream().noneMatch(r -> taken.contains(r.path()));
            if (free && storedSha(store, StorageLayout.bundleKey(stanza, label, b.bundle().id(), compression))
                    .map(b.bundle().storedSha256()::equals).orElse(false)) {
                reusedBundles.add(b.bundle());
                reused.addAll(b.files());
                b.files().forEach(r -> taken.add(r.path()));
            } else if (free) {
                storedCopyDiffers += b.files().size();
            }
        }
        toStore.removeIf(f -> taken.contains(f.path()));
        out.println("resuming backup " + label + ": " + reused.size() + " files already uploaded"
                + report(why, storedCopyDiffers));
        if (toStore.stream().anyMatch(f -> p.files().containsKey(f.path()))) {
            out.println("  files changed since, or modified too recently to trust their time, are read again;"
                    + " where the earlier copy's key is taken they are stored under a new bundle id");
        }
        return new ResumeReuse(reused, reusedBundles, nextBundleId);
    }

    private static Optional<String> storedSha(ObjectStore store, String key) {
        return store.head(key).map(h -> h.metadata().get("stored-sha256"));
    }

    /** ", read again: 3 changed since, 1 modified within 2 s of its earlier read, ..." or "". */
    static String report(Map<BackupPlanner.ResumeCheck, Integer> why, int storedCopyDiffers) {
        List<String> parts = new ArrayList<>();
        int changed = why.getOrDefault(BackupPlanner.ResumeCheck.CHANGED, 0);
        int recent = why.getOrDefault(BackupPlanner.ResumeCheck.TOO_RECENT, 0);
        if (changed > 0) {
            parts.add(changed + " changed since");
        }
        if (recent > 0) {
            parts.add(recent + " modified within " + BackupPlanner.MTIME_MARGIN_SECONDS + " s of the earlier read");
        }
        int mates = why.getOrDefault(BackupPlanner.ResumeCheck.REUSABLE, 0);
        if (mates > 0) {
            parts.add(mates + " unchanged but stored in a bundle with such files");
        }
        if (storedCopyDiffers > 0) {
            parts.add(storedCopyDiffers + " whose stored copy is missing or not the one recorded");
        }
        return parts.isEmpty() ? "" : "; read again: " + String.join(", ", parts);
    }
}
