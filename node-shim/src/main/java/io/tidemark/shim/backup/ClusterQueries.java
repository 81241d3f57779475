package io.tidemark.shim.backup;

import io.tidemark.events.backup.ManifestTablespace;
import io.tidemark.shim.cli.CommandFailure;
import io.tidemark.shim.cli.ExitCodes;
import io.tidemark.shim.pg.PgOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** What a backup asks the running cluster besides the backup session: its data directory, settings, tablespace names. */
final class ClusterQueries {
    private final PgOptions pg;
    private final Connection connection;

    ClusterQueries(PgOptions pg, Connection connection) {
        this.pg = pg;
        this.connection = connection;
    }

    Path pgdata() throws SQLException {
        Path p = pg.pgdata() != null ? pg.pgdata() : Path.of(show("data_directory"));
        if (!Files.isDirectory(p) || !Files.isReadable(p)) {
            throw new CommandFailure(ExitCodes.FAILED, "the data directory " + p + " is not readable by this user"
                    + " (run the backup as the PostgreSQL OS user, on the database host)");
        }
        if (!Files.isRegularFile(p.resolve("PG_VERSION"))) {
            throw new CommandFailure(ExitCodes.FAILED, p + " is not a PostgreSQL data directory (no PG_VERSION)");
        }
        return p;
    }

    String show(String setting) throws SQLException {
        try (Statement s = connection.createStatement(); ResultSet r = s.executeQuery("show " + setting)) {
            r.next();
            return r.getString(1);
        }
    }

    List<ManifestTablespace> tablespaces(List<DataDirWalker.Tablespace> links) throws SQLException {
        Map<Long, String> names = new HashMap<>();
        try (Statement s = connection.createStatement();
             ResultSet r = s.executeQuery("select oid::bigint, spcname from pg_tablespace")) {
            while (r.next()) {
                names.put(r.getLong(1), r.getString(2));
            }
        }
        List<ManifestTablespace> out = new ArrayList<>();
        for (DataDirWalker.Tablespace t : links) {
            out.add(new ManifestTablespace(t.oid(), names.get(t.oid()), t.location().toString()));
        }
        return out;
    }
}
