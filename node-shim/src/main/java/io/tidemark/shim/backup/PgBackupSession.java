package io.tidemark.shim.backup;

import io.tidemark.events.wal.Lsn;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;

/**
 * PostgreSQL's non-exclusive backup API in one session that stays open from start to stop
 * (closing it aborts the backup): {@code pg_backup_start(label, fast => true)} /
 * {@code pg_backup_stop(wait_for_archive => true)} on 15 and later, {@code pg_start_backup(label,
 * true, false)} / {@code pg_stop_backup(false, true)} on 13 and 14.
 *
 * <p>On a standby, {@code wait_for_archive} waits only with {@code archive_mode = always}; with
 * {@code on}, the WAL up to the stop LSN is archived by the primary, and the cloud's validator
 * waits for it ({@code waiting-wal}).
 */
final class PgBackupSession {
    /** What the stop returned. */
    record Stop(Lsn lsn, String labelFile, Optional<String> tablespaceMap) {
    }

    private final Connection connection;
    private final int pgVersionNum;

    PgBackupSession(Connection connection, int pgVersionNum) {
        this.connection = connection;
        this.pgVersionNum = pgVersionNum;
    }

    Lsn start(String label) throws SQLException {
        try (Statement s = connection.createStatement()) {
            s.execute("set statement_timeout = 0");
        }
        String sql = pgVersionNum >= 150000 ? "select pg_backup_start(?, true)::text" : "select pg_start_backup(?, true, false)::text";
        try (PreparedStatement p = connection.prepareStatement(sql)) {
            p.setString(1, label);
            try (ResultSet r = p.executeQuery()) {
                r.next();
                return Lsn.parse(r.getString(1));
            }
        }
    }

    Stop stop() throws SQLException {
        String sql = pgVersionNum >= 150000
                ? "select lsn::text, labelfile, spcmapfile from pg_backup_stop(true)"
                : "select lsn::text, labelfile, spcmapfile from pg_stop_backup(false, true)";
        try (Statement s = connection.createStatement(); ResultSet r = s.executeQuery(sql)) {
            r.next();
            String map = r.getString(3);
            return new Stop(Lsn.parse(r.getString(1)), r.getString(2),
                    map == null || map.isEmpty() ? Optional.empty() : Optional.of(map));
        }
    }
}
