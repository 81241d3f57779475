package io.tidemark.functions.index;

import io.tidemark.events.metrics.TidemarkMetric;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.events.wal.scan.TransactionEnd;
import io.tidemark.events.wal.scan.WalSegmentSummary;
import io.tidemark.functions.catalog.BackupEntry;
import io.tidemark.functions.catalog.Item;
import io.tidemark.functions.catalog.ItemMerger;
import io.tidemark.functions.catalog.Keys;
import io.tidemark.functions.catalog.StanzaMeta;
import io.tidemark.functions.metrics.MetricsPublisher;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Commit times a segment cannot hold: later than the S3 event time of the segment's upload plus
 * the skew (a commit cannot happen after the WAL recording it was archived). A compromised node
 * could write such times to stretch the recovery window into the future or to make a time target
 * land where it chooses. The indexer keeps the commits (their xids stay usable) but drops their
 * times before anything is derived from the scan: the {@code WAL#} item's commit times, the
 * {@code COMMITTIME#} lookup and the {@code TIMELINE#} aggregate, hence the window and time
 * targets, never see them. The items say how many were dropped ({@code futureCommitTimes}), the
 * stanza's {@code FUTUREWALTIMES} item lists the segments (for {@code tidemark info}), and each
 * flagged segment publishes {@code FutureWalTimes}.
 */
final class FutureCommitTimes {

    private static final System.Logger LOG = System.getLogger(FutureCommitTimes.class.getName());

    /** Attribute on {@code WAL#} and {@code COMMITTIME#} items: commits whose time was dropped. */
    static final String ATTRIBUTE = "futureCommitTimes";

    private final Duration skew;
    private final ItemMerger merger;
    private final MetricsPublisher metrics;

    FutureCommitTimes(Duration skew, ItemMerger merger, MetricsPublisher metrics) {
        this.skew = skew;
        this.merger = merger;
        this.metrics = metrics;
    }

    /** {@code s} without commit times after {@code at} + skew (the same summary when there are none). */
    WalSegmentSummary clip(WalSegmentSummary s, Instant at) {
        Instant limit = at.plus(skew);
        if (s.lastCommitTime() == null || !s.lastCommitTime().isAfter(limit)) {
            boolean any = s.transactions().stream().anyMatch(t -> t.isCommit() && t.time() != null
                    && t.time().isAfter(limit));
            if (!any) {
                return s;
            }
        }
        List<TransactionEnd> kept = new ArrayList<>();
        Instant first = null;
        Instant last = null;
        Instant claimed = null;
        for (TransactionEnd t : s.transactions()) {
            if (t.isCommit() && t.time() != null && t.time().isAfter(limit)) {
                claimed = claimed == null || t.time().isAfter(claimed) ? t.time() : claimed;
                kept.add(new TransactionEnd(t.kind(), t.xid(), null, t.lsn()));
                continue;
            }
            kept.add(t);
            if (t.isCommit() && t.time() != null) {
                first = first == null ? t.time() : first;
                last = t.time();
            }
        }
        LOG.log(Level.WARNING, "{0}: commit times up to {1} are later than the segment''s arrival ({2}) plus {3}: "
                + "not used for the window or time targets", s.segment(), claimed, at, skew);
        return new WalSegmentSummary(s.version(), s.systemIdentifier(), s.segment(), s.pageTimeline(), s.pageSize(),
                s.firstRecordLsn(), s.lastRecordLsn(), s.endLsn(), s.records(), s.fullPageImages(),
                s.skippedLeadingBytes(), kept, s.commits(), s.aborts(), first, last, s.restorePoints(),
                s.checkpoints(), s.endsOfRecovery(), s.backupEnds(), s.overwrittenContrecords(), s.continuesAt(),
                s.stopReason(), s.stopLsn(), s.stopDetail());
    }

    /** Commits of a clipped summary whose time was dropped (the scanner always gives commits a time). */
    static long count(WalSegmentSummary s) {
        return s == null ? 0 : s.transactions().stream().filter(t -> t.isCommit() && t.time() == null).count();
    }

    /** After an archived segment was stored: list it on the stanza and publish the metric, if flagged. */
    void record(StanzaMeta meta, WalSegmentName segment, WalSegmentSummary summary, Instant at) {
        long n = count(summary);
        if (n == 0) {
            return;
        }
        String pk = Keys.pk(meta.stanza());
        merger.merge(pk, Keys.FUTURE_WAL_TIMES, cur -> {
            TreeSet<String> segments = new TreeSet<>();
            cur.ifPresent(c -> c.list("segments").forEach(o -> segments.add(String.valueOf(o))));
            long total = cur.flatMap(c -> c.number("count")).orElse((long) segments.size());
            if (segments.add(segment.toString())) {
                total++;
            }
            Map<String, Object> a = new TreeMap<>();
            a.put("kind", "futureWalTimes");
            a.put("count", total);
            // the newest ones (at most 100): a list that only grows would outgrow an item
            List<String> listed = new ArrayList<>(segments.descendingSet());
            a.put("segments", listed.subList(0, Math.min(listed.size(), BackupEntry.MAX_LISTED)));
            return Item.of(pk, Keys.FUTURE_WAL_TIMES, a);
        });
        metrics.count(meta.stanza(), at, TidemarkMetric.FUTURE_WAL_TIMES);
    }
}
