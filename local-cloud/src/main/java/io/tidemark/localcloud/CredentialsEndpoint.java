package io.tidemark.localcloud;

import com.sun.net.httpserver.HttpExchange;
import io.tidemark.localcloud.iam.Principal;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.regex.Pattern;

/**
 * Local-cloud's stand-in for the container-credentials endpoint a Lambda function or an instance
 * reads its role's session credentials from: {@code GET /credentials/function/<StackName>},
 * {@code /credentials/node/<stanza>}, {@code /credentials/operator}, answered with the JSON the
 * SDK's {@code ContainerCredentialsProvider} reads ({@code AccessKeyId}, {@code SecretAccessKey},
 * {@code Token}, {@code Expiration}). Plain HTTP on the local host, as the real endpoints are
 * link-local. An unknown path answers 404; a principal the stack does not define, 404 naming it.
 *
 * <p>Also {@code GET /credentials/api-key/<stanza>}: the stanza's API key ({@code {"stanza": ..,
 * "value": ..}}), issued on first request, what an operator puts into the stanza's nodes'
 * {@code api.key} (in AWS: {@code aws apigateway get-api-key --include-value} on the stack's
 * {@code ApiKeyId-<stanza>} output).
 */
final class CredentialsEndpoint implements AutoCloseable {

    static final String PREFIX = "/credentials/";
    private static final String API_KEY = "api-key/";
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-]{1,64}");

    private final LocalHttpServer http;
    private final Enforcement enforcement;
    private final LocalApiKeys apiKeys;
    private final URI base;

    private CredentialsEndpoint(LocalHttpServer http, Enforcement enforcement, LocalApiKeys apiKeys, URI base) {
        this.http = http;
        this.enforcement = enforcement;
        this.apiKeys = apiKeys;
        this.base = base;
    }

    static CredentialsEndpoint start(String host, int port, Enforcement enforcement, LocalApiKeys apiKeys) {
        LocalHttpServer http = LocalHttpServer.bind("credentials", "the credentials endpoint", host, port, 32, 2);
        CredentialsEndpoint endpoint = new CredentialsEndpoint(http, enforcement, apiKeys, http.uri());
        http.start(endpoint::handle);
        return endpoint;
    }

    /** {@code http://HOST:PORT/credentials/function/<stackFunctionName>} */
    URI function(String stackFunctionName) {
        return base.resolve(PREFIX + "function/" + stackFunctionName);
    }

    /** {@code http://HOST:PORT/credentials/node/<stanza>} */
    URI node(String stanza) {
        return base.resolve(PREFIX + "node/" + stanza);
    }

    /** {@code http://HOST:PORT/credentials/api-key/<stanza>} */
    URI apiKey(String stanza) {
        return base.resolve(PREFIX + API_KEY + stanza);
    }

    URI operator() {
        return base.resolve(PREFIX + "operator");
    }

    URI base() {
        return base;
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            if (!exchange.getRequestMethod().equals("GET")) {
                send(exchange, 405, "{\"message\":\"only GET\"}");
                return;
            }
            String path = exchange.getRequestURI().getPath();
            if (path.startsWith(PREFIX + API_KEY)) {
                String stanza = path.substring((PREFIX + API_KEY).length());
                String key;
                try {
                    key = apiKeys.keyOf(stanza);
                } catch (IllegalArgumentException e) {
                    send(exchange, 404, "{\"message\":\"" + json(path + ": " + e.getMessage()) + "\"}");
                    return;
                }
                send(exchange, 200, "{\"stanza\":\"" + json(stanza) + "\",\"value\":\"" + key + "\"}");
                return;
            }
            Principal principal;
            try {
                principal = principal(path);
            } catch (RuntimeException e) {
                send(exchange, 404, "{\"message\":\"" + json(path + ": " + e.getMessage()) + "\"}");
                return;
            }
            if (principal == null) {
                send(exchange, 404, "{\"message\":\"" + json("no credentials at " + path
                        + " (try /credentials/function/<StackName>, /credentials/node/<stanza>, /credentials/operator, /credentials/api-key/<stanza>)")
                        + "\"}");
                return;
            }
            SessionKeys.Key k = enforcement.keys().current(principal);
            String expiration = DateTimeFormatter.ISO_INSTANT.format(
                    enforcement.keys().servedExpiration(k).truncatedTo(ChronoUnit.SECONDS));
            send(exchange, 200, "{\"AccessKeyId\":\"" + k.accessKeyId() + "\",\"SecretAccessKey\":\""
                    + json(k.secretAccessKey()) + "\",\"Token\":\"" + json(k.sessionToken())
                    + "\",\"Expiration\":\"" + expiration + "\",\"RoleArn\":\"" + json(principal.arn()) + "\"}");
        }
    }

    /** The principal a path names, null for a path of no principal; throws for a name the stack lacks. */
    private Principal principal(String path) {
        if (!path.startsWith(PREFIX)) {
            return null;
        }
        String rest = path.substring(PREFIX.length());
        if (rest.equals("operator")) {
            return enforcement.identities().operator();
        }
        int slash = rest.indexOf('/');
        if (slash < 0) {
            return null;
        }
        String kind = rest.substring(0, slash);
        String name = rest.substring(slash + 1);
        if (!NAME.matcher(name).matches()) {
            return null;
        }
        return switch (kind) {
            case "function" -> enforcement.identities().function(name);
            case "node" -> enforcement.identities().node(name);
            default -> null;
        };
    }

    private static String json(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.toString();
    }

    private static void send(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream os = exchange.getResponseBody()) {
            os.write(bytes);
        }
    }

    @Override
    public void close() {
        http.close();
    }
}
