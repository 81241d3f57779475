package io.tidemark.shim.stream;

import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.events.wal.WalSegmentSize;
import io.tidemark.shim.pg.PgConnector;
import io.tidemark.shim.pg.PgOptions;
import io.tidemark.shim.storage.Retry;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.postgresql.PGConnection;
import org.postgresql.PGProperty;
import org.postgresql.replication.LogSequenceNumber;
import org.postgresql.replication.PGReplicationStream;

/**
 * Streams WAL from a physical replication slot into chunk objects ({@link ChunkStore}), as it is
 * written. Two threads: the one calling {@link #run()} owns the replication connection (reads,
 * cuts chunks every interval and at each segment end, reports positions to the server); an
 * uploader stores the chunks in order, retrying S3 failures with the shim's pauses. The server
 * learns a position as flushed (so the slot lets go of the WAL before it) only after S3 confirmed
 * the chunk that ends there: until then the slot holds it, through S3 outages and agent crashes.
 *
 * <p>Where a stream starts: after what this process received, or else where the stored chunks
 * that cover the slot's segment from its start end ({@link ChunkStore#resumeFrom}; a fresh chain
 * starts at the segment's start, so the cloud's window moves with it); so a restarted agent neither
 * leaves a gap nor stores a second, different chunk over the same bytes. A stream the server ends
 * (a timeline switch, a restart) is opened again on the server's timeline of the moment.
 *
 * <p>Synchronous mode ({@code stream.synchronous}): a chunk is cut as soon as the uploader has
 * nothing in flight instead of every interval (what arrives while one chunk uploads goes into the
 * next: group commit), and the connection's application_name is the slot's name, so the server
 * can list the agent in {@code synchronous_standby_names}: a commit then returns only once the
 * chunk holding it is in S3, since flush is reported only then.
 */
public final class WalStreamer {
    /** Received and not yet stored: beyond this the stream is not read (the slot holds the WAL). */
    static final long MAX_QUEUED_BYTES = 64L << 20;
    static final Duration LAG_EVERY = Duration.ofSeconds(1);
    /** The server moved to another timeline and sent nothing for this long: the old one's stream is over. */
    static final Duration QUIET_AFTER_SWITCH = Duration.ofSeconds(1);
    static final long IDLE_POLL_MS = 10;
    /** Synchronous mode: every millisecond here is commit latency. */
    static final long IDLE_POLL_SYNC_MS = 1;
    static final Duration DRAIN_AT_STOP = Duration.ofSeconds(15);

    private final StanzaName stanza;
    private final String slot;
    private final Duration interval;
    private final boolean synchronous;
    private final String applicationName;
    private final PgOptions pg;
    private final ChunkStore chunks;
    private final StreamLease lease;
    private final StreamCounters counters;
    private final LongSupplier expectedSystemId;
    private final PrintStream out;
    private final PrintStream err;
    private final Clock clock;

    private final LinkedBlockingQueue<Chunk> queue = new LinkedBlockingQueue<>();
    private final AtomicLong queuedBytes = new AtomicLong();
    private volatile boolean stopping;
    private volatile boolean halted;
    private volatile RuntimeException conflict;
    private Thread uploader;

    /** After what this process received (queued or stored), null when it must ask S3 and the slot. */
    private Lsn next;
    private TimelineId lastTimeline;
    /** The slot existed (or was created) while this process streamed: its absence later is a drop. */
    private boolean slotSeen;
    private Lsn reported = Lsn.INVALID;
    private String lastError;

    /**
     * @param expectedSystemId the stanza's system identifier (0: not checked)
     */
    public WalStreamer(StanzaName stanza, StreamSettings settings, PgOptions pg, ChunkStore chunks, StreamLease lease,
                       StreamCounters counters, LongSupplier expectedSystemId, PrintStream out, PrintStream err,
                       Clock clock) {
        this.stanza = Objects.requireNonNull(stanza);
        this.slot = settings.slotFor(stanza);
        this.interval = settings.interval();
        this.synchronous = settings.synchronous();
        this.applicationName = settings.applicationNameFor(stanza);
        this.pg = pg;
        this.chunks = chunks;
        this.lease = lease;
        this.counters = counters;
        this.expectedSystemId = expectedSystemId;
        this.out = out;
        this.err = err;
        this.clock = clock;
    }

