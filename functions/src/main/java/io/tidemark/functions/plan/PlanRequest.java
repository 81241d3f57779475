package io.tidemark.functions.plan;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.events.json.Json;
import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.plan.RecoveryRequest;
import io.tidemark.events.plan.RestoreTarget;
import io.tidemark.events.plan.TargetAction;
import io.tidemark.events.plan.TimelineTarget;
import io.tidemark.functions.catalog.CatalogException;
import java.io.IOException;
import java.util.Optional;

/**
 * The body of {@code POST /stanzas/{stanza}/restore-plans}:
 * <pre>{"target": {"type": "latest|time|xid|lsn|name|immediate", "value": "..." | null},
 *  "exclusive": false, "timeline": "latest|current|&lt;n&gt;", "action": "promote|pause|shutdown",
 *  "backup": "&lt;label&gt;" | null}</pre>
 * Absent fields take the defaults shown first (an empty body asks for the latest point).
 */
public record PlanRequest(RecoveryRequest recovery, Optional<BackupLabelName> backup) {

    private static final ObjectMapper MAPPER = Json.mapper();

    public static PlanRequest parse(byte[] body) {
        JsonNode n;
        try {
            n = body == null || body.length == 0 ? MAPPER.createObjectNode() : MAPPER.readTree(body);
        } catch (IOException e) {
            throw CatalogException.badRequest("the body is not JSON: " + e.getMessage());
        }
        if (n == null || !n.isObject()) {
            throw CatalogException.badRequest("the body must be a JSON object");
        }
        try {
            JsonNode t = n.path("target");
            RestoreTarget target;
            if (t.isMissingNode() || t.isNull()) {
                target = new RestoreTarget.Latest();
            } else if (!t.isObject()) {
                throw new IllegalArgumentException("target must be an object {\"type\", \"value\"}");
            } else {
                target = RestoreTarget.of(text(t, "type"), text(t, "value"));
            }
            JsonNode ex = n.path("exclusive");
            if (!ex.isMissingNode() && !ex.isNull() && !ex.isBoolean()) {
                throw new IllegalArgumentException("exclusive must be true or false");
            }
            RecoveryRequest r = new RecoveryRequest(target, ex.asBoolean(false),
                    TimelineTarget.parse(text(n, "timeline")), TargetAction.parse(text(n, "action")));
            String label = text(n, "backup");
            Optional<BackupLabelName> backup = label == null ? Optional.empty() : Optional.of(BackupLabelName.parse(label));
            return new PlanRequest(r, backup);
        } catch (IllegalArgumentException e) {
            throw CatalogException.badRequest(e.getMessage());
        }
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.path(field);
        if (v.isMissingNode() || v.isNull()) {
            return null;
        }
        if (v.isNumber() && field.equals("timeline")) {
            return v.asText();
        }
        if (v.isNumber() && field.equals("value")) {
            return v.asText();
        }
        if (!v.isTextual()) {
            throw new IllegalArgumentException(field + " must be a string");
        }
        return v.asText();
    }
}
