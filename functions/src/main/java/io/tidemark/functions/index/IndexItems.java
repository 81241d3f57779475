package io.tidemark.functions.index;

import io.tidemark.events.backup.BackupLabel;
import io.tidemark.events.backup.BackupTimestamp;
import io.tidemark.events.wal.TimelineHistory;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.events.wal.scan.BackupEnd;
import io.tidemark.events.wal.scan.EndOfRecovery;
import io.tidemark.events.wal.scan.RestorePoint;
import io.tidemark.events.wal.scan.TransactionEnd;
import io.tidemark.events.wal.scan.WalSegmentSummary;
import io.tidemark.functions.catalog.Item;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The items the indexer writes for one object (WAL#, PARTIAL#, HISTORY#, BACKUPHIST#) and the
 * join that decides between two versions of one item.
 *
 * <p>Every item is a pure function of the object's bytes (and, for a segment, of whether the
 * next segment could be used to finish its last record), plus {@code archivedAt}. Two versions
 * of one item are joined by {@link #join}: the higher {@linkplain #rank rank} wins (an archived
 * segment whose last record is verified over one still waiting for the next segment, over a
 * corrupt or invalid one), ties go to the larger content hash, and {@code archivedAt} is the
 * earliest event time seen. The join is commutative, associative and idempotent.
 *
 * <p>An item whose object was deleted or found damaged ({@link #MISSING}, {@link #DAMAGED}, written
 * by {@link LostObjects}) is not replaced by a version indexed from an event that is not later than
 * the one that lost it (by the S3 {@linkplain S3Sequencer sequencer} of the object's key): a late or
 * repeated ObjectCreated event does not bring back what a later delete removed, while a new upload of
 * the key (a later sequencer) with the content that was accepted is indexed like any object.
 *
 * <h2>Accepted once</h2>
 * {@code sha256} is the hash the cloud computed from the bytes it read, and {@code versionId} the S3
 * version it read them from. Once an item holds content the catalog {@linkplain #accepted accepted}
 * (archived, or archived and then lost), a candidate with another {@code sha256} is a second,
 * different object for the same WAL file: {@link #conflicts} says so and {@link #join} keeps the
 * original item (its version, its ranges, the plans that name it). An identical re-upload joins
 * like a repeated event and keeps the original version id. This is the one place where order
 * matters: the content accepted first stays.
 */
final class IndexItems {

    static final String ARCHIVED = "archived";
    static final String CORRUPT = "corrupt";
    static final String INVALID = "invalid";
    static final String ARCHIVED_AT = "archivedAt";
    /** The object is gone from the bucket (deleted, a delete marker, expired by a lifecycle rule). */
    static final String MISSING = "missing";
    /** The object is there but its content is not what was archived (found by {@code verify}). */
    static final String DAMAGED = "damaged";
    /** The S3 sequencer of the latest event applied to the item's key, when known. */
    static final String SEQUENCER = "sequencer";
    /** The S3 version the item's content was read from; absent when the store keeps no versions. */
    static final String VERSION_ID = "versionId";
    static final String SHA256 = "sha256";

    private IndexItems() {
    }

    /** 2: archived and final; 1: archived, last record waiting for the next segment; 0: not usable. */
    static int rank(Item item) {
        if (!ARCHIVED.equals(item.string("status").orElse(null))) {
            return 0;
        }
        return item.flag("pendingTail") ? 1 : 2;
    }

    /** Whether the item's object is gone or damaged. */
    static boolean isLost(Item item) {
        String status = item.string("status").orElse(null);
        return MISSING.equals(status) || DAMAGED.equals(status);
    }

    /** Whether the item holds content the catalog accepted: archived, or archived and since lost. */
    static boolean accepted(Item item) {
        return rank(item) > 0 || isLost(item);
    }

    /**
     * Whether {@code candidate} is other content for an object whose item already holds accepted
     * content: a different cloud-computed SHA-256 (or none, bytes that do not even decompress).
     */
    static boolean conflicts(Optional<Item> existing, Item candidate) {
        if (existing.isEmpty() || !accepted(existing.get())) {
            return false;
        }
        String accepted = existing.get().string(SHA256).orElse(null);
        return accepted != null && !accepted.equals(candidate.string(SHA256).orElse(null));
    }

    static Item join(Optional<Item> existing, Item candidate) {
        if (existing.isEmpty()) {
            return candidate;
        }
        Item a = existing.get().without(Item.REV);
        Item b = candidate.without(Item.REV);
        if (conflicts(existing, candidate)) {
            return a; // accepted once: a different body for the same file never replaces it
        }
        String sa = a.string(SEQUENCER).orElse(null);
        String sb = b.string(SEQUENCER).orElse(null);
        if (isLost(a)) {
            // Lost after the event that indexed the candidate: stays lost. A later upload (of the
            // same content: anything else conflicts above) replaces it, with its own version.
            return sa != null && sb != null && S3Sequencer.compare(sb, sa) <= 0 ? a : b;
        }
        int c = Integer.compare(rank(a), rank(b));
        if (c == 0) {
            c = a.hashExcluding(ARCHIVED_AT, SEQUENCER, VERSION_ID).compareTo(b.hashExcluding(ARCHIVED_AT, SEQUENCER,
                    VERSION_ID));
        }
        Item winner = c >= 0 ? a : b;
        if (a.string(VERSION_ID).isPresent() && a.string(SHA256).equals(b.string(SHA256))) {
            // the same bytes uploaded again: the version first read stays the one plans name
            winner = winner.with(VERSION_ID, a.string(VERSION_ID).get());
        }
        return winner.with(ARCHIVED_AT, min(a.string(ARCHIVED_AT).orElse(null), b.string(ARCHIVED_AT).orElse(null)))
                .with(SEQUENCER, S3Sequencer.max(sa, sb));
    }

    private static String min(String a, String b) {
        if (a == null) {
            return b;
        }
        if (b == null) {
            return a;
        }
        return Instant.parse(a).compareTo(Instant.parse(b)) <= 0 ? a : b;
    }

    /** Attributes every indexed object has: where it is, what it holds, whether it can be trusted. */
    static Map<String, Object> objectAttributes(String kind, LoadedObject o, String status, String problem,
            Instant archivedAt) {
        Map<String, Object> a = new TreeMap<>();
        a.put("kind", kind);
        a.put("key", o.key());
        a.put("compression", o.compression().extension());
        a.put("storedSize", o.storedSize());
        a.put(SHA256, o.sha256());
        a.put(VERSION_ID, o.versionId());
        a.put("status", status);
        a.put("problem", problem);
        a.put(ARCHIVED_AT, archivedAt.toString());
        return a;
    }

    static Item segment(String pk, String sk, WalSegmentName segment, LoadedObject o, String status, String problem,
            WalSegmentSummary summary, boolean pendingTail, Instant archivedAt) {
        Map<String, Object> a = objectAttributes("segment", o, status, problem, archivedAt);
        a.put("segment", segment.toString());
        a.put("timeline", segment.timeline().value());
        if (ARCHIVED.equals(status)) {
            a.put("pendingTail", pendingTail);
        }
        if (summary != null) {
            a.putAll(summaryAttributes(summary));
        }
        return Item.of(pk, sk, a);
    }

    static Item partial(String pk, String sk, String fileName, WalSegmentName segment, LoadedObject o, String status,
            String problem, WalSegmentSummary summary, Instant archivedAt) {
        Map<String, Object> a = objectAttributes("partial", o, status, problem, archivedAt);
        a.put("file", fileName);
        a.put("segment", segment.toString());
        a.put("timeline", segment.timeline().value());
        if (summary != null) {
            a.putAll(summaryAttributes(summary));
        }
        return Item.of(pk, sk, a);
    }

    static Item history(String pk, String sk, long timeline, LoadedObject o, String status, String problem,
            TimelineHistory history, Instant archivedAt) {
        Map<String, Object> a = objectAttributes("history", o, status, problem, archivedAt);
        a.put("timeline", timeline);
        if (history != null) {
            List<Object> entries = new ArrayList<>();
            for (TimelineHistory.Entry e : history.entries()) {
                entries.add(Map.of("parent", e.parent().value(), "switchPoint", e.switchPoint().toString(),
                        "reason", e.reason()));
            }
            a.put("entries", entries);
            a.put("parent", history.entries().getLast().parent().value());
            a.put("switchPoint", history.entries().getLast().switchPoint().toString());
        }
        return Item.of(pk, sk, a);
    }

    static Item backupHistory(String pk, String sk, String fileName, LoadedObject o, String status, String problem,
            BackupLabel label, Instant archivedAt) {
        Map<String, Object> a = objectAttributes("backupHistory", o, status, problem, archivedAt);
        a.put("file", fileName);
        if (label != null) {
            a.put("startLsn", label.startLsn().toString());
            a.put("startWalFile", label.startWalFile());
            a.put("checkpointLsn", label.checkpointLsn().toString());
            label.stopLsn().ifPresent(l -> a.put("stopLsn", l.toString()));
            label.stopWalFile().ifPresent(f -> a.put("stopWalFile", f));
            label.backupMethod().ifPresent(m -> a.put("backupMethod", m));
            label.backupFrom().ifPresent(f -> a.put("backupFrom", f.text()));
            label.startTime().ifPresent(t -> putTime(a, "startTime", t));
            label.stopTime().ifPresent(t -> putTime(a, "stopTime", t));
            label.label().ifPresent(l -> a.put("label", l));
            label.startTimeline().ifPresent(t -> a.put("startTimeline", t.value()));
            label.stopTimeline().ifPresent(t -> a.put("stopTimeline", t.value()));
            label.incrementalFromLsn().ifPresent(l -> a.put("incrementalFromLsn", l.toString()));
            label.incrementalFromTimeline().ifPresent(t -> a.put("incrementalFromTimeline", t.value()));
        }
        return Item.of(pk, sk, a);
    }

    /** RESTOREPOINT#, COMMITTIME# and XIDMAX# items of one archived segment (see {@link Keys}). */
    static List<Item> lookups(String pk, WalSegmentName segment, WalSegmentSummary s) {
        List<Item> out = new ArrayList<>();
        for (RestorePoint rp : s.restorePoints()) {
            Map<String, Object> a = new TreeMap<>();
            a.put("kind", "restorePoint");
            a.put("name", rp.name());
            a.put("lsn", rp.lsn().toString());
            a.put("time", text(rp.time()));
            a.put("timeline", segment.timeline().value());
            a.put("segment", segment.toString());
            a.put("segmentNumber", segment.segmentNumber());
            out.add(Item.of(pk, io.tidemark.functions.catalog.Keys.restorePoint(rp.name(), rp.lsn()), a));
        }
        Instant maxCommit = null;
        Long minXid = null;
        Long maxXid = null;
        for (TransactionEnd t : s.transactions()) {
            if (t.isCommit() && t.time() != null && (maxCommit == null || t.time().isAfter(maxCommit))) {
                maxCommit = t.time();
            }
            minXid = minXid == null ? t.xid() : Math.min(minXid, t.xid());
            maxXid = maxXid == null ? t.xid() : Math.max(maxXid, t.xid());
        }
        if (maxCommit != null) {
            Map<String, Object> a = new TreeMap<>();
            a.put("kind", "commitTime");
            a.put("timeline", segment.timeline().value());
            a.put("segment", segment.toString());
            a.put("segmentNumber", segment.segmentNumber());
            a.put("maxCommitTime", maxCommit.toString());
            a.put("firstCommitTime", text(s.firstCommitTime()));
            a.put(FutureCommitTimes.ATTRIBUTE, futureCommitTimes(s));
            out.add(Item.of(pk, io.tidemark.functions.catalog.Keys.commitTime(segment, micros(maxCommit)), a));
        }
        if (maxXid != null) {
            Map<String, Object> a = new TreeMap<>();
            a.put("kind", "xidMax");
            a.put("timeline", segment.timeline().value());
            a.put("segment", segment.toString());
            a.put("segmentNumber", segment.segmentNumber());
            a.put("minXid", minXid);
            a.put("maxXid", maxXid);
            out.add(Item.of(pk, io.tidemark.functions.catalog.Keys.xidMax(segment, maxXid), a));
        }
        return out;
    }

    /** Lookup items are functions of a segment's scan: equal ones stay, otherwise the larger hash. */
    static Item joinLookup(Optional<Item> existing, Item candidate) {
        if (existing.isEmpty()) {
            return candidate;
        }
        Item a = existing.get().without(Item.REV);
        return a.hashExcluding().compareTo(candidate.hashExcluding()) >= 0 ? a : candidate;
    }

    /** Commits whose time was later than the segment's arrival (dropped), or null (no attribute) when none. */
    private static Long futureCommitTimes(WalSegmentSummary s) {
        long n = FutureCommitTimes.count(s);
        return n == 0 ? null : n;
    }

    static long micros(Instant t) {
        return io.tidemark.functions.catalog.Keys.epochMicros(t);
    }

    /** The text as PostgreSQL wrote it, and the instant when the zone says it unambiguously. */
    private static void putTime(Map<String, Object> a, String name, BackupTimestamp t) {
        a.put(name, t.toString());
        t.instant().ifPresent(i -> a.put(name + "Utc", i.toString()));
    }

    /**
     * The scanner's summary without the per-transaction list (an item is at most 400 KB): counts,
     * commit time range, xid range, restore points, checkpoints count, LSNs, why the scan stopped.
     */
    static Map<String, Object> summaryAttributes(WalSegmentSummary s) {
        Map<String, Object> a = new TreeMap<>();
        a.put("pgVersion", s.version() == null ? null : (long) s.version().major());
        a.put("systemIdentifier", s.systemIdentifierText());
        a.put("records", s.records());
        a.put("fullPageImages", s.fullPageImages());
        a.put("commits", s.commits());
        a.put("aborts", s.aborts());
        a.put("firstCommitTime", text(s.firstCommitTime()));
        a.put("lastCommitTime", text(s.lastCommitTime()));
        a.put(FutureCommitTimes.ATTRIBUTE, futureCommitTimes(s));
        a.put("checkpoints", (long) s.checkpoints().size());
        a.put("firstRecordLsn", text(s.firstRecordLsn()));
        a.put("lastRecordLsn", text(s.lastRecordLsn()));
        a.put("endLsn", text(s.endLsn()));
        a.put("continuesAt", text(s.continuesAt()));
        a.put("skippedLeadingBytes", s.skippedLeadingBytes());
        a.put("stopReason", s.stopReason().jsonName());
        a.put("stopDetail", s.stopDetail());
        Long minXid = null;
        Long maxXid = null;
        for (TransactionEnd t : s.transactions()) {
            minXid = minXid == null ? t.xid() : Math.min(minXid, t.xid());
            maxXid = maxXid == null ? t.xid() : Math.max(maxXid, t.xid());
        }
        a.put("minXid", minXid);
        a.put("maxXid", maxXid);
        List<Object> rps = new ArrayList<>();
        for (RestorePoint rp : s.restorePoints()) {
            Map<String, Object> m = new TreeMap<>();
            m.put("name", rp.name());
            m.put("time", text(rp.time()));
            m.put("lsn", text(rp.lsn()));
            rps.add(m);
        }
        a.put("restorePoints", rps);
        List<Object> ends = new ArrayList<>();
        for (BackupEnd b : s.backupEnds()) {
            ends.add(Map.of("lsn", b.lsn().toString(), "backupStart", b.backupStart().toString()));
        }
        a.put("backupEnds", ends);
        List<Object> eor = new ArrayList<>();
        for (EndOfRecovery e : s.endsOfRecovery()) {
            Map<String, Object> m = new TreeMap<>();
            m.put("lsn", text(e.lsn()));
            m.put("time", text(e.time()));
            m.put("timeline", e.timeline());
            m.put("previousTimeline", e.previousTimeline());
            eor.add(m);
        }
        a.put("endsOfRecovery", eor);
        return a;
    }

    private static String text(Object o) {
        return o == null ? null : o.toString();
    }
}
