package io.tidemark.functions.index;

import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.Decompression;
import io.tidemark.events.layout.StorageKey;
import io.tidemark.events.metrics.TidemarkMetric;
import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.events.wal.scan.StopReason;
import io.tidemark.events.wal.scan.WalPages;
import io.tidemark.events.wal.scan.WalScanner;
import io.tidemark.events.wal.scan.WalSegmentSummary;
import io.tidemark.functions.catalog.CatalogStore;
import io.tidemark.functions.catalog.Item;
import io.tidemark.functions.catalog.ItemMerger;
import io.tidemark.functions.catalog.Keys;
import io.tidemark.functions.catalog.ObjectStore;
import io.tidemark.functions.catalog.RefusedUploads;
import io.tidemark.functions.catalog.StanzaMeta;
import io.tidemark.functions.metrics.MetricsPublisher;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Indexes streamed WAL chunks (issue 17: {@code <stanza>/stream/.../<SSSSSSSS>-<EEEEEEEE>.<ext>},
 * bytes {@code [S, E)} of a segment not archived yet).
 *
 * <p>Per chunk: its bytes are read (the event's version), decompressed to exactly {@code E - S}
 * bytes, their page headers checked against the stanza ({@link WalPages}), and compared with every
 * accepted chunk of the segment they overlap (after an agent restart a chunk may repeat bytes, and
 * must repeat them exactly). A chunk that fails is stored with its problem and never used; one that
 * disagrees with an overlapping chunk is refused and counted as a history conflict, like a second,
 * different upload of a segment. An accepted chunk is a {@code CHUNK#} item. Chunks are indexed
 * concurrently (S3 events are separate Lambda invocations, in any order): a chunk is written
 * {@code pending} before the comparison and accepted after it, so that of two disagreeing chunks
 * indexed at once at least one sees the other (store, then look).
 *
 * <p>Then the segment's {@code STREAM#} item grows: the bytes contiguous from the segment's start
 * ({@code covered}) are scanned for records from where the last scan's last complete record ended
 * ({@link WalScanner#scanFrom}), so that each chunk reads only the chunks past that point, not the
 * segment again. A record cut at the end of the covered bytes waits for the next chunk. The item
 * keeps the end of the last complete record, its start (what {@code latest} pins) and the last
 * commit time. It only grows: the merge recomputes from the stored item, so concurrent chunks
 * and repeated deliveries converge.
 *
 * <p>When the complete segment is archived, it supersedes the chunks: {@link #supersede} compares
 * each accepted chunk with the segment's bytes at its offsets; a chunk that disagrees is marked and
 * raises {@link TidemarkMetric#STREAM_MISMATCH} (an alarm: one of the two copies is not what
 * PostgreSQL wrote). Both orders check it: the segment after its chunks, or a chunk after its segment.
 */
public final class ChunkIndexer {

    private static final System.Logger LOG = System.getLogger(ChunkIndexer.class.getName());
    /** XLOG_BLCKSZ of every PostgreSQL built with default options; the first page's header overrides it. */
    static final int DEFAULT_PAGE_SIZE = 8192;
    static final String ACCEPTED = "archived";
    static final String REFUSED = "refused";
    /** Written, not yet compared with the overlapping chunks: seen only by their checks. */
    static final String PENDING = "pending";
    static final String START = "start";
    static final String END = "end";
    static final String SUPERSEDED = "superseded";
    static final String MISMATCH = "mismatch";

    private final ObjectStore objects;
    private final CatalogStore catalog;
    private final ItemMerger merger;
    private final RefusedUploads refusals;
    private final MetricsPublisher metrics;
    private final Clock clock;

    public ChunkIndexer(ObjectStore objects, CatalogStore catalog, MetricsPublisher metrics, Clock clock) {
        this.objects = objects;
        this.catalog = catalog;
        this.merger = new ItemMerger(catalog);
        this.refusals = new RefusedUploads(catalog);
        this.metrics = metrics;
        this.clock = clock;
    }

    /** What became of one chunk. */
    public enum Result { ACCEPTED, MISSING, REJECTED, CONFLICT }

    /** What became of one chunk, and the segment's {@code STREAM#} item as the chunk left it (when accepted). */
    public record Indexed(Result result, Optional<Item> stream) {
        static Indexed of(Result result) {
            return new Indexed(result, Optional.empty());
        }
    }

    /**
     * The accepted chunk of this event as stored, and the raw bytes this event read (their SHA-256
     * {@code sha256}): the stream's scan uses them for the item when it names these bytes.
     */
    private record Arrived(Item item, byte[] raw, String sha256) {
    }

    /** A chunk as read from the store: its raw bytes, or why it cannot be used. */
    private record Loaded(byte[] raw, String sha256, long storedSize, String versionId, String problem) {
    }

    /**
     * Indexes the chunk {@code c}; {@code size} is the stored size from the event (-1: unknown).
     * The caller refreshes the window when the result is {@link Result#ACCEPTED}.
     *
     * <p>Each item this reads or writes is passed on to the next step that needs it (a conditional
     * write on what was just read or written, {@link ItemMerger#merge(String, String, Optional,
     * java.util.function.Function)}), and the chunk's bytes to the stream's scan: its own GET and that
     * of the chunk where the scan resumes, and 14 to 16 catalog calls per chunk (3 GETs and about 20
     * calls before; docs/benchmarks.md, "WAL streaming").
     */
    public Indexed index(StanzaMeta meta, StorageKey.WalChunk c, Instant eventTime, String sequencer, String versionId,
                         long size) {
        String pk = Keys.pk(meta.stanza());
        String sk = Keys.chunk(c.segment(), c.start(), c.end());
        Instant at = eventTime != null ? eventTime : clock.instant();
        Optional<Loaded> read = load(c, versionId, size);
        if (read.isEmpty()) {
            return Indexed.of(Result.MISSING);
        }
        Loaded l = read.get();
        String problem = l.problem();
        if (problem == null) {
            problem = WalPages.check(l.raw(), c.start(), c.segment(), meta.systemIdentifierBits(), meta.pgVersion(),
                    pageSize(meta, c.segment()));
        }
        Item candidate = item(pk, sk, c, l, problem == null ? ACCEPTED : "invalid", problem, at, sequencer);
        Optional<Item> same = catalog.get(pk, sk);
        if (same.isPresent() && ACCEPTED.equals(same.get().string("status").orElse(null))) {
            String acceptedSha = same.get().string("sha256").orElse("");
            if (acceptedSha.equals(l.sha256())) {
                // a repeated delivery: nothing new
                return accepted(refreshStream(meta, c.segment(), new Arrived(same.get(), l.raw(), l.sha256())));
            }
            return Indexed.of(refuse(meta, pk, sk, c, l, sequencer, acceptedSha,
                    "the catalog accepted other bytes for this key"));
        }
        if (problem != null) {
            LOG.log(Level.WARNING, "{0}: chunk refused: {1}", c.key(), problem);
            merger.merge(pk, sk, same, cur -> cur.filter(i -> ACCEPTED.equals(i.string("status").orElse(null)))
                    .orElse(candidate));
            return Indexed.of(Result.REJECTED);
        }
        // Store, then look: the chunk is written PENDING (which every other chunk's check below sees,
        // and nothing that builds the stream or a plan does), and only then compared with the
        // overlapping chunks. Two disagreeing chunks indexed at once (concurrent invocations) cannot
        // both pass: whichever looks second sees the other. When both look after both were written,
        // both are refused: neither is trusted, the window stops before them, the conflict is counted.
        Item pending = merger.merge(pk, sk, same, cur -> cur.filter(i -> ACCEPTED.equals(i.string("status").orElse(null)))
                .orElse(candidate.with("status", PENDING)));
        for (Item other : catalog.query(pk, Keys.chunkPrefix(c.segment()))) {
            long os = other.number(START).orElse(0L);
            long oe = other.number(END).orElse(0L);
            String status = other.string("status").orElse("");
            if (other.sk().equals(sk) || !(ACCEPTED.equals(status) || PENDING.equals(status))
                    || oe <= c.start() || os >= c.end()) {
                continue;
            }
            Optional<byte[]> theirs = bytesOf(meta, c.segment(), other);
            if (theirs.isEmpty()) {
                continue; // gone or damaged since: it cannot overrule this chunk
            }
            long from = Math.max(os, c.start());
            long to = Math.min(oe, c.end());
            if (!Arrays.equals(l.raw(), (int) (from - c.start()), (int) (to - c.start()),
                    theirs.get(), (int) (from - os), (int) (to - os))) {
                withdraw(pk, sk);
                return Indexed.of(refuse(meta, pk, sk, c, l, sequencer, other.string("sha256").orElse(""),
                        "it overlaps " + other.string("key").orElse(other.sk()) + " (" + status + ") at [" + from
                                + ", " + to + ") with other bytes"));
            }
        }
        Item accepted = merger.merge(pk, sk, Optional.of(pending),
                cur -> cur.filter(i -> ACCEPTED.equals(i.string("status").orElse(null))).orElse(candidate));
        // the complete segment may have been archived first: the two must agree
        catalog.get(pk, Keys.wal(c.segment())).filter(IndexItems::accepted)
                .ifPresent(seg -> loadSegment(meta, seg).ifPresent(raw -> compare(meta, pk, raw, List.of(accepted),
                        c.segment())));
        return accepted(refreshStream(meta, c.segment(), new Arrived(accepted, l.raw(), l.sha256())));
    }

    private static Indexed accepted(Item stream) {
        return new Indexed(Result.ACCEPTED, Optional.of(stream));
    }

    /** Removes this chunk's own PENDING item (never an accepted one): a refused chunk is no CHUNK# item. */
    private void withdraw(String pk, String sk) {
        if (catalog.get(pk, sk).filter(i -> PENDING.equals(i.string("status").orElse(null))).isPresent()) {
            catalog.delete(pk, sk);
        }
    }

    private Result refuse(StanzaMeta meta, String pk, String sk, StorageKey.WalChunk c, Loaded l, String sequencer,
                          String acceptedSha, String why) {
        RefusedUploads.Upload upload = new RefusedUploads.Upload(c.key(), l.versionId(), sequencer, l.sha256());
        if (!refusals.firstRefusal(pk, sk, upload, acceptedSha, clock.instant())) {
            LOG.log(Level.INFO, "{0}: the refused chunk delivered again: already counted", c.key());
            return Result.CONFLICT;
        }
        LOG.log(Level.WARNING, "{0}: REFUSED a streamed chunk that disagrees with what the catalog accepted: {1};"
                + " the accepted bytes stay, restores use them", c.key(), why);
        metrics.count(meta.stanza(), clock.instant(), TidemarkMetric.HISTORY_CONFLICTS);
        return Result.CONFLICT;
    }

    private static Item item(String pk, String sk, StorageKey.WalChunk c, Loaded l, String status, String problem,
                             Instant at, String sequencer) {
        Map<String, Object> a = new TreeMap<>();
        a.put("kind", "walChunk");
        a.put("key", c.key());
        a.put("segment", c.segment().toString());
        a.put("timeline", c.segment().timeline().value());
        a.put(START, c.start());
        a.put(END, c.end());
        a.put("compression", c.compression().extension());
        a.put("storedSize", l.storedSize());
        a.put("sha256", l.sha256());
        a.put("versionId", l.versionId());
        a.put("status", status);
        a.put("problem", problem);
        a.put("receivedAt", at.toString());
        a.put("sequencer", sequencer);
        return Item.of(pk, sk, a);
    }

    private Optional<Loaded> load(StorageKey.WalChunk c, String versionId, long eventSize) {
        long limit = Decompression.maxStoredSize(c.compression(), c.length());
        if (eventSize > limit) {
            return Optional.of(new Loaded(null, null, eventSize, versionId, "object is " + eventSize
                    + " bytes, more than a " + c.length() + "-byte chunk can take: refused without reading it"));
        }
        Optional<ObjectStore.StoredObject> o = objects.get(c.key(), versionId);
        if (o.isEmpty()) {
            return Optional.empty();
        }
        byte[] stored = o.get().content();
        String version = o.get().versionId() != null ? o.get().versionId() : ObjectStore.versionOrNull(versionId);
        byte[] raw;
        try {
            raw = Decompression.decompress(c.compression(), stored, (int) c.length());
        } catch (IOException | RuntimeException e) {
            return Optional.of(new Loaded(null, null, stored.length, version, "cannot decompress ("
                    + c.compression().extension() + "): " + e.getMessage()));
        }
        String sha = LoadedObject.sha256(raw);
        if (raw.length != c.length()) {
            return Optional.of(new Loaded(null, sha, stored.length, version, "holds " + raw.length
                    + " bytes, its name says " + c.length()));
        }
        // metadata is optional for a chunk; when present it must describe these bytes
        String meta = o.get().metadata().get(ObjectStore.SHA256);
        if (meta != null && !meta.isBlank() && !meta.strip().toLowerCase(Locale.ROOT).equals(sha)) {
            return Optional.of(new Loaded(null, sha, stored.length, version, "sha256 mismatch: metadata says "
                    + meta.strip() + ", content is " + sha));
        }
        return Optional.of(new Loaded(raw, sha, stored.length, version, null));
    }

    /** The raw bytes of an accepted chunk item, as accepted (its version, its hash); empty when they cannot be read so. */
    private Optional<byte[]> bytesOf(StanzaMeta meta, WalSegmentName segment, Item chunk) {
        long s = chunk.number(START).orElseThrow();
        long e = chunk.number(END).orElseThrow();
        StorageKey.WalChunk c = new StorageKey.WalChunk(meta.stanza(), segment, s, e,
                Compression.fromExtension(chunk.string("compression").orElseThrow()));
        return load(c, chunk.string("versionId").orElse(null), -1)
                .filter(l -> l.problem() == null && l.sha256().equals(chunk.string("sha256").orElse(null)))
                .map(Loaded::raw);
    }

    private int pageSize(StanzaMeta meta, WalSegmentName segment) {
        return catalog.get(Keys.pk(meta.stanza()), Keys.stream(segment)).flatMap(i -> i.number("pageSize"))
                .map(Long::intValue).orElse(DEFAULT_PAGE_SIZE);
    }

    // ---- the STREAM# item ---------------------------------------------------------------------------

    /**
     * Grows the segment's {@code STREAM#} item with the accepted chunks: coverage from the start,
     * then the records from the last complete one on. {@code arrived} is the chunk of this event
     * (always considered, whatever the lower bound of the query). The item is read afresh, not
     * taken from the page-size read at the start: chunks of one segment are indexed concurrently,
     * and a lost conditional write here costs the scan's query and GETs again.
     */
    private Item refreshStream(StanzaMeta meta, WalSegmentName segment, Arrived arrived) {
        return merger.merge(Keys.pk(meta.stanza()), Keys.stream(segment), cur -> grow(meta, segment, cur, arrived));
    }

    private Item grow(StanzaMeta meta, WalSegmentName segment, Optional<Item> cur, Arrived arrived) {
        String pk = Keys.pk(meta.stanza());
        int segSize = meta.walSegmentSize().bytes();
        long covered = cur.flatMap(i -> i.number("covered")).orElse(0L);
        long endOffset = cur.flatMap(i -> i.number("endOffset")).orElse(0L);
        long resumeFrom = cur.flatMap(i -> i.number("resumeFrom")).orElse(0L);
        // the chunks that may matter: those starting at or after the one holding the last record's end
        String from = Keys.chunk(segment, resumeFrom, resumeFrom + 1);
        List<Item> chunks = new ArrayList<>(catalog.queryBetween(pk, from, Keys.chunkPrefix(segment) + "~"));
        // the query (consistent, after this chunk's write) usually holds it; when it starts before its bound, read it
        if (chunks.stream().noneMatch(x -> x.sk().equals(arrived.item().sk()))) {
            catalog.get(pk, arrived.item().sk()).ifPresent(chunks::add);
        }
        chunks.removeIf(i -> !ACCEPTED.equals(i.string("status").orElse(null)));
        chunks.sort(Comparator.comparingLong(i -> i.number(START).orElse(0L)));
        long newCovered = covered;
        for (Item i : chunks) {
            long s = i.number(START).orElseThrow();
            long e = i.number(END).orElseThrow();
            if (s <= newCovered && e > newCovered) {
                newCovered = e;
            }
        }
        if (cur.isPresent() && newCovered == covered) {
            return cur.get();
        }
        if (newCovered == 0) {
            return cur.orElseGet(() -> streamItem(pk, segment, 0, 0, 0, null, null, null, null, null, null, false,
                    DEFAULT_PAGE_SIZE, null));
        }
        byte[] buf = new byte[segSize];
        Optional<String> header = cur.flatMap(i -> i.string("header"));
        header.ifPresent(h -> {
            byte[] hb = Base64.getDecoder().decode(h);
            System.arraycopy(hb, 0, buf, 0, hb.length);
        });
        long scanFrom = endOffset;
        for (Item i : chunks) {
            long s = i.number(START).orElseThrow();
            long e = i.number(END).orElseThrow();
            if (e <= scanFrom || s >= newCovered) {
                continue;
            }
            // this event's chunk as read and checked a moment ago (the same item, the same hash); others from S3
            boolean ours = i.sk().equals(arrived.item().sk())
                    && arrived.sha256().equals(i.string("sha256").orElse(null));
            Optional<byte[]> raw = ours ? Optional.of(arrived.raw()) : bytesOf(meta, segment, i);
            if (raw.isEmpty()) {
                // accepted, now unreadable: coverage stops before it (the loss path marks it)
                newCovered = Math.min(newCovered, s);
                break;
            }
            System.arraycopy(raw.get(), 0, buf, (int) s, (int) (e - s));
        }
        if (newCovered <= covered && cur.isPresent()) {
            return cur.get();
        }
        WalSegmentSummary sum = WalScanner.scanFrom(buf, (int) newCovered, segment.toString(), (int) scanFrom);
        String problem = problemOf(meta, sum);
        long newEnd = endOffset;
        Lsn lastRecord = cur.flatMap(i -> i.string("lastRecordLsn")).map(Lsn::parse).orElse(null);
        Lsn endLsn = cur.flatMap(i -> i.string("endLsn")).map(Lsn::parse).orElse(null);
        Instant lastCommit = cur.flatMap(i -> i.string("lastCommitTime")).map(Instant::parse).orElse(null);
        Lsn firstRecord = cur.flatMap(i -> i.string("firstRecordLsn")).map(Lsn::parse).orElse(null);
        if (problem == null && sum.lastRecordLsn() != null) {
            lastRecord = sum.lastRecordLsn();
            endLsn = sum.endLsn();
            newEnd = sum.endLsn().value() - segment.startLsn().value();
            if (firstRecord == null) {
                firstRecord = sum.firstRecordLsn();
            }
        }
        if (problem == null && sum.lastCommitTime() != null
                && (lastCommit == null || sum.lastCommitTime().isAfter(lastCommit))) {
            lastCommit = sum.lastCommitTime();
        }
        if (problem != null) {
            LOG.log(Level.WARNING, "{0}: streamed WAL stops at {1}: {2}; the window ends before it", segment,
                    sum.stopLsn(), problem);
        }
        // the next scan starts at newEnd: it needs the chunks holding that byte (the lowest start
        // among them, so that a longer, overlapping chunk is not skipped) and those after
        long newResume = newEnd;
        for (Item i : chunks) {
            long s = i.number(START).orElseThrow();
            if (s <= newEnd && i.number(END).orElseThrow() > newEnd) {
                newResume = Math.min(newResume, s);
            }
        }
        newResume = Math.max(newResume, resumeFrom);
        boolean complete = problem == null && (newCovered == segSize || sum.stopReason() == StopReason.SWITCH
                || sum.stopReason() == StopReason.END_OF_SEGMENT);
        String headerText = header.orElseGet(() -> Base64.getEncoder().encodeToString(Arrays.copyOf(buf, 40)));
        int pageSize = sum.pageSize() > 0 ? sum.pageSize() : cur.flatMap(i -> i.number("pageSize"))
                .map(Long::intValue).orElse(DEFAULT_PAGE_SIZE);
        return streamItem(pk, segment, newCovered, newEnd, newResume, endLsn, lastRecord, firstRecord, lastCommit,
                headerText, problem, complete, pageSize, problem == null ? null : sum.stopLsn());
    }

    private static Item streamItem(String pk, WalSegmentName segment, long covered, long endOffset, long resumeFrom,
                                   Lsn endLsn, Lsn lastRecordLsn, Lsn firstRecordLsn, Instant lastCommitTime,
                                   String header, String problem, boolean complete, int pageSize, Lsn stoppedAt) {
        Map<String, Object> a = new TreeMap<>();
        a.put("kind", "streamSegment");
        a.put("segment", segment.toString());
        a.put("segmentNumber", segment.segmentNumber());
        a.put("timeline", segment.timeline().value());
        a.put("covered", covered);
        a.put("endOffset", endOffset);
        a.put("resumeFrom", resumeFrom);
        a.put("endLsn", endLsn == null ? null : endLsn.toString());
        a.put("lastRecordLsn", lastRecordLsn == null ? null : lastRecordLsn.toString());
        a.put("firstRecordLsn", firstRecordLsn == null ? null : firstRecordLsn.toString());
        a.put("lastCommitTime", lastCommitTime == null ? null : lastCommitTime.toString());
        a.put("header", header);
        a.put("problem", problem);
        a.put("stoppedAt", stoppedAt == null ? null : stoppedAt.toString());
        a.put("complete", complete ? Boolean.TRUE : null);
        a.put("pageSize", (long) pageSize);
        return Item.of(pk, Keys.stream(segment), a);
    }

    /** Why the streamed records cannot be trusted past where the scan stopped, or null (a cut record just waits). */
    private static String problemOf(StanzaMeta meta, WalSegmentSummary s) {
        switch (s.stopReason()) {
            case TRUNCATED, END_OF_WAL, END_OF_SEGMENT, SWITCH -> {
            }
            default -> {
                return s.stopReason().jsonName() + (s.stopDetail() == null ? "" : ": " + s.stopDetail());
            }
        }
        if (s.version() == null || s.version().major() != meta.pgVersion()) {
            return "not WAL of PostgreSQL " + meta.pgVersion();
        }
        if (s.systemIdentifier() != meta.systemIdentifierBits()) {
            return "WAL of system " + s.systemIdentifierText() + ", the stanza is system " + meta.systemIdentifier();
        }
        return null;
    }

    // ---- the complete segment supersedes ---------------------------------------------------------------

    /**
     * The complete segment {@code segment} (raw bytes {@code raw}) was archived: every accepted chunk
     * of it must hold the same bytes at its offsets. Each is marked {@code superseded}, or
     * {@code mismatch} with {@link TidemarkMetric#STREAM_MISMATCH} when it disagrees.
     *
     * <p>A chunk's bytes are its accepted ones, which its item names by their SHA-256 (checked
     * against the object when it was indexed, and by every later read of it): the segment's bytes at
     * the chunk's offsets are hashed and compared with that, rather than each chunk read again from
     * S3. A segment that had hundreds of chunks took as many GETs (docs/benchmarks.md, "WAL streaming").
     *
     * @return how many chunks disagree
     */
    public int supersede(StanzaMeta meta, WalSegmentName segment, byte[] raw) {
        String pk = Keys.pk(meta.stanza());
        List<Item> chunks = catalog.query(pk, Keys.chunkPrefix(segment)).stream()
                .filter(i -> ACCEPTED.equals(i.string("status").orElse(null))).toList();
        return compare(meta, pk, raw, chunks, segment);
    }

    private int compare(StanzaMeta meta, String pk, byte[] raw, List<Item> chunks, WalSegmentName segment) {
        int mismatches = 0;
        for (Item c : chunks) {
            if (c.flag(SUPERSEDED) || c.string(MISMATCH).isPresent()) {
                continue; // compared before
            }
            Optional<String> accepted = c.string("sha256");
            if (accepted.isEmpty()) {
                continue; // no accepted bytes to compare (an accepted chunk always names them)
            }
            long s = c.number(START).orElseThrow();
            long e = c.number(END).orElseThrow();
            boolean same = accepted.get().equals(LoadedObject.sha256(raw, (int) s, (int) e));
            String key = c.string("key").orElse(c.sk());
            if (!same) {
                mismatches++;
                LOG.log(Level.ERROR, "{0}: STREAM MISMATCH: the streamed chunk holds other bytes than the archived"
                        + " segment {1} at [{2}, {3}); one of the two is not what PostgreSQL wrote", key, segment, s, e);
                metrics.count(meta.stanza(), clock.instant(), TidemarkMetric.STREAM_MISMATCH);
            }
            String mark = same ? null : "other bytes than the archived segment at [" + s + ", " + e + ")";
            merger.merge(pk, c.sk(), Optional.of(c), cur -> cur.map(i -> mark == null ? i.with(SUPERSEDED, Boolean.TRUE)
                    : i.with(MISMATCH, mark)).orElse(c));
        }
        return mismatches;
    }

    private Optional<byte[]> loadSegment(StanzaMeta meta, Item seg) {
        int size = meta.walSegmentSize().bytes();
        return LoadedObject.load(objects, seg.string("key").orElseThrow(), seg.string(IndexItems.VERSION_ID).orElse(null),
                        Compression.fromExtension(seg.string("compression").orElseThrow()), size, size)
                .filter(o -> o.ok() && o.sha256().equals(seg.string(IndexItems.SHA256).orElse(null)))
                .map(LoadedObject::raw);
    }

    /** Seconds from {@code commit} to now: how far the latest restorable point trails. */
    long lagSeconds(Instant commit) {
        return Math.max(0, Duration.between(commit, clock.instant()).toSeconds());
    }
}
