package io.tidemark.shim.archiveget;

import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.TimelineHistory;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalFileName;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.shim.config.ShimConfig;
import io.tidemark.shim.storage.ObjectStore;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Instant;
import java.util.Optional;

/**
 * Without a restore plan (a standby's restore_command), the timelines newer than the one recovery
 * reads, as the archive holds them: when the primary is promoted or fails over, the new timeline's
 * {@code NNNNNNNN.history} is archived and a standby with {@code recovery_target_timeline =
 * 'latest'} (PostgreSQL's default) switches to it. The prefetcher probes the next timeline's
 * history file (verified as archive-get verifies it, then parsed), keeps it in the spool for the
 * launcher to serve, and from then on names the next segments as PostgreSQL will ask for them.
 *
 * <p>As PostgreSQL does ({@code rescanLatestTimeLine}): only the newest timeline found is a
 * target, and only when its history descends from the timeline being read and left it at or after
 * the segment recovery asked for last; otherwise PostgreSQL stays where it is, and so do the names.
 * On the target's history a segment is asked for on the newest timeline that has begun by that
 * segment ({@code XLogFileReadAnyTLI}), never going back to an older one than the segment asked
 * for last. Nothing here is ever an answer by itself: every segment is still fetched under its
 * own name and verified, and a history file that is not found is not remembered as missing.
 */
final class ArchivedTimelines {
    /** How many timelines one probe looks ahead at most (PostgreSQL's probe goes on until one is missing). */
    private static final int MAX_AHEAD = 8;

    private final ShimConfig config;
    private final ObjectStore store;
    private final PrefetchSpool spool;
    private final PrintStream log;
    /** The newest timeline's history found so far; null while none newer than the requested one is known. */
    private volatile TimelineHistory newest;

    ArchivedTimelines(ShimConfig config, ObjectStore store, PrefetchSpool spool, PrintStream log) {
        this.config = config;
        this.store = store;
        this.spool = spool;
        this.log = log;
    }

    /** The newest timeline's history known, if any is newer than {@code t}. */
    Optional<TimelineHistory> newerThan(TimelineId t) {
        TimelineHistory h = newest;
        return h != null && h.timeline().compareTo(t) > 0 ? Optional.of(h) : Optional.empty();
    }

    /**
     * Looks for the history files of the timelines after the newest known (or after
     * {@code asked}'s), each found one verified, parsed and spooled. Runs on a prefetch thread.
     */
    /** Set by the prefetcher as it leaves (its threads are interrupted): nothing cut short is logged. */
    volatile boolean leaving;

    void probe(WalSegmentName asked) {
        TimelineHistory h = newest;
        TimelineId t = h != null && h.timeline().compareTo(asked.timeline()) > 0 ? h.timeline() : asked.timeline();
        for (int i = 0; i < MAX_AHEAD; i++) {
            TimelineId next = t.next();
            WalFileName.History name = new WalFileName.History(next);
            Optional<byte[]> raw;
            try {
                raw = ArchiveGetCommand.fetch(store, config, name);
            } catch (RuntimeException e) {
                if (!leaving) { // a probe cut short by the prefetcher leaving failed nothing
                    log.println(Instant.now() + " probe of " + name.fileName() + " failed: " + e.getMessage());
                }
                return;
            }
            if (raw.isEmpty()) {
                return; // not (yet) archived: asked again at the next probe, never remembered
            }
            TimelineHistory found;
            try {
                found = TimelineHistory.parse(next, raw.get());
            } catch (IllegalArgumentException e) {
                log.println(Instant.now() + " " + name.fileName() + " is not a timeline history, not followed: "
                        + e.getMessage());
                return;
            }
            try {
                spool.putHistory(name.fileName(), raw.get());
            } catch (IOException e) {
                log.println(Instant.now() + " cannot spool " + name.fileName() + ": " + e.getMessage());
            }
            newest = found;
            t = next;
        }
    }

    /** The segment PostgreSQL asks for after {@code n}: across a switch to the newest timeline when it follows it. */
    WalSegmentName after(WalSegmentName n) {
        return after(newerThan(n.timeline()), n);
    }

    /** {@link #after(WalSegmentName)} with {@code newest} the newest timeline's history known. */
    static WalSegmentName after(Optional<TimelineHistory> newest, WalSegmentName n) {
        WalSegmentName next = n.next();
        Optional<TimelineHistory> target = newest.filter(h -> h.timeline().compareTo(n.timeline()) > 0 && follows(h, n));
        if (target.isEmpty()) {
            return next;
        }
        TimelineHistory h = target.get();
        // newest first: the target timeline, then its ancestors down to (not including) n's own
        for (int i = h.entries().size(); i >= 0; i--) {
            TimelineId t = i == h.entries().size() ? h.timeline() : h.entries().get(i).parent();
            if (t.compareTo(n.timeline()) <= 0) {
                break;
            }
            Lsn begin = h.startOf(t);
            long beginSegment = Long.divideUnsigned(begin.value(), n.segmentSize().bytes());
            if (Long.compareUnsigned(next.segmentNumber(), beginSegment) >= 0) {
                return next.onTimeline(t);
            }
        }
        return next;
    }

    /**
     * Whether recovery, having asked for {@code n}, can switch to {@code h}'s timeline: {@code n}'s
     * timeline is one of its ancestors, left no earlier than where {@code n} begins.
     */
    static boolean follows(TimelineHistory h, WalSegmentName n) {
        if (!h.isAncestor(n.timeline())) {
            return false;
        }
        return !h.branchPoint(n.timeline()).isBefore(n.startLsn());
    }
}
