package io.tidemark.shim.drill;

import io.tidemark.events.wal.Lsn;
import io.tidemark.shim.quickstart.Exec;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The restored cluster of a drill: started from the scratch directory on a free port, reachable
 * only over its own unix socket in the scratch directory (no TCP), with archiving off and nothing
 * of the source's replication or TLS set-up, so that it can neither push WAL into the stanza's
 * archive nor wait for a synchronous standby that is not there.
 */
final class ScratchCluster {
    /** The server log lines worth quoting when something fails. */
    private static final List<String> TELLING = List.of("FATAL", "PANIC", "ERROR", "tidemark archive-get",
            "recovery stopping", "redo done", "could not", "invalid record");

    private final Path bin;
    private final Exec exec;
    private final Path pgdata;
    private final Path socketDir;
    private final Path log;
    private final int port;
    private final String dbUser;

    ScratchCluster(Path bin, Exec exec, Path scratch, int port, String dbUser) {
        this.bin = bin;
        this.exec = exec;
        this.pgdata = scratch.resolve("pgdata");
        this.socketDir = scratch.resolve("socket");
        this.log = scratch.resolve("server.log");
        this.port = port;
        this.dbUser = dbUser;
    }

    static Path pgdata(Path scratch) {
        return scratch.resolve("pgdata");
    }

    Path log() {
        return log;
    }

    int port() {
        return port;
    }

    /** A TCP port nobody listens on now; the server only uses it to name its socket and shared memory. */
    static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException("cannot find a free port: " + e.getMessage(), e);
        }
    }

    /**
     * Appends the drill's settings after restore's recovery block (the last setting wins), and
     * writes the drill's own pg_hba.conf: trust over the socket only, which lives in the scratch
     * directory (mode 700), so only the cluster's owner (and root) can connect.
     */
    void configure(int pgMajor) throws IOException {
        Files.createDirectories(socketDir);
        Path hba = pgdata.resolve("tidemark-drill-hba.conf");
        Files.writeString(hba, "# written by tidemark drill: the socket only, in the scratch directory\nlocal all all trust\n");
        if (!Files.exists(pgdata.resolve("postgresql.conf"))) {
            // a backup of a cluster whose configuration lives elsewhere (Debian's /etc/postgresql)
            Files.writeString(pgdata.resolve("postgresql.conf"), "# written by tidemark drill\n");
        }
        StringBuilder sb = new StringBuilder("\n# tidemark drill: a scratch copy that must not archive, replicate or listen\n");
        Map<String, String> s = new java.util.LinkedHashMap<>();
        s.put("port", Integer.toString(port));
        s.put("listen_addresses", "");
        s.put("unix_socket_directories", socketDir.toString());
        s.put("hba_file", hba.toString());
        s.put("archive_mode", "off");
        s.put("archive_command", "");
        if (pgMajor >= 15) {
            s.put("archive_library", "");
        }
        s.put("synchronous_standby_names", "");
        s.put("primary_conninfo", "");
        s.put("ssl", "off");
        s.put("hot_standby", "on");
        s.put("logging_collector", "off");
        s.put("log_destination", "stderr");
        s.put("cluster_name", "tidemark-drill");
        s.forEach((k, v) -> sb.append(k).append(" = '").append(v.replace("'", "''")).append("'\n"));
        Files.writeString(pgdata.resolve("postgresql.auto.conf"), sb.toString(), StandardCharsets.UTF_8,
                StandardOpenOption.APPEND);
    }

    /** The socket path must fit a unix socket address (107 bytes); the message says which directory to pick. */
    static Optional<String> socketPathProblem(Path scratch, int port) {
        String p = scratch.resolve("socket").resolve(".s.PGSQL." + port).toString();
        return p.getBytes(StandardCharsets.UTF_8).length > 107
                ? Optional.of("the scratch directory " + scratch + " is too long for a unix socket path (" + p + ", over 107"
                + " bytes): choose a shorter --scratch")
                : Optional.empty();
    }

    void start() {
        Exec.Result r = exec.run(Path.of("/"), Map.of(), List.of(bin.resolve("pg_ctl").toString(), "-D", pgdata.toString(),
                "-l", log.toString(), "-W", "start"), 120);
        if (r.code() != 0) {
            throw new IllegalStateException("pg_ctl start failed (exit " + r.code() + "): " + r.both());
        }
    }

    /** The postmaster's pid from postmaster.pid, if it is there and complete. */
    Optional<Long> postmasterPid() {
        try {
            List<String> l = Files.readAllLines(pgdata.resolve("postmaster.pid"), StandardCharsets.UTF_8);
            return l.isEmpty() ? Optional.empty() : Optional.of(Long.parseLong(l.get(0).trim()));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    boolean alive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    /** Recovery state: in recovery, replay LSN; empty while the server accepts no connection. */
    record State(boolean inRecovery, Lsn replayed) {
    }

    Optional<State> state() {
        Exec.Result r = psql("postgres", "select pg_is_in_recovery(), coalesce(pg_last_wal_replay_lsn()::text, '')", 30, null);
        if (r.code() != 0) {
            return Optional.empty();
        }
        String[] v = r.out().strip().split("\\|", -1);
        if (v.length != 2) {
            return Optional.empty();
        }
        return Optional.of(new State(v[0].equals("t"), v[1].isEmpty() ? null : Lsn.parse(v[1])));
    }

    /**
     * Runs {@code sql} in {@code database} through psql over the socket, unaligned and tuples only;
     * {@code statementTimeoutMs} (when given) bounds each statement.
     */
    Exec.Result psql(String database, String sql, int timeoutSeconds, Long statementTimeoutMs) {
        List<String> cmd = new ArrayList<>(List.of(bin.resolve("psql").toString(), "-X", "-A", "-t", "-q", "-F", "|",
                "-v", "ON_ERROR_STOP=1", "-h", socketDir.toString(), "-p", Integer.toString(port), "-U", dbUser,
                "-d", database, "-c", sql));
        Map<String, String> env = new HashMap<>();
        env.put("PGCONNECT_TIMEOUT", "10");
        if (statementTimeoutMs != null) {
            env.put("PGOPTIONS", "-c statement_timeout=" + statementTimeoutMs);
        }
        try {
            return exec.run(Path.of("/"), env, cmd, timeoutSeconds);
        } catch (RuntimeException e) {
            return new Exec.Result(-1, "", e.getMessage());
        }
    }

    /** Stops the server: fast, then immediate; true when it is down. */
    boolean stop() {
        if (postmasterPid().filter(this::alive).isEmpty()) {
            return true;
        }
        for (String mode : List.of("fast", "immediate")) {
            try {
                Exec.Result r = exec.run(Path.of("/"), Map.of(), List.of(bin.resolve("pg_ctl").toString(), "-D",
                        pgdata.toString(), "-m", mode, "-w", "-t", "60", "stop"), 90);
                if (r.code() == 0) {
                    return true;
                }
            } catch (RuntimeException e) {
                // try the next mode
            }
        }
        return postmasterPid().filter(this::alive).isEmpty();
    }

    /** The server log's lines that tell why recovery failed (the last {@code max}), or its tail. */
    List<String> tellingLogLines(int max) {
        List<String> lines;
        try {
            lines = Files.readAllLines(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return List.of();
        }
        // the drill's own polls before consistency are no news
        List<String> telling = lines.stream().filter(l -> TELLING.stream().anyMatch(l::contains)
                && !l.contains("not yet accepting connections")).toList();
        List<String> shown = telling.isEmpty() ? lines : telling;
        return shown.subList(Math.max(0, shown.size() - max), shown.size());
    }
}
