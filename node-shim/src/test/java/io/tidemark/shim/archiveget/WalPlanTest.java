package io.tidemark.shim.archiveget;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tidemark.events.plan.PlanWalRange;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.events.wal.WalSegmentSize;
import io.tidemark.shim.support.PlanFixture;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class WalPlanTest {
    private static final WalSegmentSize SIZE = WalSegmentSize.ofBytes(1 << 20);

    private static WalSegmentName seg(String name) {
        return WalSegmentName.parse(name, SIZE);
    }

    /** A plan from a backup on timeline 1 to a target on timeline 3, switching in segments 3 and 6. */
    private static WalPlan switching() {
        PlanFixture f = new PlanFixture("s", null);
        f.walSegmentSize = SIZE;
        f.walRanges.add(new PlanWalRange("000000010000000000000002", "000000010000000000000003"));
        f.walRanges.add(new PlanWalRange("000000020000000000000003", "000000020000000000000006"));
        f.walRanges.add(new PlanWalRange("000000030000000000000006", "000000030000000000000009"));
        return new WalPlan(f.plan("0b6c2f1e-8f0e-4a53-9d2a-5b8c1d2e3f40"), Path.of("/nonexistent/plan.json"));
    }

    @Test
    void theNextSegmentIsOnTheNewestTimelineOfThePlanThatNeedsIt() {
        WalPlan p = switching();
        // segment 3 is on timelines 1 and 2: PostgreSQL reads the newer one, as it does
        assertEquals(seg("000000020000000000000003"), p.after(seg("000000010000000000000002")));
        assertEquals(seg("000000020000000000000004"), p.after(seg("000000020000000000000003")));
        assertEquals(seg("000000030000000000000006"), p.after(seg("000000020000000000000005")));
        assertEquals(seg("00000003000000000000000A"), p.after(seg("000000030000000000000009")));
    }

    @Test
    void withoutALaterTimelineItIsTheNextOnTheSameOne() {
        WalPlan p = switching();
        // past the plan's end, or before its first segment, the names simply follow
        assertEquals(seg("000000010000000000000002"), p.after(seg("000000010000000000000001")));
        // never back to an older timeline than the one asked for
        assertEquals(seg("000000030000000000000008"), p.after(seg("000000030000000000000007")));
    }
}
