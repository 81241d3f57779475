package io.tidemark.shim.stream;

import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;

/** What the WAL stream did since the agent started: the stream's part of the agent's metrics. */
public final class StreamCounters {
    /** WAL bytes received from the server. */
    public final AtomicLong bytesStreamed = new AtomicLong();
    /** Chunk objects S3 confirmed. */
    public final AtomicLong chunksStored = new AtomicLong();
    /** WAL bytes in those chunks. */
    public final AtomicLong bytesStored = new AtomicLong();
    /** Failed attempts to store a chunk (each is retried). */
    public final AtomicLong uploadErrors = new AtomicLong();
    /** Times the replication slot was found gone and created again (a gap may exist). */
    public final AtomicLong slotsLost = new AtomicLong();
    /** Chunk keys found holding other bytes (never replaced). */
    public final AtomicLong conflicts = new AtomicLong();
    /** Connections to the server that ended (errors, restarts, end of a timeline). */
    public final AtomicLong reconnects = new AtomicLong();
    /** Where the stored chunks end (an LSN as a byte position), -1 before the first. */
    public volatile long storedEnd = -1;
    /** When S3 confirmed the last chunk, null before the first. */
    public volatile Instant lastStoredAt;
    /** The server's flush (or, on a standby, receive) position as last asked, -1 before. */
    public volatile long serverFlush = -1;
    /** The timeline streamed, 0 before the first connection. */
    public volatile long timeline;
    /** 1 while this agent holds the stream lease and is connected, else 0. */
    public volatile int streaming;
}
