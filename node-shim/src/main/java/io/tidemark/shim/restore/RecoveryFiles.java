package io.tidemark.shim.restore;

import io.tidemark.events.plan.RestorePlan;
import io.tidemark.shim.archiveget.AtomicFile;
import io.tidemark.shim.archiveget.WalPlan;
import io.tidemark.shim.config.ShimConfig;
import io.tidemark.shim.restore.RestoreCommand.Prepared;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Restore, step 8, once every file is verified: backup_label, tablespace_map, the recovery
 * settings with restore's own restore_command, recovery.signal; the commands found in the
 * restored configuration disabled (or kept, as asked) and reported.
 */
final class RecoveryFiles {
    private RecoveryFiles() {
    }

    /** Writes backup_label, tablespace_map, the recovery settings and recovery.signal; returns the config commands found. */
    static List<ConfigCommands.Found> write(Map<String, String> env, ShimConfig config, RestorePlan plan, Prepared p,
                                            Path pgdata, boolean keepCommands) throws IOException {
        List<Path> roots = new ArrayList<>(List.of(pgdata));
        p.layout().tablespaces().values().forEach(t -> roots.add(t.location()));
        // before the recovery block is appended: restore's own restore_command is never a finding
        List<ConfigCommands.Found> commands = ConfigCommands.disable(pgdata, roots, keepCommands);
        AtomicFile.write(pgdata.resolve("backup_label"), plan.backupLabelFile().getBytes(StandardCharsets.UTF_8));
        Path map = pgdata.resolve("tablespace_map");
        if (!p.layout().tablespaces().isEmpty()) {
            // the effective locations, so that PostgreSQL re-creates exactly the links restore made
            AtomicFile.write(map, p.layout().tablespaceMap().getBytes(StandardCharsets.UTF_8));
        } else {
            Files.deleteIfExists(map);
        }
        Path auto = pgdata.resolve("postgresql.auto.conf");
        String existing = Files.isRegularFile(auto, LinkOption.NOFOLLOW_LINKS)
                ? Files.readString(auto, StandardCharsets.UTF_8) : "";
        String restoreCommand = RecoveryConfig.restoreCommand(RecoveryConfig.launcher(env), config.file(), config.stanza(),
                WalPlan.fileIn(pgdata));
        AtomicFile.write(auto, RecoveryConfig.rewrite(existing, plan.recoverySettings(), restoreCommand,
                "Recovery settings written by tidemark restore (plan " + plan.planId() + ", backup " + plan.backupLabel() + ")")
                .getBytes(StandardCharsets.UTF_8));
        Files.deleteIfExists(pgdata.resolve("standby.signal"));
        AtomicFile.write(pgdata.resolve("recovery.signal"), new byte[0]);
        for (String f : List.of("backup_label", "tablespace_map", "postgresql.auto.conf", "recovery.signal", WalPlan.FILE_NAME)) {
            Path x = pgdata.resolve(f);
            if (Files.exists(x)) {
                Files.setPosixFilePermissions(x, PosixFilePermissions.fromString("rw-------"));
            }
        }
        return commands;
    }

    /** The commands found in the restored configuration: disabled (the default), or kept as the operator asked. */
    static void report(List<ConfigCommands.Found> commands, boolean keep, PrintStream out) {
        if (commands.isEmpty()) {
            return;
        }
        out.println(keep ? "  WARNING: kept " + commands.size() + " command setting(s) from the backup's configuration"
                + " (--keep-config-commands); the restored server runs them on this host:"
                : "  disabled " + commands.size() + " command setting(s) from the backup's configuration (commented out;"
                + " a compromised source could have set them; keep them with --keep-config-commands):");
        commands.forEach(c -> out.println("    " + c));
    }
}
