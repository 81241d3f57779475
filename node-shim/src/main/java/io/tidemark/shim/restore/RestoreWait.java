package io.tidemark.shim.restore;

import io.tidemark.events.plan.RestorePlan;
import io.tidemark.events.plan.RestoreTarget;
import io.tidemark.events.plan.TargetAction;
import io.tidemark.events.wal.Lsn;
import io.tidemark.shim.cli.ExitCodes;
import io.tidemark.shim.cli.UsageException;
import io.tidemark.shim.quickstart.Exec;
import io.tidemark.shim.quickstart.PgBinDir;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * {@code tidemark restore --wait}: after the files are in place, start PostgreSQL with the
 * binaries of the plan's major version (as {@code --owner} when run as root, after handing it
 * PGDATA), wait until recovery ends as the target action says (promoted, paused, shut down) or
 * the server dies, and report the LSN and last transaction time reached. Exit 0 only when that is
 * the target; otherwise non-zero with the server log lines that say why. The server is left as
 * it ended: running when promoted or paused (or still recovering at the timeout).
 */
final class RestoreWait {
    static final Duration DEFAULT_TIMEOUT = Duration.ofHours(1);
    private static final long POLL_MS = 500;
    /** Server log lines worth showing: why recovery ended, and every error. */
    private static final List<String> TELLING = List.of("FATAL", "PANIC", "ERROR", "recovery stopping",
            "last completed transaction", "redo done", "recovery ended", "aborting recovery", "tidemark archive-get",
            "could not", "invalid record", "pausing at the end", "shutdown at recovery target", "selected new timeline");

    /** What the command line asked for. */
    record Options(boolean enabled, Duration timeout, String owner) {
        static Options of(boolean on, String timeout, String ownerOption) {
            Optional<String> t = Optional.ofNullable(timeout);
            Optional<String> owner = Optional.ofNullable(ownerOption);
            if (!on && (t.isPresent() || owner.isPresent())) {
                throw new UsageException("--wait-timeout and --owner apply only with --wait");
            }
            long secs;
            try {
                secs = t.map(Long::parseLong).orElse(DEFAULT_TIMEOUT.toSeconds());
            } catch (NumberFormatException e) {
                secs = -1;
            }
            if (secs < 1) {
                throw new UsageException("--wait-timeout takes seconds (1 or more), got '" + t.orElse("") + "'");
            }
            String user = owner.orElse("postgres");
            if (!user.matches("[A-Za-z_][A-Za-z0-9_.-]{0,31}")) {
                throw new UsageException("--owner takes a user name, got '" + user + "'");
            }
            return new Options(on, Duration.ofSeconds(secs), user);
        }
    }

    /** How recovery ended, as seen from outside the server. */
    sealed interface Outcome {
        /** Promoted: recovery over, the server accepts writes. */
        record Promoted(Lsn replayed, String lastTransaction) implements Outcome {
        }

        /** Recovery paused at its end (action pause). */
        record Paused(Lsn replayed, String lastTransaction) implements Outcome {
        }

        /** The server shut down cleanly in recovery (action shutdown). */
        record ShutDown(Lsn replayed, String lastTransaction) implements Outcome {
        }

        /** The server stopped without finishing recovery. */
        record Died(String state) implements Outcome {
        }

        /** Still recovering when the time ran out; the server keeps running. */
        record StillRecovering(Lsn replayed) implements Outcome {
        }
    }

    private final Options options;
    private final Clock clock;

    RestoreWait(Options options, Clock clock) {
        this.options = options;
        this.clock = clock;
    }

