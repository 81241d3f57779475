package io.tidemark.functions.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.tidemark.functions.CloudFixture;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The catalog API through local-cloud's real HTTP API, DynamoDB Local and S3Proxy. */
@Tag("localcloud")
class CatalogApiLocalCloudTest {

    @TempDir
    static Path dir;
    static CloudFixture f;

    @BeforeAll
    static void start() {
        f = new CloudFixture(dir);
    }

    @AfterAll
    static void stop() {
        if (f != null) {
            f.close();
        }
    }

    @Test
    void createReadConflictAndNotFound() throws Exception {
        String body = CloudFixture.stanzaBody("7300000000000000001", 16777216);
        CloudFixture.Answer created = f.call("PUT", "/stanzas/main", body);
        assertEquals(200, created.status(), String.valueOf(created.json()));
        assertTrue(created.json().get("created").asBoolean());
        String createdAt = created.json().get("createdAt").asText();

        CloudFixture.Answer again = f.call("PUT", "/stanzas/main", body);
        assertEquals(200, again.status());
        assertFalse(again.json().get("created").asBoolean());
        assertEquals(createdAt, again.json().get("createdAt").asText());

        CloudFixture.Answer conflict = f.call("PUT", "/stanzas/main",
                CloudFixture.stanzaBody("4560000000000000000", 16777216));
        assertEquals(409, conflict.status());
        assertEquals("stanza 'main' belongs to system 7300000000000000001, not 4560000000000000000",
                conflict.json().get("message").asText());

        CloudFixture.Answer bad = f.call("PUT", "/stanzas/main", CloudFixture.stanzaBody("1", 1000));
        assertEquals(400, bad.status());
        assertTrue(bad.json().get("message").asText().startsWith("walSegmentSize"));
        assertEquals(400, f.call("PUT", "/stanzas/bad..name", body).status());

        CloudFixture.Answer missing = f.call("GET", "/stanzas/other", null);
        assertEquals(404, missing.status());
        assertEquals("no stanza 'other'; run tidemark stanza-create", missing.json().get("message").asText());

        CloudFixture.Answer read = f.call("GET", "/stanzas/main", null);
        assertEquals(200, read.status());
        JsonNode j = read.json();
        assertEquals("main", j.get("stanza").asText());
        assertEquals("7300000000000000001", j.get("systemIdentifier").asText());
        assertEquals(15, j.get("pgVersion").asInt());
        assertEquals(150004, j.get("pgVersionNum").asInt());
        assertEquals(16777216, j.get("walSegmentSize").asInt());
        assertEquals(createdAt, j.get("createdAt").asText());
        assertTrue(j.get("timelines").isArray());
        assertEquals(0, j.get("timelines").size());

        // stanza.json is in the bucket, with the same document.
        byte[] stanzaJson = f.aws.s3().getObjectAsBytes(b -> b.bucket(f.cloud.bucket()).key("main/stanza.json"))
                .asByteArray();
        JsonNode doc = CloudFixture.MAPPER.readTree(new String(stanzaJson, StandardCharsets.UTF_8));
        assertEquals("7300000000000000001", doc.get("systemIdentifier").asText());
        assertEquals(createdAt, doc.get("createdAt").asText());
        f.quiesce();
        assertTrue(f.cloud.failedEvents().isEmpty(), "the indexer ignores stanza.json: " + f.cloud.failedEvents());
    }
}
