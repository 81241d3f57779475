package io.tidemark.shim.support;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tidemark.functions.runtime.ApiGatewayProxy;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Test-only stand-in for the catalog API's stanza routes, answering exactly the contract the
 * shim relies on: {@code PUT /stanzas/{stanza}} (200 created true/false, 409 for another system
 * identifier, 400 for bad input) and {@code GET /stanzas/{stanza}} (200 document, 404). Tests
 * can plant whole documents (timelines, gaps) with {@link #put}.
 */
public final class FakeCatalog implements RequestStreamHandler {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private final Map<String, ObjectNode> stanzas = new ConcurrentHashMap<>();
    /** The Authorization header of each request (null when unsigned), in order. */
    public final List<String> authorizations = new CopyOnWriteArrayList<>();
    public final List<String> calls = new CopyOnWriteArrayList<>();

    public void put(String stanza, ObjectNode doc) {
        stanzas.put(stanza, doc);
    }

    public void remove(String stanza) {
        stanzas.remove(stanza);
    }

    public void clear() {
        stanzas.clear();
        authorizations.clear();
        calls.clear();
    }

    /** A document as the real catalog gives it for a stanza without WAL yet. */
    public static ObjectNode document(String stanza, String systemIdentifier, int pgVersionNum, long walSegmentSize) {
        ObjectNode d = MAPPER.createObjectNode();
        d.put("stanza", stanza);
        d.put("systemIdentifier", systemIdentifier);
        d.put("pgVersion", pgVersionNum / 10000);
        d.put("pgVersionNum", pgVersionNum);
        d.put("walSegmentSize", walSegmentSize);
        d.put("createdAt", "2026-01-02T03:04:05Z");
        d.putArray("timelines");
        d.putArray("partials");
        d.putArray("histories");
        return d;
    }

    @Override
    public void handleRequest(InputStream input, OutputStream output, Context context) throws IOException {
        ApiGatewayProxy.Request req = ApiGatewayProxy.readRequest(input);
        authorizations.add(req.header("Authorization").orElse(null));
        String stanza = req.pathParameter("stanza").orElse("");
        calls.add(req.httpMethod() + " " + stanza);
        ApiGatewayProxy.Response resp = switch (req.httpMethod()) {
            case "GET" -> {
                ObjectNode d = stanzas.get(stanza);
                yield d == null ? ApiGatewayProxy.Response.message(404, "stanza " + stanza + " does not exist")
                        : ApiGatewayProxy.Response.json(200, d.toString());
            }
            case "PUT" -> put(stanza, req.body());
            default -> ApiGatewayProxy.Response.message(405, "method not allowed");
        };
        ApiGatewayProxy.writeResponse(resp, output);
    }

    private ApiGatewayProxy.Response put(String stanza, String body) throws IOException {
        JsonNode in;
        try {
            in = MAPPER.readTree(body == null ? "" : body);
        } catch (IOException e) {
            return ApiGatewayProxy.Response.message(400, "body is not JSON");
        }
        if (in == null || !in.path("systemIdentifier").isTextual() || !in.path("pgVersionNum").isInt()
                || !in.path("walSegmentSize").canConvertToLong() || !in.path("pgVersion").isInt()) {
            return ApiGatewayProxy.Response.message(400, "systemIdentifier (string), pgVersion, pgVersionNum and"
                    + " walSegmentSize are required");
        }
        synchronized (stanzas) {
            ObjectNode existing = stanzas.get(stanza);
            if (existing != null) {
                if (!existing.path("systemIdentifier").asText().equals(in.path("systemIdentifier").asText())) {
                    return ApiGatewayProxy.Response.message(409, "stanza " + stanza + " exists for system identifier "
                            + existing.path("systemIdentifier").asText() + ", not " + in.path("systemIdentifier").asText());
                }
                return ApiGatewayProxy.Response.json(200, answer(existing, false).toString());
            }
            ObjectNode d = document(stanza, in.path("systemIdentifier").asText(), in.path("pgVersionNum").asInt(),
                    in.path("walSegmentSize").asLong());
            d.put("createdAt", Instant.now().toString());
            stanzas.put(stanza, d);
            return ApiGatewayProxy.Response.json(200, answer(d, true).toString());
        }
    }

    private static ObjectNode answer(ObjectNode d, boolean created) {
        ObjectNode a = MAPPER.createObjectNode();
        a.put("stanza", d.path("stanza").asText());
        a.put("created", created);
        for (String f : List.of("systemIdentifier", "pgVersion", "pgVersionNum", "walSegmentSize", "createdAt")) {
            a.set(f, d.get(f));
        }
        return a;
    }
}
