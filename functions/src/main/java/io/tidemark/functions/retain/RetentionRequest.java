package io.tidemark.functions.retain;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.events.json.Json;
import io.tidemark.events.layout.StanzaName;
import java.io.IOException;
import java.util.Map;

/**
 * The retention function's input (the daily schedule's and the validator's):
 * {@code {"stanza": "main", "retention": {"fullType": "count"|"time", "full": N, "diff": N}, "dryRun": false,
 * "confirm": false}}. {@code retention}, {@code dryRun} and {@code confirm} are optional; the API's body
 * is the same without {@code stanza}.
 *
 * @param policy  null when the input gave none (the service then takes the default)
 * @param confirm an operator confirms this run: it may expire more fulls than the cap per run. Only
 *                an operator's own invocation of the retention function can delete with it: the
 *                API nodes call only previews
 */
public record RetentionRequest(StanzaName stanza, RetentionPolicy policy, boolean dryRun, boolean confirm) {

    private static final ObjectMapper MAPPER = Json.mapper();

    /** Parses an event; {@code stanza} null means it must be in the JSON. */
    public static RetentionRequest parse(byte[] json, String stanza) {
        JsonNode root;
        try {
            root = json.length == 0 ? MAPPER.createObjectNode() : MAPPER.readTree(json);
        } catch (IOException e) {
            throw new IllegalArgumentException("the input is not JSON: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("the input must be a JSON object");
        }
        root.fieldNames().forEachRemaining(f -> {
            if (!f.equals("stanza") && !f.equals("retention") && !f.equals("dryRun") && !f.equals("confirm")) {
                throw new IllegalArgumentException(f + ": unknown field (expected stanza, retention, dryRun, confirm)");
            }
        });
        String name = stanza;
        if (name == null) {
            JsonNode s = root.get("stanza");
            if (s == null || !s.isTextual()) {
                throw new IllegalArgumentException("stanza: missing (a string naming the stanza)");
            }
            name = s.asText();
        }
        StanzaName stanzaName;
        try {
            stanzaName = StanzaName.of(name);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("stanza: " + e.getMessage());
        }
        RetentionPolicy policy = null;
        JsonNode r = root.get("retention");
        if (r != null && !r.isNull()) {
            if (!r.isObject()) {
                throw new IllegalArgumentException("retention: must be an object {fullType, full, diff}");
            }
            policy = RetentionPolicy.fromMap(MAPPER.convertValue(r, Map.class));
        }
        JsonNode d = root.get("dryRun");
        if (d != null && !d.isBoolean()) {
            throw new IllegalArgumentException("dryRun: must be true or false");
        }
        JsonNode c = root.get("confirm");
        if (c != null && !c.isBoolean()) {
            throw new IllegalArgumentException("confirm: must be true or false");
        }
        return new RetentionRequest(stanzaName, policy, d != null && d.asBoolean(), c != null && c.asBoolean());
    }
}
