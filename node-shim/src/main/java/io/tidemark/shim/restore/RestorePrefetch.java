package io.tidemark.shim.restore;

import io.tidemark.events.plan.RestorePlan;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.shim.archiveget.PrefetchCommand;
import io.tidemark.shim.archiveget.PrefetchSpool;
import io.tidemark.shim.config.ShimConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/** Restore, step 6: the WAL prefetcher started while the files download. */
final class RestorePrefetch {
    private RestorePrefetch() {
    }

    /** The first segment recovery reads: the one holding the backup's start (redo) LSN. */
    static WalSegmentName firstSegment(RestorePlan plan) {
        return WalSegmentName.containing(plan.backupTimeline(), plan.backupStartLsn(), plan.walSegmentSize());
    }

    /**
     * Starts the WAL prefetcher while the files download, so that the first segments are in the
     * spool when PostgreSQL starts and asks for them (otherwise the first ask would fetch one
     * segment in a fresh JVM, then start the prefetcher). Only when archive-get will find this spool usable: prefetching
     * is on, and this user owns PGDATA, as the user PostgreSQL runs as must; a restore run as root
     * for a postgres-owned cluster starts it as that user (its spool, the plan file given to it).
     */
    static boolean start(PrefetchCommand.Starter prefetch, ShimConfig config, RestorePlan plan, Path pgdata, Path planFile) {
        if (config.prefetch() <= 0) {
            return false;
        }
        try {
            String owner = Files.getOwner(pgdata).getName();
            if (!owner.equals(System.getProperty("user.name"))) {
                // root restoring for the user PostgreSQL runs as: that user's prefetcher, in that
                // user's spool, reading the plan file handed to that user
                WalSegmentName first = firstSegment(plan);
                if (!"root".equals(System.getProperty("user.name")) || first.segmentNumber() == 0) {
                    return false;
                }
                Files.setOwner(planFile, Files.getOwner(pgdata));
                return prefetch.startAs(owner, config, first.previous(), planFile);
            }
            Optional<PrefetchSpool> spool = PrefetchSpool.open(config.spoolDir(), config.stanza());
            if (spool.isEmpty()) {
                return false;
            }
            WalSegmentName first = firstSegment(plan);
            if (first.segmentNumber() == 0) {
                return false;
            }
            WalSegmentName before = first.previous();
            // a prefetcher left from an earlier restore (maybe another endpoint) leaves first
            spool.get().newGeneration();
            if (!spool.get().waitUnlocked(Duration.ofSeconds(5))) {
                return false;
            }
            spool.get().noteRequested(before);
            prefetch.start(config, spool.get(), before, Optional.of(planFile));
            return true;
        } catch (IOException | RuntimeException e) {
            return false; // archive-get starts it on the first ask
        }
    }
}
