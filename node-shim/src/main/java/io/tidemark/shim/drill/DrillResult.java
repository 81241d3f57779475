package io.tidemark.shim.drill;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tidemark.events.json.Json;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * What one drill did: the target it asked for, the backup the plan used and its bytes, the three
 * times from the drill's start (files restored, consistent, promoted: the last is the measured
 * RTO), and every check. A drill passed when no check failed.
 */
public record DrillResult(String drillId, String node, Instant startedAt, String target, Optional<String> backup,
                          long bytes, OptionalLong filesRestoredMs, OptionalLong consistentMs, OptionalLong promotedMs,
                          List<DrillCheck> checks) {
    public DrillResult {
        Objects.requireNonNull(drillId, "drillId");
        Objects.requireNonNull(node, "node");
        Objects.requireNonNull(startedAt, "startedAt");
        Objects.requireNonNull(target, "target");
        checks = List.copyOf(checks);
        if (checks.isEmpty()) {
            throw new IllegalArgumentException("a drill has at least one check");
        }
    }

    public boolean passed() {
        return checks.stream().noneMatch(DrillCheck::failed);
    }

    /** The checks that failed, by name ("restore", "amcheck", ...). */
    public List<String> failedChecks() {
        return checks.stream().filter(DrillCheck::failed).map(DrillCheck::name).toList();
    }

    /** The body of {@code POST /stanzas/{stanza}/drills}. */
    public ObjectNode toJson() {
        ObjectNode o = Json.mapper().createObjectNode();
        o.put("drillId", drillId);
        o.put("node", node);
        o.put("startedAt", startedAt.toString());
        o.put("result", passed() ? "passed" : "failed");
        o.put("target", target);
        backup.ifPresentOrElse(b -> o.put("backup", b), () -> o.putNull("backup"));
        o.put("bytes", bytes);
        putMs(o, "filesRestoredMs", filesRestoredMs);
        putMs(o, "consistentMs", consistentMs);
        putMs(o, "promotedMs", promotedMs);
        ArrayNode a = o.putArray("checks");
        for (DrillCheck c : checks) {
            a.addObject().put("name", c.name()).put("status", c.status().text()).put("message", c.message());
        }
        return o;
    }

    private static void putMs(ObjectNode o, String name, OptionalLong v) {
        if (v.isPresent()) {
            o.put(name, v.getAsLong());
        } else {
            o.putNull(name);
        }
    }
}
