package io.tidemark.shim.stream;

import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.layout.StorageKey;
import io.tidemark.events.layout.StorageKeyException;
import io.tidemark.events.layout.StorageLayout;
import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.events.wal.WalSegmentSize;
import io.tidemark.shim.archivepush.ArchivePushCommand;
import io.tidemark.shim.storage.Codec;
import io.tidemark.shim.storage.CreateOnly;
import io.tidemark.shim.storage.ObjectStore;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Chunk objects in S3 ({@link StorageLayout#walChunkKey}): stores one, create-only like every
 * object the shim writes (an identical re-PUT is success; other bytes under the same key are
 * refused with {@link Conflict}), and finds where the stored chunks from a position on end, so
 * that a restarted stream goes on exactly there: no gap, no second chunk over the same bytes.
 */
public final class ChunkStore {

    /** A chunk key exists with other bytes: never replaced. */
    public static final class Conflict extends RuntimeException {
        Conflict(String message) {
            super(message);
        }
    }

    private final ObjectStore store;
    private final StanzaName stanza;
    private final Compression compression;
    private final int level;

    public ChunkStore(ObjectStore store, StanzaName stanza, Compression compression, int level) {
        this.store = store;
        this.stanza = stanza;
        this.compression = compression;
        this.level = level;
    }

    public String keyOf(Chunk c) {
        return StorageLayout.walChunkKey(stanza, c.segment(), c.start(), c.end(), compression);
    }

    /**
     * Stores {@code c}; returns once S3 confirmed it (or holds the same bytes).
     *
     * @throws io.tidemark.shim.storage.StorageException S3 failed (retry later)
     * @throws Conflict the key holds other bytes
     */
    public void store(Chunk c) {
        String key = keyOf(c);
        byte[] body = Codec.compress(compression, level, c.data());
        String sha = CreateOnly.sha256(c.data());
        Map<String, String> meta = Map.of(ArchivePushCommand.META_SHA256, sha,
                ArchivePushCommand.META_RAW_SIZE, String.valueOf(c.data().length),
                ArchivePushCommand.META_COMPRESSION, compression.extension());
        if (CreateOnly.byMetadata(store, key, body, meta, ArchivePushCommand.META_SHA256, sha)
                instanceof CreateOnly.Result.Different d) {
            throw new Conflict("chunk " + key + " already exists with other bytes (sha256 " + d.existingSha256()
                    + ", the streamed bytes' " + d.newSha256() + "); not replaced: is another cluster streaming into"
                    + " stanza " + stanza + "?");
        }
    }

    /** The chunks stored for {@code segment}, by start offset. */
    public List<StorageKey.WalChunk> chunks(WalSegmentName segment) {
        List<StorageKey.WalChunk> out = new ArrayList<>();
        for (String key : store.list(StorageLayout.walChunkPrefix(stanza, segment))) {
            try {
                if (StorageLayout.parse(key, segment.segmentSize()) instanceof StorageKey.WalChunk w
                        && w.segment().equals(segment)) {
                    out.add(w);
                }
            } catch (StorageKeyException e) {
                // not a chunk key (nothing of ours writes one there): it cannot continue the stream
            }
        }
        out.sort(Comparator.comparingLong(StorageKey.WalChunk::start));
        return out;
    }

    /**
     * Where the stream goes on from {@code from} on {@code timeline}: past every stored chunk that
     * covers the position, chunk after chunk, across segment ends. A chunk that starts later (after
     * a gap) does not count: the bytes before it are not stored.
     */
    public Lsn resumeFrom(TimelineId timeline, Lsn from, WalSegmentSize size) {
        Lsn at = from;
        while (true) {
            WalSegmentName segment = WalSegmentName.containing(timeline, at, size);
            long offset = size.offsetInSegment(at);
            boolean moved = true;
            List<StorageKey.WalChunk> stored = chunks(segment);
            while (moved) {
                moved = false;
                for (StorageKey.WalChunk w : stored) {
                    if (w.start() <= offset && offset < w.end()) {
                        offset = w.end();
                        moved = true;
                    }
                }
            }
            at = segment.startLsn().plus(offset);
            if (offset < size.bytes()) {
                return at;
            }
        }
    }
}
