package io.tidemark.shim;

import io.tidemark.shim.cli.CommandFailure;
import io.tidemark.shim.cli.ExitCodes;
import io.tidemark.shim.cli.UsageException;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;

/**
 * Entry point of the {@code tidemark} command. Commands are looked up by name and only the
 * chosen one is loaded: PostgreSQL starts this program once per WAL segment, so start-up
 * must not pay for commands it does not run.
 */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        // The AWS SDK logs through SLF4J and the shim ships no backend: without this, SLF4J warns
        // on stderr (PostgreSQL's log, for archive-push) in every process that loads the SDK.
        if (System.getProperty("slf4j.provider") == null) {
            System.setProperty("slf4j.provider", "org.slf4j.helpers.NOP_FallbackServiceProvider");
            // and no "attempting to load provider" notice for choosing it
            System.setProperty("slf4j.internal.verbosity", "WARN");
        }
        int code = run(Arrays.asList(args), System.out, System.err);
        System.out.flush();
        System.err.flush();
        io.tidemark.shim.cli.Trace.mark("exit");
        if (args.length > 0 && (args[0].equals("archive-push") || args[0].equals("archive-get"))) {
            // PostgreSQL waits for these once per WAL file. System.exit would first look for a
            // logging backend (it may log the exit), which scans every jar on the class path:
            // about 20 ms (docs/startup.md). They register no shutdown hooks and their output
            // is flushed, so halting loses nothing.
            Runtime.getRuntime().halt(code);
        }
        if (code == 0 && args.length > 0 && args[0].equals("aot-train")) {
            return; // the JVM writes the AOT cache as it ends; System.exit's logging classes stay out of it
        }
        System.exit(code);
    }

    public static int run(List<String> args, PrintStream out, PrintStream err) {
        if (args.isEmpty() || args.get(0).equals("--help") || args.get(0).equals("help")) {
            out.print(usage());
            return args.isEmpty() ? ExitCodes.USAGE : ExitCodes.OK;
        }
        String name = args.get(0);
        List<String> rest = args.subList(1, args.size());
        try {
            Command command = Commands.named(name);
            if (command == null) {
                err.println("tidemark: unknown command '" + name + "' (see tidemark --help)");
                return ExitCodes.USAGE;
            }
            return command.run(rest, out, err);
        } catch (UsageException e) {
            err.println("tidemark " + name + ": " + e.getMessage());
            return ExitCodes.USAGE;
        } catch (CommandFailure e) {
            err.println("tidemark " + name + ": " + e.getMessage());
            return e.exitCode();
        }
    }

    static String usage() {
        return """
                usage: tidemark COMMAND [options]

                commands:
                  wal-summary FILE [--output text|json] [--next FILE] [--transactions]
                                   summarise one WAL segment: records, commits, aborts,
                                   restore points, checkpoints, where and why it ends
                  stanza-create    register this cluster (system identifier, version, segment size)
                                   as the stanza in the catalog
                  archive-push WAL_PATH
                                   archive_command: check, compress and upload one WAL file
                                   (archive-push.async=true: answered from the worker's spool)
                  archive-push-worker [--idle-exit SECONDS]
                                   the asynchronous archive-push worker in the foreground
                                   (archive-push starts one itself; 0 = never leave when idle)
                  archive-get WAL_NAME DEST_PATH
                                   restore_command: fetch, verify and write one WAL file
                                   (exit 1 silently when it is not archived, 3 on errors)
                  info [--output text|json]
                                   the stanza's archived WAL per timeline, gaps, archive lag, backups
                  expire --dry-run [--output text|json] [--retention-full-type count|time]
                         [--retention-full N] [--retention-diff N]
                                   preview retention: the backups and WAL it would remove now
                                   and the recovery window after (retention itself runs in the
                                   cloud, daily and after each valid backup)
                  verify [--backup LABEL] [--output text|json] [--timeout SECONDS]
                                   check every archived object of the stanza (or one backup and
                                   its chain) in the cloud: size, SHA-256, WAL continuity, backup
                                   chains; waits, prints each problem; exit 0 only when clean
                  backup [--type full|diff|incr] [--from-standby] [--process-max N] [--checksum-delta]
                                   base backup straight to S3 (default incr; full when no valid
                                   full exists); a standby skips unless --from-standby
                  restore --pgdata DIR [--target-time T | --target-xid X | --target-lsn L |
                          --target-name N | --target-immediate] [--target-exclusive]
                          [--target-timeline latest|current|N] [--target-action promote|pause|shutdown]
                          [--backup LABEL] [--delta] [--plan-file F] [--process-max N]
                          [--tablespace-map OID=DIR ...] [--keep-config-commands]
                          [--wait [--wait-timeout S] [--owner USER]]
                                   restore the data directory from a signed restore plan
                                   (no target: latest) and write the recovery configuration;
                                   commands in the backup's configuration are commented out
                                   unless --keep-config-commands; --wait starts PostgreSQL
                                   and waits for the target
                  agent [--queue-url URL] [--metrics-port N] [--metrics-address A]
                                   long-running: runs the stanza's scheduled backups on the primary
                                   (replicas leave them), serves Prometheus metrics (port 9854)
                  quickstart       the end-to-end demo (local cloud, backup, mistake, restore)

                options of stanza-create, archive-push, archive-get, info, expire, verify, backup, restore and agent:
                  --config FILE    configuration file (else $TIDEMARK_CONFIG)
                  --stanza NAME    stanza (else stanza= in the configuration file)
                  --pgdata DIR, --pg-host HOST, --pg-port PORT, --pg-user USER
                                   PostgreSQL (else $PGDATA, $PGHOST, $PGPORT, $PGUSER);
                                   a socket directory as host means TCP to 127.0.0.1
                """;
    }
}
