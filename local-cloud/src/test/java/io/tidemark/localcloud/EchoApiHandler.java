package io.tidemark.localcloud;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.functions.runtime.ApiGatewayProxy;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * Test-only API function: parses the proxy event with the runtime types and answers a JSON
 * body describing what it received, plus the raw event, so tests can check both.
 */
final class EchoApiHandler implements RequestStreamHandler {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    @Override
    public void handleRequest(InputStream input, OutputStream output, Context context) throws IOException {
        byte[] raw = input.readAllBytes();
        ApiGatewayProxy.Request request = ApiGatewayProxy.readRequest(raw);
        if (request.pathParameter("stanza").orElse("").equals("boom")) {
            throw new IllegalStateException("boom");
        }
        if (request.pathParameter("stanza").orElse("").equals("garbage")) {
            output.write("not json".getBytes(StandardCharsets.UTF_8));
            return;
        }
        Map<String, Object> echo = Map.of(
                "function", context.getFunctionName(),
                "resource", request.resource(),
                "path", request.path(),
                "httpMethod", request.httpMethod(),
                "pathParameters", request.pathParameters() == null ? Map.of() : request.pathParameters(),
                "query", request.queryStringParameters() == null ? Map.of() : request.queryStringParameters(),
                "multiQuery", request.multiValueQueryStringParameters() == null
                        ? Map.of() : request.multiValueQueryStringParameters(),
                "body", new String(request.bodyBytes(), StandardCharsets.ISO_8859_1),
                "isBase64Encoded", request.isBase64Encoded(),
                "raw", MAPPER.readTree(raw));
        ApiGatewayProxy.Response response = new ApiGatewayProxy.Response(
                200,
                Map.of("Content-Type", "application/json", "X-Echo", "yes"),
                Map.of("X-Multi", List.of("a", "b")),
                MAPPER.writeValueAsString(echo),
                false);
        ApiGatewayProxy.writeResponse(response, output);
    }
}