    public String slot() {
        return slot;
    }

    /** Streams until {@link #stop()} (stores what it received first) or {@link #halt()}. */
    public void run() throws InterruptedException {
        uploader = Thread.ofPlatform().name("tidemark-stream-upload").start(this::upload);
        Retry.Pauses pauses = new Retry.Pauses(250, Retry.MAX_PAUSE_MS);
        boolean waitingForLease = false;
        try {
            while (!stopping && !halted) {
                if (nothingQueued() && !serverAnswers()) {
                    // everything received is in S3 and the server does not answer (the old primary
                    // after a failover): the lease goes, so an agent whose server answers (the new
                    // primary's, a standby's) takes over at its next try instead of when this one
                    // dies. While chunks wait for S3 it is kept (renewed by acquire), or two agents
                    // could store chunks from the same place.
                    lease.release();
                    sleep(pauses.next());
                    continue;
                }
                java.util.Optional<String> holder;
                try {
                    holder = lease.acquire();
                } catch (RuntimeException e) {
                    String why = oneLine(e);
                    if (!why.equals(lastError)) {
                        complain("stream: " + why + "; trying again");
                    }
                    lastError = why;
                    sleep(pauses.next());
                    continue;
                }
                if (holder.isPresent()) {
                    // another agent streams: where the stored chain ends is S3's to say from now on
                    next = null;
                    if (!waitingForLease) {
                        say("another agent streams stanza " + stanza + " (" + holder.get() + "); taking over when its"
                                + " lease ends");
                        waitingForLease = true;
                    }
                    sleep(Math.max(1000, lease.renewEvery().toMillis()));
                    continue;
                }
                waitingForLease = false;
                boolean received = false;
                try {
                    received = session();
                    lastError = null;
                } catch (SQLException | RuntimeException e) {
                    if (conflict != null) {
                        // the uploader dropped what followed the refused chunk: start over from S3
                        dropQueued();
                        conflict = null;
                    }
                    String why = oneLine(e);
                    if (!why.equals(lastError) && !stopping && !halted) {
                        complain("stream: " + why + "; connecting again");
                    }
                    lastError = why;
                } finally {
                    counters.streaming = 0;
                }
                if (stopping || halted) {
                    break;
                }
                counters.reconnects.incrementAndGet();
                if (received) {
                    pauses = new Retry.Pauses(250, Retry.MAX_PAUSE_MS);
                }
                sleep(pauses.next());
            }
        } finally {
            if (!halted) {
                drain();
                lease.release();
            }
            uploader.interrupt();
            uploader.join(5000);
        }
    }

    private boolean nothingQueued() {
        return queue.isEmpty() && queuedBytes.get() == 0;
    }

    /** Whether the server takes a connection; says once why not. */
    private boolean serverAnswers() {
        try (Connection c = PgConnector.connect(pg, 10)) {
            return true;
        } catch (SQLException e) {
            String why = "PostgreSQL at " + pg.describe() + " does not answer (" + oneLine(e) + "); not streaming"
                    + " (nor holding the stream lease) until it does";
            if (!why.equals(lastError)) {
                complain("stream: " + why);
            }
            lastError = why;
            return false;
        }
    }

    /** Stores what was received, reports it, releases the lease and returns from {@link #run()}. */
    public void stop() {
        stopping = true;
    }

    /**
     * Stops at once as a killed process would: what was received and not stored is dropped, the
     * server is told nothing more, the lease is kept until it expires. For tests of the crash path.
     */
    public void halt() {
        halted = true;
        if (uploader != null) {
            uploader.interrupt();
        }
    }

