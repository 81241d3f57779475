package io.tidemark.shim.restore;

import io.tidemark.events.plan.PlanFile;
import io.tidemark.events.plan.PlanWal;
import io.tidemark.events.plan.RestorePlan;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every distinct object a plan reads, with the stored size it must have: a single backup file its
 * stored size; a bundle at least the end of its last member the plan reads (the plan does not
 * carry a bundle's total size); a WAL segment or history file its stored size when the plan
 * records one (0: not recorded, only its existence is checked). A single file stored with no
 * bytes is never downloaded (restore creates it empty), so it is not checked either.
 */
record PlanObjects(List<Expected> objects) {

    /** One object: its key, the size it must have (exactly, or at least), and what it is for people. */
    record Expected(String key, long size, boolean atLeast, String what) {
        boolean fits(long found) {
            return atLeast ? found >= size : size == 0 || found == size;
        }

        String sizeText() {
            return size == 0 && !atLeast ? "present" : (atLeast ? "at least " : "") + size + " bytes";
        }
    }

    PlanObjects {
        objects = List.copyOf(objects);
    }

    /** The objects of {@code files} (the backup files restore writes) and of every WAL and history file the plan lists. */
    static PlanObjects of(List<PlanFile> files, RestorePlan plan) {
        Map<String, Expected> byKey = new LinkedHashMap<>();
        for (PlanFile f : files) {
            if (f.bundled()) {
                long end = f.bundleOffset() + f.storedSize();
                Expected e = byKey.get(f.key());
                if (e == null || e.size() < end) {
                    byKey.put(f.key(), new Expected(f.key(), end, true, "bundle of backup " + f.backup()));
                }
            } else if (f.storedSize() > 0) {
                byKey.put(f.key(), new Expected(f.key(), f.storedSize(), false, "file " + f.path() + " of backup "
                        + f.backup()));
            }
            // a file stored block by block also reads the objects of the earlier backups holding its other blocks
            f.blocks().ifPresent(map -> map.blocks().stream().filter(b -> !b.key().equals(f.key())).forEach(b -> {
                long end = b.offset() + b.storedSize();
                Expected e = byKey.get(b.key());
                if (e == null || e.size() < end) {
                    byKey.put(b.key(), new Expected(b.key(), end, true, "blocks of " + f.path() + " in backup " + b.backup()));
                }
            }));
        }
        for (PlanWal w : plan.wal()) {
            if (w.isAssembled()) {
                // a segment known from streamed chunks: every chunk it is assembled from
                for (io.tidemark.events.plan.PlanWalChunk c : w.chunks()) {
                    byKey.putIfAbsent(c.key(), new Expected(c.key(), c.storedSize(), false, "streamed chunk [" + c.start()
                            + ", " + c.end() + ") of WAL segment " + w.name()));
                }
                continue;
            }
            byKey.putIfAbsent(w.key(), new Expected(w.key(), w.storedSize(), false,
                    w.name().endsWith(".history") ? "history file " + w.name() : "WAL segment " + w.name()));
        }
        return new PlanObjects(new ArrayList<>(byKey.values()));
    }
}
