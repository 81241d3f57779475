package io.tidemark.localcloud;

import java.net.URI;
import java.nio.file.Path;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.ContextHandler;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import software.amazon.dynamodb.services.local.server.LocalDynamoDBRequestHandler;
import software.amazon.dynamodb.services.local.server.LocalDynamoDBServerHandler;

/**
 * DynamoDB Local with its SQLite file under a directory ({@code -sharedDb}: one database for any
 * key and region), served by our own Jetty connector so that it binds to the chosen host (the
 * stock server binds every interface) and accepts port 0. Telemetry is never started.
 *
 * <p>Native SQLite: DynamoDB Local 3.x carries libsqlite4java for Linux (x86_64, aarch64), macOS
 * (x86_64, aarch64) and Windows inside its jar and extracts the right one to
 * {@code java.io.tmpdir} (or {@code -Dorg.sqlite.tmpdir}) at first use, deleted on exit; an
 * installed copy can be named with {@code -Dorg.sqlite.lib.path}. Nothing to copy or configure.
 */
final class LocalDynamoDb implements AutoCloseable {

    private final Server server;
    private final LocalDynamoDBRequestHandler requestHandler;
    private final URI endpoint;

    private LocalDynamoDb(Server server, LocalDynamoDBRequestHandler requestHandler, URI endpoint) {
        this.server = server;
        this.requestHandler = requestHandler;
        this.endpoint = endpoint;
    }

    static LocalDynamoDb start(Path dbDir, String host, int port) {
        LocalDynamoDBRequestHandler requestHandler;
        try {
            requestHandler = new LocalDynamoDBRequestHandler(0, false, dbDir.toAbsolutePath().toString(), true, false);
        } catch (Exception e) {
            throw new LocalCloudException("cannot open the DynamoDB Local database in " + dbDir + ": " + e, e);
        }
        QueuedThreadPool threads = new QueuedThreadPool(32, 2);
        threads.setName("tidemark-dynamodb");
        Server server = new Server(threads);
        ServerConnector connector = new ServerConnector(server);
        connector.setHost(host);
        connector.setPort(port);
        server.addConnector(connector);
        ContextHandler context = new ContextHandler();
        context.setHandler(new LocalDynamoDBServerHandler(requestHandler, "*"));
        server.setHandler(context);
        try {
            server.start();
        } catch (Exception e) {
            try {
                server.stop();
            } catch (Exception ignored) {
                // failed to start anyway
            }
            requestHandler.shutdown();
            if (Ports.isBindFailure(e)) {
                throw Ports.inUse("DynamoDB", host, port, e);
            }
            throw new LocalCloudException("cannot start DynamoDB Local: " + e, e);
        }
        return new LocalDynamoDb(server, requestHandler, URI.create("http://" + host + ":" + connector.getLocalPort()));
    }

    URI endpoint() {
        return endpoint;
    }

    @Override
    public void close() {
        try {
            server.stop();
        } catch (Exception e) {
            throw new LocalCloudException("error stopping DynamoDB Local: " + e, e);
        } finally {
            requestHandler.shutdown();
        }
    }
}
