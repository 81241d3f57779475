package io.tidemark.shim.drill;

import io.tidemark.shim.cli.ExitCodes;
import java.io.PrintStream;
import java.util.OptionalLong;

/** The drill's last lines for people, and its exit status. */
final class DrillReport {
    private DrillReport() {
    }

    static int print(DrillResult r, PrintStream out, PrintStream err) {
        String times = "files restored " + time(r.filesRestoredMs()) + ", consistent " + time(r.consistentMs())
                + ", promoted " + time(r.promotedMs());
        if (r.passed()) {
            out.println("drill " + r.drillId() + " PASSED: backup " + r.backup().orElse("?") + ", target " + r.target()
                    + "; " + times + "; RTO " + time(r.promotedMs()));
            return ExitCodes.OK;
        }
        StringBuilder sb = new StringBuilder("drill " + r.drillId() + " FAILED: check" + (r.failedChecks().size() > 1 ? "s " : " ")
                + String.join(", ", r.failedChecks()) + " failed; " + times);
        r.checks().stream().filter(DrillCheck::failed).forEach(c -> sb.append("\n  ").append(c.name()).append(": ")
                .append(c.message()));
        err.println(sb);
        return ExitCodes.FAILED;
    }

    static String time(OptionalLong ms) {
        return ms.isPresent() ? Drill.seconds(ms.getAsLong()) : "-";
    }
}
