package io.tidemark.shim.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.events.json.Json;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.shim.storage.CreateOnly;

/**
 * The cloud hears of every refused re-push ({@link CatalogApi#reportConflict}): best effort, one
 * call, never in the way of the refusal itself (the command fails with its conflict message
 * whether or not the report arrived; the report's fate is added to that message).
 */
public final class ConflictReport {
    private static final ObjectMapper MAPPER = Json.mapper();

    private ConflictReport() {
    }

    /** Reports {@code c}; returns what to add to the refusal's message ("reported" or why not). */
    public static String send(CatalogApi api, StanzaName stanza, CreateOnly.Result.Different c) {
        if (api == null) {
            return "not reported to the cloud (api.url is not set)";
        }
        String json = MAPPER.createObjectNode().put("key", c.key()).put("existingSha256", c.existingSha256())
                .put("newSha256", c.newSha256()).toString();
        try {
            CatalogApi.Response r = api.reportConflict(stanza, json);
            return r.status() / 100 == 2 ? "reported to the cloud"
                    : "not reported to the cloud (HTTP " + r.status() + ": " + r.message() + ")";
        } catch (RuntimeException e) {
            return "not reported to the cloud (" + e.getMessage() + ")";
        }
    }
}
