package io.tidemark.shim.support;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StorageKey;
import io.tidemark.events.layout.StorageLayout;
import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.events.wal.WalSegmentSize;
import io.tidemark.shim.storage.Codec;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.LongFunction;
import software.amazon.awssdk.services.s3.S3Client;

/** Checks on the WAL chunks the agent streamed into S3. */
public final class StreamedChunks {
    private StreamedChunks() {
    }

    /**
     * Every chunk of the stanza, checked: per timeline one contiguous chain (each chunk starts where
     * the one before ended, none twice), going on into the next segment from offset 0, and each
     * chunk's bytes exactly those of the segment file in {@code walDirOf(timeline)}. Returns where
     * each timeline's chain starts (key -timeline) and ends (key timeline).
     */
    public static Map<Long, Lsn> assertChainsAreTheWal(S3Client s3, String bucket, String stanza, WalSegmentSize size,
                                                      LongFunction<Path> walDirOf) throws IOException {
        TreeMap<WalSegmentName, List<StorageKey.WalChunk>> bySegment = new TreeMap<>();
        for (var o : s3.listObjectsV2Paginator(l -> l.bucket(bucket).prefix(stanza + "/stream/")).contents()) {
            StorageKey.WalChunk c = (StorageKey.WalChunk) StorageLayout.parse(o.key(), size);
            bySegment.computeIfAbsent(c.segment(), s -> new ArrayList<>()).add(c);
        }
        assertFalse(bySegment.isEmpty(), "chunks were stored");
        Map<Long, Lsn> ends = new TreeMap<>();
        for (var e : bySegment.entrySet()) {
            long timeline = e.getKey().timeline().value();
            List<StorageKey.WalChunk> chunks = e.getValue();
            chunks.sort((a, b) -> Long.compare(a.start(), b.start()));
            Lsn end = ends.get(timeline);
            if (end != null) {
                assertEquals(end, e.getKey().startLsn().plus(chunks.get(0).start()),
                        "the chain goes on into " + e.getKey() + " with no gap");
            } else {
                ends.put(-timeline, e.getKey().startLsn().plus(chunks.get(0).start()));
            }
            try (RandomAccessFile f = new RandomAccessFile(walDirOf.apply(timeline).resolve(e.getKey().toString())
                    .toFile(), "r")) {
                for (int i = 0; i < chunks.size(); i++) {
                    StorageKey.WalChunk c = chunks.get(i);
                    if (i > 0) {
                        assertEquals(chunks.get(i - 1).end(), c.start(), "chunk " + c.key() + " starts where "
                                + chunks.get(i - 1).key() + " ended: no gap, no overlap");
                    }
                    byte[] stored = Codec.decompress(Compression.ZSTD, s3.getObjectAsBytes(
                            g -> g.bucket(bucket).key(c.key())).asByteArray());
                    byte[] onDisk = new byte[(int) c.length()];
                    f.seek(c.start());
                    f.readFully(onDisk);
                    assertArrayEquals(onDisk, stored, "chunk " + c.key() + " holds the bytes of pg_wal/" + e.getKey());
                }
            }
            StorageKey.WalChunk last = chunks.get(chunks.size() - 1);
            ends.put(timeline, e.getKey().startLsn().plus(last.end()));
        }
        return ends;
    }
}
