package io.tidemark.functions.drill;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tidemark.events.json.Json;
import io.tidemark.events.layout.BackupLabelName;
import java.io.IOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.regex.Pattern;

/**
 * One restore drill as a node reports it, validated as untrusted input: its id (start time
 * first), the node, the target, the backup, bytes, the three times in milliseconds from its start
 * (files restored, consistent, promoted: the RTO; null when not reached) and its checks. The
 * result must agree with the checks (failed exactly when one failed). Stored as the canonical JSON
 * rebuilt here, never the body as sent.
 */
public record DrillRecord(String drillId, Instant startedAt, boolean passed, Long promotedMs, ObjectNode document) {
    public static final Pattern ID = Pattern.compile("[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}");
    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9:_-]{0,63}");
    private static final int MAX_TEXT = 2000;
    private static final int MAX_CHECKS = 64;

    public static DrillRecord parse(byte[] body) {
        JsonNode n;
        try {
            n = Json.mapper().readTree(body == null ? new byte[0] : body);
        } catch (IOException e) {
            throw new IllegalArgumentException("the body is not JSON: " + e.getMessage());
        }
        if (n == null || !n.isObject()) {
            throw new IllegalArgumentException("the body must be a JSON object (a drill: drillId, node, startedAt, result, ...)");
        }
        String id = text(n, "drillId", 30);
        if (!ID.matcher(id).matches()) {
            throw new IllegalArgumentException("drillId must be yyyyMMddTHHmmssZ-<8 hex>, got '" + id + "'");
        }
        Instant started;
        try {
            started = Instant.parse(text(n, "startedAt", 40));
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("startedAt must be an ISO-8601 instant");
        }
        String result = text(n, "result", 10);
        if (!result.equals("passed") && !result.equals("failed")) {
            throw new IllegalArgumentException("result must be passed or failed, got '" + result + "'");
        }
        ObjectNode doc = Json.mapper().createObjectNode();
        doc.put("drillId", id);
        doc.put("node", text(n, "node", 300));
        doc.put("startedAt", started.toString());
        doc.put("result", result);
        doc.put("target", text(n, "target", 300));
        JsonNode backup = n.path("backup");
        if (backup.isNull() || backup.isMissingNode()) {
            doc.putNull("backup");
        } else {
            try {
                doc.put("backup", BackupLabelName.parse(backup.asText()).toString());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("backup must be a backup label or null: " + e.getMessage());
            }
        }
        doc.put("bytes", number(n, "bytes"));
        Long promoted = null;
        for (String f : new String[] {"filesRestoredMs", "consistentMs", "promotedMs"}) {
            Long v = n.path(f).isNull() || n.path(f).isMissingNode() ? null : number(n, f);
            if (v == null) {
                doc.putNull(f);
            } else {
                doc.put(f, v);
            }
            promoted = f.equals("promotedMs") ? v : promoted;
        }
        JsonNode checks = n.path("checks");
        if (!checks.isArray() || checks.isEmpty() || checks.size() > MAX_CHECKS) {
            throw new IllegalArgumentException("checks must be an array of 1 to " + MAX_CHECKS + " checks");
        }
        boolean anyFailed = false;
        var out = doc.putArray("checks");
        for (JsonNode c : checks) {
            String name = text(c, "name", 64);
            if (!NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("check name '" + name + "' is not [a-z][a-z0-9:_-]{0,63}");
            }
            String status = text(c, "status", 10);
            if (!status.equals("passed") && !status.equals("failed") && !status.equals("skipped")) {
                throw new IllegalArgumentException("check " + name + ": status must be passed, failed or skipped");
            }
            anyFailed |= status.equals("failed");
            String message = c.path("message").isTextual() ? c.path("message").asText() : null;
            if (message == null) {
                throw new IllegalArgumentException("check " + name + ": message is required");
            }
            // a long server log excerpt is cut, not refused: the drill must be recorded
            out.addObject().put("name", name).put("status", status)
                    .put("message", message.length() > MAX_TEXT ? message.substring(0, MAX_TEXT) + "…" : message);
        }
        if (anyFailed == result.equals("passed")) {
            throw new IllegalArgumentException("result " + result + " disagrees with the checks (" + (anyFailed ? "one failed"
                    : "none failed") + ")");
        }
        if (result.equals("passed") && promoted == null) {
            throw new IllegalArgumentException("a drill that passed has promotedMs (its RTO)");
        }
        return new DrillRecord(id, started, result.equals("passed"), promoted, doc);
    }

    private static String text(JsonNode n, String field, int max) {
        JsonNode v = n.path(field);
        if (!v.isTextual() || v.asText().isBlank()) {
            throw new IllegalArgumentException(field + " is required (a string)");
        }
        String s = v.asText();
        if (s.length() > max || s.chars().anyMatch(ch -> ch < 0x20)) {
            throw new IllegalArgumentException(field + " must be at most " + max + " printable characters");
        }
        return s;
    }

    private static long number(JsonNode n, String field) {
        JsonNode v = n.path(field);
        if (!v.canConvertToLong() || !v.isIntegralNumber() || v.asLong() < 0) {
            throw new IllegalArgumentException(field + " must be a whole number of 0 or more");
        }
        return v.asLong();
    }
}
