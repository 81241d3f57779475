package io.tidemark.events.credentials;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A container-credentials endpoint (what ECS and EKS give a task, what local-cloud serves per
 * principal): {@code GET uri} answers {@code {"AccessKeyId", "SecretAccessKey", "Token",
 * "Expiration"}}. One instance lives as long as the process and hands out the current keys,
 * fetching new ones before the cached ones run out.
 *
 * <p>Why not the AWS SDK's {@code ContainerCredentialsProvider}: it takes the URI only from
 * the process-wide {@code AWS_CONTAINER_CREDENTIALS_FULL_URI} variable (its {@code endpoint} is
 * a host prefix to the relative-URI variable), so one JVM cannot hold two of them (local-cloud
 * runs every function, each its own principal, in one process), and the shim's HTTP fast path
 * would load the SDK for it.
 *
 * <p>Renewal: keys fetched at {@code t} expiring at {@code e} are used until {@code e -
 * min(5 min, (e - t) / 2)}, then fetched again (hour-long role sessions: five minutes early;
 * short test sessions: at half life). When that fetch fails, the cached keys still serve until
 * {@code e - min(1 min, (e - t) / 5)} (room for a request signed now to arrive before they
 * expire); after that every call fails with {@link CredentialsUnavailable} until the endpoint
 * answers again. Each call retries the endpoint: nothing is remembered about a failure.
 */
public final class CredentialsEndpoint {
    static final int CONNECT_TIMEOUT_MS = 2_000;
    static final int READ_TIMEOUT_MS = 5_000;
    private static final Duration MAX_EARLY = Duration.ofMinutes(5);
    private static final Duration MAX_MARGIN = Duration.ofMinutes(1);
    /** Keys without an expiration are fetched again after this long. */
    private static final Duration UNDATED = Duration.ofMinutes(5);
    private static final JsonFactory JSON = new JsonFactory();

    private final URI uri;
    private final Clock clock;
    private SessionKeys cached;
    private Instant renewAt;
    private Instant usableUntil;
    private int fetches;

    public CredentialsEndpoint(URI uri) {
        this(uri, Clock.systemUTC());
    }

    public CredentialsEndpoint(URI uri, Clock clock) {
        this.uri = Objects.requireNonNull(uri, "uri");
        this.clock = Objects.requireNonNull(clock, "clock");
        if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()) || uri.getHost() == null) {
            throw new IllegalArgumentException("a credentials endpoint must be an http(s) URI, got '" + uri + "'");
        }
    }

    public URI uri() {
        return uri;
    }

    /**
     * The keys to sign with now.
     *
     * @throws CredentialsUnavailable the endpoint cannot be read and no cached keys are still usable
     */
    public synchronized SessionKeys current() {
        Instant now = clock.instant();
        if (cached != null && now.isBefore(renewAt)) {
            return cached;
        }
        try {
            SessionKeys fresh = fetch();
            Instant fetchedAt = clock.instant();
            Instant expiration = fresh.expiration() == null ? fetchedAt.plus(UNDATED) : fresh.expiration();
            if (!expiration.isAfter(fetchedAt)) {
                throw new CredentialsUnavailable("the credentials endpoint " + uri + " gave keys that expired at "
                        + expiration, null);
            }
            Duration life = Duration.between(fetchedAt, expiration);
            cached = fresh;
            renewAt = expiration.minus(min(MAX_EARLY, life.dividedBy(2)));
            usableUntil = expiration.minus(min(MAX_MARGIN, life.dividedBy(5)));
            fetches++;
            return fresh;
        } catch (CredentialsUnavailable e) {
            if (cached != null && now.isBefore(usableUntil)) {
                return cached;
            }
            throw e;
        }
    }

    /**
     * A service refused {@code refused} as expired or unknown: the next {@link #current()} fetches
     * anew, unless newer keys are already cached.
     */
    public synchronized void refused(SessionKeys refused) {
        if (cached != null && cached.accessKeyId().equals(refused.accessKeyId())) {
            renewAt = Instant.MIN;
            usableUntil = Instant.MIN;
        }
    }

    /** How many times keys were fetched (tests). */
    public synchronized int fetches() {
        return fetches;
    }

    private SessionKeys fetch() {
        HttpURLConnection c = null;
        try {
            c = (HttpURLConnection) uri.toURL().openConnection();
            c.setConnectTimeout(CONNECT_TIMEOUT_MS);
            c.setReadTimeout(READ_TIMEOUT_MS);
            c.setUseCaches(false);
            c.setRequestProperty("Accept", "application/json");
            int status = c.getResponseCode();
            InputStream in = status >= 400 ? c.getErrorStream() : c.getInputStream();
            byte[] body = in == null ? new byte[0] : readAll(in);
            if (status != 200) {
                String text = new String(body, 0, Math.min(body.length, 200), StandardCharsets.UTF_8).strip();
                throw new CredentialsUnavailable("the credentials endpoint " + uri + " answered HTTP " + status
                        + (text.isEmpty() ? "" : ": " + text), null);
            }
            return parse(body);
        } catch (IOException e) {
            throw new CredentialsUnavailable("cannot read credentials from " + uri + ": " + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : ": " + e.getMessage()), e);
        } finally {
            if (c != null) {
                c.disconnect();
            }
        }
    }

    private static byte[] readAll(InputStream in) throws IOException {
        try (in) {
            return in.readNBytes(64 * 1024);
        }
    }

    /** The endpoint's JSON answer; unknown members are ignored. */
    SessionKeys parse(byte[] body) {
        Map<String, String> fields = new HashMap<>();
        try (JsonParser p = JSON.createParser(body)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw bad("not a JSON object");
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken t = p.nextToken();
                if (t == JsonToken.VALUE_STRING) {
                    fields.put(name, p.getText());
                } else {
                    p.skipChildren();
                }
            }
        } catch (IOException e) {
            throw bad("not JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
        String id = fields.get("AccessKeyId");
        String secret = fields.get("SecretAccessKey");
        if (id == null || id.isBlank() || secret == null || secret.isBlank()) {
            throw bad("no AccessKeyId or SecretAccessKey");
        }
        String token = fields.get("Token");
        Instant expiration = null;
        String exp = fields.get("Expiration");
        if (exp != null) {
            try {
                expiration = Instant.parse(exp);
            } catch (DateTimeParseException e) {
                throw bad("Expiration '" + exp + "' is not an ISO-8601 UTC time");
            }
        }
        return new SessionKeys(id, secret, token == null || token.isBlank() ? null : token, expiration);
    }

    private CredentialsUnavailable bad(String why) {
        return new CredentialsUnavailable("the credentials endpoint " + uri + " gave an unusable answer: " + why, null);
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }
}
