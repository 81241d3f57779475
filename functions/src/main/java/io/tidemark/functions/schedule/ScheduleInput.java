package io.tidemark.functions.schedule;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.events.json.Json;
import io.tidemark.events.layout.StanzaName;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * What a backup schedule hands the scheduler (the EventBridge Scheduler target input, or a
 * local-cloud schedule's input):
 * <pre>{"stanza": "main", "type": "full"|"diff"|"incr"|"drill" (optional), "fullIntervalDays": 7 (optional),
 *  "deadlineMinutes": 60 (optional)}</pre>
 * {@code "drill"} is the drill schedule's: a restore drill job instead of a backup (docs/drills.md).
 *
 * @param type             an explicit type, honoured unless impossible; absent: the policy decides
 * @param fullIntervalDays a full backup when the newest valid full is older than this
 * @param deadlineMinutes  a job nobody claimed within this is over (missed)
 */
public record ScheduleInput(StanzaName stanza, Optional<String> type, int fullIntervalDays, int deadlineMinutes) {

    public static final int DEFAULT_FULL_INTERVAL_DAYS = 7;
    public static final int DEFAULT_DEADLINE_MINUTES = 60;
    /** The job type of a scheduled restore drill. */
    public static final String DRILL = "drill";
    static final Set<String> TYPES = Set.of("full", "diff", "incr", DRILL);
    private static final Set<String> FIELDS = Set.of("stanza", "type", "fullIntervalDays", "deadlineMinutes");
    private static final ObjectMapper MAPPER = Json.mapper();

    public ScheduleInput {
        if (fullIntervalDays < 1 || fullIntervalDays > 366) {
            throw new IllegalArgumentException("fullIntervalDays must be from 1 to 366, not " + fullIntervalDays);
        }
        if (deadlineMinutes < 1 || deadlineMinutes > 7 * 24 * 60) {
            throw new IllegalArgumentException("deadlineMinutes must be from 1 to 10080 (a week), not " + deadlineMinutes);
        }
        type.ifPresent(t -> {
            if (!TYPES.contains(t)) {
                throw new IllegalArgumentException("type must be full, diff, incr or drill, not '" + t + "'");
            }
        });
    }

    /**
     * Parses the input JSON.
     *
     * @throws IllegalArgumentException naming every problem (not JSON, missing stanza, unknown field, bad value)
     */
    public static ScheduleInput parse(byte[] json) {
        JsonNode n;
        try {
            n = MAPPER.readTree(json);
        } catch (IOException e) {
            throw new IllegalArgumentException("the schedule input is not JSON: " + e.getMessage());
        }
        if (n == null || !n.isObject()) {
            throw new IllegalArgumentException("the schedule input must be a JSON object such as {\"stanza\": \"main\"}");
        }
        List<String> problems = new ArrayList<>();
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!FIELDS.contains(f)) {
                problems.add("unknown field '" + f + "' (known: stanza, type, fullIntervalDays, deadlineMinutes)");
            }
        }
        StanzaName stanza = null;
        if (!n.path("stanza").isTextual()) {
            problems.add("stanza is required (a string)");
        } else {
            try {
                stanza = StanzaName.of(n.get("stanza").asText());
            } catch (IllegalArgumentException e) {
                problems.add(e.getMessage());
            }
        }
        Optional<String> type = Optional.empty();
        JsonNode t = n.get("type");
        if (t != null && !t.isNull()) {
            if (!t.isTextual() || !TYPES.contains(t.asText())) {
                problems.add("type must be full, diff, incr or drill (or absent: the policy decides), not " + t);
            } else {
                type = Optional.of(t.asText());
            }
        }
        int interval = integer(n, "fullIntervalDays", DEFAULT_FULL_INTERVAL_DAYS, 1, 366, problems);
        int deadline = integer(n, "deadlineMinutes", DEFAULT_DEADLINE_MINUTES, 1, 7 * 24 * 60, problems);
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("bad schedule input: " + String.join("; ", problems));
        }
        return new ScheduleInput(stanza, type, interval, deadline);
    }

    /** A drill schedule's input: the job is a restore drill, not a backup. */
    public boolean drill() {
        return type.filter(DRILL::equals).isPresent();
    }

    private static int integer(JsonNode n, String field, int dflt, int min, int max, List<String> problems) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < min || v.asInt() > max) {
            problems.add(field + " must be an integer from " + min + " to " + max + ", not " + v);
            return dflt;
        }
        return v.asInt();
    }
}
