package io.tidemark.shim;

import io.tidemark.shim.quickstart.QuickstartCommand;
import io.tidemark.shim.walsummary.WalSummaryCommand;

/** The command table. A switch, not a registry, so only the chosen command's classes load. */
final class Commands {
    private Commands() {
    }

    static Command named(String name) {
        return switch (name) {
            case "wal-summary" -> new WalSummaryCommand();
            case "quickstart" -> new QuickstartCommand();
            default -> null;
        };
    }
}
