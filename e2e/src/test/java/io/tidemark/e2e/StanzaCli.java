package io.tidemark.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.testkit.PgCluster;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The packaged {@code tidemark} as a test runs it against one stanza: in its work directory, with
 * its node config and stanza appended to every command, and the PG* variables of the source
 * cluster (backup and stanza-create connect to it through them).
 *
 * <p>Made in {@code @BeforeAll} once the cluster exists. The variables name the cluster whether
 * it runs or not; the recovery tests, whose primary is stopped while the shim still runs, use
 * {@code RecoveryKit.shim} instead, which then passes none.
 */
public final class StanzaCli {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path work;
    private final Path conf;
    private final String stanza;
    private final PgCluster source;

    public StanzaCli(Path work, Path conf, String stanza, PgCluster source) {
        this.work = work;
        this.conf = conf;
        this.stanza = stanza;
        this.source = source;
    }

    /** {@code tidemark args... --config <conf> --stanza <stanza>}. */
    public ShimProcess.Result run(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--config", conf.toString(), "--stanza", stanza));
        return ShimProcess.run(work, env(), all.toArray(String[]::new));
    }

    /** {@code tidemark info --output json}, which must succeed, parsed. */
    public JsonNode info() {
        ShimProcess.Result r = run("info", "--output", "json");
        ok(r);
        try {
            return JSON.readTree(r.out());
        } catch (Exception e) {
            throw new AssertionError("info is not JSON: " + r.out(), e);
        }
    }

    /** The source cluster as libpq and the shim find it; for a test that runs the shim with other options. */
    public Map<String, String> env() {
        return Map.of("PGHOST", "127.0.0.1", "PGPORT", Integer.toString(source.port()), "PGUSER", "postgres",
                "PGDATA", source.dataDir().toString());
    }

    /** Exit 0; the whole result (exit, stdout, stderr) in the failure message. */
    public static void ok(ShimProcess.Result r) {
        assertEquals(0, r.code(), r.toString());
    }
}
