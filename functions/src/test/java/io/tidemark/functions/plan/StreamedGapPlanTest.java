package io.tidemark.functions.plan;

import static io.tidemark.functions.plan.PlanFixture.at;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.events.plan.RestorePlan;
import io.tidemark.events.wal.Lsn;
import io.tidemark.functions.catalog.CatalogService;
import io.tidemark.functions.catalog.StanzaView;
import io.tidemark.functions.index.TestWal;
import io.tidemark.functions.window.RecoveryWindow;
import java.time.Clock;
import java.time.ZoneOffset;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Issue 17, "never a silent hole", the planner's side: streamed chunks continue after WAL that is
 * neither archived nor streamed (segments 10 and 11 of a run whose 5..8 are archived and 9, 12,
 * 13 streamed). Every target past the gap is refused with the gap named as {@code info} names it;
 * {@code latest} is refused rather than planned short of the newest streamed point; a target
 * before the gap plans only WAL before it; once the archive fills the gap, {@code latest} reaches
 * the last streamed record. Real WAL (SyntheticWal) through the real indexer and planner.
 */
@Tag("unit")
class StreamedGapPlanTest {

    private static PlanFixture withGap() {
        PlanFixture f = new PlanFixture();
        f.archive(1, 5, 8, Map.of());
        f.backup(1, 1, 5, 6, at(6.5));
        f.stream(1, 5, 14, 9, 12, 13);
        return f;
    }

    private static StanzaView view(PlanFixture f) {
        return new CatalogService(f.catalog, f.objects, Clock.fixed(f.now, ZoneOffset.UTC)).describe("main");
    }

    private static String segmentStart(long segno) {
        return TestWal.SIZE.segmentStart(segno).toString();
    }

    @Test
    void everyTargetPastTheGapIsRefusedNamingItAndLatestIsNotPlannedShortOfIt() {
        PlanFixture f = withGap();
        RecoveryWindow w = view(f).window();
        RecoveryWindow.Break gap = w.breaks().getFirst();
        assertEquals(1, w.breaks().size(), w.toString());
        assertEquals(segmentStart(12), gap.to().lsn().toString(), "WAL continues at the streamed segment 12");
        assertEquals(at(9), w.latest().orElseThrow().time(), "the window ends with the last streamed commit before it");
        String named = "WAL GAP: timeline 1 from LSN " + gap.from().lsn() + " (last commit " + at(9) + ") to LSN "
                + segmentStart(12) + " is missing from both the archive and the stream; WAL continues there on"
                + " timeline 1 (segment 00000001000000000000000C)";

        TargetUnreachableException latest = assertThrows(TargetUnreachableException.class,
                () -> f.plan("{\"target\":{\"type\":\"latest\"}}"));
        assertTrue(latest.getMessage().contains("latest cannot be reached: " + named), latest.getMessage());
        assertTrue(latest.getMessage().contains("--target-lsn "), "it says how to accept the loss: "
                + latest.getMessage());
        assertEquals(gap.from().lsn(), latest.before().lsn(), "the nearest point is the gap's start");
        assertNull(latest.after(), "nothing is reachable after the gap");

        for (String target : new String[] {"{\"type\":\"time\",\"value\":\"" + at(12.5) + "\"}",
                "{\"type\":\"lsn\",\"value\":\"" + Lsn.of(TestWal.SIZE.segmentStart(12).value() + 0x100) + "\"}",
                "{\"type\":\"lsn\",\"value\":\"" + Lsn.of(TestWal.SIZE.segmentStart(10).value() + 0x100) + "\"}",
                "{\"type\":\"xid\",\"value\":\"1012\"}"}) {
            TargetUnreachableException e = assertThrows(TargetUnreachableException.class,
                    () -> f.plan("{\"target\":" + target + "}"), target);
            assertTrue(e.getMessage().contains("the WAL breaks off before it at a " + named), target + ": "
                    + e.getMessage());
        }

        // the loss accepted: the pin latest's refusal offers plans WAL before the gap only
        String option = latest.getMessage().replaceAll("(?s).*--target-lsn ([0-9A-F]+/[0-9A-F]+).*", "$1");
        RestorePlan accepted = f.plan("{\"target\":{\"type\":\"lsn\",\"value\":\"" + option + "\"}}").plan();
        assertEquals(RestorePlannerTest.segments(1, 5, 9), RestorePlannerTest.walNames(accepted));
        RestorePlan before = f.plan("{\"target\":{\"type\":\"time\",\"value\":\"" + at(8.5) + "\"}}").plan();
        assertEquals(RestorePlannerTest.segments(1, 5, 9), RestorePlannerTest.walNames(before));
    }

    @Test
    void onceTheArchiveFillsTheGapLatestReachesTheLastStreamedRecord() {
        PlanFixture f = withGap();
        f.archive(1, 5, 11, Map.of(), 5, 6, 7, 8); // archive_command delivers 9, 10 and 11
        assertEquals(0, view(f).window().breaks().size(), view(f).window().toString());
        RestorePlan latest = f.plan("{\"target\":{\"type\":\"latest\"}}").plan();
        assertEquals(RestorePlannerTest.segments(1, 5, 13), RestorePlannerTest.walNames(latest));
        assertEquals(at(13), view(f).window().latest().orElseThrow().time());
    }
}
