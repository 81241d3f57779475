package io.tidemark.functions.plan;

import io.tidemark.events.plan.RecoveryRequest;
import io.tidemark.events.plan.RestoreTarget;
import io.tidemark.events.plan.TimelineTarget;
import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.functions.window.RecoveryWindow;
import io.tidemark.functions.window.WindowBackup;
import io.tidemark.functions.window.WindowCalculator;
import io.tidemark.functions.window.WindowInterval;
import io.tidemark.functions.window.WindowPoint;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;

/**
 * The 422 of a target no backup reaches: the recovery window of the timeline asked for, and the
 * nearest reachable points before and after the target (by time, else by LSN).
 */
final class NearestPoints {
    private NearestPoints() {
    }

    static TargetUnreachableException unreachable(WindowCalculator calc, List<WindowBackup> backups, RecoveryRequest r,
                                                   Lsn targetLsn, String message) {
        RecoveryWindow window = calc.compute(backups);
        TimelineId tli = switch (r.timeline()) {
            case TimelineTarget.Numbered n -> n.timeline();
            default -> window.timelines().isEmpty() ? TimelineId.FIRST
                    : (r.timeline() instanceof TimelineTarget.Latest ? window.timelines().getLast().timeline()
                    : backups.stream().max(Comparator.comparing(WindowBackup::label)).map(WindowBackup::timeline)
                    .orElse(TimelineId.FIRST));
        };
        List<WindowInterval> intervals = window.timeline(tli).map(RecoveryWindow.TimelineWindow::intervals).orElse(List.of());
        WindowPoint before = null;
        WindowPoint after = null;
        if (r.target() instanceof RestoreTarget.AtTime t) {
            Instant at = t.time();
            for (WindowInterval i : intervals) {
                if (i.end().time() != null && !i.end().time().isAfter(at)) {
                    before = i.end();
                } else if (i.start().time() != null && !i.start().time().isAfter(at)) {
                    before = i.end().time() == null ? i.start() : i.end();
                }
                if (after == null && i.start().time() != null && i.start().time().isAfter(at)) {
                    after = i.start();
                }
            }
        } else if (targetLsn != null) {
            for (WindowInterval i : intervals) {
                if (!i.start().lsn().isAfter(targetLsn)) {
                    before = i.end().lsn().isAfter(targetLsn) ? i.start() : i.end();
                }
                if (after == null && i.start().lsn().isAfter(targetLsn)) {
                    after = i.start();
                }
            }
        }
        return new TargetUnreachableException(message, window, before, after);
    }
}
