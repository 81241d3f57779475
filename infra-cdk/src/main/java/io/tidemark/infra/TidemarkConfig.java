package io.tidemark.infra;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tidemark.events.json.Json;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The deployment's settings, read from CDK context ({@code cdk.json} or {@code -c key=value}).
 * Every value is validated here, before any construct exists, and every problem is reported at
 * once. See {@code docs/deploy.md} for an example.
 *
 * <table>
 * <caption>Context keys</caption>
 * <tr><th>key</th><th>default</th><th>meaning</th></tr>
 * <tr><td>{@value #STANZAS}</td><td>required</td><td>list of stanza names, or of objects
 *     {@code {"name", "backups": [{"schedule", "type", "fullIntervalDays"}], "timezone", "retention": {...},
 *     "maxBackupAgeHours"}}</td></tr>
 * <tr><td>{@value #OBJECT_LOCK}</td><td>GOVERNANCE, 7 days</td><td>{@code {"mode": "GOVERNANCE"|"COMPLIANCE", "days": N}},
 *     or {@code off}; only chosen when the bucket is created</td></tr>
 * <tr><td>{@value #PLAN_URL_TTL_MINUTES}</td><td>60</td><td>lifetime of presigned URLs in a plan</td></tr>
 * <tr><td>{@value #PLAN_TTL_MINUTES}</td><td>60</td><td>lifetime of a restore plan (a restore must start within it)</td></tr>
 * <tr><td>{@value #API_STANZA_RATE}</td><td>10</td><td>API requests per second of one stanza's key (usage plan)</td></tr>
 * <tr><td>{@value #API_STANZA_BURST}</td><td>20</td><td>API burst of one stanza's key</td></tr>
 * <tr><td>{@value #INDEXER_CONCURRENCY}</td><td>20</td><td>reserved concurrency of the WAL indexer</td></tr>
 * <tr><td>{@value #VALIDATOR_CONCURRENCY}</td><td>5</td><td>reserved concurrency of the manifest validator</td></tr>
 * <tr><td>{@value #ABORT_MULTIPART_DAYS}</td><td>3</td><td>lifecycle: abort incomplete multipart uploads</td></tr>
 * <tr><td>{@value #NONCURRENT_VERSION_DAYS}</td><td>30</td><td>lifecycle: expire noncurrent versions</td></tr>
 * <tr><td>{@value #ARCHIVE_LAG_ALARM_SECONDS}</td><td>900</td><td>archive lag alarm threshold</td></tr>
 * <tr><td>{@value #VERIFY_SCHEDULE}</td><td>{@value #DEFAULT_VERIFY_SCHEDULE}</td><td>when {@code verify}
 *     checks every object of each stanza (EventBridge Scheduler expression, in the stanza's time zone),
 *     or {@code off}</td></tr>
 * <tr><td>{@value #VERIFY_ALARM_AGE_HOURS}</td><td>48</td><td>alarm when the last clean verify of a
 *     stanza is older (only with the schedule on)</td></tr>
 * <tr><td>{@value #DRILL_SCHEDULE}</td><td>off</td><td>when each stanza gets a restore drill job
 *     (EventBridge Scheduler expression, in the stanza's time zone; run by an agent that
 *     {@code drill.run} allows, docs/drills.md), or {@code off}</td></tr>
 * <tr><td>{@value #DRILL_ALARM_DAYS}</td><td>7</td><td>alarm when no drill of a stanza passed within
 *     this many days (1 to 7, CloudWatch's longest evaluation range; only with the drill schedule on)</td></tr>
 * <tr><td>{@value #ALARM_EMAIL}</td><td>none</td><td>e-mail subscribed to the alarm topic</td></tr>
 * <tr><td>{@value #RETENTION_MIN_FULL_AGE_HOURS}</td><td>24</td><td>retention never expires a full
 *     the cloud accepted less than this many hours ago (0: no floor)</td></tr>
 * <tr><td>{@value #RETENTION_MAX_FULLS_PER_RUN}</td><td>2</td><td>a retention run expires at most this
 *     many fulls unless an operator confirms it</td></tr>
 * <tr><td>{@value #CLOCK_SKEW_MINUTES}</td><td>10</td><td>how far a node's times (a backup's, a
 *     commit's) may be ahead of the S3 event time of the object that carries them</td></tr>
 * <tr><td>{@value #FUNCTIONS_JAR}</td><td>{@value #DEFAULT_FUNCTIONS_JAR}</td><td>the Lambda package,
 *     relative to the directory the app runs in ({@code infra-cdk/})</td></tr>
 * </table>
 */
public record TidemarkConfig(
        List<StanzaConfig> stanzas,
        Optional<ObjectLock> objectLock,
        int planUrlTtlMinutes,
        int planTtlMinutes,
        int indexerConcurrency,
        int validatorConcurrency,
        int apiStanzaRateLimit,
        int apiStanzaBurstLimit,
        int abortIncompleteMultipartDays,
        int noncurrentVersionDays,
        int archiveLagAlarmSeconds,
        Optional<String> verifySchedule,
        int verifyAlarmAgeHours,
        Optional<String> drillSchedule,
        int drillAlarmDays,
        Optional<String> alarmEmail,
        Path functionsJar,
        Guards guards) {

    /**
     * What a compromised node cannot talk retention past (docs/retention.md#floors,
     * docs/backup-validation.md#refused-manifests).
     */
    public record Guards(int minFullAgeHours, int maxFullsPerRun, int clockSkewMinutes) {
        public static final Guards DEFAULT = new Guards(24, 2, 10);
    }

    public static final String RETENTION_MIN_FULL_AGE_HOURS = "retentionMinFullAgeHours";
    public static final String RETENTION_MAX_FULLS_PER_RUN = "retentionMaxFullsPerRun";
    public static final String CLOCK_SKEW_MINUTES = "clockSkewMinutes";

    public static final String STANZAS = "stanzas";
    public static final String OBJECT_LOCK = "objectLock";
    public static final String PLAN_URL_TTL_MINUTES = "planUrlTtlMinutes";
    public static final String PLAN_TTL_MINUTES = "planTtlMinutes";
    public static final String INDEXER_CONCURRENCY = "indexerReservedConcurrency";
    public static final String API_STANZA_RATE = "apiStanzaRateLimit";
    public static final String API_STANZA_BURST = "apiStanzaBurstLimit";
    /** The API stage's own throttle (all stanzas together); one stanza's key gets at most half of it. */
    public static final int API_STAGE_RATE = 50;
    public static final int API_STAGE_BURST = 100;
    public static final String VALIDATOR_CONCURRENCY = "validatorReservedConcurrency";
    public static final String ABORT_MULTIPART_DAYS = "abortIncompleteMultipartDays";
    public static final String NONCURRENT_VERSION_DAYS = "noncurrentVersionDays";
    public static final String ARCHIVE_LAG_ALARM_SECONDS = "archiveLagAlarmSeconds";
    public static final String ALARM_EMAIL = "alarmEmail";
    public static final String VERIFY_SCHEDULE = "verifySchedule";
    public static final String DEFAULT_VERIFY_SCHEDULE = "cron(0 4 * * ? *)";
    public static final String VERIFY_ALARM_AGE_HOURS = "verifyAlarmAgeHours";
    public static final String FUNCTIONS_JAR = "functionsJar";
    public static final String DRILL_SCHEDULE = "drillSchedule";
    public static final String DRILL_ALARM_DAYS = "drillAlarmDays";

    public static final String DEFAULT_FUNCTIONS_JAR = "../functions/target/tidemark-functions-lambda.jar";

    /** A full backup when the newest valid full is older than this many days (unless the schedule names a type). */
    public static final int DEFAULT_FULL_INTERVAL_DAYS = 7;

    /**
     * Default schedule: every day at 01:00 in the stanza's time zone, the scheduler's policy decides
     * (incremental, a full when none is valid or the newest is older than 7 days).
     */
    public static final List<BackupSchedule> DEFAULT_BACKUPS = List.of(
            new BackupSchedule(Optional.empty(), "cron(0 1 * * ? *)", DEFAULT_FULL_INTERVAL_DAYS));

    /** Default retention: keep two full backups (and what depends on them), six differentials. */
    public static final Retention DEFAULT_RETENTION = new Retention("count", 2, 6);

    public static final int DEFAULT_MAX_BACKUP_AGE_HOURS = 26;

    // Same rule as io.tidemark.events.layout.StanzaName (this module does not depend on events).
    private static final Pattern STANZA_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}");
    // EventBridge Scheduler cron: cron(minutes hours day-of-month month day-of-week year), six fields.
    private static final Pattern CRON = Pattern.compile("cron\\(\\S+( \\S+){5}\\)");
    private static final Pattern RATE = Pattern.compile("rate\\([1-9][0-9]* (minute|minutes|hour|hours|day|days)\\)");
    private static final Pattern EMAIL = Pattern.compile("[^@\\s]+@[^@\\s]+\\.[^@\\s]+");
    private static final Set<String> BACKUP_TYPES = Set.of("full", "diff", "incr");
    private static final ObjectMapper JSON = Json.mapper();

    /** One stanza (PostgreSQL cluster). */
    public record StanzaConfig(String name, List<BackupSchedule> backups, String timezone, Retention retention,
            int maxBackupAgeHours) {
        public StanzaConfig {
            Objects.requireNonNull(name, "name");
            backups = List.copyOf(backups);
            Objects.requireNonNull(timezone, "timezone");
            Objects.requireNonNull(retention, "retention");
        }
    }

    /**
     * A backup schedule: {@code schedule} a Scheduler expression; {@code type} full, diff or incr
     * when the schedule insists (honoured unless impossible), absent to let the scheduler's policy
     * decide; {@code fullIntervalDays} the policy's full interval.
     */
    public record BackupSchedule(Optional<String> type, String schedule, int fullIntervalDays) {
        public BackupSchedule {
            Objects.requireNonNull(type, "type");
            Objects.requireNonNull(schedule, "schedule");
        }

        /** The JSON the backup scheduler receives (io.tidemark.functions.schedule.ScheduleInput). */
        public Map<String, Object> toInput(String stanza) {
            Map<String, Object> m = new java.util.LinkedHashMap<>();
            m.put("stanza", stanza);
            type.ifPresent(t -> m.put("type", t));
            m.put("fullIntervalDays", fullIntervalDays);
            return m;
        }

        /** For construct ids and descriptions: the type, or "policy". */
        public String kind() {
            return type.orElse("policy");
        }
    }

    /**
     * Retention in pgBackRest's terms: {@code fullType} count (keep {@code full} full backups) or
     * time (keep full backups for {@code full} days); keep {@code diff} differential backups.
     * WAL needed by a kept backup is always kept.
     */
    public record Retention(String fullType, int full, int diff) {
        /** The JSON the retention function receives (schedule input). */
        public Map<String, Object> toInput() {
            return Map.of("fullType", fullType, "full", full, "diff", diff);
        }
    }

    /** S3 Object Lock default retention. */
    public record ObjectLock(String mode, int days) {
    }

    /**
     * Object Lock when the context says nothing: governance mode, 7 days. Every version of every
     * object outlives a compromise of up to a week (no node, function or operator without
     * {@code s3:BypassGovernanceRetention} can remove it sooner), and the default retention
     * (two weekly fulls) never wants to remove anything younger: an expired full is at least
     * 14 days old and WAL below the oldest kept full at least 7. See docs/deploy.md.
     */
    public static final ObjectLock DEFAULT_OBJECT_LOCK = new ObjectLock("GOVERNANCE", 7);

    /**
     * Reads the configuration.
     *
     * @param context a context lookup ({@code node::tryGetContext}); values may be JSON values
     *     (from cdk.json) or strings (from {@code -c}), strings holding JSON are parsed
     * @throws IllegalArgumentException naming every problem
     */
    public static TidemarkConfig fromContext(Function<String, Object> context) {
        List<String> problems = new ArrayList<>();

        List<StanzaConfig> stanzas = stanzas(json(context.apply(STANZAS), STANZAS, problems), problems);
        Optional<ObjectLock> objectLock = objectLock(json(context.apply(OBJECT_LOCK), OBJECT_LOCK, problems), problems);
        int ttl = intSetting(context, PLAN_URL_TTL_MINUTES, 60, 1, 720, problems);
        int planTtl = intSetting(context, PLAN_TTL_MINUTES, 60, 5, 1440, problems);
        int indexerConcurrency = intSetting(context, INDEXER_CONCURRENCY, 20, 1, 1000, problems);
        int validatorConcurrency = intSetting(context, VALIDATOR_CONCURRENCY, 5, 1, 1000, problems);
        int apiRate = intSetting(context, API_STANZA_RATE, 10, 1, API_STAGE_RATE / 2, problems);
        int apiBurst = intSetting(context, API_STANZA_BURST, 20, 1, API_STAGE_BURST / 2, problems);
        int abortDays = intSetting(context, ABORT_MULTIPART_DAYS, 3, 1, 365, problems);
        int noncurrentDays = intSetting(context, NONCURRENT_VERSION_DAYS, 30, 1, 3650, problems);
        int lag = intSetting(context, ARCHIVE_LAG_ALARM_SECONDS, 900, 60, 86_400, problems);
        Optional<String> verifySchedule = Optional.of(DEFAULT_VERIFY_SCHEDULE);
        Object verifyValue = context.apply(VERIFY_SCHEDULE);
        if (verifyValue != null && !verifyValue.toString().isBlank()) {
            String v = verifyValue.toString().strip();
            if (v.equals("off")) {
                verifySchedule = Optional.empty();
            } else if (v.matches("(cron|rate)\\(.+\\)")) {
                verifySchedule = Optional.of(v);
            } else {
                problems.add(VERIFY_SCHEDULE + "='" + v + "' is neither off nor a cron(...) or rate(...) expression");
            }
        }
        int verifyAge = intSetting(context, VERIFY_ALARM_AGE_HOURS, 48, 1, 8760, problems);
        Optional<String> drillSchedule = Optional.empty();
        Object drillValue = context.apply(DRILL_SCHEDULE);
        if (drillValue != null && !drillValue.toString().isBlank() && !drillValue.toString().strip().equals("off")) {
            String v = drillValue.toString().strip();
            if (CRON.matcher(v).matches() || RATE.matcher(v).matches()) {
                drillSchedule = Optional.of(v);
            } else {
                problems.add(DRILL_SCHEDULE + "='" + v + "' is neither off nor an EventBridge Scheduler cron(m h dom mon"
                        + " dow year) or rate(...) expression");
            }
        }
        int drillDays = intSetting(context, DRILL_ALARM_DAYS, 7, 1, 7, problems);
        Guards guards = new Guards(
                intSetting(context, RETENTION_MIN_FULL_AGE_HOURS, Guards.DEFAULT.minFullAgeHours(), 0, 8760, problems),
                intSetting(context, RETENTION_MAX_FULLS_PER_RUN, Guards.DEFAULT.maxFullsPerRun(), 1, 9999, problems),
                intSetting(context, CLOCK_SKEW_MINUTES, Guards.DEFAULT.clockSkewMinutes(), 0, 1440, problems));

        Optional<String> email = Optional.empty();
        Object emailValue = context.apply(ALARM_EMAIL);
        if (emailValue != null && !emailValue.toString().isBlank()) {
            String e = emailValue.toString().strip();
            if (EMAIL.matcher(e).matches()) {
                email = Optional.of(e);
            } else {
                problems.add(ALARM_EMAIL + "='" + e + "' is not an e-mail address");
            }
        }

        Object jarValue = context.apply(FUNCTIONS_JAR);
        Path jar = Path.of(jarValue == null || jarValue.toString().isBlank()
                ? DEFAULT_FUNCTIONS_JAR : jarValue.toString().strip());

        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("invalid Tidemark CDK context: " + String.join("; ", problems));
        }
        return new TidemarkConfig(List.copyOf(stanzas), objectLock, ttl, planTtl, indexerConcurrency,
                validatorConcurrency, apiRate, apiBurst, abortDays, noncurrentDays, lag, verifySchedule,
                verifyAge, drillSchedule, drillDays, email, jar, guards);
    }

    /** The stanza names, in the configured order. */
    public List<String> stanzaNames() {
        return stanzas.stream().map(StanzaConfig::name).toList();
    }

    private static JsonNode json(Object value, String key, List<String> problems) {
        if (value == null) {
            return null;
        }
        if (value instanceof String s) {
            String text = s.strip();
            if (text.isEmpty()) {
                return null;
            }
            if (text.startsWith("[") || text.startsWith("{") || text.startsWith("\"")) {
                try {
                    return JSON.readTree(text);
                } catch (JsonProcessingException e) {
                    problems.add(key + " is not valid JSON: " + e.getOriginalMessage());
                    return null;
                }
            }
            return JSON.getNodeFactory().textNode(text);
        }
        return JSON.valueToTree(value);
    }

    private static List<StanzaConfig> stanzas(JsonNode node, List<String> problems) {
        List<StanzaConfig> out = new ArrayList<>();
        if (node == null || node.isNull()) {
            problems.add(STANZAS + " is required: a list of stanza names, e.g. -c stanzas=main,reports");
            return out;
        }
        List<JsonNode> entries = new ArrayList<>();
        if (node.isTextual()) { // -c stanzas=main,reports
            for (String part : node.asText().split(",")) {
                entries.add(JSON.getNodeFactory().textNode(part.strip()));
            }
        } else if (node.isArray()) {
            node.forEach(entries::add);
        } else {
            problems.add(STANZAS + " must be a list");
            return out;
        }
        if (entries.isEmpty()) {
            problems.add(STANZAS + " must name at least one stanza");
        }
        Set<String> seen = new LinkedHashSet<>();
        Map<String, String> ids = new java.util.HashMap<>();
        for (JsonNode entry : entries) {
            StanzaConfig s = stanza(entry, problems);
            if (s == null) {
                continue;
            }
            if (!seen.add(s.name().toLowerCase(Locale.ROOT))) {
                // S3 keys are case sensitive, but construct ids and alarm names are not worth the risk.
                problems.add("stanza '" + s.name() + "' is listed twice (names are compared ignoring case)");
                continue;
            }
            // CloudFormation logical ids (outputs such as NodePolicyArn<stanza>) keep only A-Za-z0-9.
            String id = s.name().replaceAll("[^A-Za-z0-9]", "").toLowerCase(Locale.ROOT);
            String clash = ids.putIfAbsent(id, s.name());
            if (clash != null) {
                problems.add("stanzas '" + clash + "' and '" + s.name()
                        + "' collide in CloudFormation logical ids (only letters and digits count there)");
                continue;
            }
            out.add(s);
        }
        return out;
    }

    private static StanzaConfig stanza(JsonNode entry, List<String> problems) {
        String name;
        JsonNode obj = null;
        if (entry.isTextual()) {
            name = entry.asText();
        } else if (entry.isObject()) {
            obj = entry;
            name = entry.path("name").asText("");
            Set<String> known = Set.of("name", "backups", "timezone", "retention", "maxBackupAgeHours");
            for (Iterator<String> it = entry.fieldNames(); it.hasNext(); ) {
                String f = it.next();
                if (!known.contains(f)) {
                    problems.add("stanza '" + name + "': unknown setting '" + f + "' (known: " + known + ")");
                }
            }
        } else {
            problems.add(STANZAS + " entries must be names or objects, not " + entry);
            return null;
        }
        if (!STANZA_NAME.matcher(name).matches() || name.contains("..")) {
            problems.add("invalid stanza name '" + name
                    + "': 1 to 63 characters from [A-Za-z0-9_.-], starting with a letter or digit, no '..'");
            return null;
        }
        List<BackupSchedule> backups = DEFAULT_BACKUPS;
        String timezone = "UTC";
        Retention retention = DEFAULT_RETENTION;
        int maxAge = DEFAULT_MAX_BACKUP_AGE_HOURS;
        if (obj != null) {
            if (obj.has("backups")) {
                backups = backups(name, obj.get("backups"), problems);
            }
            if (obj.has("timezone")) {
                timezone = obj.get("timezone").asText("");
                if (!timezone.matches("[A-Za-z_]+(/[A-Za-z0-9_+-]+)*")) {
                    problems.add("stanza '" + name + "': timezone '" + timezone + "' is not an IANA zone name");
                }
            }
            if (obj.has("retention")) {
                retention = retention(name, obj.get("retention"), problems);
            }
            if (obj.has("maxBackupAgeHours")) {
                JsonNode m = obj.get("maxBackupAgeHours");
                if (!m.canConvertToInt() || !m.isIntegralNumber() || m.asInt() < 1 || m.asInt() > 24 * 400) {
                    problems.add("stanza '" + name + "': maxBackupAgeHours must be an integer 1.." + 24 * 400);
                } else {
                    maxAge = m.asInt();
                }
            }
        }
        return new StanzaConfig(name, backups, timezone, retention, maxAge);
    }

    private static List<BackupSchedule> backups(String stanza, JsonNode node, List<String> problems) {
        List<BackupSchedule> out = new ArrayList<>();
        if (!node.isArray()) {
            problems.add("stanza '" + stanza + "': backups must be a list of {\"schedule\", \"type\", \"fullIntervalDays\"}");
            return out;
        }
        for (JsonNode b : node) {
            Optional<String> type = b.hasNonNull("type") ? Optional.of(b.path("type").asText("")) : Optional.empty();
            String schedule = b.path("schedule").asText("").strip();
            if (type.isPresent() && !BACKUP_TYPES.contains(type.get())) {
                problems.add("stanza '" + stanza + "': backup type '" + type.get() + "' is not one of " + BACKUP_TYPES
                        + " (or leave it out: the scheduler decides)");
                continue;
            }
            int interval = DEFAULT_FULL_INTERVAL_DAYS;
            if (b.has("fullIntervalDays")) {
                JsonNode f = b.get("fullIntervalDays");
                if (!f.isIntegralNumber() || f.asInt() < 1 || f.asInt() > 366) {
                    problems.add("stanza '" + stanza + "': fullIntervalDays must be an integer 1..366, not " + f);
                    continue;
                }
                interval = f.asInt();
            }
            if (!CRON.matcher(schedule).matches() && !RATE.matcher(schedule).matches()) {
                problems.add("stanza '" + stanza + "': schedule '" + schedule
                        + "' is not an EventBridge Scheduler cron(m h dom mon dow year) or rate(...) expression");
                continue;
            }
            out.add(new BackupSchedule(type, schedule, interval));
        }
        return out;
    }

    private static Retention retention(String stanza, JsonNode node, List<String> problems) {
        if (!node.isObject()) {
            problems.add("stanza '" + stanza + "': retention must be an object");
            return DEFAULT_RETENTION;
        }
        String fullType = node.path("fullType").asText(DEFAULT_RETENTION.fullType());
        if (!fullType.equals("count") && !fullType.equals("time")) {
            problems.add("stanza '" + stanza + "': retention.fullType must be count or time");
        }
        int full = node.path("full").asInt(DEFAULT_RETENTION.full());
        int diff = node.path("diff").asInt(DEFAULT_RETENTION.diff());
        if (full < 1 || full > 9999) {
            problems.add("stanza '" + stanza + "': retention.full must be 1..9999 (the newest full backup is always kept)");
        }
        if (diff < 0 || diff > 9999) {
            problems.add("stanza '" + stanza + "': retention.diff must be 0..9999");
        }
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!Set.of("fullType", "full", "diff").contains(f)) {
                problems.add("stanza '" + stanza + "': unknown retention setting '" + f + "'");
            }
        }
        return new Retention(fullType, full, diff);
    }

    private static Optional<ObjectLock> objectLock(JsonNode node, List<String> problems) {
        if (node == null || node.isNull()) {
            return Optional.of(DEFAULT_OBJECT_LOCK);
        }
        if (node.isTextual() && node.asText().equalsIgnoreCase("off")) {
            return Optional.empty();
        }
        if (!(node instanceof ObjectNode)) {
            problems.add(OBJECT_LOCK + " must be {\"mode\": \"GOVERNANCE\"|\"COMPLIANCE\", \"days\": N}, off, or absent"
                    + " (governance, " + DEFAULT_OBJECT_LOCK.days() + " days)");
            return Optional.empty();
        }
        String mode = node.path("mode").asText("").toUpperCase(Locale.ROOT);
        int days = node.path("days").asInt(0);
        if (!mode.equals("GOVERNANCE") && !mode.equals("COMPLIANCE")) {
            problems.add(OBJECT_LOCK + ".mode must be GOVERNANCE or COMPLIANCE");
        }
        if (days < 1 || days > 36_500) {
            problems.add(OBJECT_LOCK + ".days must be 1..36500");
        }
        return Optional.of(new ObjectLock(mode, days));
    }

    private static int intSetting(Function<String, Object> context, String key, int dflt, int min, int max,
            List<String> problems) {
        Object v = context.apply(key);
        if (v == null || v.toString().isBlank()) {
            return dflt;
        }
        try {
            int i = v instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())
                    ? n.intValue() : Integer.parseInt(v.toString().strip());
            if (i < min || i > max) {
                problems.add(key + "=" + i + " is outside " + min + ".." + max);
            }
            return i;
        } catch (NumberFormatException e) {
            problems.add(key + "='" + v + "' is not an integer");
            return dflt;
        }
    }
}
