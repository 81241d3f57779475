package io.tidemark.shim.config;

import io.tidemark.shim.cli.Cli;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Options every command that talks to the cloud or to PostgreSQL takes (a picocli mixin):
 * {@code --config FILE} (else {@code TIDEMARK_CONFIG}), {@code --stanza NAME} (else {@code stanza=}
 * in the file), and the PostgreSQL connection ({@code --pgdata}, {@code --pg-host},
 * {@code --pg-port}, {@code --pg-user}; else PGDATA, PGHOST, PGPORT, PGUSER). They may also stand
 * before the command ({@code tidemark --stanza=main archive-push %p}), as with pgBackRest.
 */
@Command
public final class CommonOptions {
    /** The environment variable naming the configuration file when {@code --config} is absent. */
    public static final String CONFIG_ENV = "TIDEMARK_CONFIG";

    @Option(names = "--config", paramLabel = "FILE", description = "configuration file (else $TIDEMARK_CONFIG)")
    String config;

    @Option(names = "--stanza", paramLabel = "NAME", description = "stanza (else stanza= in the configuration file)")
    String stanza;

    @Option(names = "--pgdata", paramLabel = "DIR", description = "PostgreSQL data directory (else $PGDATA)")
    String pgdata;

    @Option(names = "--pg-host", paramLabel = "HOST",
            description = "PostgreSQL host (else $PGHOST; a socket directory means TCP to 127.0.0.1)")
    String pgHost;

    @Option(names = "--pg-port", paramLabel = "PORT", description = "PostgreSQL port (else $PGPORT, 5432)")
    String pgPort;

    @Option(names = "--pg-user", paramLabel = "USER", description = "PostgreSQL user (else $PGUSER, the OS user)")
    String pgUser;

    /** Whether {@code --name} is one of these options (the ones that may stand before a command's name). */
    public static boolean isCommon(String name) {
        return switch (name) {
            case "--config", "--stanza", "--pgdata", "--pg-host", "--pg-port", "--pg-user" -> true;
            default -> false;
        };
    }

    /** {@link io.tidemark.shim.cli.PlainLine}: sets a common option unless it is already set; false when it is not one. */
    public boolean bindOption(String name, String value) {
        switch (name) {
            case "--config" -> {
                if (config != null) {
                    return false;
                }
                config = value;
            }
            case "--stanza" -> {
                if (stanza != null) {
                    return false;
                }
                stanza = value;
            }
            case "--pgdata" -> {
                if (pgdata != null) {
                    return false;
                }
                pgdata = value;
            }
            case "--pg-host" -> {
                if (pgHost != null) {
                    return false;
                }
                pgHost = value;
            }
            case "--pg-port" -> {
                if (pgPort != null) {
                    return false;
                }
                pgPort = value;
            }
            case "--pg-user" -> {
                if (pgUser != null) {
                    return false;
                }
                pgUser = value;
            }
            default -> {
                return false;
            }
        }
        return true;
    }

    /** The options as a command line would give them (tests, and code that builds a configuration). */
    public static CommonOptions parse(String... args) {
        CommonOptions o = new CommonOptions();
        Cli.parse(o, java.util.List.of(args));
        return o;
    }

    /** The options given, except --stanza, as a command line again (the agent passes them to the backups it runs). */
    public java.util.List<String> argumentsWithoutStanza() {
        java.util.List<String> a = new java.util.ArrayList<>();
        String[][] pairs = {{"--config", config}, {"--pgdata", pgdata}, {"--pg-host", pgHost}, {"--pg-port", pgPort},
                {"--pg-user", pgUser}};
        for (String[] p : pairs) {
            if (p[1] != null) {
                a.add(p[0]);
                a.add(p[1]);
            }
        }
        return a;
    }

    public Optional<String> config() {
        return Optional.ofNullable(config);
    }

    public Optional<String> stanza() {
        return Optional.ofNullable(stanza);
    }

    public Optional<String> pgdata() {
        return Optional.ofNullable(pgdata);
    }

    public Optional<String> pgHost() {
        return Optional.ofNullable(pgHost);
    }

    public Optional<String> pgPort() {
        return Optional.ofNullable(pgPort);
    }

    public Optional<String> pgUser() {
        return Optional.ofNullable(pgUser);
    }
}
