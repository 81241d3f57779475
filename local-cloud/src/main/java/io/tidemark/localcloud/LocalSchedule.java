package io.tidemark.localcloud;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.events.json.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One local schedule: a function of the local cloud invoked with a fixed input, at fixed times,
 * as EventBridge Scheduler does in AWS. Written in {@code DIR/schedules.json}:
 * <pre>{"schedules": [
 *   {"name": "main-backup", "function": "backup-scheduler", "every": "1h", "firstAfter": "30s",
 *    "input": {"stanza": "main", "fullIntervalDays": 7}},
 *   {"name": "main-nightly", "function": "backup-scheduler", "dailyAt": "01:00", "input": {"stanza": "main"}}
 * ]}</pre>
 * {@code every} with an optional {@code firstAfter} (default: one interval after start), or
 * {@code dailyAt} (HH:MM, UTC). Durations: {@code 30s}, {@code 5m}, {@code 2h}, {@code 1d} or ISO-8601
 * ({@code PT1H}).
 */
public record LocalSchedule(String name, String function, Timing timing, String input) {

    public static final String FILE_NAME = "schedules.json";
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.-]{1,64}");
    private static final Pattern SHORT_DURATION = Pattern.compile("([0-9]{1,9})([smhd])");
    private static final Set<String> FIELDS = Set.of("name", "function", "every", "firstAfter", "dailyAt", "input");
    private static final ObjectMapper MAPPER = Json.mapper();

    /** When a schedule fires. */
    public sealed interface Timing {
        /** The first run after {@code start}. */
        Instant first(Instant start);

        /** The run after one at {@code previous}. */
        Instant next(Instant previous);
    }

    /** Every {@code interval}, first {@code firstAfter} after start. */
    public record Every(Duration interval, Duration firstAfter) implements Timing {
        public Every {
            if (interval.compareTo(Duration.ofSeconds(1)) < 0) {
                throw new IllegalArgumentException("every must be at least 1s");
            }
            Objects.requireNonNull(firstAfter, "firstAfter");
        }

        @Override
        public Instant first(Instant start) {
            return start.plus(firstAfter);
        }

        @Override
        public Instant next(Instant previous) {
            return previous.plus(interval);
        }
    }

    /** Every day at {@code time} UTC. */
    public record DailyAt(LocalTime time) implements Timing {
        @Override
        public Instant first(Instant start) {
            ZonedDateTime today = start.atZone(ZoneOffset.UTC).with(time);
            return today.toInstant().isAfter(start) ? today.toInstant() : today.plusDays(1).toInstant();
        }

        @Override
        public Instant next(Instant previous) {
            return first(previous);
        }
    }

    public LocalSchedule {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("schedule name must be 1-64 of A-Z, a-z, 0-9, '_', '.', '-': " + name);
        }
        Objects.requireNonNull(function, "function");
        Objects.requireNonNull(timing, "timing");
        Objects.requireNonNull(input, "input");
    }

    /** The schedules of {@code DIR/schedules.json}; none when the file does not exist. */
    static List<LocalSchedule> load(Path dir) {
        Path file = dir.resolve(FILE_NAME);
        if (!Files.exists(file)) {
            return List.of();
        }
        try {
            return parse(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new LocalCloudException("cannot read " + file + ": " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new LocalCloudException(file + ": " + e.getMessage(), e);
        }
    }

    /** Parses the file's JSON; every problem is named in one message. */
    static List<LocalSchedule> parse(byte[] json) {
        JsonNode root;
        try {
            root = MAPPER.readTree(json);
        } catch (IOException e) {
            throw new IllegalArgumentException("not JSON: " + e.getMessage());
        }
        if (root == null || !root.path("schedules").isArray()) {
            throw new IllegalArgumentException("expected {\"schedules\": [...]}");
        }
        List<String> problems = new ArrayList<>();
        List<LocalSchedule> out = new ArrayList<>();
        Set<String> names = new HashSet<>();
        int i = 0;
        for (JsonNode s : root.get("schedules")) {
            String where = "schedules[" + i++ + "]";
            try {
                LocalSchedule schedule = one(s);
                if (!names.add(schedule.name())) {
                    problems.add(where + ": the name " + schedule.name() + " is used twice");
                }
                out.add(schedule);
            } catch (IllegalArgumentException e) {
                problems.add(where + ": " + e.getMessage());
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(String.join("; ", problems));
        }
        return out;
    }

    private static LocalSchedule one(JsonNode s) {
        if (!s.isObject()) {
            throw new IllegalArgumentException("a schedule is a JSON object");
        }
        for (Iterator<String> it = s.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!FIELDS.contains(f)) {
                throw new IllegalArgumentException("unknown field '" + f + "' (known: " + new java.util.TreeSet<>(FIELDS)
                        + ")");
            }
        }
        String name = text(s, "name");
        String function = text(s, "function");
        if (!s.path("input").isObject()) {
            throw new IllegalArgumentException("input must be the JSON object the function receives");
        }
        Timing timing;
        if (s.has("every") == s.has("dailyAt")) {
            throw new IllegalArgumentException("give exactly one of every and dailyAt");
        }
        if (s.has("every")) {
            Duration every = duration(text(s, "every"));
            Duration first = s.has("firstAfter") ? duration(text(s, "firstAfter")) : every;
            timing = new Every(every, first);
        } else {
            if (s.has("firstAfter")) {
                throw new IllegalArgumentException("firstAfter goes with every, not dailyAt");
            }
            try {
                timing = new DailyAt(LocalTime.parse(text(s, "dailyAt")));
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException("dailyAt must be HH:MM (UTC), not '" + s.get("dailyAt").asText() + "'");
            }
        }
        return new LocalSchedule(name, function, timing, s.get("input").toString());
    }

    private static String text(JsonNode s, String field) {
        JsonNode n = s.get(field);
        if (n == null || !n.isTextual() || n.asText().isBlank()) {
            throw new IllegalArgumentException(field + " is required (a string)");
        }
        return n.asText();
    }

    static Duration duration(String text) {
        Matcher m = SHORT_DURATION.matcher(text.toLowerCase(Locale.ROOT));
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            return switch (m.group(2)) {
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofDays(n);
            };
        }
        try {
            return Duration.parse(text);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("'" + text + "' is not a duration such as 30s, 5m, 2h, 1d or PT1H");
        }
    }
}
