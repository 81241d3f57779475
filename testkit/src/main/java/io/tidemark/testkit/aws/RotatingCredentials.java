package io.tidemark.testkit.aws;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A container-credentials endpoint that rotates: a new key every {@code rotation}, each valid
 * for {@code lifetime} after it was issued (as an instance role's session is), served as
 * {@code {"AccessKeyId","SecretAccessKey","Token","Expiration"}} on {@code GET /credentials}.
 * {@link #lookup} is what a service checking signatures asks ({@link SigningStandIn}).
 * {@link #down()} stops it (connections refused) and {@link #up()} starts it again on the same
 * port, for the endpoint-outage tests.
 */
public final class RotatingCredentials implements AutoCloseable, SigningStandIn.Keys {

    /** One issued key. */
    public record Issued(String accessKeyId, String secret, String token, Instant issued, Instant expiration) {
    }

    private final Duration rotation;
    private final Duration lifetime;
    private final Instant start = Instant.now();
    private final Map<Long, Issued> issued = new ConcurrentHashMap<>();
    private final Map<String, Issued> byId = new ConcurrentHashMap<>();
    private final AtomicInteger served = new AtomicInteger();
    private final SecureRandom random = new SecureRandom();
    private final int port;
    private HttpServer server;

    public RotatingCredentials(Duration rotation, Duration lifetime) {
        if (rotation.isNegative() || rotation.isZero() || lifetime.compareTo(rotation) < 0) {
            throw new IllegalArgumentException("rotation must be positive and lifetime at least the rotation");
        }
        this.rotation = rotation;
        this.lifetime = lifetime;
        this.server = start(0);
        this.port = server.getAddress().getPort();
    }

    private HttpServer start(int port) {
        try {
            HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
            s.createContext("/credentials", ex -> {
                Issued k = newest();
                served.incrementAndGet();
                byte[] body = ("{\"AccessKeyId\":\"" + k.accessKeyId() + "\",\"SecretAccessKey\":\"" + k.secret()
                        + "\",\"Token\":\"" + k.token() + "\",\"Expiration\":\"" + k.expiration() + "\"}")
                        .getBytes(StandardCharsets.UTF_8);
                ex.getResponseHeaders().add("Content-Type", "application/json");
                ex.sendResponseHeaders(200, body.length);
                ex.getResponseBody().write(body);
                ex.close();
            });
            s.start();
            return s;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The full URI of the endpoint (what {@code credentials.uri} names). */
    public URI uri() {
        return URI.create("http://127.0.0.1:" + port + "/credentials");
    }

    /** The key issued for now: a new one every rotation period. */
    public Issued newest() {
        long n = Duration.between(start, Instant.now()).toMillis() / rotation.toMillis();
        return issued.computeIfAbsent(n, i -> {
            byte[] b = new byte[24];
            random.nextBytes(b);
            String hex = HexFormat.of().formatHex(b);
            Instant at = start.plus(rotation.multipliedBy(i));
            // whole seconds, as AWS writes Expiration; never later than issued + lifetime
            Instant exp = Instant.ofEpochSecond(at.plus(lifetime).getEpochSecond());
            Issued k = new Issued("ASIA" + hex.substring(0, 16).toUpperCase(java.util.Locale.ROOT), hex.substring(16),
                    "token-" + i + "-" + hex.substring(0, 12), at, exp);
            byId.put(k.accessKeyId(), k);
            return k;
        });
    }

    @Override
    public Optional<SigningStandIn.Key> lookup(String accessKeyId) {
        return Optional.ofNullable(byId.get(accessKeyId))
                .map(k -> new SigningStandIn.Key(k.secret(), k.token(), k.expiration()));
    }

    /** Keys issued so far (rotations the clients could have seen, plus one). */
    public int issuedCount() {
        return issued.size();
    }

    /** Answers given on the endpoint. */
    public int served() {
        return served.get();
    }

    public Duration rotation() {
        return rotation;
    }

    public Duration lifetime() {
        return lifetime;
    }

    /** Stops answering: connections to the port are refused. */
    public synchronized void down() {
        if (server != null) {
            server.stop(0);
            server = null;
        }
    }

    /** Answers again, on the same port. */
    public synchronized void up() {
        if (server == null) {
            server = start(port);
        }
    }

    @Override
    public synchronized void close() {
        down();
    }
}
