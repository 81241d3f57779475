import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.events.wal.Lsn;
import io.tidemark.shim.api.CatalogApi;
import io.tidemark.shim.config.CommonOptions;
import io.tidemark.shim.config.ShimConfig;
import io.tidemark.shim.storage.CredentialSource;
import io.tidemark.shim.storage.Retry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Issue 17's lag, as a client sees it: from a commit's acknowledgement to the recovery window's
 * right edge covering it, read through the catalog API (GET /stanzas/S, what `tidemark info`
 * shows), and on the way to S3's confirmation of the chunk that holds it (the agent's
 * tidemark_stream_stored_end_lsn_bytes). One JVM for all probes, so a probe costs one API call per
 * poll rather than a launcher start.
 *
 *   java -cp node-shim/target/tidemark-node-shim.jar bench/WindowLagProbe.java CONF PG_PORT METRICS_PORT
 *        LABEL SAMPLES [POLL_MS [GAP_MS]]
 *
 * Each probe commits one row into table probe (autocommit), reads pg_current_wal_flush_lsn() in a
 * second statement (the commit is durable there), then polls both every POLL_MS (default 50)
 * until both reach that position; probes are GAP_MS (default 300) apart. Prints one line per
 * phase: p50, p99 and max of both lags in milliseconds.
 */
public class WindowLagProbe {
    private static final Pattern STORED = Pattern.compile(
            "(?m)^tidemark_stream_stored_end_lsn_bytes\\{[^}]*\\} ([0-9.eE+]+)$");

    public static void main(String[] args) throws Exception {
        ShimConfig config = ShimConfig.load(CommonOptions.parse("--config", args[0]), System.getenv());
        int pgPort = Integer.parseInt(args[1]);
        URI metrics = URI.create("http://127.0.0.1:" + args[2] + "/metrics");
        String label = args[3];
        int samples = Integer.parseInt(args[4]);
        long pollMs = args.length > 5 ? Long.parseLong(args[5]) : 50;
        long gapMs = args.length > 6 ? Long.parseLong(args[6]) : 300;
        CatalogApi api = new CatalogApi(config.requireApiUrl(), config.apiRegion(), CredentialSource.of(config,
                System.getenv()), Retry.of(2), config.apiKey());
        HttpClient http = HttpClient.newHttpClient();
        ObjectMapper json = new ObjectMapper();
        long[] stored = new long[samples];
        long[] edge = new long[samples];
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + pgPort
                + "/postgres?user=postgres"); Statement st = c.createStatement()) {
            for (int i = 0; i < samples; i++) {
                st.execute("insert into probe values (now())");
                long t0 = System.nanoTime();
                long lsn;
                try (ResultSet rs = st.executeQuery("select pg_current_wal_flush_lsn()")) {
                    rs.next();
                    lsn = Lsn.parse(rs.getString(1)).value();
                }
                long tStored = -1;
                long tEdge = -1;
                JsonNode window = null;
                while (tStored < 0 || tEdge < 0) {
                    if (System.nanoTime() - t0 > 120_000_000_000L) {
                        throw new IllegalStateException(label + ": probe " + i + " not covered within 120 s (LSN "
                                + Lsn.of(lsn) + "); S3 " + (tStored < 0 ? "not yet" : "stored it") + "; window "
                                + window);
                    }
                    if (tStored < 0) {
                        String text = http.send(HttpRequest.newBuilder(metrics).build(),
                                HttpResponse.BodyHandlers.ofString()).body();
                        Matcher m = STORED.matcher(text);
                        if (m.find() && (long) Double.parseDouble(m.group(1)) >= lsn) {
                            tStored = System.nanoTime();
                        }
                    }
                    if (tEdge < 0) {
                        CatalogApi.Response r = api.getStanza(config.stanza());
                        if (r.status() != 200) {
                            throw new IllegalStateException("GET /stanzas: HTTP " + r.status() + ": " + r.message());
                        }
                        window = json.readTree(r.body()).path("window");
                        JsonNode latest = window.path("latest").path("lsn");
                        // a commit's flush LSN may lie in the padding after its record: compare aligned
                        if (latest.isTextual() && ((Lsn.parse(latest.asText()).value() + 7) & ~7L) >= lsn) {
                            tEdge = System.nanoTime();
                            if (tStored < 0) {
                                tStored = tEdge; // the edge cannot pass what S3 holds: the poll lagged
                            }
                        }
                    }
                    if (tStored < 0 || tEdge < 0) {
                        Thread.sleep(pollMs);
                    }
                }
                stored[i] = (tStored - t0) / 1_000_000;
                edge[i] = (tEdge - t0) / 1_000_000;
                if (edge[i] > 5_000) { // past the goal: when, to find it in the cloud's log
                    System.out.printf("%s slow probe %d at %s: window edge %d ms, S3 %d ms, LSN %s%n", label, i,
                            java.time.Instant.now(), edge[i], stored[i], Lsn.of(lsn));
                }
                Thread.sleep(gapMs);
            }
        }
        System.out.printf("%s window-edge p50_ms=%d p99_ms=%d max_ms=%d | s3-stored p50_ms=%d p99_ms=%d max_ms=%d"
                + " | n=%d poll_ms=%d%n", label, pct(edge, 0.5), pct(edge, 0.99), pct(edge, 1.0), pct(stored, 0.5),
                pct(stored, 0.99), pct(stored, 1.0), samples, pollMs);
    }

    /** The nearest-rank percentile. */
    private static long pct(long[] values, double p) {
        long[] s = values.clone();
        Arrays.sort(s);
        return s[Math.max(0, (int) Math.ceil(p * s.length) - 1)];
    }
}
