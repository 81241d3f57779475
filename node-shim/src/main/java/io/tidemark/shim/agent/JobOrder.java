package io.tidemark.shim.agent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.events.json.Json;
import java.io.IOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A job message as the scheduler sends it: {@code {"jobId", "stanza", "type", "deadline"}}; the
 * type is a backup's (full, diff, incr) or {@code drill}, a scheduled restore drill.
 */
public record JobOrder(String jobId, String stanza, String type, Instant deadline) {

    private static final Pattern ID = Pattern.compile("[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}");
    private static final Set<String> TYPES = Set.of("full", "diff", "incr", "drill");
    private static final ObjectMapper MAPPER = Json.mapper();

    /**
     * Parses a message body.
     *
     * @throws IllegalArgumentException saying what is wrong with it
     */
    /** A scheduled restore drill, run by the agents {@code drill.run} allows (docs/drills.md#scheduled-drills). */
    public boolean drill() {
        return type.equals("drill");
    }

    public static JobOrder parse(String body) {
        JsonNode n;
        try {
            n = MAPPER.readTree(body);
        } catch (IOException e) {
            throw new IllegalArgumentException("not JSON: " + e.getMessage());
        }
        if (n == null || !n.isObject()) {
            throw new IllegalArgumentException("not a JSON object");
        }
        String id = n.path("jobId").asText("");
        if (!ID.matcher(id).matches()) {
            throw new IllegalArgumentException("jobId '" + id + "' is not a job id");
        }
        String type = n.path("type").asText("");
        if (!TYPES.contains(type)) {
            throw new IllegalArgumentException("type '" + type + "' is not full, diff, incr or drill");
        }
        try {
            return new JobOrder(id, n.path("stanza").asText(""), type, Instant.parse(n.path("deadline").asText("")));
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("deadline '" + n.path("deadline").asText("") + "' is not an ISO time");
        }
    }
}
