package io.tidemark.functions.verify;

import io.tidemark.events.layout.StanzaName;
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
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The {@code VERIFY#<id>} item: one verify run of a stanza, all of it or one backup (with its
 * chain). Counters grow as batches report; {@code doneBatches} makes a batch's report count once
 * however often Lambda delivers it.
 *
 * @param backup     the label the run is limited to, or null for the whole stanza
 * @param batches    how many batches the plan made (0 until planned)
 * @param objects    how many objects the plan listed (manifests included)
 * @param checked    objects checked so far
 * @param bytes      stored bytes read so far
 * @param problems   problems found so far
 * @param message    why a run failed (a fault, not a finding), else null
 */
public record VerifyRun(String id, StanzaName stanza, String backup, VerifyState state, Instant createdAt,
                        Instant updatedAt, Instant finishedAt, long batches, List<Long> doneBatches, long objects,
                        long checked, long bytes, long problems, String message) {

    public static final Pattern ID = Pattern.compile("[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}");
    /** Runs (and their batches and problems) stay this long, then the table's TTL removes them. */
    static final Duration KEPT = Duration.ofDays(30);
    static final String TTL_ATTRIBUTE = io.tidemark.functions.catalog.BackupLease.TTL_ATTRIBUTE;
    private static final DateTimeFormatter ID_TIME = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")
            .withZone(ZoneOffset.UTC);
    private static final SecureRandom RANDOM = new SecureRandom();

    public VerifyRun {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(stanza, "stanza");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(createdAt, "createdAt");
        doneBatches = List.copyOf(new TreeSet<>(doneBatches));
    }

    static VerifyRun planning(StanzaName stanza, String backup, Instant now) {
        byte[] r = new byte[4];
        RANDOM.nextBytes(r);
        String id = ID_TIME.format(now) + "-" + HexFormat.of().formatHex(r);
        return new VerifyRun(id, stanza, backup, VerifyState.PLANNING, now, now, null, 0, List.of(), 0, 0, 0, 0, null);
    }

    public boolean clean() {
        return state == VerifyState.COMPLETE && problems == 0;
    }

    /** Planned: the plan itself checked the manifests ({@code planChecked} objects, {@code planBytes}). */
    VerifyRun planned(long batchCount, long objectCount, long planChecked, long planBytes, long planProblems,
                      Instant now) {
        return new VerifyRun(id, stanza, backup, VerifyState.RUNNING, createdAt, now, null, batchCount, doneBatches,
                objectCount, checked + planChecked, bytes + planBytes, problems + planProblems, message);
    }

    /** This run with batch {@code n}'s counts added, unless it was added before. */
    VerifyRun withBatch(long n, long batchChecked, long batchBytes, long batchProblems, Instant now) {
        if (doneBatches.contains(n)) {
            return this;
        }
        List<Long> done = new ArrayList<>(doneBatches);
        done.add(n);
        return new VerifyRun(id, stanza, backup, state, createdAt, now, finishedAt, batches, done, objects,
                checked + batchChecked, bytes + batchBytes, problems + batchProblems, message);
    }

    boolean allBatchesDone() {
        return state == VerifyState.RUNNING && doneBatches.size() >= batches;
    }

    VerifyRun completed(long finalProblems, Instant now) {
        return new VerifyRun(id, stanza, backup, VerifyState.COMPLETE, createdAt, now, now, batches, doneBatches,
                objects, checked, bytes, problems + finalProblems, message);
    }

    VerifyRun failed(String why, Instant now) {
        return new VerifyRun(id, stanza, backup, VerifyState.FAILED, createdAt, now, now, batches, doneBatches,
                objects, checked, bytes, problems, why);
    }

    Item toItem() {
        Map<String, Object> a = new TreeMap<>();
        a.put("kind", "verifyRun");
        a.put("id", id);
        a.put("stanza", stanza.value());
        a.put("backup", backup);
        a.put("state", state.label());
        a.put("createdAt", createdAt.toString());
        a.put("updatedAt", updatedAt.toString());
        a.put("finishedAt", finishedAt == null ? null : finishedAt.toString());
        a.put("batches", batches);
        a.put("doneBatches", new ArrayList<Object>(doneBatches));
        a.put("objects", objects);
        a.put("checked", checked);
        a.put("bytes", bytes);
        a.put("problems", problems);
        a.put("message", message);
        a.put(TTL_ATTRIBUTE, createdAt.plus(KEPT).getEpochSecond());
        a.values().removeIf(Objects::isNull);
        return Item.of(Keys.pk(stanza), Keys.verifyRun(id), a);
    }

    static VerifyRun fromItem(Item i) {
        List<Long> done = new ArrayList<>();
        for (Object o : i.list("doneBatches")) {
            done.add(((Number) o).longValue());
        }
        return new VerifyRun(i.string("id").orElseThrow(), StanzaName.of(i.string("stanza").orElseThrow()),
                i.string("backup").orElse(null), VerifyState.parse(i.string("state").orElseThrow()),
                Instant.parse(i.string("createdAt").orElseThrow()),
                Instant.parse(i.string("updatedAt").orElseThrow()),
                i.string("finishedAt").map(Instant::parse).orElse(null), i.number("batches").orElse(0L), done,
                i.number("objects").orElse(0L), i.number("checked").orElse(0L), i.number("bytes").orElse(0L),
                i.number("problems").orElse(0L), i.string("message").orElse(null));
    }
}
