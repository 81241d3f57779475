package io.tidemark.functions.catalog;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The {@code LEASE#backup} item: one backup per stanza at a time. {@code expiresAt} is stored
 * twice: as epoch seconds in the table's TTL attribute {@value #TTL_ATTRIBUTE} (DynamoDB deletes
 * the item some time after, so a dead holder's lease also disappears from the table), and as
 * ISO-8601 in {@code expiresAtIso}, which is what every decision uses (millisecond precision).
 * A released lease stays as an item with {@code released=true} until TTL removes it.
 */
public record BackupLease(String leaseId, String label, String holder, Instant acquiredAt, Instant expiresAt,
                          boolean released, Instant releasedAt) {

    /** The table's TTL attribute (epoch seconds); the CDK stack configures the same name. */
    public static final String TTL_ATTRIBUTE = "expiresAt";

    public BackupLease {
        Objects.requireNonNull(leaseId, "leaseId");
        Objects.requireNonNull(label, "label");
        Objects.requireNonNull(holder, "holder");
        Objects.requireNonNull(acquiredAt, "acquiredAt");
        Objects.requireNonNull(expiresAt, "expiresAt");
    }

    /** Held: not released and not expired at {@code now}. */
    public boolean heldAt(Instant now) {
        return !released && now.isBefore(expiresAt);
    }

    public Item toItem(String pk) {
        Map<String, Object> a = new TreeMap<>();
        a.put("kind", "lease");
        a.put("leaseId", leaseId);
        a.put("label", label);
        a.put("holder", holder);
        a.put("acquiredAt", acquiredAt.toString());
        a.put("expiresAtIso", expiresAt.toString());
        // Rounded up: DynamoDB never removes the item before the lease really expired.
        long seconds = expiresAt.getEpochSecond() + (expiresAt.getNano() > 0 ? 1 : 0);
        a.put(TTL_ATTRIBUTE, seconds);
        a.put("released", released);
        a.put("releasedAt", releasedAt == null ? null : releasedAt.toString());
        return Item.of(pk, Keys.BACKUP_LEASE, a);
    }

    public static BackupLease fromItem(Item i) {
        return new BackupLease(
                i.string("leaseId").orElseThrow(),
                i.string("label").orElseThrow(),
                i.string("holder").orElseThrow(),
                Instant.parse(i.string("acquiredAt").orElseThrow()),
                Instant.parse(i.string("expiresAtIso").orElseThrow()),
                i.flag("released"),
                i.string("releasedAt").map(Instant::parse).orElse(null));
    }
}