    /** One connection: returns when the server ended the stream or on stop; true when WAL arrived. */
    private boolean session() throws SQLException, InterruptedException {
        try (Connection sql = PgConnector.connect(pg, 10)) {
            PgConnector.ClusterFacts facts = PgConnector.facts(sql);
            long expected = expectedSystemId.getAsLong();
            if (expected != 0 && expected != facts.systemIdentifier()) {
                throw new IllegalStateException("PostgreSQL at " + pg.describe() + " is system "
                        + facts.systemIdentifierText() + ", not stanza " + stanza + "'s "
                        + Long.toUnsignedString(expected) + ": not streaming it");
            }
            WalSegmentSize size = WalSegmentSize.ofBytes(facts.walSegmentSize());
            Lsn slotStart = ensureSlot(sql);
            try (Connection rc = replicationConnection()) {
                TimelineId timeline = identifyTimeline(rc);
                Lsn start = startPoint(rc, timeline, slotStart, size);
                PGReplicationStream stream = rc.unwrap(PGConnection.class).getReplicationAPI().replicationStream()
                        .physical().withSlotName(slot).withStartPosition(LogSequenceNumber.valueOf(start.value()))
                        .withStatusInterval(10, TimeUnit.SECONDS)
                        // PgJDBC's automatic flush (on by default) answers a keepalive with the server's
                        // WAL end as our flush position once what we reported reaches the start of the
                        // last message: the slot then let go of WAL S3 never confirmed (seen in
                        // StreamedS3OutageCloudTest: restart_lsn 8 kB past the stored end during an
                        // outage), and in synchronous mode a commit could be acknowledged before its
                        // chunk was stored. Only reportStored() may move the flush position.
                        .withAutomaticFlush(false).start();
                counters.timeline = timeline.value();
                counters.streaming = 1;
                lastTimeline = timeline;
                say("streaming WAL of stanza " + stanza + " from slot " + slot + " on timeline " + timeline.value()
                        + " from " + start + " (" + WalSegmentName.containing(timeline, start, size) + ") to chunks every "
                        + (synchronous ? "as soon as the previous one is stored (synchronous mode)"
                        : interval.toMillis() + " ms"));
                return stream(stream, sql, timeline, size, start);
            }
        }
    }

    private boolean stream(PGReplicationStream stream, Connection sql, TimelineId timeline, WalSegmentSize size,
                           Lsn start) throws SQLException, InterruptedException {
        Open open = null;
        Lsn expected = start;
        boolean received = false;
        long nextLag = 0;
        long lastData = System.nanoTime();
        boolean abandon = false;
        boolean leaseLost = false;
        long nextRenew = System.nanoTime() + lease.renewEvery().toNanos();
        boolean clean = false;
        String syncState = null;
        try {
            while (!stopping && !halted) {
                if (conflict != null) {
                    throw conflict;
                }
                ByteBuffer buf = queuedBytes.get() > MAX_QUEUED_BYTES ? null : stream.readPending();
                if (buf != null) {
                    long end = stream.getLastReceiveLSN().asLong();
                    int n = buf.remaining();
                    if (end - n != expected.value()) {
                        throw new IllegalStateException("the server sent WAL from " + Lsn.of(end - n) + ", expected "
                                + expected + "; reconnecting");
                    }
                    counters.bytesStreamed.addAndGet(n);
                    received = true;
                    lastData = System.nanoTime();
                    while (buf.hasRemaining()) {
                        WalSegmentName segment = WalSegmentName.containing(timeline, expected, size);
                        long offset = size.offsetInSegment(expected);
                        if (open == null) {
                            open = new Open(segment, offset, System.nanoTime());
                        }
                        int take = (int) Math.min(buf.remaining(), size.bytes() - offset);
                        open.bytes.write(buf.array(), buf.arrayOffset() + buf.position(), take);
                        buf.position(buf.position() + take);
                        expected = expected.plus(take);
                        next = expected;
                        if (offset + take == size.bytes()) {
                            enqueue(open); // a chunk never crosses a segment's end
                            open = null;
                        }
                    }
                } else if (stream.isClosed()) {
                    say("the server ended the stream at " + expected + " (end of timeline " + timeline.value()
                            + ", or the server stops); connecting again");
                    clean = true;
                    return received;
                } else {
                    Thread.sleep(synchronous ? IDLE_POLL_SYNC_MS : IDLE_POLL_MS);
                }
                if (open != null && (System.nanoTime() - open.openedAt >= interval.toNanos()
                        || (synchronous && queuedBytes.get() == 0))) {
                    enqueue(open);
                    open = null;
                }
                reportStored(stream);
                long now = System.nanoTime();
                if (now - nextLag >= 0) {
                    ServerPosition at = serverPosition(sql);
                    counters.serverFlush = at.flush();
                    nextLag = now + LAG_EVERY.toNanos();
                    syncState = sayWhetherCommitsWait(sql, syncState);
                    // PostgreSQL ends a timeline's stream with CopyDone and then waits for the client's;
                    // PgJDBC does not pass that on (it waits for more), so the switch is seen here: the
                    // server is on a newer timeline and the old one's WAL stopped coming
                    if (at.timeline() > timeline.value() && now - lastData >= QUIET_AFTER_SWITCH.toNanos()) {
                        say("the server is on timeline " + at.timeline() + ": the stream of timeline "
                                + timeline.value() + " ended at " + expected + "; connecting again");
                        abandon = true;
                        clean = true;
                        return received;
                    }
                }
                if (now - nextRenew >= 0) {
                    if (!lease.renew()) {
                        // another agent may stream from now on: store nothing more, or its chunks and
                        // ours could start at the same place with different ends
                        leaseLost = true;
                        throw new IllegalStateException("the stream lease of stanza " + stanza
                                + " was lost (not renewed in time; another agent may stream now)");
                    }
                    nextRenew = now + lease.renewEvery().toNanos();
                }
            }
            clean = true;
            return received;
        } finally {
            if (leaseLost) {
                dropQueued();
            } else if (!halted && conflict == null && open != null) {
                enqueue(open); // what arrived is WAL the server flushed: store it
            }
            if (stopping && !halted && clean) {
                drain();
                try {
                    reportStored(stream);
                } catch (SQLException e) {
                    // the slot keeps the WAL; the next agent finds the chunks in S3
                }
            }
            if (!halted && !abandon) {
                try {
                    stream.close();
                } catch (SQLException e) {
                    // the connection is closed next anyway
                }
            }
        }
    }

