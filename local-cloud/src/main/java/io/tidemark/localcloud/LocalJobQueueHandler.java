package io.tidemark.localcloud;

import com.amazonaws.services.lambda.runtime.Context;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tidemark.events.json.Json;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.functions.runtime.ApiGatewayProxy;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.Optional;

/**
 * The local API's job queue routes, what a node does with SQS in AWS (local-cloud only; the CDK
 * API has no such routes):
 * <ul>
 *   <li>{@code POST /stanzas/{stanza}/job-queue/receive} {@code {"waitSeconds": 0..20,
 *       "visibilitySeconds": 0..43200}}: 200 {@code {"messages": [{"messageId", "receiptHandle",
 *       "body", "receiveCount"}]}}, zero or one message after a long poll;</li>
 *   <li>{@code POST /stanzas/{stanza}/job-queue/visibility} {@code {"receiptHandle",
 *       "visibilitySeconds"}}: a replica makes the message visible again, the runner extends it;</li>
 *   <li>{@code POST /stanzas/{stanza}/job-queue/delete} {@code {"receiptHandle"}}.</li>
 * </ul>
 * A receipt handle that is no longer current answers 410. Requests run concurrently (as SQS serves
 * them), not one at a time like a function's.
 */
final class LocalJobQueueHandler implements ConcurrentHandler {

    static final String RECEIVE = "/stanzas/{stanza}/job-queue/receive";
    static final String VISIBILITY = "/stanzas/{stanza}/job-queue/visibility";
    static final String DELETE = "/stanzas/{stanza}/job-queue/delete";
    private static final ObjectMapper MAPPER = Json.mapper();

    private final LocalJobQueues queues;

    LocalJobQueueHandler(LocalJobQueues queues) {
        this.queues = queues;
    }

    @Override
    public void handleRequest(InputStream input, OutputStream output, Context context) throws IOException {
        ApiGatewayProxy.serve(input, output, this::handle, "job queue request");
    }

    private static final class BadRequest extends RuntimeException {
        private static final long serialVersionUID = 1L;

        BadRequest(String message) {
            super(message);
        }
    }

    ApiGatewayProxy.Response handle(ApiGatewayProxy.Request request) {
        try {
            String stanza = stanza(request);
            JsonNode body = body(request);
            return switch (request.resource()) {
                case RECEIVE -> receive(stanza, body);
                case VISIBILITY -> queues.changeVisibility(stanza, receipt(body),
                        Duration.ofSeconds(seconds(body, "visibilitySeconds", 0, 43_200, null)))
                        ? ApiGatewayProxy.Response.json(200, "{}") : gone();
                case DELETE -> queues.delete(stanza, receipt(body)) ? ApiGatewayProxy.Response.json(200, "{}") : gone();
                default -> ApiGatewayProxy.Response.message(404, "no route " + request.resource());
            };
        } catch (BadRequest e) {
            return ApiGatewayProxy.Response.message(400, e.getMessage());
        }
    }

    private ApiGatewayProxy.Response receive(String stanza, JsonNode body) {
        int wait = seconds(body, "waitSeconds", 0, 20, 10);
        int visibility = seconds(body, "visibilitySeconds", 0, 43_200, 900);
        Optional<LocalJobQueues.Received> r;
        try {
            r = queues.receive(stanza, Duration.ofSeconds(wait), Duration.ofSeconds(visibility));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return ApiGatewayProxy.Response.message(503, "local cloud is stopping");
        }
        ObjectNode out = MAPPER.createObjectNode();
        var messages = out.putArray("messages");
        r.ifPresent(m -> messages.addObject().put("messageId", m.messageId()).put("receiptHandle", m.receiptHandle())
                .put("body", m.body()).put("receiveCount", m.receiveCount()));
        return ApiGatewayProxy.Response.json(200, out.toString());
    }

    private static ApiGatewayProxy.Response gone() {
        return ApiGatewayProxy.Response.message(410, "the receipt handle is not current: the message was deleted or"
                + " received again since");
    }

    private static String stanza(ApiGatewayProxy.Request request) {
        String s = request.pathParameter("stanza").orElseThrow(() -> new BadRequest("the path has no {stanza}"));
        try {
            return StanzaName.of(s).value();
        } catch (IllegalArgumentException e) {
            throw new BadRequest(e.getMessage());
        }
    }

    private static JsonNode body(ApiGatewayProxy.Request request) {
        byte[] b = request.bodyBytes();
        if (b.length == 0) {
            return MAPPER.createObjectNode();
        }
        try {
            JsonNode n = MAPPER.readTree(b);
            if (n == null || !n.isObject()) {
                throw new BadRequest("the body must be a JSON object");
            }
            return n;
        } catch (IOException e) {
            throw new BadRequest("the body is not valid JSON: " + e.getMessage());
        }
    }

    private static String receipt(JsonNode body) {
        JsonNode n = body.get("receiptHandle");
        if (n == null || !n.isTextual() || n.asText().isEmpty()) {
            throw new BadRequest("receiptHandle is required (as receive returned it)");
        }
        return n.asText();
    }

    private static int seconds(JsonNode body, String field, int min, int max, Integer dflt) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            if (dflt == null) {
                throw new BadRequest(field + " is required");
            }
            return dflt;
        }
        if (!n.isIntegralNumber() || n.asLong() < min || n.asLong() > max) {
            throw new BadRequest(field + " must be an integer from " + min + " to " + max);
        }
        return n.asInt();
    }
}
