package io.tidemark.functions.index;

import com.github.luben.zstd.Zstd;
import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.layout.StorageLayout;
import io.tidemark.events.wal.WalFileName;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.events.wal.WalSegmentSize;
import io.tidemark.testkit.wal.SyntheticWal;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import net.jpountz.lz4.LZ4FrameOutputStream;

/**
 * A run of complete synthetic PostgreSQL 15 segments (1 MB, timeline 1 from segment 5): each
 * starts with a commit; a chosen boundary is crossed by a 12 kB record, the others end with
 * XLOG_SWITCH; the last segment ends with a switch. (A copy of the functions module's test
 * helper of the same name: test classes are not shared between modules.)
 */
public final class TestWal {

    public static final long SYSTEM_ID = 7_300_000_000_000_000_001L;
    public static final String SYSTEM_ID_TEXT = Long.toUnsignedString(SYSTEM_ID);
    public static final WalSegmentSize SIZE = WalSegmentSize.ofMegabytes(1);
    public static final long FIRST_SEGMENT = 5;
    /** Commit times: segment i commits at T0 + i seconds (Unix micros). */
    public static final long T0 = 1_790_000_000_000_000L;

    public final List<byte[]> segments = new ArrayList<>();
    public final List<String> names = new ArrayList<>();
    public final long records;
    private final List<Long> recordLsns;

    public TestWal(int count, Set<Integer> crossingAfter) {
        SyntheticWal w = SyntheticWal.pg15OneMb();
        for (int i = 0; i < count; i++) {
            w.commit(1000 + i, T0 + i * 1_000_000L);
            if (i < count - 1 && crossingAfter.contains(i)) {
                w.fillSegmentUntil(3000, 500);
                w.message(12_000);
            } else {
                w.switchSegment();
            }
        }
        for (int i = 0; i < count; i++) {
            segments.add(w.segment(i));
            names.add(w.segmentName(i));
        }
        records = w.recordLsns().size();
        recordLsns = List.copyOf(w.recordLsns());
    }

    /** How many records start in segment {@code i}: what its summary must count once the next segment is known. */
    public long recordsIn(int i) {
        long start = (FIRST_SEGMENT + i) * SIZE.bytes();
        return recordLsns.stream().filter(l -> l >= start && l < start + SIZE.bytes()).count();
    }

    public WalSegmentName name(int i) {
        return WalSegmentName.parse(names.get(i), SIZE);
    }

    public String key(StanzaName stanza, int i, Compression c) {
        return StorageLayout.walKey(stanza, new WalFileName.Segment(name(i)), c);
    }

    public static byte[] compress(Compression c, byte[] raw) {
        return switch (c) {
            case ZSTD -> Zstd.compress(raw, 3);
            case LZ4 -> {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                try (LZ4FrameOutputStream lz = new LZ4FrameOutputStream(out)) {
                    lz.write(raw);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                yield out.toByteArray();
            }
            case NONE -> raw.clone();
        };
    }

    public static String sha256(byte[] raw) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(raw));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
