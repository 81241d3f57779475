package io.tidemark.shim.aottrain;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * The S3 and catalog API that {@code tidemark aot-train} pushes to and fetches from: a separate
 * JVM ({@link #main}), so that the HTTP server's classes stay out of the AOT cache that every
 * archive-push maps and links at start (docs/startup.md). Serves plain HTTP and, given a
 * PKCS12 key store and its password, HTTPS (one store for both: the same objects), and a
 * container-credentials endpoint ({@code /credentials}), so that the training takes the paths a
 * node does (TLS to S3, keys from {@code credentials.uri}). Prints {@code port N [tls M]} when
 * listening; exits when its standard input ends (the training run closed it, or died).
 */
public final class TrainingCloud {
    static final long SYSID = 7_000_000_000_000_000_001L;
    static final int SEGMENT = 16 << 20;

    private final Map<String, byte[]> bodies = new ConcurrentHashMap<>();
    private final Map<String, Map<String, String>> metas = new ConcurrentHashMap<>();

    /** The training stanza's document, as the catalog API answers it. */
    static String stanzaJson() {
        return "{\"stanza\":\"train\",\"systemIdentifier\":\"" + Long.toUnsignedString(SYSID)
                + "\",\"pgVersion\":15,\"pgVersionNum\":150000,\"walSegmentSize\":" + SEGMENT
                + ",\"createdAt\":\"2026-01-01T00:00:00Z\",\"timelines\":[],\"partials\":[],\"histories\":[]}";
    }

    /** The keys {@code /credentials} hands out, valid long after the training run. */
    static String credentialsJson() {
        return "{\"AccessKeyId\":\"ASIATRAIN\",\"SecretAccessKey\":\"train\",\"Token\":\"train-token\","
                + "\"Expiration\":\"2099-01-01T00:00:00Z\"}";
    }

    /** Arguments: none (plain HTTP only), or KEYSTORE PASSWORD (HTTPS beside it). */
    public static void main(String[] args) throws IOException, GeneralSecurityException {
        TrainingCloud cloud = new TrainingCloud();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        server.createContext("/", cloud::handle);
        server.start();
        HttpsServer tls = null;
        if (args.length == 2) {
            tls = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
            tls.setHttpsConfigurator(new HttpsConfigurator(sslContext(Path.of(args[0]), args[1].toCharArray())));
            tls.createContext("/", cloud::handle);
            tls.start();
        }
        System.out.println("port " + server.getAddress().getPort() + (tls == null ? "" : " tls " + tls.getAddress().getPort()));
        System.out.flush();
        while (System.in.read() >= 0) {
            // wait for the training run to finish
        }
        server.stop(0);
        if (tls != null) {
            tls.stop(0);
        }
        System.exit(0);
    }

    private static SSLContext sslContext(Path keyStore, char[] password) throws IOException, GeneralSecurityException {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keyStore)) {
            ks.load(in, password);
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, password);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), null, null);
        return ctx;
    }

    private void handle(HttpExchange x) throws IOException {
        try (x) {
            String path = x.getRequestURI().getPath();
            String method = x.getRequestMethod();
            byte[] body = x.getRequestBody().readAllBytes();
            if (path.startsWith("/credentials")) {
                send(x, 200, credentialsJson().getBytes(StandardCharsets.UTF_8));
                return;
            }
            if (path.startsWith("/stanzas/")) {
                send(x, 200, stanzaJson().getBytes(StandardCharsets.UTF_8));
                return;
            }
            switch (method) {
                case "PUT" -> {
                    if (bodies.putIfAbsent(path, body) != null) {
                        send(x, 412, "<Error><Code>PreconditionFailed</Code></Error>".getBytes(StandardCharsets.UTF_8));
                        return;
                    }
                    Map<String, String> m = new ConcurrentHashMap<>();
                    x.getRequestHeaders().forEach((k, v) -> {
                        if (k.toLowerCase().startsWith("x-amz-meta-")) {
                            m.put(k.toLowerCase(), v.get(0));
                        }
                    });
                    metas.put(path, m);
                    send(x, 200, new byte[0]);
                }
                case "HEAD", "GET" -> {
                    byte[] stored = bodies.get(path);
                    if (stored == null) {
                        send(x, 404, "<Error><Code>NoSuchKey</Code></Error>".getBytes(StandardCharsets.UTF_8));
                        return;
                    }
                    metas.get(path).forEach((k, v) -> x.getResponseHeaders().set(k, v));
                    if (method.equals("HEAD")) {
                        x.getResponseHeaders().set("Content-Length", String.valueOf(stored.length));
                        x.sendResponseHeaders(200, -1);
                    } else {
                        send(x, 200, stored);
                    }
                }
                default -> send(x, 405, new byte[0]);
            }
        }
    }

    private static void send(HttpExchange x, int status, byte[] body) throws IOException {
        x.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        if (body.length > 0) {
            x.getResponseBody().write(body);
        }
    }
}
