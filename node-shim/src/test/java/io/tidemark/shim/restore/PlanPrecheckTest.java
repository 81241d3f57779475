package io.tidemark.shim.restore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The pre-check against a small HTTP server that answers ranged GETs as S3 does (206 with
 * {@code Content-Range: bytes 0-0/TOTAL}, 404, 403 for URLs of an old generation, 503 once).
 */
@Tag("unit")
class PlanPrecheckTest {
    HttpServer server;
    final Map<String, Long> sizes = new ConcurrentHashMap<>();
    final Map<String, Integer> failOnce = new ConcurrentHashMap<>();
    final AtomicInteger requests = new AtomicInteger();
    /** The client ports seen: one per connection the client opened. */
    final java.util.Set<Integer> connections = ConcurrentHashMap.newKeySet();
    volatile String validGeneration = "g0";

    @BeforeEach
    void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(java.util.concurrent.Executors.newFixedThreadPool(64));
        server.createContext("/", ex -> {
            requests.incrementAndGet();
            connections.add(ex.getRemoteAddress().getPort());
            String key = ex.getRequestURI().getPath().substring(1);
            String gen = ex.getRequestURI().getQuery();
            int status;
            if (!validGeneration.equals(gen)) {
                status = 403;
            } else if (failOnce.remove(key) != null) {
                status = 503;
            } else if (!sizes.containsKey(key)) {
                status = 404;
            } else if (!"bytes=0-0".equals(ex.getRequestHeaders().getFirst("Range"))) {
                status = 400;
            } else if (sizes.get(key) == 0) {
                ex.getResponseHeaders().add("Content-Range", "bytes */0");
                status = 416;
            } else {
                ex.getResponseHeaders().add("Content-Range", "bytes 0-0/" + sizes.get(key));
                ex.sendResponseHeaders(206, 1);
                ex.getResponseBody().write(0);
                ex.close();
                return;
            }
            ex.sendResponseHeaders(status, -1);
            ex.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    PlanUrls urls(List<String> keys, AtomicLong renewals) {
        java.util.function.Function<String, PlanUrls.UrlSet> set = gen -> {
            Map<String, String> m = new HashMap<>();
            keys.forEach(k -> m.put(k, "http://127.0.0.1:" + server.getAddress().getPort() + "/" + k + "?" + gen));
            return new PlanUrls.UrlSet(m, null);
        };
        return new PlanUrls("p1", set.apply("g0"), id -> set.apply("g" + renewals.incrementAndGet()), Clock.systemUTC());
    }

    @Test
    void everyObjectIsCheckedAndOnlyTheMissingAndWrongSizedAreReported() {
        List<PlanObjects.Expected> objects = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            String k = String.format("wal/%05d", i);
            sizes.put(k, 1000L + i);
            objects.add(new PlanObjects.Expected(k, 1000L + i, false, "WAL segment " + i));
        }
        sizes.remove("wal/00007");
        sizes.put("wal/00042", 5L);
        sizes.put("bundle/1", 900L);
        objects.add(new PlanObjects.Expected("bundle/1", 800, true, "bundle"));
        sizes.put("bundle/2", 700L);
        objects.add(new PlanObjects.Expected("bundle/2", 800, true, "bundle"));
        failOnce.put("wal/00100", 1);
        AtomicLong renewals = new AtomicLong();
        AtomicLong checked = new AtomicLong();
        long t0 = System.nanoTime();
        List<PlanPrecheck.Problem> problems = new PlanPrecheck(urls(objects.stream().map(PlanObjects.Expected::key).toList(),
                renewals), 3, 10, Downloader.httpClient(null)).check(objects, checked::addAndGet);
        double secs = (System.nanoTime() - t0) / 1e9;
        assertEquals(objects.size(), checked.get());
        assertEquals(List.of(
                "bundle/2: bundle, expected at least 800 bytes, found 700 bytes",
                "wal/00007: WAL segment 7, expected 1007 bytes, found missing (HTTP 404)",
                "wal/00042: WAL segment 42, expected 1042 bytes, found 5 bytes"),
                problems.stream().map(PlanPrecheck.Problem::line).toList());
        assertEquals(0, renewals.get());
        System.out.printf("pre-check: %d objects in %.2f s, %d requests%n", objects.size(), secs, requests.get());
        // 64 in flight (inFlight of 10,002) over keep-alive connections: seconds, not minutes (generous for 2 shared cores)
        assertTrue(secs < 30, objects.size() + " objects checked in " + secs + " s");
        String refusal = PlanPrecheck.refusal(problems, objects.size(), 2);
        assertTrue(refusal.startsWith("restore refused: 3 of 10002 objects"), refusal);
        assertTrue(refusal.endsWith("... and 1 more"), refusal);
    }

    /** Each connection costs a TLS handshake with S3: a small plan's check opens a few, not one per object. */
    @Test
    void aSmallPlanIsCheckedOverAFewConnections() {
        List<PlanObjects.Expected> objects = new ArrayList<>();
        for (int i = 0; i < 65; i++) {
            sizes.put("o" + i, 100L);
            objects.add(new PlanObjects.Expected("o" + i, 100, false, "file " + i));
        }
        List<PlanPrecheck.Problem> problems = new PlanPrecheck(urls(objects.stream().map(PlanObjects.Expected::key).toList(),
                new AtomicLong()), 3, 10, Downloader.httpClient(null)).check(objects, n -> { });
        assertEquals(List.of(), problems);
        assertEquals(65, requests.get());
        assertTrue(connections.size() <= PlanPrecheck.MIN_IN_FLIGHT, connections.size() + " connections for 65 objects");
    }

    @Test
    void refusedUrlsAreRenewedOnce() {
        sizes.put("a", 10L);
        sizes.put("b", 0L);
        validGeneration = "g1";
        AtomicLong renewals = new AtomicLong();
        List<PlanObjects.Expected> objects = List.of(new PlanObjects.Expected("a", 10, false, "file a"),
                new PlanObjects.Expected("b", 0, false, "history file b"));
        List<PlanPrecheck.Problem> problems = new PlanPrecheck(urls(List.of("a", "b"), renewals), 3, 10, Downloader.httpClient(null))
                .check(objects, n -> { });
        assertEquals(List.of(), problems);
        assertEquals(1, renewals.get(), "one renewal for every thread that saw a 403 of generation 0");
    }
}
