package io.tidemark.events.wal;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

/** Shared generators for the WAL value types: every segment size, the whole LSN and timeline ranges. */
public final class WalArbitraries {
    private WalArbitraries() {
    }

    /** 1 MB .. 1 GB, every power of two. */
    public static Arbitrary<WalSegmentSize> segmentSizes() {
        return Arbitraries.integers().between(20, 30).map(shift -> new WalSegmentSize(1 << shift));
    }

    public static Arbitrary<TimelineId> timelines() {
        return Arbitraries.oneOf(
                Arbitraries.longs().between(1, 0xFFFFFFFFL),
                Arbitraries.of(1L, 2L, 0xFFFFFFFEL, 0xFFFFFFFFL)).map(TimelineId::of);
    }

    /** Any 64-bit LSN, biased towards edges (0, segment boundaries, the top). */
    public static Arbitrary<Lsn> lsns() {
        return Arbitraries.oneOf(
                Arbitraries.longs().map(Lsn::of),
                Arbitraries.longs().between(0, 1L << 40).map(Lsn::of),
                Arbitraries.of(0L, 1L, -1L, 0xFFFFFFFFL, 0x1_0000_0000L, Long.MIN_VALUE, Long.MAX_VALUE).map(Lsn::of));
    }

    public static Arbitrary<WalSegmentName> segmentNames() {
        return segmentSizes().flatMap(size -> {
            long maxSeg = Long.divideUnsigned(-1L, size.bytes());
            Arbitrary<Long> segNo = Arbitraries.oneOf(
                    Arbitraries.longs().between(0, maxSeg),
                    Arbitraries.of(0L, 1L, size.segmentsPerLogId() - 1, size.segmentsPerLogId(), maxSeg));
            return Combinators.combine(timelines(), segNo).as((tli, n) -> WalSegmentName.of(tli, n, size));
        });
    }

    public static Arbitrary<WalFileName> walFileNames() {
        Arbitrary<WalFileName> segments = segmentNames().map(WalFileName.Segment::new);
        Arbitrary<WalFileName> partials = segmentNames().map(WalFileName.Partial::new);
        Arbitrary<WalFileName> histories = timelines().filter(t -> t.value() > 1).map(WalFileName.History::new);
        Arbitrary<WalFileName> backups = segmentNames().flatMap(s -> Arbitraries.longs()
                .between(0, s.segmentSize().bytes() - 1).map(off -> new WalFileName.BackupHistory(s, off)));
        return Arbitraries.oneOf(segments, partials, histories, backups);
    }
}
