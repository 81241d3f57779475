package io.tidemark.shim.pg;

import io.tidemark.events.wal.Lsn;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;

/** JDBC access to the local PostgreSQL (pgjdbc, TCP): the cluster's identity and its WAL position. */
public final class PgConnector {

    /** What stanza-create registers. */
    public record ClusterFacts(long systemIdentifier, int pgVersionNum, long walSegmentSize, boolean inRecovery) {
        public int pgVersion() {
            return pgVersionNum / 10000;
        }

        public String systemIdentifierText() {
            return Long.toUnsignedString(systemIdentifier);
        }
    }

    private PgConnector() {
    }

    public static Connection connect(PgOptions o, int timeoutSeconds) throws SQLException {
        return connect(o, timeoutSeconds, 60);
    }

    /** With a longer read timeout, for sessions that wait on the server (pg_backup_stop waiting for the archive). */
    public static Connection connect(PgOptions o, int timeoutSeconds, int socketTimeoutSeconds) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", o.user());
        if (o.password() != null) {
            p.setProperty("password", o.password());
        }
        p.setProperty("ApplicationName", "tidemark");
        p.setProperty("connectTimeout", String.valueOf(timeoutSeconds));
        p.setProperty("socketTimeout", String.valueOf(socketTimeoutSeconds));
        p.setProperty("loginTimeout", String.valueOf(timeoutSeconds));
        return DriverManager.getConnection(o.jdbcUrl(), p);
    }

    public static ClusterFacts facts(Connection c) throws SQLException {
        try (Statement s = c.createStatement();
             ResultSet r = s.executeQuery("""
                     select (select system_identifier from pg_control_system()),
                            current_setting('server_version_num')::int,
                            (select setting::bigint * case unit when 'B' then 1 when 'kB' then 1024
                                                                when '8kB' then 8192 when 'MB' then 1048576 else 1 end
                               from pg_settings where name = 'wal_segment_size'),
                            pg_is_in_recovery()""")) {
            r.next();
            return new ClusterFacts(r.getLong(1), r.getInt(2), r.getLong(3), r.getBoolean(4));
        }
    }

    /** {@code pg_current_wal_lsn()} on a primary, the last received/replayed position on a standby. */
    public static Lsn currentWalLsn(Connection c) throws SQLException {
        try (Statement s = c.createStatement();
             ResultSet r = s.executeQuery("""
                     select case when pg_is_in_recovery()
                                 then coalesce(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())
                                 else pg_current_wal_lsn() end::text""")) {
            r.next();
            String v = r.getString(1);
            return v == null ? null : Lsn.parse(v);
        }
    }
}
