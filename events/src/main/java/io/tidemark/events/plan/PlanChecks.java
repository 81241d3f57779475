package io.tidemark.events.plan;

/** Validation shared by the plan records; failures are {@link PlanException}s naming the field. */
final class PlanChecks {
    private PlanChecks() {
    }

    static void require(boolean ok, String message) {
        if (!ok) {
            throw new PlanException(message);
        }
    }

    static void requireSha(String hex, String what) {
        require(hex != null && hex.matches("[0-9a-f]{64}"), what + " must be 64 lower-case hex digits, got '" + hex + "'");
    }
}
