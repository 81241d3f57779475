package io.tidemark.functions.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.events.api.ApiRoute;
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
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-05-01T10:11:12.345678Z"), ZoneOffset.UTC);
    private final CatalogApiHandler handler = new CatalogApiHandler(new CatalogService(store, objects, CLOCK),
            new io.tidemark.functions.lease.BackupLeaseService(store, CLOCK),
            new io.tidemark.functions.job.JobService(store, CLOCK), CLOCK);

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
                "timelines", "partials", "histories", "backups", "lease", "window", "lostObjects", "jobs"), fieldNames(j));
        assertEquals(0, j.get("jobs").size());
        assertTrue(j.get("window").get("earliest").isNull());
        assertTrue(j.get("window").get("latest").isNull());
        assertEquals(0, j.get("window").get("gaps").size());
        assertEquals(0, j.get("backups").size());
        assertTrue(j.get("lease").isNull());
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

    private ApiGatewayProxy.Response lease(String method, String body, Map<String, String> query) {
        ApiGatewayProxy.Request req = new ApiGatewayProxy.Request(ApiRoute.LEASE_ACQUIRE.template(),
                "/stanzas/main/backup-lease", method, Map.of("Content-Type", "application/json"), null, query, null,
                Map.of("stanza", "main"), null, null, body, false);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        handler.handleRequest(new ByteArrayInputStream(ApiGatewayProxy.writeRequest(req)), out, null);
        return ApiGatewayProxy.readResponse(out.toByteArray());
    }

    @Test
    void theStreamLeaseRoutesAcquireRefuseAndRelease() throws Exception {
        assertEquals(200, call("PUT", "main", BODY).statusCode());
        CatalogApiHandler h = new CatalogApiHandler(new CatalogService(store, objects, CLOCK),
                new io.tidemark.functions.lease.BackupLeaseService(store, CLOCK),
                new io.tidemark.functions.job.JobService(store, CLOCK), store, CLOCK);
        java.util.function.BiFunction<ApiRoute, String, ApiGatewayProxy.Response> send = (route, body) -> {
            ApiGatewayProxy.Request req = new ApiGatewayProxy.Request(route.template(), "/stanzas/main/stream-lease",
                    route.method(), Map.of("Content-Type", "application/json"), null,
                    body == null ? Map.of("leaseId", "x") : null, null, Map.of("stanza", "main"), null, null, body, false);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            h.handleRequest(new ByteArrayInputStream(ApiGatewayProxy.writeRequest(req)), out, null);
            return ApiGatewayProxy.readResponse(out.toByteArray());
        };
        ApiGatewayProxy.Response first = send.apply(ApiRoute.STREAM_LEASE_ACQUIRE,
                "{\"holder\":\"db1:1\",\"label\":\"tidemark_main\",\"ttlSeconds\":30}");
        assertEquals(200, first.statusCode(), first.body());
        String leaseId = json(first).get("leaseId").asText();
        ApiGatewayProxy.Response other = send.apply(ApiRoute.STREAM_LEASE_ACQUIRE,
                "{\"holder\":\"db2:1\",\"label\":\"tidemark_main\",\"ttlSeconds\":30}");
        assertEquals(409, other.statusCode(), other.body());
        assertTrue(other.body().contains("agent db1:1 streams from slot tidemark_main"), other.body());
        ApiGatewayProxy.Response renewed = send.apply(ApiRoute.STREAM_LEASE_RENEW,
                "{\"leaseId\":\"" + leaseId + "\",\"ttlSeconds\":30}");
        assertEquals(200, renewed.statusCode(), renewed.body());
        // the backup lease is another item: free while the stream's is held
        assertEquals(200, lease("POST", "{\"holder\":\"db2:1\",\"label\":\"20260301-010000F\"}", null)
                .statusCode());
    }

    @Test
    void aRefusedRePushReportedByANodeIsLoggedAsAHistoryConflictMetric() {
        List<String> points = new java.util.ArrayList<>();
        CatalogApiHandler h = new CatalogApiHandler(new CatalogService(store, objects, CLOCK),
                new io.tidemark.functions.lease.BackupLeaseService(store, CLOCK),
                new io.tidemark.functions.job.JobService(store, CLOCK), null, CLOCK,
                (stanza, at, values) -> values.forEach((m, v) -> points.add(stanza + " " + m.metricName() + " " + v)));
        java.util.function.BiFunction<String, String, ApiGatewayProxy.Response> post = (method, body) -> {
            ApiGatewayProxy.Request req = new ApiGatewayProxy.Request(ApiRoute.CONFLICT_REPORT.template(),
                    "/stanzas/main/conflicts", method, Map.of("Content-Type", "application/json"), null, null, null,
                    Map.of("stanza", "main"), null, null, body, false);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            h.handleRequest(new ByteArrayInputStream(ApiGatewayProxy.writeRequest(req)), out, null);
            return ApiGatewayProxy.readResponse(out.toByteArray());
        };
        String key = "main/wal/0000000100000000/000000010000000000000003.zst";
        ApiGatewayProxy.Response ok = post.apply("POST", "{\"key\":\"" + key + "\",\"existingSha256\":\""
                + "a".repeat(64) + "\",\"newSha256\":\"" + "b".repeat(64) + "\"}");
        assertEquals(202, ok.statusCode(), ok.body());
        assertEquals(List.of("main HistoryConflicts 1"), points);

        // untrusted input: another stanza's key, a key outside the alphabet (log lines), bad checksums
        for (String bad : List.of(
                "{\"key\":\"other/wal/x\",\"existingSha256\":\"unknown\",\"newSha256\":\"" + "b".repeat(64) + "\"}",
                "{\"key\":\"main/x\\nforged log line\",\"existingSha256\":\"unknown\",\"newSha256\":\""
                        + "b".repeat(64) + "\"}",
                "{\"key\":\"" + key + "\",\"existingSha256\":\"zz\",\"newSha256\":\"" + "b".repeat(64) + "\"}",
                "{\"key\":\"" + key + "\",\"existingSha256\":\"unknown\"}",
                "not json")) {
            ApiGatewayProxy.Response r = post.apply("POST", bad);
            assertEquals(400, r.statusCode(), bad + " -> " + r.body());
        }
        assertEquals(1, points.size(), "refused reports publish nothing");
        assertEquals(405, post.apply("GET", null).statusCode());
    }

    @Test
    void aConflictNamesTheLeaseAndItsHolderSoThatItsHostCanTakeItOver() throws Exception {
        call("PUT", "main", BODY);
        String identity = "\"identity\":{\"host\":\"db1/m/4026531836\",\"bootId\":\"0f4f1c2e-7d1a\",\"pid\":%d,"
                + "\"startTicks\":%d}";
        ApiGatewayProxy.Response a = lease("POST", "{\"holder\":\"db1:42\",\"label\":\"20260301-010000F\","
                + "\"ttlSeconds\":60," + identity.formatted(42, 1000) + "}", null);
        assertEquals(200, a.statusCode(), a.body());
        String dead = json(a).get("leaseId").asText();

        ApiGatewayProxy.Response conflict = lease("POST", "{\"holder\":\"db1:50\",\"label\":\"20260302-010000F\","
                + "\"ttlSeconds\":60," + identity.formatted(50, 2000) + "}", null);
        assertEquals(409, conflict.statusCode());
        JsonNode c = json(conflict);
        assertEquals(dead, c.get("leaseId").asText());
        assertEquals("{\"host\":\"db1/m/4026531836\",\"bootId\":\"0f4f1c2e-7d1a\",\"pid\":42,\"startTicks\":1000}",
                c.get("identity").toString());

        ApiGatewayProxy.Response took = lease("POST", "{\"holder\":\"db1:50\",\"label\":\"20260302-010000F\","
                + "\"ttlSeconds\":60," + identity.formatted(50, 2000) + ",\"takeover\":{\"leaseId\":\"" + dead
                + "\",\"reason\":\"process 42 is gone\"}}", null);
        assertEquals(200, took.statusCode(), took.body());
        assertEquals("{\"leaseId\":\"" + dead + "\",\"holder\":\"db1:42\",\"reason\":\"process 42 is gone\"}",
                json(took).get("tookOver").toString());
        JsonNode shown = json(call("GET", "main", null)).get("lease");
        assertEquals("db1:50", shown.get("holder").asText());
        assertEquals("process 42 is gone", shown.path("tookOver").path("reason").asText(), shown.toString());
    }

    @Test
    void leaseRoutesFollowTheContract() throws Exception {
        assertEquals(404, lease("POST", "{\"holder\":\"db1:1\",\"label\":\"20260301-010000F\",\"ttlSeconds\":900}",
                null).statusCode());
        call("PUT", "main", BODY);
        ApiGatewayProxy.Response a = lease("POST",
                "{\"holder\":\"db1:1\",\"label\":\"20260301-010000F\",\"ttlSeconds\":900}", null);
        assertEquals(200, a.statusCode(), a.body());
        JsonNode l = json(a);
        assertEquals(List.of("leaseId", "label", "holder", "acquiredAt", "expiresAt"), fieldNames(l));
        assertEquals("2026-05-01T10:26:12.345Z", l.get("expiresAt").asText());

        ApiGatewayProxy.Response conflict = lease("POST",
                "{\"holder\":\"db2:2\",\"label\":\"20260302-010000F\",\"ttlSeconds\":900}", null);
        assertEquals(409, conflict.statusCode());
        JsonNode c = json(conflict);
        assertEquals("backup 20260301-010000F is running on db1:1 since 2026-05-01T10:11:12.345Z; its lease expires at"
                + " 2026-05-01T10:26:12.345Z", c.get("message").asText());
        assertEquals("db1:1", c.get("holder").asText());
        assertEquals("20260301-010000F", c.get("label").asText());

        JsonNode shown = json(call("GET", "main", null)).get("lease");
        assertEquals("{\"label\":\"20260301-010000F\",\"holder\":\"db1:1\",\"expiresAt\":\"2026-05-01T10:26:12.345Z\"}",
                shown.toString());

        String id = l.get("leaseId").asText();
        ApiGatewayProxy.Response hb = lease("PUT", "{\"leaseId\":\"" + id + "\",\"ttlSeconds\":600}", null);
        assertEquals(200, hb.statusCode(), hb.body());
        assertEquals("{\"expiresAt\":\"2026-05-01T10:26:12.345Z\"}", hb.body(), "never shortened");
        assertEquals(409, lease("PUT", "{\"leaseId\":\"00000000-0000-4000-8000-000000000000\",\"ttlSeconds\":600}",
                null).statusCode());
        assertEquals(400, lease("DELETE", null, null).statusCode());
        assertEquals("{\"released\":true}", lease("DELETE", null, Map.of("leaseId", id)).body());
        assertEquals("{\"released\":false}", lease("DELETE", null, Map.of("leaseId", id)).body());
        assertTrue(json(call("GET", "main", null)).get("lease").isNull());
        assertEquals(400, lease("POST", "{\"holder\":\"db1:1\",\"label\":\"../x\"}", null).statusCode());
        assertEquals(405, lease("GET", null, null).statusCode());
    }

    @Test
    void backupsAreListedByLabelWithTheContractFields() throws Exception {
        call("PUT", "main", BODY);
        for (String label : List.of("20260302-010000F", "20260301-010000F")) {
            io.tidemark.functions.catalog.BackupEntry e = new io.tidemark.functions.catalog.BackupEntry(label, "full",
                    null, "valid", List.of(), 1L, "0/5000028", "0/7000100", "2026-03-01T01:00:00Z",
                    "2026-03-01T01:00:30Z", 100L, 40L, 100L, List.of(), false, 0L, List.of(), "1", 150004L, "zst", 3L,
                    1L, "2026-03-01T02:00:00Z", "main/backup/" + label + "/manifest.json", "ab".repeat(32),
                    "2026-03-01T02:00:00Z", List.of(), List.of());
            store.put(e.toItem("STANZA#main", "BACKUP#" + label).withRevision(), null);
        }
        JsonNode backups = json(call("GET", "main", null)).get("backups");
        assertEquals(2, backups.size());
        assertEquals("20260301-010000F", backups.get(0).get("label").asText());
        assertEquals(List.of("label", "type", "prior", "status", "reasons", "timeline", "startLsn", "stopLsn",
                "startTime", "stopTime", "originalSize", "storedSize", "deltaSize", "references", "fromStandby",
                "pageChecksumErrors", "validatedAt"), fieldNames(backups.get(0)));
        assertTrue(backups.get(0).get("prior").isNull());
        assertEquals(1, backups.get(0).get("timeline").asInt());
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
