package io.tidemark.shim.pg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.shim.cli.UsageException;
import io.tidemark.shim.config.CommonOptions;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Tag("unit")
class PgOptionsTest {
    @TempDir
    Path dir;

    private static PgOptions of(Map<String, String> env, String... args) {
        return PgOptions.from(io.tidemark.shim.config.CommonOptions.parse(args), env);
    }

    @Test
    void optionsBeatLibpqVariables() {
        Map<String, String> env = Map.of("PGDATA", "/env/data", "PGHOST", "db.example", "PGPORT", "5433", "PGUSER", "env");
        PgOptions fromEnv = of(env);
        assertEquals(Path.of("/env/data"), fromEnv.pgdata());
        assertEquals("db.example", fromEnv.host());
        assertEquals(5433, fromEnv.port());
        assertEquals("env", fromEnv.user());
        PgOptions opts = of(env, "--pgdata", "/opt/data", "--pg-host", "10.0.0.1", "--pg-port", "6000", "--pg-user", "me");
        assertEquals(Path.of("/opt/data"), opts.pgdata());
        assertEquals("jdbc:postgresql://10.0.0.1:6000/postgres", opts.jdbcUrl());
        assertEquals("me", opts.user());
    }

    @Test
    void defaultsAndSocketDirectoryFallback() {
        PgOptions d = of(Map.of());
        assertEquals("127.0.0.1", d.host());
        assertEquals(5432, d.port());
        assertEquals(null, d.pgdata());
        assertFalse(d.socketFallback());
        PgOptions s = of(Map.of("PGHOST", dir.toString()));
        assertEquals("127.0.0.1", s.host());
        assertTrue(s.socketFallback());
        assertTrue(s.describe().contains("TCP instead of the unix socket"));
    }

    @Test
    void badPort() {
        assertThrows(UsageException.class, () -> of(Map.of(), "--pg-port", "http"));
        assertThrows(UsageException.class, () -> of(Map.of("PGPORT", "70000")));
    }
}
