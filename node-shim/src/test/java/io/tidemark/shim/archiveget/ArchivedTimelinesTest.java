package io.tidemark.shim.archiveget;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.events.wal.TimelineHistory;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.events.wal.WalSegmentSize;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class ArchivedTimelinesTest {
    private static final WalSegmentSize MB1 = WalSegmentSize.ofBytes(1 << 20);
    private static final WalSegmentSize MB16 = WalSegmentSize.ofBytes(16 << 20);

    private static WalSegmentName seg(String name, WalSegmentSize size) {
        return WalSegmentName.parse(name, size);
    }

    /** Timeline 2 began inside segment 0/5 (1 MB segments: 0/500060), as a promotion writes it. */
    private static final TimelineHistory TWO = TimelineHistory.parse(TimelineId.of(2), "1\t0/500060\tno recovery target specified\n");

    @Test
    void namesTheNewTimelineFromTheSegmentHoldingItsSwitchPoint() {
        Optional<TimelineHistory> h = Optional.of(TWO);
        assertEquals("000000010000000000000004", ArchivedTimelines.after(h, seg("000000010000000000000003", MB1)).toString());
        // the segment of the switch point is asked for on the new timeline first (it holds both)
        assertEquals("000000020000000000000005", ArchivedTimelines.after(h, seg("000000010000000000000004", MB1)).toString());
        assertEquals("000000020000000000000006", ArchivedTimelines.after(h, seg("000000020000000000000005", MB1)).toString());
        // no newer timeline known: the same timeline
        assertEquals("000000010000000000000005", ArchivedTimelines.after(Optional.empty(), seg("000000010000000000000004", MB1)).toString());
    }

    @Test
    void aSwitchOnASegmentBoundaryStartsTheNewTimelineAtTheNextSegment() {
        TimelineHistory h = TimelineHistory.parse(TimelineId.of(2), "1\t0/6000000\tx\n");
        assertEquals("000000010000000000000005", ArchivedTimelines.after(Optional.of(h), seg("000000010000000000000004", MB16)).toString());
        assertEquals("000000020000000000000006", ArchivedTimelines.after(Optional.of(h), seg("000000010000000000000005", MB16)).toString());
    }

    @Test
    void aTimelineThatForkedBeforeWhereRecoveryIsIsNotFollowed() {
        // recovery asked for 0/7 on timeline 1; timeline 2 left timeline 1 at 0/500060: PostgreSQL stays
        WalSegmentName asked = seg("000000010000000000000007", MB1);
        assertFalse(ArchivedTimelines.follows(TWO, asked));
        assertEquals("000000010000000000000008", ArchivedTimelines.after(Optional.of(TWO), asked).toString());
        assertTrue(ArchivedTimelines.follows(TWO, seg("000000010000000000000005", MB1)));
        // nor one that does not descend from the timeline being read
        TimelineHistory three = TimelineHistory.parse(TimelineId.of(3), "1\t0/500060\tx\n");
        assertFalse(ArchivedTimelines.follows(three, seg("000000020000000000000005", MB1)));
        assertEquals("000000020000000000000006", ArchivedTimelines.after(Optional.of(three), seg("000000020000000000000005", MB1)).toString());
    }

    @Test
    void twoSwitchesAheadAreFollowedInTurnNeverBackToAnOlderTimeline() {
        TimelineHistory three = TimelineHistory.parse(TimelineId.of(3), "1\t0/500060\tx\n2\t0/800100\ty\n");
        Optional<TimelineHistory> h = Optional.of(three);
        assertEquals("000000020000000000000005", ArchivedTimelines.after(h, seg("000000010000000000000004", MB1)).toString());
        assertEquals("000000020000000000000007", ArchivedTimelines.after(h, seg("000000020000000000000006", MB1)).toString());
        assertEquals("000000030000000000000008", ArchivedTimelines.after(h, seg("000000020000000000000007", MB1)).toString());
        // asked on timeline 3 already: timeline 3's next, whatever the history says of older ones
        assertEquals("000000030000000000000009", ArchivedTimelines.after(h, seg("000000030000000000000008", MB1)).toString());
    }
}
