package io.tidemark.shim.backup;

import io.tidemark.events.backup.BackupManifest;
import io.tidemark.events.backup.ManifestFile;
import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.paths.SafeRelativePath;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Backup, the incremental decision: each file of the data directory either referenced to the
 * copy the prior backup names (unchanged by size and time, or with --checksum-delta by its
 * SHA-256) or stored by this backup.
 *
 * @param referenced  the prior backup's entries of the unchanged files
 * @param toStore     the files this backup stores (mutable: a resumed run takes out what it reuses)
 * @param priorFiles  the prior backup's files by path (block maps of large files are diffed against them)
 */
record ChangedFiles(List<ManifestFile> referenced, List<SourceFile> toStore, Map<SafeRelativePath, ManifestFile> priorFiles) {

    static ChangedFiles sort(List<SourceFile> walked, Optional<BackupManifest> prior, Map<BackupLabelName, Instant> startTimes,
                             boolean checksumDelta, int processMax) {
        // Incremental decisions: unchanged files are referenced to the copy the prior backup names.
        Map<SafeRelativePath, ManifestFile> priorFiles = new HashMap<>();
        prior.ifPresent(p -> p.files().forEach(f -> priorFiles.put(f.path(), f)));
        List<ManifestFile> referenced = new ArrayList<>();
        List<SourceFile> toStore = new ArrayList<>();
        List<SourceFile> checksumCandidates = new ArrayList<>();
        for (SourceFile f : walked) {
            ManifestFile earlier = priorFiles.get(f.path());
            if (checksumDelta && earlier != null && earlier.size() == f.size() && earlier.mtime().equals(f.mtime())) {
                checksumCandidates.add(f);
            } else if (!checksumDelta && BackupPlanner.unchanged(f, earlier, BackupPlanner.storedByStart(earlier, startTimes))) {
                referenced.add(earlier);
            } else {
                toStore.add(f);
            }
        }
        if (!checksumCandidates.isEmpty()) {
            Map<SafeRelativePath, Optional<String>> sums = ParallelFiles.apply(checksumCandidates, processMax,
                    f -> FileCopier.digestLike(f.absolute(), priorFiles.get(f.path())));
            for (SourceFile f : checksumCandidates) {
                Optional<String> sum = sums.get(f.path());
                if (sum.isEmpty()) {
                    continue; // vanished
                }
                ManifestFile earlier = priorFiles.get(f.path());
                if (BackupPlanner.unchangedByChecksum(f, earlier, sum.get())) {
                    referenced.add(earlier);
                } else {
                    toStore.add(f);
                }
            }
            toStore.sort(Comparator.comparing(SourceFile::path));
        }
        return new ChangedFiles(referenced, toStore, priorFiles);
    }
}
