package io.tidemark.shim.pg;

import io.tidemark.shim.cli.UsageException;
import io.tidemark.shim.config.CommonOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * Where PostgreSQL is: the data directory and how to connect. Each value comes from its option,
 * else from the libpq variable (PGDATA, PGHOST, PGPORT, PGUSER), else a default (127.0.0.1, 5432,
 * the OS user). pgjdbc cannot use a unix socket directory: when the host is a directory (as
 * PGHOST often is), TCP to 127.0.0.1 on the same port is used instead and {@link #socketFallback()}
 * says so.
 */
public record PgOptions(Path pgdata, String host, int port, String user, String database, String password,
                        boolean socketFallback) {

    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 5432;

    public static PgOptions from(CommonOptions a, Map<String, String> env) {
        Path pgdata = a.pgdata().or(() -> nonEmpty(env.get("PGDATA"))).map(Path::of).orElse(null);
        String host = a.pgHost().or(() -> nonEmpty(env.get("PGHOST"))).orElse(DEFAULT_HOST);
        boolean socket = false;
        if (host.startsWith("/") || Files.isDirectory(Path.of(host))) {
            host = DEFAULT_HOST;
            socket = true;
        }
        String portText = a.pgPort().or(() -> nonEmpty(env.get("PGPORT")))
                .orElse(String.valueOf(DEFAULT_PORT));
        int port;
        try {
            port = Integer.parseInt(portText.strip());
        } catch (NumberFormatException e) {
            port = -1;
        }
        if (port < 1 || port > 65535) {
            throw new UsageException("PostgreSQL port must be 1..65535, got '" + portText + "'");
        }
        String user = a.pgUser().or(() -> nonEmpty(env.get("PGUSER")))
                .orElse(System.getProperty("user.name"));
        String database = nonEmpty(env.get("PGDATABASE")).orElse("postgres");
        return new PgOptions(pgdata, host, port, user, database, env.get("PGPASSWORD"), socket);
    }

    private static Optional<String> nonEmpty(String s) {
        return s == null || s.isBlank() ? Optional.empty() : Optional.of(s);
    }

    public String jdbcUrl() {
        String h = host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
        return "jdbc:postgresql://" + h + ":" + port + "/" + database;
    }

    /** Where a connection goes, for messages. */
    public String describe() {
        return host + ":" + port + " as " + user + (socketFallback ? " (TCP instead of the unix socket directory)" : "");
    }

    @Override
    public String toString() {
        return "PgOptions[pgdata=" + pgdata + ", " + describe() + "]";
    }
}
