package io.tidemark.e2e.pgrecovery;

import io.tidemark.e2e.ShimInstall;
import io.tidemark.e2e.ShimProcess;
import io.tidemark.testkit.PgCluster;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * What PostgreSQL's recovery TAP tests do with their nodes (src/test/recovery, PostgreSQL::Test::Cluster:
 * backup, init_from_backup with has_streaming / has_restoring, stop('immediate')), done with
 * testkit clusters whose archive and restore commands are the packaged shim.
 */
final class RecoveryKit {
    private RecoveryKit() {
    }

    /** archive_command for {@code stanza}: the installed launcher, as an operator writes it. */
    static String archiveCommand(Path conf, String stanza) {
        return ShimInstall.get().launcher() + " archive-push --config " + conf + " --stanza " + stanza + " %p";
    }

    /** restore_command for {@code stanza}. */
    static String restoreCommand(Path conf, String stanza) {
        return ShimInstall.get().launcher() + " archive-get --config " + conf + " --stanza " + stanza + " %f %p";
    }

    /**
     * The shim run by the test (as root) against {@code pg}: the PG* variables name that cluster
     * while it runs (backup, stanza-create need it; info and restore do not).
     */
    static ShimProcess.Result shim(Path workDir, Path conf, String stanza, PgCluster pg, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--config", conf.toString(), "--stanza", stanza));
        Map<String, String> env = pg.isRunning()
                ? Map.of("PGHOST", "127.0.0.1", "PGPORT", Integer.toString(pg.port()), "PGUSER", "postgres",
                        "PGDATA", pg.dataDir().toString())
                : Map.of();
        return ShimProcess.run(workDir, env, all.toArray(String[]::new));
    }

    /**
     * A standby made from {@code pg_basebackup} of {@code primary} (PostgreSQL's
     * {@code init_from_backup}): {@code streaming} adds primary_conninfo (-R), {@code walMethod}
     * "none" leaves pg_wal empty so every segment comes from the archive. The caller adds its
     * settings (restore_command, archive_command...) before {@link PgCluster#start()}.
     */
    static PgCluster standbyOf(PgCluster primary, boolean streaming, String walMethod, Map<String, String> settings) {
        PgCluster.Builder b = PgCluster.builder().emptyDataDir().startTimeout(Duration.ofMinutes(2));
        settings.forEach(b::setting);
        PgCluster s = b.build();
        List<String> cmd = new ArrayList<>(List.of(primary.bin("pg_basebackup").toString(), "-D", s.dataDir().toString(),
                "-h", "127.0.0.1", "-p", Integer.toString(primary.port()), "-U", "postgres", "-X", walMethod,
                "-c", "fast", "--no-sync"));
        if (streaming) {
            cmd.add("-R");
        }
        s.run(cmd, Duration.ofMinutes(3));
        touch(s, "standby.signal");
        return s;
    }

    /** An empty file in the data directory owned by the server's user (standby.signal, recovery.signal). */
    static void touch(PgCluster c, String name) {
        Path f = c.dataDir().resolve(name);
        try {
            Files.write(f, new byte[0]);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        c.runAs().giveOwnership(f);
    }

    /** {@code pg_ctl -m immediate stop}: SIGQUIT to every server process and the commands they run. */
    static void stopImmediately(PgCluster c) {
        c.run(List.of(c.bin("pg_ctl").toString(), "-D", c.dataDir().toString(), "-m", "immediate", "-w", "-t", "60",
                "stop"));
        c.stop(); // sees the postmaster gone and marks the cluster stopped, so start() starts it again
    }

    /** The names in pg_wal/archive_status ending in {@code suffix} (".ready", ".done"). */
    static Set<String> archiveStatus(PgCluster c, String suffix) {
        try (Stream<Path> s = Files.list(c.walDir().resolve("archive_status"))) {
            Set<String> out = new TreeSet<>();
            s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(suffix))
                    .forEach(n -> out.add(n.substring(0, n.length() - suffix.length())));
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Files in {@code dir} a writer left half-done: our temp names. */
    static List<String> tempFiles(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.contains(".tidemark") || n.endsWith(".tmp"))
                    .sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static int count(PgCluster c, String table) {
        return Integer.parseInt(c.sql("select count(*) from " + table));
    }

    /** The timeline the server writes (a primary) or last replayed a checkpoint on (pg_control). */
    static int timeline(PgCluster c) {
        return Integer.parseInt(c.sql("select timeline_id from pg_control_checkpoint()"));
    }
}
