package io.tidemark.shim.restore;

import io.tidemark.events.plan.RestorePlan;
import io.tidemark.events.plan.RestoreTarget;
import io.tidemark.events.wal.Lsn;
import java.util.Optional;

/**
 * The point a plan promises, for {@code latest} the LSN the planner pinned: the start of the last
 * complete record of the contiguous WAL it lists, written as an inclusive
 * {@code recovery_target_lsn}, so that PostgreSQL stops there and refuses to finish short of it.
 * The request stays {@code latest}; people see "latest (pinned to LSN X)".
 */
public final class PinnedEnd {
    private PinnedEnd() {
    }

    /** The pinned LSN of a {@code latest} plan; empty for other targets and for plans without a pin. */
    public static Optional<Lsn> of(RestorePlan plan) {
        if (!(plan.request().target() instanceof RestoreTarget.Latest)) {
            return Optional.empty();
        }
        String v = plan.recoverySettings().get("recovery_target_lsn");
        try {
            return v == null ? Optional.empty() : Optional.of(Lsn.parse(v));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** The plan's target for people: the request as asked, and the pin when there is one. */
    public static String describe(RestorePlan plan) {
        String asked = RestoreCommand.describe(plan.request());
        return of(plan).map(l -> asked + " (pinned to LSN " + l + ", then " + plan.request().action().text() + ")")
                .orElse(asked);
    }
}