    /** Tells the server that the stored chunks end at {@code storedEnd}: the slot advances to there. */
    private void reportStored(PGReplicationStream stream) throws SQLException {
        long stored = counters.storedEnd;
        if (stored > reported.value() && !halted) {
            LogSequenceNumber l = LogSequenceNumber.valueOf(stored);
            stream.setFlushedLSN(l);
            stream.setAppliedLSN(l);
            stream.forceUpdateStatus();
            reported = Lsn.of(stored);
        }
    }

    /**
     * Where to start: after what this process received; else past the stored chunks that cover the
     * slot's segment from its start. A recreated slot that starts after what was stored leaves a gap: said.
     */
    private Lsn startPoint(Connection rc, TimelineId timeline, Lsn slotStart, WalSegmentSize size) throws SQLException {
        if (next != null) {
            if (slotStart != null && slotStart.isAfter(next)) {
                complain("stream: the new slot " + slot + " starts at " + slotStart + ", after the streamed WAL ends ("
                        + next + "): WAL from " + next + " to " + slotStart + " may be missing from the stream"
                        + " (a gap unless archive_command archived those segments)");
                next = slotStart;
            }
            if (lastTimeline != null && !lastTimeline.equals(timeline)) {
                // the new timeline's segment of the switch starts with the old one's WAL (the server
                // copied it there): its chain from offset 0 lets the window move before the next segment
                Lsn from = chunks.resumeFrom(timeline, WalSegmentName.containing(timeline, next, size).startLsn(), size);
                say("the server is on timeline " + timeline.value() + " now (was " + lastTimeline.value()
                        + "): streaming it from " + from + " (the stream of timeline " + lastTimeline.value()
                        + " ended at " + next + ")");
                next = from;
            }
            return next;
        }
        // from the start of the slot's segment (the server keeps the whole segment a slot's position is
        // in), past the stored chain from offset 0: the cloud moves the window only with chunks that
        // cover a segment from its start, so a chain begun mid-segment would hold it until the next one
        Lsn from = WalSegmentName.containing(timeline, slotStart, size).startLsn();
        Lsn began = timelineStart(rc, timeline);
        WalSegmentName switchSegment = began == null ? null : WalSegmentName.containing(timeline, began, size);
        if (switchSegment != null && from.isBefore(switchSegment.startLsn())) {
            // a slot older than the server's timeline (a standby's slot, its server promoted since):
            // the server keeps no segment of this timeline before the switch, and serves the older
            // one's only on its own timeline. Its segment of the switch holds the old timeline's WAL
            // up to the switch point, so from its start the window can go on without a gap when the
            // old timeline's chunks or segments reach it (else info shows the gap)
            say("the slot's position " + slotStart + " lies before timeline " + timeline.value() + " began (at "
                    + began + "): streaming timeline " + timeline.value() + " from its segment of the switch, "
                    + switchSegment);
            from = switchSegment.startLsn();
        }
        return chunks.resumeFrom(timeline, from, size);
    }