    int run(RestorePlan plan, Path pgdata, Collection<Path> tablespaces, PrintStream out, PrintStream err) {
        int major = plan.pgVersionNum() / 10000;
        Path bin = PgBinDir.find(major).orElseThrow(() -> new RestoreRefused("--wait: no PostgreSQL " + major
                + " binaries (pg_ctl, postgres) in TIDEMARK_PG_BINDIR, /usr/lib/postgresql/" + major + "/bin or PATH;"
                + " the files are restored: start the cluster with PostgreSQL " + major + "'s pg_ctl"));
        Exec exec = Exec.asOwner(options.owner());
        Path log = pgdata.resolveSibling(pgdata.getFileName() + ".log");
        long logStart;
        try {
            if (!Files.exists(log)) {
                Files.createFile(log);
            }
            logStart = Files.size(log);
        } catch (IOException e) {
            throw new RestoreRefused("--wait: cannot create the server log " + log + ": " + e.getMessage(), e);
        }
        if (exec.runAsUser() != null) {
            List<Path> owned = new ArrayList<>(List.of(pgdata, log));
            owned.addAll(tablespaces);
            for (Path p : owned) {
                run(Exec.asOwner(null), List.of("chown", "-R", options.owner() + ":", p.toString()), 600,
                        "hand " + p + " to " + options.owner());
            }
        }
        out.println("starting PostgreSQL " + major + " (" + bin + ")" + (exec.runAsUser() == null ? "" : " as "
                + exec.runAsUser()) + "; server log " + log + "; waiting up to " + options.timeout().toSeconds()
                + " s for recovery to end");
        // a postmaster.pid left by a dead server (kept by --delta) names no process of this start
        Long stale = pidFile(pgdata).flatMap(l -> l.isEmpty() ? Optional.empty() : parseLong(l.get(0))).orElse(null);
        run(exec, List.of(bin.resolve("pg_ctl").toString(), "-D", pgdata.toString(), "-l", log.toString(), "-W", "start"), 120,
                "pg_ctl start");
        Outcome outcome = await(exec, bin, pgdata, stale, log, logStart);
        return report(plan, outcome, log, logStart, out, err);
    }

    private Exec.Result run(Exec exec, List<String> cmd, int timeoutSeconds, String what) {
        Exec.Result r;
        try {
            r = exec.run(Path.of("/"), Map.of(), cmd, timeoutSeconds);
        } catch (RuntimeException e) {
            throw new RestoreRefused("--wait: " + what + ": " + e.getMessage(), e);
        }
        if (r.code() != 0) {
            throw new RestoreRefused("--wait: " + what + " failed (exit " + r.code() + "): " + r.both());
        }
        return r;
    }

    /** Polls the server until recovery ends one way or another, or the time runs out. */
    private Outcome await(Exec exec, Path bin, Path pgdata, Long stale, Path log, long logStart) {
        Instant deadline = clock.instant().plus(options.timeout());
        Instant noPidBy = clock.instant().plusSeconds(60);
        Lsn lastSeen = null;
        Long postmaster = null;
        while (true) {
            Optional<List<String>> pid = pidFile(pgdata);
            if (postmaster == null) {
                // the postmaster creates the file, then writes it: an empty or partial first line is "starting"
                postmaster = pid.flatMap(l -> l.isEmpty() ? Optional.empty() : parseLong(l.get(0)))
                        .filter(p -> !p.equals(stale)).orElse(null);
            }
            boolean alive = postmaster != null && ProcessHandle.of(postmaster).map(ProcessHandle::isAlive).orElse(false);
            if (!alive && (postmaster != null || clock.instant().isAfter(noPidBy)
                    || (pid.isEmpty() && shutDownSince(log, logStart)))) {
                // gone (it exited, or was killed), or it never got as far as writing postmaster.pid; or it
                // came and went between two polls (recovery aborted at its first file, e.g. the timeline
                // history): its pid was never seen, but the log says it shut down
                return stopped(exec, bin, pgdata);
            }
            String status = pid.filter(l -> l.size() >= 8).map(l -> l.get(7).trim()).orElse("");
            if (alive && (status.equals("ready") || status.equals("standby"))) {
                Optional<String[]> row = query(exec, bin, pid.get());
                if (row.isPresent()) {
                    String[] v = row.get();
                    Lsn replayed = v[1].isEmpty() ? null : Lsn.parse(v[1]);
                    lastSeen = replayed == null ? lastSeen : replayed;
                    if (v[0].equals("f")) {
                        return new Outcome.Promoted(replayed, v[2]);
                    }
                    if (v[3].equals("t")) {
                        return new Outcome.Paused(replayed, v[2]);
                    }
                }
            }
            if (clock.instant().isAfter(deadline)) {
                return new Outcome.StillRecovering(lastSeen);
            }
            try {
                Thread.sleep(POLL_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RestoreRefused("--wait: interrupted");
            }
        }
    }

    /** The server log written since {@code from} says the postmaster shut down. */
    private static boolean shutDownSince(Path log, long from) {
        try (java.nio.channels.SeekableByteChannel ch = Files.newByteChannel(log)) {
            long size = ch.size();
            if (size <= from) {
                return false;
            }
            java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate((int) Math.min(size - from, 1 << 20));
            ch.position(Math.max(from, size - buf.capacity()));
            while (buf.hasRemaining() && ch.read(buf) > 0) {
                // read the tail
            }
            return new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8).contains("database system is shut down");
        } catch (IOException e) {
            return false;
        }
    }

