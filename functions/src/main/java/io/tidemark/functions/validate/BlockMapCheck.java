package io.tidemark.functions.validate;

import io.tidemark.events.backup.BackupManifest;
import io.tidemark.events.backup.BlockMap;
import io.tidemark.events.backup.ManifestFile;
import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.paths.SafeRelativePath;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * Checks the block maps of the files a backup stores itself, as the referenced-files check does for
 * whole files: every block kept from an earlier backup must be in that backup's manifest, at the
 * same place of the same file, stored by that backup itself, with the same offset, stored size and
 * SHA-256 (that is the copy a restore reads). The blocks a backup stores itself are covered by the
 * object check (their object's SHA-256) and by the map's own rules ({@link ManifestFile}).
 */
final class BlockMapCheck {
    private BlockMapCheck() {
    }

    /** One problem per wrong block, naming the file and the block. */
    static List<String> check(BackupManifest m, Function<BackupLabelName, Optional<BackupManifest>> manifestOf) {
        record Use(ManifestFile file, int index, BlockMap.Block block) {
        }
        Map<BackupLabelName, List<Use>> byReference = new HashMap<>();
        for (ManifestFile f : m.files()) {
            if (!f.reference().equals(m.label()) || f.blocks().isEmpty()) {
                continue; // a file kept whole from an earlier backup is compared whole, blocks included
            }
            List<BlockMap.Block> blocks = f.blocks().get().blocks();
            for (int i = 0; i < blocks.size(); i++) {
                BlockMap.Block b = blocks.get(i);
                if (!b.reference().equals(m.label())) {
                    byReference.computeIfAbsent(b.reference(), r -> new ArrayList<>()).add(new Use(f, i, b));
                }
            }
        }
        List<String> reasons = new ArrayList<>();
        for (BackupLabelName ref : new TreeSet<>(byReference.keySet())) {
            Optional<BackupManifest> earlier = manifestOf.apply(ref);
            if (earlier.isEmpty()) {
                continue; // the chain check reports a referenced backup that does not exist or cannot be read
            }
            Map<SafeRelativePath, ManifestFile> theirs = new HashMap<>();
            earlier.get().files().forEach(f -> theirs.put(f.path(), f));
            for (Use u : byReference.get(ref)) {
                String what = "file " + u.file().path() + " block " + u.index() + ": ";
                ManifestFile t = theirs.get(u.file().path());
                if (t == null || t.blocks().isEmpty()) {
                    reasons.add(what + "referenced backup " + ref + " has " + (t == null ? "no such file" : "no block map for it"));
                    continue;
                }
                BlockMap map = t.blocks().get();
                if (map.blockSize() != u.file().blocks().get().blockSize()) {
                    reasons.add(what + "referenced backup " + ref + " cuts the file into blocks of " + map.blockSize()
                            + " bytes, this backup into " + u.file().blocks().get().blockSize());
                } else if (u.index() >= map.blocks().size() || !map.blocks().get(u.index()).equals(u.block())) {
                    reasons.add(what + "differs from the block referenced backup " + ref + " stores");
                }
            }
        }
        return reasons;
    }
}
