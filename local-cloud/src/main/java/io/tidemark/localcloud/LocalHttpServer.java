package io.tidemark.localcloud;

import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One of local-cloud's own HTTP endpoints (the API, the DynamoDB gate, the credentials endpoint):
 * the JDK's server on a fixed pool of daemon threads, bound first (so its URI is known to whoever
 * handles its requests), then started with its handler.
 */
final class LocalHttpServer implements AutoCloseable {

    private final HttpServer server;
    private final ExecutorService executor;
    private final URI uri;

    private LocalHttpServer(HttpServer server, ExecutorService executor, URI uri) {
        this.server = server;
        this.executor = executor;
        this.uri = uri;
    }

    /**
     * Binds {@code host:port} (0: any free port).
     *
     * @param what        the endpoint's short name in a "port in use" error ("API", "DynamoDB", ...)
     * @param description the endpoint in other errors ("the local API")
     * @throws LocalCloudException the port is taken, or the address cannot be bound
     */
    static LocalHttpServer bind(String what, String description, String host, int port, int backlog, int threads) {
        HttpServer server;
        try {
            server = HttpServer.create(new InetSocketAddress(host, port), backlog);
        } catch (IOException e) {
            if (Ports.isBindFailure(e)) {
                throw Ports.inUse(what, host, port, e);
            }
            throw new LocalCloudException("cannot start " + description + " on " + host + ":" + port + ": " + e, e);
        }
        AtomicInteger n = new AtomicInteger();
        String prefix = "tidemark-" + what.toLowerCase(java.util.Locale.ROOT) + "-";
        ExecutorService executor = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, prefix + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        return new LocalHttpServer(server, executor, URI.create("http://" + host + ":" + server.getAddress().getPort()));
    }

    /** {@code http://HOST:PORT} as bound. */
    URI uri() {
        return uri;
    }

    /** Serves every path with {@code handler}. */
    void start(HttpHandler handler) {
        server.createContext("/", handler);
        server.start();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdown();
        try {
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