    /** Where the server's timeline {@code timeline} begins (its history's last switch point), null on timeline 1. */
    private static Lsn timelineStart(Connection rc, TimelineId timeline) throws SQLException {
        if (timeline.value() == 1) {
            return null;
        }
        try (Statement s = rc.createStatement();
             ResultSet r = s.executeQuery("TIMELINE_HISTORY " + timeline.value())) {
            r.next();
            java.util.List<Lsn> switches = io.tidemark.events.wal.TimelineHistory.parse(timeline, r.getString("content"))
                    .switchPoints();
            return switches.isEmpty() ? null : switches.getLast();
        }
    }

    /**
     * The slot's restart position, the slot created when missing. A slot seen earlier by this
     * process and now gone was dropped: an error and a counter, never silent.
     */
    private Lsn ensureSlot(Connection sql) throws SQLException {
        try (PreparedStatement s = sql.prepareStatement(
                "select slot_type, restart_lsn::text from pg_replication_slots where slot_name = ?")) {
            s.setString(1, slot);
            try (ResultSet r = s.executeQuery()) {
                if (r.next()) {
                    if (!"physical".equals(r.getString(1))) {
                        throw new IllegalStateException("replication slot " + slot + " is a " + r.getString(1)
                                + " slot; streaming needs a physical one (set stream.slot to another name)");
                    }
                    slotSeen = true;
                    String restart = r.getString(2);
                    if (restart == null) {
                        throw new IllegalStateException("replication slot " + slot + " reserves no WAL (restart_lsn"
                                + " is null): drop it, the agent creates it again");
                    }
                    return Lsn.parse(restart);
                }
            }
        }
        Lsn created;
        try (PreparedStatement s = sql.prepareStatement("select lsn::text from pg_create_physical_replication_slot(?, true)")) {
            s.setString(1, slot);
            try (ResultSet r = s.executeQuery()) {
                r.next();
                created = Lsn.parse(r.getString(1));
            }
        }
        if (slotSeen) {
            counters.slotsLost.incrementAndGet();
            Lsn stored = counters.storedEnd < 0 ? null : Lsn.of(counters.storedEnd);
            complain("stream: replication slot " + slot + " is gone (dropped by an operator?); created it again at "
                    + created + "; " + (stored == null ? "nothing was stored yet"
                    : created.isAfter(stored) ? "WAL from " + stored + " to " + created
                    + " may be missing from the stream (a gap unless archive_command archived those segments)"
                    : "it starts before the stored chunks end (" + stored + "): no gap"));
        } else {
            say("created physical replication slot " + slot + " at " + created);
        }
        slotSeen = true;
        return created;
    }

    /**
     * Says whether the server waits for this agent on commit whenever that changes (a reload of
     * {@code synchronous_standby_names} takes effect in the walsender a moment later), and
     * complains when it and {@code stream.synchronous} disagree: commits waiting for a chunk cut
     * only every interval would each take up to an interval; a synchronous mode the server does
     * not use gives no RPO zero. Nothing is said while this agent's walsender does not stream yet
     * (while it catches up the server does not count it as a synchronous standby).
     *
     * @return the walsender's sync_state now, {@code last} while it does not stream
     */
    private String sayWhetherCommitsWait(Connection sql, String last) throws SQLException {
        String state;
        try (PreparedStatement s = sql.prepareStatement(
                "select state, sync_state from pg_stat_replication where application_name = ?")) {
            s.setString(1, applicationName);
            try (ResultSet r = s.executeQuery()) {
                if (!r.next() || !"streaming".equals(r.getString(1))) {
                    return last;
                }
                state = r.getString(2);
                if (state.equals(last)) {
                    return last;
                }
            }
        }
        boolean waits = "sync".equals(state) || "quorum".equals(state);
        boolean standby;
        try (Statement s = sql.createStatement(); ResultSet r = s.executeQuery("select pg_is_in_recovery()")) {
            r.next();
            standby = r.getBoolean(1);
        }
        if (waits && !synchronous) {
            complain("stream: the server lists " + applicationName + " in synchronous_standby_names (" + state
                    + "), but stream.synchronous is false: each commit waits for the next chunk, up to "
                    + interval.toMillis() + " ms; set stream.synchronous=true");
        } else if (waits) {
            say("synchronous mode: commits wait until the chunk holding them is in S3 (sync_state " + state + ")");
        } else if (synchronous) {
            complain("stream: stream.synchronous is true, but " + (standby
                    ? "the agent streams from a standby, which cannot have a synchronous standby: commits do not wait for S3"
                    : "the server does not list " + applicationName + " in synchronous_standby_names (sync_state "
                    + state + "): commits do not wait for S3"));
        } else if (last != null) {
            say("commits no longer wait for this agent (sync_state " + state + ")");
        }
        return state;
    }

