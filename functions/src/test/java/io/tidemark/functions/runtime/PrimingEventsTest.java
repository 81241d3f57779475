package io.tidemark.functions.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The priming events parse the way the handlers' real events do. */
@Tag("unit")
class PrimingEventsTest {

    @Test
    void objectCreatedParsesAsOneRecordOfTheBucket() {
        S3EventNotification e = S3EventNotification.parse(new ByteArrayInputStream(
                PrimingEvents.objectCreated("eu-central-1", "tidemark-x", "priming/wal/x y.zst")));
        assertFalse(e.testEvent());
        assertEquals(1, e.records().size());
        S3EventNotification.Record r = e.records().get(0);
        assertTrue(r.isObjectCreated());
        assertEquals("tidemark-x", r.bucket());
        assertEquals("eu-central-1", r.awsRegion());
    }

    @Test
    void apiRequestCarriesRouteParametersBodyAndCaller() {
        ApiGatewayProxy.Request r = ApiGatewayProxy.readRequest(PrimingEvents.apiRequest("PATCH",
                "/stanzas/{stanza}", "/stanzas/priming", Map.of("stanza", "priming"), "{\"a\":1}"));
        assertEquals("PATCH", r.httpMethod());
        assertEquals("/stanzas/{stanza}", r.resource());
        assertEquals("priming", r.pathParameter("stanza").orElseThrow());
        assertEquals("{\"a\":1}", new String(r.bodyBytes(), java.nio.charset.StandardCharsets.UTF_8));
        assertTrue(r.requestContext().identity().userArn().startsWith("arn:aws:sts::"));
    }
}
