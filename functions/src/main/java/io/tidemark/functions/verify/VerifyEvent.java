package io.tidemark.functions.verify;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tidemark.events.json.Json;
import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.StanzaName;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Set;

/**
 * The verify function's input. Three shapes:
 * <ul>
 *   <li>{@link Start} {@code {"stanza": "main"}} or {@code {"stanza": "main", "backup": LABEL}}: the
 *       daily schedule (or an operator) starts a run, planned in the same invocation;</li>
 *   <li>{@link Plan} {@code {"stanza", "run", "step": "plan"}}: plan a run the API created;</li>
 *   <li>{@link Batch} {@code {"stanza", "run", "step": "batch", "batch": n}}: check one batch.</li>
 * </ul>
 */
public sealed interface VerifyEvent {

    record Start(StanzaName stanza, String backup) implements VerifyEvent {
    }

    record Plan(StanzaName stanza, String run) implements VerifyEvent {
    }

    record Batch(StanzaName stanza, String run, int batch) implements VerifyEvent {
    }

    StanzaName stanza();

    ObjectMapper MAPPER = Json.mapper();
    Set<String> FIELDS = Set.of("stanza", "backup", "run", "step", "batch");

    default byte[] json() {
        ObjectNode n = MAPPER.createObjectNode().put("stanza", stanza().value());
        switch (this) {
            case Start s -> {
                if (s.backup() != null) {
                    n.put("backup", s.backup());
                }
            }
            case Plan p -> n.put("run", p.run()).put("step", "plan");
            case Batch b -> n.put("run", b.run()).put("step", "batch").put("batch", b.batch());
        }
        return n.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** @throws IllegalArgumentException naming what is wrong with the input */
    static VerifyEvent parse(byte[] json) {
        JsonNode root;
        try {
            root = MAPPER.readTree(json);
        } catch (IOException e) {
            throw new IllegalArgumentException("the input is not JSON: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("the input must be a JSON object");
        }
        root.fieldNames().forEachRemaining(f -> {
            if (!FIELDS.contains(f)) {
                throw new IllegalArgumentException(f + ": unknown field (expected " + new java.util.TreeSet<>(FIELDS)
                        + ")");
            }
        });
        JsonNode s = root.get("stanza");
        if (s == null || !s.isTextual()) {
            throw new IllegalArgumentException("stanza: missing (a string naming the stanza)");
        }
        StanzaName stanza = StanzaName.of(s.asText());
        String step = root.path("step").asText("");
        return switch (step) {
            case "" -> {
                JsonNode b = root.get("backup");
                if (b != null && !b.isNull()) {
                    if (!b.isTextual()) {
                        throw new IllegalArgumentException("backup: must be a backup label (a string)");
                    }
                    BackupLabelName.parse(b.asText());
                    yield new Start(stanza, b.asText());
                }
                yield new Start(stanza, null);
            }
            case "plan" -> new Plan(stanza, run(root));
            case "batch" -> {
                JsonNode n = root.get("batch");
                if (n == null || !n.canConvertToInt() || n.asInt() < 1) {
                    throw new IllegalArgumentException("batch: must be a batch number from 1");
                }
                yield new Batch(stanza, run(root), n.asInt());
            }
            default -> throw new IllegalArgumentException("step: '" + step + "' is not plan or batch");
        };
    }

    private static String run(JsonNode root) {
        String id = root.path("run").asText("");
        if (!VerifyRun.ID.matcher(id).matches()) {
            throw new IllegalArgumentException("run: '" + id + "' is not a verify run id");
        }
        return id;
    }
}
