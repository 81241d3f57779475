package io.tidemark.functions.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class ApiGatewayProxyTest {

    @Test
    void readsARestProxyRequest() {
        ApiGatewayProxy.Request r = ApiGatewayProxy.readRequest(
                new ByteArrayInputStream(TestResources.bytes("apigw-request.json")));

        assertEquals("/stanzas/{stanza}/restore-plans", r.resource());
        assertEquals("/stanzas/main/restore-plans", r.path());
        assertEquals("POST", r.httpMethod());
        assertEquals(Optional.of("main"), r.pathParameter("stanza"));
        assertEquals(Optional.of("true"), r.queryParameter("dryRun"));
        assertEquals(Optional.of("application/json"), r.header("content-type"));
        assertEquals(List.of("tidemark/0.1.0"), r.multiValueHeaders().get("User-Agent"));
        assertNull(r.stageVariables());
        assertFalse(r.isBase64Encoded());
        assertEquals("{\"target\":{\"type\":\"time\",\"time\":\"2025-03-14T09:00:00Z\"}}",
                new String(r.bodyBytes(), StandardCharsets.UTF_8));
        assertEquals("prod", r.requestContext().stage());
        assertEquals(1741944413589L, r.requestContext().requestTimeEpoch());
        assertEquals("arn:aws:sts::123456789012:assumed-role/tidemark-node/pg1",
                r.requestContext().identity().userArn());
        assertEquals("10.0.1.17", r.requestContext().identity().sourceIp());
    }

    @Test
    void requestRoundTripKeepsTheAwsFieldNames() throws Exception {
        ApiGatewayProxy.Request r = ApiGatewayProxy.readRequest(TestResources.bytes("apigw-request.json"));
        byte[] written = ApiGatewayProxy.writeRequest(r);

        JsonNode tree = RuntimeJson.MAPPER.readTree(written);
        assertTrue(tree.has("isBase64Encoded"), tree.toString());
        assertFalse(tree.has("base64Encoded"), tree.toString());
        assertTrue(tree.get("queryStringParameters").isObject());
        assertEquals("main", tree.at("/pathParameters/stanza").asText());
        assertEquals(r, ApiGatewayProxy.readRequest(written));
    }

    @Test
    void responseRoundTrip() {
        ApiGatewayProxy.Response response = ApiGatewayProxy.Response.json(201, "{\"id\":\"p-1\"}")
                .withHeader("Location", "/stanzas/main/restore-plans/p-1");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ApiGatewayProxy.writeResponse(response, out);

        String json = out.toString(StandardCharsets.UTF_8);
        assertTrue(json.contains("\"statusCode\":201"), json);
        assertTrue(json.contains("\"isBase64Encoded\":false"), json);
        assertFalse(json.contains("multiValueHeaders"), json);

        ApiGatewayProxy.Response back = ApiGatewayProxy.readResponse(new ByteArrayInputStream(out.toByteArray()));
        assertEquals(response, back);
        assertEquals(Map.of("Content-Type", "application/json", "Location", "/stanzas/main/restore-plans/p-1"),
                back.headers());
    }

    @Test
    void binaryAndMessageResponses() {
        byte[] payload = {0, 1, 2, (byte) 0xff};
        ApiGatewayProxy.Response bin = ApiGatewayProxy.Response.binary(200, "application/octet-stream", payload);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ApiGatewayProxy.writeResponse(bin, out);
        ApiGatewayProxy.Response back = ApiGatewayProxy.readResponse(out.toByteArray());
        assertTrue(back.isBase64Encoded());
        assertArrayEquals(payload, back.bodyBytes());

        ApiGatewayProxy.Response msg = ApiGatewayProxy.Response.message(404, "stanza \"x\" not found");
        assertEquals("{\"message\":\"stanza \\\"x\\\" not found\"}", msg.body());
    }

    @Test
    void readsAMinimalResponseFromAHandler() {
        ApiGatewayProxy.Response r = ApiGatewayProxy.readResponse(
                "{\"statusCode\": 204}".getBytes(StandardCharsets.UTF_8));
        assertEquals(204, r.statusCode());
        assertNull(r.body());
        assertEquals(0, r.bodyBytes().length);
    }
}
