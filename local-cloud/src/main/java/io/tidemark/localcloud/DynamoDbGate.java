package io.tidemark.localcloud;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import io.tidemark.events.json.Json;
import io.tidemark.localcloud.iam.AccessRequest;
import io.tidemark.localcloud.iam.Decision;
import io.tidemark.localcloud.iam.Principal;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The DynamoDB endpoint clients see when enforcement is on: a small reverse proxy in front of
 * DynamoDB Local (which checks no signature) that, for each request, verifies the SigV4 signature
 * ({@link SigV4Verifier}), refuses unknown and expired keys, judges {@code dynamodb:<Operation>}
 * (from {@code X-Amz-Target}) on every table the request names (and {@code /index/<name>} when it
 * names an index) as the key's principal, and forwards what passes unchanged. Refusals are
 * DynamoDB's JSON errors (HTTP 400): {@code AccessDeniedException}, {@code ExpiredTokenException},
 * {@code UnrecognizedClientException}, {@code InvalidSignatureException},
 * {@code MissingAuthenticationTokenException}.
 */
final class DynamoDbGate implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(DynamoDbGate.class);
    private static final ObjectMapper JSON = Json.mapper();
    private static final String TARGET_PREFIX = "DynamoDB_20120810.";
    /** Headers java.net.http sets itself. */
    private static final Set<String> NOT_FORWARDED = Set.of("host", "connection", "content-length", "expect",
            "upgrade", "transfer-encoding", "keep-alive");

    private final LocalHttpServer http;
    private final HttpClient client;
    private final URI inner;
    private final Enforcement enforcement;
    private final URI endpoint;

    private DynamoDbGate(LocalHttpServer http, URI inner, Enforcement enforcement, URI endpoint) {
        this.http = http;
        this.inner = inner;
        this.enforcement = enforcement;
        this.endpoint = endpoint;
        this.client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    }

    static DynamoDbGate start(String host, int port, URI inner, Enforcement enforcement) {
        LocalHttpServer http = LocalHttpServer.bind("DynamoDB", "the DynamoDB endpoint", host, port, 64, 16);
        DynamoDbGate gate = new DynamoDbGate(http, inner, enforcement, http.uri());
        http.start(gate::handle);
        return gate;
    }

    URI endpoint() {
        return endpoint;
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            byte[] body = exchange.getRequestBody().readAllBytes();
            String target = exchange.getRequestHeaders().getFirst("X-Amz-Target");
            String operation = target != null && target.startsWith(TARGET_PREFIX)
                    ? target.substring(TARGET_PREFIX.length()) : String.valueOf(target);
            String action = "dynamodb:" + operation;
            SigV4Verifier.Result result = SigV4Verifier.verify(enforcement.keys(), "dynamodb",
                    exchange.getRequestMethod(), exchange.getRequestURI().getRawPath(),
                    exchange.getRequestURI().getRawQuery(), exchange.getRequestHeaders(), body);
            String table = enforcement.identities().tableArn();
            switch (result) {
                case SigV4Verifier.Result.Missing m -> {
                    enforcement.refuse("anonymous", action, table, "no SigV4 Authorization header");
                    error(exchange, "MissingAuthenticationTokenException", "Request is missing Authentication Token");
                    return;
                }
                case SigV4Verifier.Result.BadKey b -> {
                    enforcement.refuse(Enforcement.who(b.check()), action, table, Enforcement.reason(b.check()));
                    if (b.check() instanceof SessionKeys.Check.Expired) {
                        error(exchange, "ExpiredTokenException", "The security token included in the request is expired");
                    } else {
                        error(exchange, "UnrecognizedClientException", "The security token included in the request is invalid.");
                    }
                    return;
                }
                case SigV4Verifier.Result.BadSignature s -> {
                    enforcement.refuse(s.key() == null ? "access key " + s.accessKeyId() : s.key().principal().name(),
                            action, table, s.why());
                    error(exchange, "InvalidSignatureException", s.why().startsWith("Signature expired")
                            ? s.why()
                            : "The request signature we calculated does not match the signature you provided. "
                                    + "Check your AWS Secret Access Key and signing method. "
                                    + "Consult the service documentation for details.");
                    return;
                }
                case SigV4Verifier.Result.Ok ok -> {
                    Principal principal = ok.key().principal();
                    List<AccessRequest> requests;
                    try {
                        requests = requests(operation, body);
                    } catch (IOException | RuntimeException e) {
                        requests = List.of(AccessRequest.of(action, table));
                    }
                    for (AccessRequest r : requests) {
                        Decision d = enforcement.judge(principal, r);
                        if (!d.allowed()) {
                            error(exchange, "AccessDeniedException", Enforcement.notAuthorized(principal, r, d));
                            return;
                        }
                    }
                }
            }
            forward(exchange, body);
        }
    }

    /** What the operation asks for: its action on each table (and index) it names. */
    private List<AccessRequest> requests(String operation, byte[] body) throws IOException {
        String action = "dynamodb:" + operation;
        JsonNode json = body.length == 0 ? JSON.createObjectNode() : JSON.readTree(body);
        Set<AccessRequest> out = new LinkedHashSet<>();
        switch (operation) {
            case "BatchGetItem", "BatchWriteItem" -> {
                Iterator<String> names = json.path("RequestItems").fieldNames();
                while (names.hasNext()) {
                    out.add(AccessRequest.of(action, tableArn(names.next())));
                }
            }
            case "TransactWriteItems" -> {
                // authorized item by item, as the single-item actions
                for (JsonNode item : json.path("TransactItems")) {
                    item.fields().forEachRemaining(e -> out.add(AccessRequest.of(
                            "dynamodb:" + switch (e.getKey()) {
                                case "Put" -> "PutItem";
                                case "Update" -> "UpdateItem";
                                case "Delete" -> "DeleteItem";
                                default -> "ConditionCheckItem";
                            }, tableArn(e.getValue().path("TableName").asText()))));
                }
            }
            case "TransactGetItems" -> {
                for (JsonNode item : json.path("TransactItems")) {
                    out.add(AccessRequest.of("dynamodb:GetItem", tableArn(item.path("Get").path("TableName").asText())));
                }
            }
            case "ListTables" -> out.add(AccessRequest.of(action, "*"));
            default -> {
                String table = json.path("TableName").asText(null);
                String arn = table == null ? enforcement.identities().tableArn() : tableArn(table);
                String index = json.path("IndexName").asText(null);
                out.add(AccessRequest.of(action, index == null ? arn : arn + "/index/" + index));
            }
        }
        if (out.isEmpty()) {
            out.add(AccessRequest.of(action, enforcement.identities().tableArn()));
        }
        return new ArrayList<>(out);
    }

    /** The ARN of table {@code name}: the stack's table ARN with its name replaced. */
    private String tableArn(String name) {
        String stack = enforcement.identities().tableArn();
        int slash = stack.indexOf(":table/");
        return slash < 0 ? stack : stack.substring(0, slash) + ":table/" + name;
    }

    private void forward(HttpExchange exchange, byte[] body) throws IOException {
        HttpRequest.Builder request = HttpRequest.newBuilder(inner.resolve(exchange.getRequestURI().getRawPath()))
                .timeout(Duration.ofMinutes(1))
                .method(exchange.getRequestMethod(), HttpRequest.BodyPublishers.ofByteArray(body));
        for (Map.Entry<String, List<String>> h : exchange.getRequestHeaders().entrySet()) {
            if (h.getKey() == null || NOT_FORWARDED.contains(h.getKey().toLowerCase(Locale.ROOT))) {
                continue;
            }
            for (String v : h.getValue()) {
                request.header(h.getKey(), v);
            }
        }
        HttpResponse<byte[]> response;
        try {
            response = client.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while forwarding to DynamoDB Local", e);
        } catch (IOException e) {
            LOG.error("DynamoDB Local at {} did not answer: {}", inner, e.toString());
            send(exchange, 500, "application/x-amz-json-1.0",
                    ("{\"__type\":\"com.amazonaws.dynamodb.v20120810#InternalServerError\",\"message\":\""
                            + "DynamoDB Local did not answer\"}").getBytes(StandardCharsets.UTF_8));
            return;
        }
        response.headers().map().forEach((k, v) -> {
            String lower = k.toLowerCase(Locale.ROOT);
            if (!NOT_FORWARDED.contains(lower) && !lower.equals("date") && !lower.startsWith(":")) {
                exchange.getResponseHeaders().put(k, new ArrayList<>(v));
            }
        });
        byte[] out = response.body();
        exchange.sendResponseHeaders(response.statusCode(), out.length == 0 ? -1 : out.length);
        if (out.length > 0) {
            try (OutputStream os = exchange.getResponseBody()) {
                os.write(out);
            }
        }
    }

    private static void error(HttpExchange exchange, String type, String message) throws IOException {
        byte[] body = JSON.writeValueAsBytes(Map.of("__type", "com.amazon.coral.service#" + type, "message", message));
        exchange.getResponseHeaders().set("x-amzn-RequestId", UUID.randomUUID().toString());
        send(exchange, 400, "application/x-amz-json-1.0", body);
    }

    private static void send(HttpExchange exchange, int status, String type, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", type);
        exchange.sendResponseHeaders(status, body.length);
        try (OutputStream os = exchange.getResponseBody()) {
            os.write(body);
        }
    }

    @Override
    public void close() {
        http.close();
        client.close();
    }
}
