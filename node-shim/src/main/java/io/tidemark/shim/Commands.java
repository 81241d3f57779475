package io.tidemark.shim;

import io.tidemark.shim.aottrain.AotTrainCommand;
import io.tidemark.shim.archiveget.ArchiveGetCommand;
import io.tidemark.shim.archivepush.ArchivePushCommand;
import io.tidemark.shim.backup.BackupCommand;
import io.tidemark.shim.expire.ExpireCommand;
import io.tidemark.shim.info.InfoCommand;
import io.tidemark.shim.quickstart.QuickstartCommand;
import io.tidemark.shim.restore.RestoreCommand;
import io.tidemark.shim.stanzacreate.StanzaCreateCommand;
import io.tidemark.shim.walsummary.WalSummaryCommand;
import java.util.List;

/** The command table. A switch, not a registry, so only the chosen command's classes load. */
final class Commands {
    /** Every command, in the order {@code tidemark --help} lists them (hidden ones are not listed). */
    static final List<String> NAMES = List.of("stanza-create", "check", "archive-push", "archive-push-worker",
            "archive-get", "archive-get-prefetch", "backup", "info", "verify", "expire", "restore", "drill", "agent",
            "wal-summary", "quickstart", "aot-train");

    private Commands() {
    }

    static Command named(String name) {
        return switch (name) {
            case "wal-summary" -> new WalSummaryCommand();
            case "quickstart" -> new QuickstartCommand();
            case "archive-push" -> new ArchivePushCommand();
            case "archive-get" -> new ArchiveGetCommand();
            case "archive-get-prefetch" -> new io.tidemark.shim.archiveget.PrefetchCommand();
            case "archive-push-worker" -> new io.tidemark.shim.archivepush.async.ArchiveWorkerCommand();
            case "stanza-create" -> new StanzaCreateCommand();
            case "check" -> new io.tidemark.shim.check.CheckCommand();
            case "info" -> new InfoCommand();
            case "expire" -> new ExpireCommand();
            case "verify" -> new io.tidemark.shim.verify.VerifyCommand();
            case "backup" -> new BackupCommand();
            case "restore" -> new RestoreCommand();
            case "drill" -> new io.tidemark.shim.drill.DrillCommand();
            case "aot-train" -> new AotTrainCommand();
            case "agent" -> new io.tidemark.shim.agent.AgentCommand();
            default -> null;
        };
    }
}