    private static Optional<Long> parseLong(String s) {
        try {
            return Optional.of(Long.parseLong(s.trim()));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** postmaster.pid's lines (pid, data dir, start, port, socket dir, listen address, shmem, status), if present. */
    private static Optional<List<String>> pidFile(Path pgdata) {
        try {
            return Optional.of(Files.readAllLines(pgdata.resolve("postmaster.pid"), StandardCharsets.UTF_8));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /**
     * Recovery state through psql over the server's own unix socket (directory and port from
     * postmaster.pid): in recovery, replay LSN (end of the last record applied; static once
     * recovery is over), last replayed transaction time, paused. Empty when it cannot connect yet.
     */
    private Optional<String[]> query(Exec exec, Path bin, List<String> pid) {
        if (pid.size() < 5) {
            return Optional.empty();
        }
        String port = pid.get(3).trim();
        String socket = pid.get(4).trim();
        List<String> cmd = new ArrayList<>(List.of(bin.resolve("psql").toString(), "-X", "-A", "-t", "-q", "-F", "|",
                "-p", port, "-d", "postgres"));
        if (!socket.isEmpty()) {
            cmd.addAll(List.of("-h", socket));
        }
        if (exec.runAsUser() != null) {
            cmd.addAll(List.of("-U", exec.runAsUser()));
        }
        cmd.addAll(List.of("-c", "select pg_is_in_recovery(), coalesce(pg_last_wal_replay_lsn()::text, ''),"
                + " coalesce(pg_last_xact_replay_timestamp()::text, ''),"
                + " case when pg_is_in_recovery() then pg_is_wal_replay_paused() else false end"));
        Exec.Result r;
        try {
            r = exec.run(Path.of("/"), Map.of(), cmd, 30);
        } catch (RuntimeException e) {
            return Optional.empty();
        }
        String[] v = r.out().strip().split("\\|", -1);
        return r.code() == 0 && v.length == 4 ? Optional.of(v) : Optional.empty();
    }

    /** The server is gone: shut down in recovery at the target, or died. pg_controldata says which. */
    private Outcome stopped(Exec exec, Path bin, Path pgdata) {
        Exec.Result r;
        try {
            r = exec.run(Path.of("/"), Map.of("LC_ALL", "C"), List.of(bin.resolve("pg_controldata").toString(),
                    "-D", pgdata.toString()), 60);
        } catch (RuntimeException e) {
            return new Outcome.Died("unknown (pg_controldata: " + e.getMessage() + ")");
        }
        String state = field(r.out(), "Database cluster state").orElse("unknown");
        if (state.equals("shut down in recovery")) {
            Lsn min = field(r.out(), "Minimum recovery ending location").map(Lsn::parse).orElse(null);
            return new Outcome.ShutDown(min, null);
        }
        return new Outcome.Died(state);
    }

    private static Optional<String> field(String controlData, String name) {
        for (String line : controlData.split("\n")) {
            if (line.startsWith(name + ":")) {
                return Optional.of(line.substring(name.length() + 1).strip());
            }
        }
        return Optional.empty();
    }

    /** Prints the outcome and whether it is the target; the exit status. */
    int report(RestorePlan plan, Outcome outcome, Path log, long logStart, PrintStream out, PrintStream err) {
        List<String> lines = logLines(log, logStart);
        String lastTx = lastTransaction(outcome, lines);
        String target = PinnedEnd.describe(plan);
        TargetAction action = plan.request().action();
        String problem = switch (outcome) {
            case Outcome.Died d -> "the server stopped before recovery ended (cluster state: " + d.state() + ")";
            case Outcome.StillRecovering s -> "recovery is still running after " + options.timeout().toSeconds()
                    + " s (replayed to " + (s.replayed() == null ? "an unknown LSN" : s.replayed())
                    + "); the server keeps running: watch " + log;
            case Outcome.Promoted p -> expects(plan, action, TargetAction.PROMOTE, "promoted", p.replayed());
            case Outcome.Paused p -> expects(plan, action, TargetAction.PAUSE, "paused", p.replayed());
            case Outcome.ShutDown s -> action == TargetAction.PROMOTE
                    ? "the server shut down in recovery although the target action is promote"
                    : reachedPin(plan, s.replayed());
        };
        String where = switch (outcome) {
            case Outcome.Promoted p -> "promoted at LSN " + p.replayed();
            case Outcome.Paused p -> "paused at LSN " + p.replayed();
            case Outcome.ShutDown s -> "shut down in recovery at LSN " + s.replayed();
            default -> null;
        };
        if (problem == null) {
            out.println("recovery reached the target " + target + ": " + where
                    + (lastTx != null ? ", last transaction replayed at " + lastTx
                    : outcome instanceof Outcome.ShutDown ? " (no transaction time in the server log)"
                    : " (no transaction replayed after the backup)"));
            return ExitCodes.OK;
        }
        StringBuilder sb = new StringBuilder("recovery FAILED: " + problem + "; target " + target
                + (where == null ? "" : "; " + where) + (lastTx == null ? "" : ", last transaction replayed at " + lastTx));
        List<String> telling = lines.stream().filter(l -> TELLING.stream().anyMatch(l::contains)).toList();
        List<String> shown = (telling.isEmpty() ? lines : telling);
        shown = shown.subList(Math.max(0, shown.size() - 25), shown.size());
        sb.append("\n  server log ").append(log).append(shown.isEmpty() ? ": nothing logged there (logging_collector?)" : ":");
        shown.forEach(l -> sb.append("\n    ").append(l));
        err.println(sb);
        return ExitCodes.FAILED;
    }

    private static String expects(RestorePlan plan, TargetAction action, TargetAction ended, String how, Lsn replayed) {
        boolean latestUnpinned = plan.request().target() instanceof RestoreTarget.Latest && PinnedEnd.of(plan).isEmpty();
        if (action != ended && !latestUnpinned) {
            return "the server " + how + " although the target action is " + action.text();
        }
        return reachedPin(plan, replayed);
    }

    /**
     * For LSN targets, whether the replayed LSN (the end of the last record applied) is past the
     * target record; for time, xid, name and immediate targets PostgreSQL (13+) itself refuses to
     * end recovery before the target, so ending as the action says is the proof.
     */
    private static String reachedPin(RestorePlan plan, Lsn replayed) {
        Optional<Lsn> pin = PinnedEnd.of(plan);
        if (pin.isEmpty() && plan.request().target() instanceof RestoreTarget.AtLsn l && !plan.request().exclusive()) {
            pin = Optional.of(l.lsn());
        }
        if (pin.isPresent() && (replayed == null || !replayed.isAfter(pin.get()))) {
            return "replay ended at " + (replayed == null ? "an unknown LSN" : replayed) + ", before the record at "
                    + pin.get() + " the plan promises";
        }
        return null;
    }

    /** The last transaction's time: from the server when it told, else from its log line. */
    private static String lastTransaction(Outcome o, List<String> lines) {
        String fromServer = switch (o) {
            case Outcome.Promoted p -> p.lastTransaction();
            case Outcome.Paused p -> p.lastTransaction();
            default -> null;
        };
        if (fromServer != null && !fromServer.isEmpty()) {
            return fromServer;
        }
        String marker = "last completed transaction was at log time ";
        for (int i = lines.size() - 1; i >= 0; i--) {
            int at = lines.get(i).indexOf(marker);
            if (at >= 0) {
                return lines.get(i).substring(at + marker.length()).strip();
            }
        }
        // shut down at the target: the server exits before it logs the line above, but its
        // "recovery stopping ..., time T" line has the time of the record it stopped at
        for (int i = lines.size() - 1; i >= 0; i--) {
            int at = lines.get(i).indexOf("recovery stopping");
            int time = lines.get(i).lastIndexOf(", time ");
            if (at >= 0 && time > at) {
                return lines.get(i).substring(time + ", time ".length()).strip() + " (the stop record's time)";
            }
        }
        return null;
    }

    /** The server log from where this start began. */
    private static List<String> logLines(Path log, long from) {
        try {
            byte[] all = Files.readAllBytes(log);
            int start = (int) Math.min(from, all.length);
            return new String(all, start, all.length - start, StandardCharsets.UTF_8).lines().toList();
        } catch (IOException e) {
            return List.of();
        }
    }
}
