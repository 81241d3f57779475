package io.tidemark.functions.retain;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.events.json.Json;
import io.tidemark.events.layout.StanzaName;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The retention policy configured for each stanza, as the CDK stack sets it in
 * {@value #SETTING}: {@code {"main": {"fullType": "count", "full": 2, "diff": 6}, ...}} (the same
 * objects the daily schedules send). A run whose event names no policy (the one after a valid
 * backup, a dry run from {@code tidemark expire}) takes the stanza's configured policy from here,
 * so it never removes what the daily run would keep; a stanza not listed takes
 * {@link RetentionPolicy#DEFAULT}.
 */
public record StanzaPolicies(Map<String, RetentionPolicy> byStanza) {

    public static final String SETTING = "TIDEMARK_RETENTION_POLICIES";

    public static final StanzaPolicies NONE = new StanzaPolicies(Map.of());

    private static final ObjectMapper MAPPER = Json.mapper();

    public StanzaPolicies {
        byStanza = Map.copyOf(byStanza);
    }

    /** The policy for {@code stanza}: configured, else the default. */
    public RetentionPolicy of(StanzaName stanza) {
        return byStanza.getOrDefault(stanza.value(), RetentionPolicy.DEFAULT);
    }

    /**
     * Parses the setting's JSON; null or blank is {@link #NONE}.
     *
     * @throws IllegalArgumentException naming the setting, the stanza and what is wrong
     */
    public static StanzaPolicies parse(String json) {
        if (json == null || json.isBlank()) {
            return NONE;
        }
        JsonNode root;
        try {
            root = MAPPER.readTree(json);
        } catch (IOException e) {
            throw new IllegalArgumentException(SETTING + ": not JSON: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException(SETTING + ": must be a JSON object {stanza: {fullType, full, diff}}");
        }
        Map<String, RetentionPolicy> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            try {
                StanzaName.of(e.getKey());
                if (!e.getValue().isObject()) {
                    throw new IllegalArgumentException("retention: must be an object {fullType, full, diff}");
                }
                out.put(e.getKey(), RetentionPolicy.fromMap(MAPPER.convertValue(e.getValue(), Map.class)));
            } catch (IllegalArgumentException ex) {
                throw new IllegalArgumentException(SETTING + ": stanza '" + e.getKey() + "': " + ex.getMessage());
            }
        }
        return new StanzaPolicies(out);
    }
}
