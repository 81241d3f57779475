package io.tidemark.shim.quickstart;

import io.tidemark.shim.Command;
import io.tidemark.shim.cli.ExitCodes;
import java.io.PrintStream;
import java.util.List;

/**
 * {@code tidemark quickstart}: the end-to-end demo. It needs archiving, backups and restores,
 * which are not built yet; until then it says so plainly instead of pretending.
 */
public final class QuickstartCommand implements Command {
    @Override
    public int run(List<String> args, PrintStream out, PrintStream err) {
        err.println("tidemark quickstart: not available yet. It needs archive-push, backup and restore,"
                + " which are still being built. Meanwhile try: bin/tidemark wal-summary <WAL segment file>");
        return ExitCodes.FAILED;
    }
}
