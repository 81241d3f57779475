package io.tidemark.functions.catalog;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The uploads the catalog refused because it had accepted other content under the same key (a
 * WAL or history object, a backup's manifest): one {@code REFUSED#} item per refused upload, so
 * that {@code HistoryConflicts} counts an upload once however often S3 delivers its event (S3
 * delivers at least once), and so that an operator can see what was refused after the log lines
 * are gone.
 *
 * <p>An upload is named by its S3 version id; without one (a bucket without versioning) by the
 * event's sequencer; without either by the refused content's SHA-256 (the same bytes refused twice
 * are then one refusal). The item
 * is written only if absent: the first delivery creates it and is counted, a repeated one finds it.
 */
public final class RefusedUploads {

    /** Kept for this long (DynamoDB's TTL), far beyond any redelivery, long enough to investigate. */
    static final Duration KEPT = Duration.ofDays(90);

    private final CatalogStore catalog;

    public RefusedUploads(CatalogStore catalog) {
        this.catalog = Objects.requireNonNull(catalog, "catalog");
    }

    /**
     * Records the refusal of one upload under the item {@code sk} of partition {@code pk}.
     *
     * @return true when this upload had not been recorded before (count it), false for a repeated delivery
     */
    public boolean firstRefusal(String pk, String sk, Upload refused, String acceptedSha256, Instant at) {
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("key", refused.key());
        a.put("versionId", refused.versionId());
        a.put("sequencer", refused.sequencer());
        a.put("sha256", refused.sha256());
        a.put("acceptedSha256", acceptedSha256);
        a.put("refusedAt", at.toString());
        a.put(BackupLease.TTL_ATTRIBUTE, at.plus(KEPT).getEpochSecond());
        Item item = Item.of(pk, Keys.refused(sk, refused.identity()), a).withRevision();
        return catalog.put(item, null);
    }

    /** An upload that was refused: its object key and whatever names it (each may be null). */
    public record Upload(String key, String versionId, String sequencer, String sha256) {
        public Upload {
            Objects.requireNonNull(key, "key");
        }

        String identity() {
            if (versionId != null) {
                return "v:" + versionId;
            }
            if (sequencer != null) {
                return "s:" + sequencer;
            }
            return "h:" + (sha256 == null ? "unreadable" : sha256);
        }
    }
}
