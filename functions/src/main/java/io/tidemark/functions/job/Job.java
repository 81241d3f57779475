package io.tidemark.functions.job;

import io.tidemark.functions.catalog.Item;
import io.tidemark.functions.catalog.Keys;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * One scheduled backup of a stanza: the {@code JOB#<id>} item. The id starts with its creation
 * time ({@code yyyyMMddTHHmmssZ-<8 hex>}), so the newest jobs are one descending Query.
 *
 * @param type       what the scheduler decided: full, diff or incr; {@code drill} for a scheduled restore drill
 * @param reason     why that type (the policy's words)
 * @param deadline   a job still queued then is over: {@code missed}, or {@code skipped-by-replica}
 * @param holder     {@code <host>:<pid>} of the node that claimed it
 * @param passedBy   holders of the replicas that received it and left it for the primary
 * @param durationMs how long the backup took, as its node reported
 */
public record Job(String id, String stanza, String type, String reason, JobState state, Instant createdAt,
                  Instant deadline, String holder, Instant claimedAt, Instant finishedAt, String label,
                  Long originalSize, Long storedSize, Long durationMs, String error, List<String> passedBy) {

    /** The table's TTL attribute (epoch seconds), as for leases and plans. */
    public static final String TTL_ATTRIBUTE = "expiresAt";
    /** Jobs stay in the catalog this long after they were created, then TTL removes them. */
    public static final Duration KEPT = Duration.ofDays(30);
    public static final Pattern ID = Pattern.compile("[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}");
    private static final DateTimeFormatter ID_TIME = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")
            .withZone(ZoneOffset.UTC);
    private static final SecureRandom RANDOM = new SecureRandom();

    public Job {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(stanza, "stanza");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(createdAt, "createdAt");
        Objects.requireNonNull(deadline, "deadline");
        passedBy = passedBy == null ? List.of() : List.copyOf(passedBy);
    }

    public static Job queued(String stanza, String type, String reason, Instant createdAt, Instant deadline) {
        byte[] r = new byte[4];
        RANDOM.nextBytes(r);
        String id = ID_TIME.format(createdAt) + "-" + HexFormat.of().formatHex(r);
        return new Job(id, stanza, type, reason, JobState.QUEUED, createdAt, deadline, null, null, null, null, null,
                null, null, null, List.of());
    }

    /** A scheduled restore drill rather than a backup (its label is the backup the drill restored). */
    public boolean drill() {
        return "drill".equals(type);
    }

    /** The state as of {@code now}: a queued job past its deadline is over even before anyone wrote so. */
    public JobState stateAt(Instant now) {
        if (state == JobState.QUEUED && !now.isBefore(deadline)) {
            return passedBy.isEmpty() ? JobState.MISSED : JobState.SKIPPED_BY_REPLICA;
        }
        return state;
    }

    public Job withState(JobState newState, Instant finished) {
        return new Job(id, stanza, type, reason, newState, createdAt, deadline, holder, claimedAt, finished, label,
                originalSize, storedSize, durationMs, error, passedBy);
    }

    public Job claimedBy(String newHolder, Instant at) {
        return new Job(id, stanza, type, reason, JobState.RUNNING, createdAt, deadline, newHolder, at, null, null,
                null, null, null, null, passedBy);
    }

    public Job passedBy(String replica) {
        if (passedBy.contains(replica)) {
            return this;
        }
        List<String> p = new ArrayList<>(passedBy);
        p.add(replica);
        return new Job(id, stanza, type, reason, state, createdAt, deadline, holder, claimedAt, finishedAt, label,
                originalSize, storedSize, durationMs, error, p);
    }

    public Job finished(JobState result, Instant at, String newLabel, Long newOriginalSize, Long newStoredSize,
                        Long newDurationMs, String newError) {
        return new Job(id, stanza, type, reason, result, createdAt, deadline, holder, claimedAt, at, newLabel,
                newOriginalSize, newStoredSize, newDurationMs, newError, passedBy);
    }

    public Item toItem(String pk) {
        Map<String, Object> a = new TreeMap<>();
        a.put("kind", "job");
        a.put("jobId", id);
        a.put("stanza", stanza);
        a.put("type", type);
        a.put("reason", reason);
        a.put("state", state.text());
        a.put("createdAt", createdAt.toString());
        a.put("deadline", deadline.toString());
        a.put("holder", holder);
        a.put("claimedAt", claimedAt == null ? null : claimedAt.toString());
        a.put("finishedAt", finishedAt == null ? null : finishedAt.toString());
        a.put("label", label);
        a.put("originalSize", originalSize);
        a.put("storedSize", storedSize);
        a.put("durationMs", durationMs);
        a.put("error", error);
        a.put("passedBy", passedBy);
        a.put(TTL_ATTRIBUTE, createdAt.plus(KEPT).getEpochSecond());
        return Item.of(pk, Keys.job(id), a);
    }

    public static Job fromItem(Item i) {
        List<String> passed = new ArrayList<>();
        i.list("passedBy").forEach(o -> passed.add(String.valueOf(o)));
        return new Job(
                i.string("jobId").orElseThrow(),
                i.string("stanza").orElseThrow(),
                i.string("type").orElseThrow(),
                i.string("reason").orElse(null),
                JobState.parse(i.string("state").orElseThrow()),
                Instant.parse(i.string("createdAt").orElseThrow()),
                Instant.parse(i.string("deadline").orElseThrow()),
                i.string("holder").orElse(null),
                i.string("claimedAt").map(Instant::parse).orElse(null),
                i.string("finishedAt").map(Instant::parse).orElse(null),
                i.string("label").orElse(null),
                i.number("originalSize").orElse(null),
                i.number("storedSize").orElse(null),
                i.number("durationMs").orElse(null),
                i.string("error").orElse(null),
                passed);
    }
}