    /** The server's timeline now and how far it can stream, -1 when not known. */
    private record ServerPosition(long timeline, long flush) {
    }

    /**
     * What the server can stream now: its flush position (a standby: what it received, or
     * replayed) and its timeline (a standby: the one its WAL receiver follows).
     */
    private static ServerPosition serverPosition(Connection sql) throws SQLException {
        try (Statement s = sql.createStatement(); ResultSet r = s.executeQuery("""
                select case when pg_is_in_recovery()
                            then coalesce(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())
                            else pg_current_wal_flush_lsn() end::text,
                       case when pg_is_in_recovery()
                            then (select received_tli::bigint from pg_stat_wal_receiver)
                            else ('x' || substr(pg_walfile_name(pg_current_wal_flush_lsn()), 1, 8))::bit(32)::bigint
                       end""")) {
            r.next();
            String v = r.getString(1);
            long tli = r.getLong(2);
            return new ServerPosition(r.wasNull() ? -1 : tli, v == null ? -1 : Lsn.parse(v).value());
        }
    }

    private Connection replicationConnection() throws SQLException {
        Properties p = new Properties();
        PGProperty.USER.set(p, pg.user());
        if (pg.password() != null) {
            PGProperty.PASSWORD.set(p, pg.password());
        }
        PGProperty.REPLICATION.set(p, "true");
        PGProperty.ASSUME_MIN_SERVER_VERSION.set(p, "10");
        PGProperty.PREFER_QUERY_MODE.set(p, "simple");
        PGProperty.APPLICATION_NAME.set(p, applicationName);
        PGProperty.CONNECT_TIMEOUT.set(p, 10);
        PGProperty.LOGIN_TIMEOUT.set(p, 10);
        // no read may block for long: after the server's CopyDone at a timeline's end PgJDBC waits
        // for more, and a peer that went away silently must not hold the stream
        PGProperty.SOCKET_TIMEOUT.set(p, 5);
        return DriverManager.getConnection(pg.jdbcUrl(), p);
    }

    private static TimelineId identifyTimeline(Connection rc) throws SQLException {
        try (Statement s = rc.createStatement(); ResultSet r = s.executeQuery("IDENTIFY_SYSTEM")) {
            r.next();
            return TimelineId.of(r.getLong("timeline"));
        }
    }

    private void enqueue(Open open) {
        byte[] data = open.bytes.toByteArray();
        if (data.length == 0) {
            return;
        }
        queuedBytes.addAndGet(data.length);
        queue.add(new Chunk(open.segment, open.start, data));
    }

    /** Forgets what was received and not stored: the next stream starts from S3 and the slot again. */
    private void dropQueued() {
        synchronized (queue) { // not while the uploader joins queued chunks (it peeks, then takes)
            for (Chunk c; (c = queue.poll()) != null; ) {
                queuedBytes.addAndGet(-c.data().length);
            }
        }
        next = null;
    }

