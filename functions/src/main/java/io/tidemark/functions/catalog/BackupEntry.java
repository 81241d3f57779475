package io.tidemark.functions.catalog;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The {@code BACKUP#<label>} item: one base backup as its manifest describes it and what its
 * validation concluded. Values that could not be read (a manifest that does not parse) are null
 * and stored as absent attributes.
 *
 * <p>{@code status}: {@code validating} (the manifest arrived and is being checked, or an earlier
 * backup of its chain is), {@code waiting-wal} (everything checked out but WAL from start to stop
 * LSN, its own or an earlier backup's, is not archived yet), {@code valid}, {@code invalid}.
 *
 * @param manifestEventTime the S3 event time of the manifest upload this entry is the result of;
 *                          a later upload of the same manifest key supersedes it
 * @param missingWal        segments from start to stop LSN not archived yet (at most {@link #MAX_LISTED})
 * @param waitingFor        earlier backups of the chain that are not valid yet
 * @param pageChecksumErrors blocks whose data checksum failed, over every file of the manifest
 * @param pageChecksumErrorFiles the files with such blocks (at most {@link #MAX_LISTED})
 */
public record BackupEntry(
        String label,
        String type,
        String prior,
        String status,
        List<String> reasons,
        Long timeline,
        String startLsn,
        String stopLsn,
        String startTime,
        String stopTime,
        Long originalSize,
        Long storedSize,
        Long deltaSize,
        List<String> references,
        Boolean fromStandby,
        Long pageChecksumErrors,
        List<String> pageChecksumErrorFiles,
        String systemIdentifier,
        Long pgVersionNum,
        String compression,
        Long files,
        Long bundles,
        String validatedAt,
        String manifestKey,
        String manifestSha256,
        String manifestEventTime,
        List<String> missingWal,
        List<String> waitingFor) {

    public static final String VALIDATING = "validating";
    public static final String WAITING_WAL = "waiting-wal";
    public static final String VALID = "valid";
    public static final String INVALID = "invalid";
    /** One of its objects is gone from the bucket, or damaged, since it was validated (see LostObjects). */
    public static final String MISSING = "missing";
    public static final String DAMAGED = "damaged";

    /**
     * Attribute retention sets on a backup's item before it deletes the backup's objects: the
     * removal events of those deletes are retention's own, not losses.
     */
    public static final String EXPIRING = "expiring";

    /** Lists kept in an item are cut at this length (DynamoDB items are at most 400 KB). */
    public static final int MAX_LISTED = 100;

    public BackupEntry {
        Objects.requireNonNull(label, "label");
        reasons = reasons == null ? List.of() : List.copyOf(reasons);
        references = references == null ? List.of() : List.copyOf(references);
        pageChecksumErrorFiles = pageChecksumErrorFiles == null ? List.of() : List.copyOf(pageChecksumErrorFiles);
        missingWal = missingWal == null ? List.of() : List.copyOf(missingWal);
        waitingFor = waitingFor == null ? List.of() : List.copyOf(waitingFor);
    }

    /** Waiting for something that is expected to arrive (WAL, or an earlier backup's validation). */
    public boolean isWaiting() {
        return VALIDATING.equals(status) || WAITING_WAL.equals(status);
    }

    public boolean isFinal() {
        return VALID.equals(status) || INVALID.equals(status);
    }

    /** How far validation got: a later stage wins over an earlier one for the same manifest event. */
    public static int rank(String status) {
        return switch (status == null ? "" : status) {
            case VALIDATING -> 0;
            case WAITING_WAL -> 1;
            case VALID -> 2;
            case INVALID -> 3;
            // A lost object outlasts any conclusion about the same manifest upload (a resumed
            // validation does not look at the files again); a new upload of the manifest is
            // validated afresh and decides.
            case MISSING, DAMAGED -> 4;
            default -> -1;
        };
    }

    public BackupEntry withOutcome(String newStatus, List<String> newReasons, String newValidatedAt,
                                   List<String> newMissingWal, List<String> newWaitingFor) {
        return new BackupEntry(label, type, prior, newStatus, newReasons, timeline, startLsn, stopLsn, startTime,
                stopTime, originalSize, storedSize, deltaSize, references, fromStandby, pageChecksumErrors,
                pageChecksumErrorFiles, systemIdentifier, pgVersionNum, compression, files, bundles, newValidatedAt,
                manifestKey, manifestSha256, manifestEventTime, newMissingWal, newWaitingFor);
    }

    public Instant eventTime() {
        return Instant.parse(manifestEventTime);
    }

    /**
     * When the cloud accepted this backup: the S3 event time of its manifest upload, the cloud's
     * clock (stored as {@code acceptedAt}). Retention orders and ages backups by it, never by the
     * label or the times the node wrote. Items written before {@code acceptedAt} existed carry the
     * same time as {@code manifestEventTime}, which this reads (so they need no migration). Null
     * when the item has neither.
     */
    public Instant acceptedAt() {
        return manifestEventTime == null ? null : Instant.parse(manifestEventTime);
    }

    public Map<String, Object> attributes() {
        Map<String, Object> a = new TreeMap<>();
        a.put("kind", "backup");
        a.put("label", label);
        a.put("type", type);
        a.put("prior", prior);
        a.put("status", status);
        a.put("reasons", reasons);
        a.put("timeline", timeline);
        a.put("startLsn", startLsn);
        a.put("stopLsn", stopLsn);
        a.put("startTime", startTime);
        a.put("stopTime", stopTime);
        a.put("originalSize", originalSize);
        a.put("storedSize", storedSize);
        a.put("deltaSize", deltaSize);
        a.put("references", references);
        a.put("fromStandby", fromStandby);
        a.put("pageChecksumErrors", pageChecksumErrors);
        a.put("pageChecksumErrorFiles", pageChecksumErrorFiles);
        a.put("systemIdentifier", systemIdentifier);
        a.put("pgVersionNum", pgVersionNum);
        a.put("compression", compression);
        a.put("files", files);
        a.put("bundles", bundles);
        a.put("validatedAt", validatedAt);
        a.put("manifestKey", manifestKey);
        a.put("manifestSha256", manifestSha256);
        a.put("manifestEventTime", manifestEventTime);
        a.put("acceptedAt", manifestEventTime);
        a.put("missingWal", missingWal);
        a.put("waitingFor", waitingFor);
        return a;
    }

    public Item toItem(String pk, String sk) {
        return Item.of(pk, sk, attributes());
    }

    public static BackupEntry fromItem(Item i) {
        return new BackupEntry(
                i.string("label").orElseThrow(),
                i.string("type").orElse(null),
                i.string("prior").orElse(null),
                i.string("status").orElse(null),
                strings(i, "reasons"),
                i.number("timeline").orElse(null),
                i.string("startLsn").orElse(null),
                i.string("stopLsn").orElse(null),
                i.string("startTime").orElse(null),
                i.string("stopTime").orElse(null),
                i.number("originalSize").orElse(null),
                i.number("storedSize").orElse(null),
                i.number("deltaSize").orElse(null),
                strings(i, "references"),
                i.attributes().get("fromStandby") instanceof Boolean b ? b : null,
                i.number("pageChecksumErrors").orElse(null),
                strings(i, "pageChecksumErrorFiles"),
                i.string("systemIdentifier").orElse(null),
                i.number("pgVersionNum").orElse(null),
                i.string("compression").orElse(null),
                i.number("files").orElse(null),
                i.number("bundles").orElse(null),
                i.string("validatedAt").orElse(null),
                i.string("manifestKey").orElse(null),
                i.string("manifestSha256").orElse(null),
                i.string("manifestEventTime").orElse(null),
                strings(i, "missingWal"),
                strings(i, "waitingFor"));
    }

    private static List<String> strings(Item i, String name) {
        List<String> out = new ArrayList<>();
        for (Object o : i.list(name)) {
            out.add(String.valueOf(o));
        }
        return out;
    }

    /** At most {@link #MAX_LISTED} of {@code values}, the last one saying how many were left out. */
    public static List<String> capped(List<String> values) {
        if (values.size() <= MAX_LISTED) {
            return List.copyOf(values);
        }
        List<String> out = new ArrayList<>(values.subList(0, MAX_LISTED - 1));
        out.add("... and " + (values.size() - MAX_LISTED + 1) + " more");
        return out;
    }
}
