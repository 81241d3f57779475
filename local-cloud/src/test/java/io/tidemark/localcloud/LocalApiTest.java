package io.tidemark.localcloud;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The local API Gateway stand-in: HTTP in, proxy event to a function, proxy response out. */
@Tag("localcloud")
class LocalApiTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    @TempDir
    static Path dir;

    static LocalCloud cloud;
    static final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void start() {
        EchoApiHandler echo = new EchoApiHandler();
        cloud = LocalCloud.builder()
                .dir(dir)
                .route("GET", "/stanzas/{stanza}", echo)
                .route("catalog-health", "GET", "/stanzas/_health", HandlerFactory.of(echo))
                .route("planner", "POST", "/stanzas/{stanza}/restore-plans", config -> new EchoApiHandler())
                .route("ANY", "/files/{proxy+}", echo)
                .start();
    }

    @AfterAll
    static void stop() {
        if (cloud != null) {
            cloud.close();
        }
    }

    private static HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    private static URI uri(String pathAndQuery) {
        return URI.create(cloud.apiUrl() + pathAndQuery);
    }

    @Test
    void getReachesTheFunctionWithPathParameters() throws Exception {
        HttpResponse<String> r = send(HttpRequest.newBuilder(uri("/stanzas/abc?verbose=true&x=1&x=2"))
                .header("X-Custom", "v1"));
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("yes", r.headers().firstValue("X-Echo").orElseThrow());
        assertEquals(List.of("a", "b"), r.headers().allValues("X-Multi"));
        JsonNode echo = MAPPER.readTree(r.body());
        assertEquals("/stanzas/{stanza}", echo.get("resource").asText());
        assertEquals("/stanzas/abc", echo.get("path").asText());
        assertEquals("GET", echo.get("httpMethod").asText());
        assertEquals("abc", echo.at("/pathParameters/stanza").asText());
        assertEquals("true", echo.at("/query/verbose").asText());
        assertEquals("2", echo.at("/query/x").asText());
        assertEquals("[\"1\",\"2\"]", echo.at("/multiQuery/x").toString());
        assertTrue(echo.get("function").asText().startsWith("EchoApiHandler"), echo.get("function").asText());

        JsonNode raw = echo.get("raw");
        assertEquals("v1", header(raw, "X-Custom"));
        assertTrue(raw.has("isBase64Encoded"));
        assertTrue(raw.get("body").isNull());
        assertTrue(raw.get("stageVariables").isNull());
        assertEquals("/stanzas/{stanza}", raw.at("/requestContext/resourcePath").asText());
        assertEquals("local", raw.at("/requestContext/stage").asText());
        assertEquals("127.0.0.1", raw.at("/requestContext/identity/sourceIp").asText());
        assertTrue(raw.at("/requestContext/identity/userArn").isNull(), "IAM is not emulated");
    }

    private static String header(JsonNode raw, String name) {
        for (var e : raw.get("headers").properties()) {
            if (e.getKey().equalsIgnoreCase(name)) {
                return e.getValue().asText();
            }
        }
        return null;
    }

    @Test
    void encodedPathParametersAreDecoded() throws Exception {
        JsonNode echo = MAPPER.readTree(send(HttpRequest.newBuilder(uri("/stanzas/my%20db%2B1"))).body());
        assertEquals("my db+1", echo.at("/pathParameters/stanza").asText());
    }

    @Test
    void literalRouteWinsOverVariable() throws Exception {
        JsonNode echo = MAPPER.readTree(send(HttpRequest.newBuilder(uri("/stanzas/_health"))).body());
        assertEquals("/stanzas/_health", echo.get("resource").asText());
        assertEquals("catalog-health", echo.get("function").asText());
        assertTrue(echo.get("pathParameters").isEmpty());
    }

    @Test
    void postBodyIsPassedAsText() throws Exception {
        String body = "{\"target\":{\"type\":\"time\",\"time\":\"2025-03-14T09:00:00Z\"}}";
        HttpResponse<String> r = send(HttpRequest.newBuilder(uri("/stanzas/main/restore-plans"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)));
        assertEquals(200, r.statusCode(), r.body());
        JsonNode echo = MAPPER.readTree(r.body());
        assertEquals("planner", echo.get("function").asText());
        assertEquals(body, echo.get("body").asText());
        assertFalse(echo.get("isBase64Encoded").asBoolean());
        assertEquals(body, echo.at("/raw/body").asText());
    }

    @Test
    void binaryBodyIsBase64() throws Exception {
        byte[] bytes = {0, (byte) 0xff, 1, (byte) 0xfe};
        HttpResponse<String> r = send(HttpRequest.newBuilder(uri("/files/a/b.bin"))
                .header("Content-Type", "application/octet-stream")
                .PUT(HttpRequest.BodyPublishers.ofByteArray(bytes)));
        JsonNode echo = MAPPER.readTree(r.body());
        assertEquals("a/b.bin", echo.at("/pathParameters/proxy").asText());
        assertEquals("PUT", echo.get("httpMethod").asText());
        assertTrue(echo.get("isBase64Encoded").asBoolean());
        assertEquals(Base64.getEncoder().encodeToString(bytes), echo.at("/raw/body").asText());
    }

    @Test
    void unknownRouteIs404LikeApiGateway() throws Exception {
        for (HttpRequest.Builder b : List.of(
                HttpRequest.newBuilder(uri("/nope")),
                HttpRequest.newBuilder(uri("/stanzas/abc/extra")),
                HttpRequest.newBuilder(uri("/stanzas/abc")).DELETE())) {
            HttpResponse<String> r = send(b);
            assertEquals(404, r.statusCode());
            assertEquals("{\"message\":\"Not Found\"}", r.body());
            assertEquals("application/json", r.headers().firstValue("Content-Type").orElseThrow());
        }
    }

    @Test
    void failingFunctionIs502() throws Exception {
        for (String stanza : List.of("boom", "garbage")) {
            HttpResponse<String> r = send(HttpRequest.newBuilder(uri("/stanzas/" + stanza)));
            assertEquals(502, r.statusCode());
            assertEquals("{\"message\":\"Internal server error\"}", r.body());
        }
    }
}
