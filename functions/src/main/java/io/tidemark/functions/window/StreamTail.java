package io.tidemark.functions.window;

import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.events.wal.WalSegmentSize;
import io.tidemark.functions.catalog.Item;
import java.time.Instant;
import java.util.Optional;

/**
 * What the streamed chunks of one segment make restorable (its {@code STREAM#} item, issue 17):
 * the bytes contiguous from the segment's start ({@code covered}), the end of the last complete
 * record in them and where that record starts, and the last commit time found in them.
 *
 * @param endLsn         the end of the last complete record in the covered bytes
 * @param lastRecordLsn  the start of that record: {@code latest} pins it
 * @param lastCommitTime the last commit in the covered bytes, null when none
 * @param complete       the chunks hold the whole segment (to its end or its switch record): the
 *                       next segment's chunks continue the stream
 */
public record StreamTail(WalSegmentName segment, long covered, Lsn endLsn, Lsn lastRecordLsn, Instant lastCommitTime,
                         boolean complete) {

    /** The tail an item describes; empty when no complete record is known yet or the stream stopped at a problem. */
    public static Optional<StreamTail> fromItem(Item i, WalSegmentSize size) {
        Optional<String> end = i.string("endLsn");
        Optional<String> last = i.string("lastRecordLsn");
        if (end.isEmpty() || last.isEmpty()) {
            return Optional.empty();
        }
        WalSegmentName seg = WalSegmentName.parse(i.string("segment").orElseThrow(), size);
        return Optional.of(new StreamTail(seg, i.number("covered").orElse(0L), Lsn.parse(end.get()),
                Lsn.parse(last.get()), i.string("lastCommitTime").map(Instant::parse).orElse(null),
                i.flag("complete")));
    }
}
