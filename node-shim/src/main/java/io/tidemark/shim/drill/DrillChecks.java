package io.tidemark.shim.drill;

import io.tidemark.shim.quickstart.Exec;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;

/** The checks run on the promoted copy: every database accepts a connection, amcheck, the user's queries. */
final class DrillChecks {
    /** Every B-tree index that amcheck can check (valid, ready, not another session's temporary one). */
    private static final String BTREE_INDEXES = "select c.oid::regclass, public.bt_index_check(c.oid) from pg_index i"
            + " join pg_class c on c.oid = i.indexrelid join pg_am a on a.oid = c.relam"
            + " where a.amname = 'btree' and c.relpersistence <> 't' and i.indisready and i.indisvalid";

    private final ScratchCluster cluster;
    private final PrintStream out;
    private List<String> databases = List.of();

    DrillChecks(ScratchCluster cluster, PrintStream out) {
        this.cluster = cluster;
        this.out = out;
    }

    DrillCheck connections() {
        Exec.Result r = cluster.psql("postgres", "select datname from pg_database where datallowconn order by datname", 60, null);
        if (r.code() != 0) {
            return DrillCheck.failed("connections", "cannot list the databases: " + r.both());
        }
        List<String> dbs = r.out().lines().map(String::strip).filter(s -> !s.isEmpty()).toList();
        for (String db : dbs) {
            Exec.Result one = cluster.psql(db, "select 1", 60, null);
            if (one.code() != 0 || !one.out().strip().equals("1")) {
                return DrillCheck.failed("connections", "database " + db + " does not accept a connection: " + one.both());
            }
        }
        databases = dbs.stream().filter(d -> !d.equals("template1")).toList();
        return DrillCheck.passed("connections", dbs.size() + " database(s) accept connections: " + String.join(", ", dbs));
    }

    /**
     * {@code bt_index_check} on every B-tree index of every database but template1, within
     * {@code limit} in all (each statement bounded by what is left of it).
     */
    DrillCheck amcheck(Duration limit) {
        long deadline = System.nanoTime() + limit.toNanos();
        int checked = 0;
        for (String db : databases) {
            long leftMs = (deadline - System.nanoTime()) / 1_000_000;
            if (leftMs <= 0) {
                return DrillCheck.failed("amcheck", "did not finish within " + limit.toSeconds() + " s (" + checked
                        + " indexes checked; database " + db + " not reached)");
            }
            Exec.Result ext = cluster.psql(db, "create extension if not exists amcheck with schema public", 60, leftMs);
            if (ext.code() != 0) {
                return DrillCheck.failed("amcheck", "cannot create the amcheck extension in database " + db + " (PostgreSQL's"
                        + " contrib modules installed?): " + ext.both());
            }
            Exec.Result r = cluster.psql(db, BTREE_INDEXES, (int) Math.max(60, leftMs / 1000 + 30), leftMs);
            if (r.code() != 0) {
                String why = r.both();
                return DrillCheck.failed("amcheck", why.contains("statement timeout")
                        ? "did not finish within " + limit.toSeconds() + " s in database " + db + " (" + checked
                        + " indexes checked before it)" : "database " + db + ": " + why);
            }
            checked += (int) r.out().lines().filter(l -> !l.isBlank()).count();
        }
        out.println("  amcheck: " + checked + " B-tree indexes in " + databases.size() + " database(s)");
        return DrillCheck.passed("amcheck", "bt_index_check passed on " + checked + " B-tree indexes in " + databases.size()
                + " database(s)");
    }

    DrillCheck query(DrillSettings.Query q) {
        String name = "query:" + q.name();
        Exec.Result r = cluster.psql(q.database(), q.sql(), 600, null);
        if (r.code() != 0) {
            return DrillCheck.failed(name, q.sql() + " failed in database " + q.database() + ": " + r.both());
        }
        String got = r.out().strip();
        return got.equals(q.expect()) ? DrillCheck.passed(name, q.sql() + " = " + got)
                : DrillCheck.failed(name, q.sql() + " answered '" + got + "', expected '" + q.expect() + "'");
    }
}
