package io.tidemark.shim.config;

import java.util.HashSet;
import java.util.Set;

/**
 * Options every command that talks to the cloud or to PostgreSQL takes:
 * {@code --config FILE} (else {@code TIDEMARK_CONFIG}), {@code --stanza NAME} (else {@code stanza=}
 * in the file), and the PostgreSQL connection ({@code --pgdata}, {@code --pg-host},
 * {@code --pg-port}, {@code --pg-user}; else PGDATA, PGHOST, PGPORT, PGUSER).
 */
public final class CommonOptions {
    public static final String CONFIG = "config";
    public static final String STANZA = "stanza";
    public static final String PGDATA = "pgdata";
    public static final String PG_HOST = "pg-host";
    public static final String PG_PORT = "pg-port";
    public static final String PG_USER = "pg-user";

    public static final Set<String> VALUED = Set.of(CONFIG, STANZA, PGDATA, PG_HOST, PG_PORT, PG_USER);

    /** The environment variable naming the configuration file when {@code --config} is absent. */
    public static final String CONFIG_ENV = "TIDEMARK_CONFIG";

    private CommonOptions() {
    }

    /** The common valued options plus a command's own. */
    public static Set<String> valuedPlus(String... own) {
        Set<String> s = new HashSet<>(VALUED);
        s.addAll(Set.of(own));
        return s;
    }

    public static String usage() {
        return "[--config FILE] [--stanza NAME] [--pgdata DIR] [--pg-host HOST] [--pg-port PORT] [--pg-user USER]";
    }
}
