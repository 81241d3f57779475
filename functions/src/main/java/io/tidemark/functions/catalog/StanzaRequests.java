package io.tidemark.functions.catalog;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.events.json.Json;
import io.tidemark.events.layout.StanzaName;
import java.io.IOException;

/**
 * What every request on {@code /stanzas/{stanza}/...} checks first (the lease and job APIs): the
 * stanza in the path is a valid name of a stanza that exists (400, 404), and the body is one JSON
 * object (400), each with a message that says what is wrong.
 */
public final class StanzaRequests {
    private static final ObjectMapper MAPPER = Json.mapper();

    private StanzaRequests() {
    }

    /** The stanza named in the path, if it is a valid name with a {@code META} item. */
    public static StanzaName existingStanza(CatalogStore store, String text) {
        StanzaName stanza;
        try {
            stanza = StanzaName.of(text);
        } catch (IllegalArgumentException e) {
            throw CatalogException.badRequest(e.getMessage());
        }
        if (store.get(Keys.pk(stanza), Keys.META).isEmpty()) {
            throw new CatalogException(CatalogException.Kind.NOT_FOUND, "no stanza '" + stanza
                    + "'; run tidemark stanza-create");
        }
        return stanza;
    }

    /** The request body as a JSON object. */
    public static JsonNode jsonObject(byte[] body) {
        if (body == null || body.length == 0) {
            throw CatalogException.badRequest("the request needs a JSON body");
        }
        try {
            JsonNode n = MAPPER.readTree(body);
            if (n == null || !n.isObject()) {
                throw CatalogException.badRequest("the body must be a JSON object");
            }
            return n;
        } catch (IOException e) {
            throw CatalogException.badRequest("the body is not valid JSON: " + e.getMessage());
        }
    }
}
