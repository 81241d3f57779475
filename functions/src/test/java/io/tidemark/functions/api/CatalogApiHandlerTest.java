package io.tidemark.functions.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.events.json.CanonicalJson;
import io.tidemark.functions.catalog.CatalogService;
import io.tidemark.functions.catalog.InMemoryCatalogStore;
import io.tidemark.functions.catalog.InMemoryObjectStore;
import io.tidemark.functions.catalog.ObjectStore;
import io.tidemark.functions.runtime.ApiGatewayProxy;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

@Tag("unit")
class CatalogApiHandlerTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final String BODY = "{\"systemIdentifier\":\"7300000000000000001\",\"pgVersion\":15,"
            + "\"pgVersionNum\":150018,\"walSegmentSize\":16777216}";

    private final InMemoryCatalogStore store = new InMemoryCatalogStore();
    private final InMemoryObjectStore objects = new InMemoryObjectStore();
    private final CatalogApiHandler handler = new CatalogApiHandler(new CatalogService(store, objects,
            Clock.fixed(Instant.parse("2026-05-01T10:11:12.345678Z"), ZoneOffset.UTC)));

    static ApiGatewayProxy.Request request(String method, String stanza, String body) {
        return new ApiGatewayProxy.Request("/stanzas/{stanza}", "/stanzas/" + stanza, method,
                Map.of("Content-Type", "application/json"), null, null, null,
                stanza == null ? null : Map.of("stanza", stanza), null, null, body, false);
    }

    /** Through the stream interface, as Lambda calls it. */
    private ApiGatewayProxy.Response call(String method, String stanza, String body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        handler.handleRequest(new ByteArrayInputStream(ApiGatewayProxy.writeRequest(request(method, stanza, body))),
                out, null);
        return ApiGatewayProxy.readResponse(out.toByteArray());
    }

    private static JsonNode json(ApiGatewayProxy.Response r) throws Exception {
        return MAPPER.readTree(r.body());
    }

    @Test
    void putCreatesThenAnswersCreatedFalse() throws Exception {
        ApiGatewayProxy.Response first = call("PUT", "main", BODY);
        assertEquals(200, first.statusCode(), first.body());
        assertEquals("application/json", first.headers().get("Content-Type"));
        JsonNode j = json(first);
        assertEquals(List.of("stanza", "created", "systemIdentifier", "pgVersion", "pgVersionNum", "walSegmentSize",
                "createdAt"), fieldNames(j));
        assertEquals("main", j.get("stanza").asText());
        assertTrue(j.get("created").asBoolean());
        assertTrue(j.get("systemIdentifier").isTextual());
        assertEquals("7300000000000000001", j.get("systemIdentifier").asText());
        assertEquals(15, j.get("pgVersion").asInt());
        assertEquals(150018, j.get("pgVersionNum").asInt());
        assertEquals(16777216, j.get("walSegmentSize").asInt());
        assertEquals("2026-05-01T10:11:12.345Z", j.get("createdAt").asText());

        JsonNode again = json(call("PUT", "main", BODY.replace("150018", "150019")));
        assertFalse(again.get("created").asBoolean());
        assertEquals("2026-05-01T10:11:12.345Z", again.get("createdAt").asText());
        assertEquals(150018, again.get("pgVersionNum").asInt());

        ObjectStore.StoredObject doc = objects.get("main/stanza.json").orElseThrow();
        JsonNode stanzaJson = CanonicalJson.parse(doc.content());
        assertEquals("7300000000000000001", stanzaJson.get("systemIdentifier").asText());
        assertEquals("2026-05-01T10:11:12.345Z", stanzaJson.get("createdAt").asText());
        assertFalse(stanzaJson.has("created"));
        assertTrue(CanonicalJson.isCanonical(doc.content()));
        assertEquals(io.tidemark.functions.index.TestWal.sha256(doc.content()), doc.metadata().get("sha256"));
    }

    @Test
    void anotherSystemIsAConflict() throws Exception {
        call("PUT", "main", BODY);
        ApiGatewayProxy.Response r = call("PUT", "main", BODY.replace("7300000000000000001", "456"));
        assertEquals(409, r.statusCode());
        assertEquals("stanza 'main' belongs to system 7300000000000000001, not 456", json(r).get("message").asText());
        ApiGatewayProxy.Response size = call("PUT", "main", BODY.replace("16777216", "33554432"));
        assertEquals(409, size.statusCode());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "bad..name | " + BODY + " | invalid stanza name",
        "-x        | " + BODY + " | invalid stanza name",
        "main      | {\"systemIdentifier\":7300000000000000001,\"pgVersion\":15,\"pgVersionNum\":150018,\"walSegmentSize\":16777216} | systemIdentifier must be a string",
        "main      | {\"systemIdentifier\":\"-1\",\"pgVersion\":15,\"pgVersionNum\":150018,\"walSegmentSize\":16777216} | not an unsigned decimal",
        "main      | {\"systemIdentifier\":\"18446744073709551616\",\"pgVersion\":15,\"pgVersionNum\":150018,\"walSegmentSize\":16777216} | larger than 2^64-1",
        "main      | {\"systemIdentifier\":\"0\",\"pgVersion\":15,\"pgVersionNum\":150018,\"walSegmentSize\":16777216} | not a PostgreSQL system identifier",
        "main      | {\"systemIdentifier\":\"1\",\"pgVersionNum\":150018,\"walSegmentSize\":16777216} | pgVersion is required",
        "main      | {\"systemIdentifier\":\"1\",\"pgVersion\":12,\"pgVersionNum\":120018,\"walSegmentSize\":16777216} | not supported",
        "main      | {\"systemIdentifier\":\"1\",\"pgVersion\":15,\"pgVersionNum\":160001,\"walSegmentSize\":16777216} | does not belong to pgVersion",
        "main      | {\"systemIdentifier\":\"1\",\"pgVersion\":15,\"pgVersionNum\":150018,\"walSegmentSize\":1000} | power of two",
        "main      | {\"systemIdentifier\":\"1\",\"pgVersion\":15.5,\"pgVersionNum\":150018,\"walSegmentSize\":16777216} | must be an integer",
        "main      | {\"systemIdentifier\":\"1\",\"systemIdentifier\":\"2\",\"pgVersion\":15,\"pgVersionNum\":150018,\"walSegmentSize\":16777216} | not valid JSON",
        "main      | [1,2] | must be a JSON object",
        "main      | not json | not valid JSON",
    })
    void badInputIs400(String stanza, String body, String expected) throws Exception {
        ApiGatewayProxy.Response r = call("PUT", stanza, body);
        assertEquals(400, r.statusCode(), r.body());
        String message = json(r).get("message").asText();
        assertTrue(message.contains(expected), message);
        assertTrue(store.all().isEmpty());
    }

    @Test
    void emptyBodyIs400() throws Exception {
        ApiGatewayProxy.Response r = call("PUT", "main", null);
        assertEquals(400, r.statusCode());
        assertTrue(json(r).get("message").asText().contains("request body is missing"));
    }

    @Test
    void unknownStanzaIs404() throws Exception {
        ApiGatewayProxy.Response r = call("GET", "nope", null);
        assertEquals(404, r.statusCode());
        assertEquals("no stanza 'nope'; run tidemark stanza-create", json(r).get("message").asText());
        assertEquals(400, call("GET", "no/pe", null).statusCode());
    }

    @Test
    void freshStanzaHasNoTimelines() throws Exception {
        call("PUT", "main", BODY);
        ApiGatewayProxy.Response r = call("GET", "main", null);
        assertEquals(200, r.statusCode());
        JsonNode j = json(r);
        assertEquals(List.of("stanza", "systemIdentifier", "pgVersion", "pgVersionNum", "walSegmentSize", "createdAt",
                "timelines", "partials", "histories"), fieldNames(j));
        assertEquals(0, j.get("timelines").size());
        assertEquals(0, j.get("partials").size());
        assertEquals(0, j.get("histories").size());
    }

    @Test
    void otherMethodsAre405() {
        ApiGatewayProxy.Response r = call("DELETE", "main", null);
        assertEquals(405, r.statusCode());
        assertEquals("GET, PUT", r.headers().get("Allow"));
    }

    static List<String> fieldNames(JsonNode j) {
        List<String> names = new java.util.ArrayList<>();
        j.fieldNames().forEachRemaining(names::add);
        return names;
    }

    static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
