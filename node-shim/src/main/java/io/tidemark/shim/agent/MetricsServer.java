package io.tidemark.shim.agent;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;

/**
 * {@code GET /metrics} in the Prometheus text format ({@link AgentMetrics}, client_java's
 * exposition), on the JDK's own HTTP server. Bound when constructed, so a busy port fails the
 * agent at start with a clear message.
 */
final class MetricsServer implements AgentService {

    private static final String TEXT = "text/plain; charset=utf-8";

    private final HttpServer server;
    private final AgentMetrics metrics;
    private final CountDownLatch stopped = new CountDownLatch(1);

    MetricsServer(String address, int port, AgentMetrics metrics) throws IOException {
        this.metrics = metrics;
        this.server = HttpServer.create(new InetSocketAddress(address, port), 16);
        server.setExecutor(Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "tidemark-agent-metrics-http");
            t.setDaemon(true);
            return t;
        }));
        server.createContext("/metrics", this::serve);
        server.createContext("/", ex -> answer(ex, 404, TEXT, "not found: the metrics are at /metrics\n"));
    }

    int port() {
        return server.getAddress().getPort();
    }

    String url() {
        return "http://" + server.getAddress().getHostString() + ":" + port() + "/metrics";
    }

    private void serve(HttpExchange ex) throws IOException {
        if (!ex.getRequestMethod().equals("GET") && !ex.getRequestMethod().equals("HEAD")) {
            answer(ex, 405, TEXT, "only GET\n");
            return;
        }
        String body;
        try {
            body = metrics.scrape();
        } catch (RuntimeException e) {
            answer(ex, 500, TEXT, "metrics failed: " + e + "\n");
            return;
        }
        answer(ex, 200, metrics.contentType(), body);
    }

    private static void answer(HttpExchange ex, int status, String contentType, String body) throws IOException {
        try (ex) {
            byte[] b = body.getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", contentType);
            boolean head = ex.getRequestMethod().equals("HEAD");
            ex.sendResponseHeaders(status, head ? -1 : b.length);
            if (!head) {
                try (OutputStream os = ex.getResponseBody()) {
                    os.write(b);
                }
            }
        }
    }

    @Override
    public String name() {
        return "metrics";
    }

    @Override
    public void run() throws InterruptedException {
        server.start();
        stopped.await();
    }

    @Override
    public void stop() {
        server.stop(0);
        stopped.countDown();
    }
}
