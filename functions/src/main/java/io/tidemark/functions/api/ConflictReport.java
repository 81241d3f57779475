package io.tidemark.functions.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.events.json.Json;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.layout.StorageLayout;
import java.io.IOException;
import java.util.regex.Pattern;

/**
 * A node's report of an object it refused to replace, validated as untrusted input: the key must
 * be one of the stanza's objects, the checksums lower-case hex SHA-256 ({@code unknown} for an
 * existing object that carries none).
 */
record ConflictReport(String key, String existingSha256, String newSha256) {
    private static final ObjectMapper MAPPER = Json.mapper();
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    /** The alphabet of every key Tidemark writes (StorageLayout): nothing else reaches the log. */
    private static final Pattern KEY = Pattern.compile("[0-9A-Za-z/_.-]+");

    ConflictReport {
        if (key == null || key.length() > StorageLayout.MAX_KEY_LENGTH || !KEY.matcher(key).matches()) {
            throw new IllegalArgumentException("key must be an S3 key of Tidemark's alphabet [0-9A-Za-z/_.-], at most "
                    + StorageLayout.MAX_KEY_LENGTH + " characters");
        }
        if (existingSha256 == null || !(SHA256.matcher(existingSha256).matches() || existingSha256.equals("unknown"))) {
            throw new IllegalArgumentException("existingSha256 must be 64 lower-case hex digits or 'unknown'");
        }
        if (newSha256 == null || !SHA256.matcher(newSha256).matches()) {
            throw new IllegalArgumentException("newSha256 must be 64 lower-case hex digits");
        }
    }

    static ConflictReport parse(StanzaName stanza, byte[] body) {
        JsonNode n;
        try {
            n = MAPPER.readTree(body == null ? new byte[0] : body);
        } catch (IOException e) {
            throw new IllegalArgumentException("the body is not JSON: " + e.getMessage());
        }
        if (n == null || !n.isObject()) {
            throw new IllegalArgumentException("the body must be a JSON object with key, existingSha256 and newSha256");
        }
        ConflictReport r = new ConflictReport(text(n, "key"), text(n, "existingSha256"), text(n, "newSha256"));
        if (!r.key().startsWith(StorageLayout.stanzaPrefix(stanza))) {
            throw new IllegalArgumentException("key " + r.key() + " is not an object of stanza " + stanza);
        }
        return r;
    }

    private static String text(JsonNode n, String field) {
        return n.path(field).isTextual() ? n.path(field).asText() : null;
    }
}
