package io.tidemark.functions.runtime;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP listener that counts the connections made to it and closes each at once: the endpoint
 * of every client in a test that must prove no network call happens (SnapStart priming).
 */
public final class CountingEndpoint implements AutoCloseable {
    private final ServerSocket server;
    private final AtomicInteger accepted = new AtomicInteger();
    private final Thread acceptor;

    public CountingEndpoint() {
        try {
            server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        acceptor = Thread.ofVirtual().start(() -> {
            while (!server.isClosed()) {
                try (Socket s = server.accept()) {
                    accepted.incrementAndGet();
                } catch (IOException e) {
                    // closed
                }
            }
        });
    }

    public URI uri() {
        return URI.create("http://127.0.0.1:" + server.getLocalPort());
    }

    public int accepted() {
        return accepted.get();
    }

    /**
     * A function environment whose S3, DynamoDB and KMS endpoints are this listener and whose
     * credentials are the default chain (as in Lambda), plus {@code extra}.
     */
    public Map<String, String> environment(Map<String, String> extra) {
        Map<String, String> env = new HashMap<>(Map.of(
                FunctionConfig.BUCKET, "tidemark-priming-test",
                FunctionConfig.TABLE, "tidemark-priming-test",
                FunctionConfig.REGION, "eu-central-1",
                FunctionConfig.S3_ENDPOINT, uri().toString(),
                FunctionConfig.DYNAMODB_ENDPOINT, uri().toString(),
                FunctionConfig.KMS_ENDPOINT, uri().toString(),
                FunctionConfig.S3_PATH_STYLE, "true"));
        env.putAll(extra);
        return env;
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException e) {
            // nothing to free
        }
        acceptor.interrupt();
    }
}