    /**
     * {@code first} with the queued chunks that continue it in its segment, as one chunk: an
     * uploader that fell behind (an S3 outage: one chunk queued per interval meanwhile) catches up
     * in one PUT and one index invocation per segment instead of one per interval (measured in
     * StreamedS3OutageCloudTest: about 60 chunks after 30 s at a 500 ms interval, whose indexing
     * held the window 16 to 22 s behind the stream). Only the stream adds to the queue (at its
     * tail), so what is peeked here is what is taken.
     */
    private Chunk joinedWithContiguous(Chunk first) {
        synchronized (queue) {
            Chunk more = queue.peek();
            if (more == null || !more.segment().equals(first.segment()) || more.start() != first.end()) {
                return first;
            }
            java.io.ByteArrayOutputStream joined = new java.io.ByteArrayOutputStream(first.data().length * 2);
            joined.writeBytes(first.data());
            long end = first.end();
            while ((more = queue.peek()) != null && more.segment().equals(first.segment()) && more.start() == end) {
                queue.poll();
                joined.writeBytes(more.data());
                end = more.end();
            }
            return new Chunk(first.segment(), first.start(), joined.toByteArray());
        }
    }

    /** Waits (a while) until the uploader stored everything queued. */
    private void drain() {
        long until = System.nanoTime() + DRAIN_AT_STOP.toNanos();
        while (!queue.isEmpty() || queuedBytes.get() > 0) {
            if (System.nanoTime() - until > 0 || halted || conflict != null) {
                if (!queue.isEmpty()) {
                    complain("stream: stopping with " + queuedBytes.get() + " bytes not stored (the slot keeps them;"
                            + " the next agent streams them again)");
                }
                return;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** The uploader: chunks in order, each retried until S3 confirms it (the slot holds the WAL meanwhile). */
    private void upload() {
        while (!halted) {
            Chunk c;
            try {
                c = queue.poll(100, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                return;
            }
            if (c == null) {
                continue; // run() interrupts this thread when it is done
            }
            c = joinedWithContiguous(c);
            if (conflict != null) {
                queuedBytes.addAndGet(-c.data().length); // dropped: streamed again after the restart
                continue;
            }
            Retry.Pauses pauses = new Retry.Pauses(250, Retry.MAX_PAUSE_MS);
            int failures = 0;
            while (true) {
                try {
                    chunks.store(c);
                    break;
                } catch (ChunkStore.Conflict e) {
                    counters.conflicts.incrementAndGet();
                    complain("stream: refusing to store " + c + ": " + e.getMessage());
                    conflict = e;
                    break;
                } catch (RuntimeException e) {
                    failures++;
                    counters.uploadErrors.incrementAndGet();
                    if (failures == 1) {
                        complain("stream: cannot store chunk " + c + ": " + oneLine(e) + "; retrying until S3 takes"
                                + " it (the slot keeps the WAL meanwhile)");
                    }
                    if (halted || (stopping && failures >= 3)) {
                        return;
                    }
                    try {
                        Thread.sleep(pauses.next());
                    } catch (InterruptedException ie) {
                        return;
                    }
                }
            }
            if (conflict != null) {
                queuedBytes.addAndGet(-c.data().length);
                continue;
            }
            if (failures > 0) {
                say("stored chunk " + c + " after " + (failures + 1) + " attempts");
            }
            counters.chunksStored.incrementAndGet();
            counters.bytesStored.addAndGet(c.data().length);
            counters.storedEnd = c.endLsn().value();
            counters.lastStoredAt = Instant.now(clock);
            queuedBytes.addAndGet(-c.data().length);
        }
    }

    private void sleep(long ms) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
        while (!stopping && !halted && System.nanoTime() - until < 0) {
            Thread.sleep(Math.min(50, Math.max(1, TimeUnit.NANOSECONDS.toMillis(until - System.nanoTime()))));
        }
    }

    private void say(String line) {
        out.println(Instant.now(clock) + " tidemark agent: stream: " + line);
        out.flush();
    }

    private void complain(String line) {
        err.println(Instant.now(clock) + " tidemark agent: " + line);
        err.flush();
    }

    private static String oneLine(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return m.replace('\n', ' ');
    }

    /** The chunk being received. */
    private static final class Open {
        final WalSegmentName segment;
        final long start;
        final long openedAt;
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        Open(WalSegmentName segment, long start, long openedAt) {
            this.segment = segment;
            this.start = start;
            this.openedAt = openedAt;
        }
    }
}
