package io.tidemark.functions.catalog;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The {@code LEASE#backup} item: one backup per stanza at a time. {@code expiresAt} is stored
 * twice: as epoch seconds in the table's TTL attribute {@value #TTL_ATTRIBUTE} (DynamoDB deletes
 * the item some time after, so a dead holder's lease also disappears from the table), and as
 * ISO-8601 in {@code expiresAtIso}, which is what every decision uses (millisecond precision).
 * A released lease stays as an item with {@code released=true} until TTL removes it.
 *
 * <p>{@code identity} (absent for holders that did not send one) names the holding process so
 * that a later backup on the same host can prove it dead; {@code takeover} records the lease this
 * one replaced that way.
 */
public record BackupLease(String leaseId, String label, String holder, Instant acquiredAt, Instant expiresAt,
                          boolean released, Instant releasedAt, Identity identity, Takeover takeover) {

    /** The table's TTL attribute (epoch seconds); the CDK stack configures the same name. */
    public static final String TTL_ATTRIBUTE = "expiresAt";

    public BackupLease {
        Objects.requireNonNull(leaseId, "leaseId");
        Objects.requireNonNull(label, "label");
        Objects.requireNonNull(holder, "holder");
        Objects.requireNonNull(acquiredAt, "acquiredAt");
        Objects.requireNonNull(expiresAt, "expiresAt");
    }

    /** A lease without identity or takeover (what holders before identities recorded). */
    public BackupLease(String leaseId, String label, String holder, Instant acquiredAt, Instant expiresAt,
                       boolean released, Instant releasedAt) {
        this(leaseId, label, holder, acquiredAt, expiresAt, released, releasedAt, null, null);
    }

    /**
     * The holding process: {@code host} (hostname and machine id, what "the same host" means),
     * {@code bootId} (the kernel's boot id: another one means the host rebooted since), the pid
     * and its start time in clock ticks since boot (field 22 of {@code /proc/<pid>/stat}: a pid
     * reused by another process has another start time).
     */
    public record Identity(String host, String bootId, long pid, long startTicks) {
        private static final Pattern HOST = Pattern.compile("[\\x21-\\x7E]{1,256}");
        private static final Pattern BOOT_ID = Pattern.compile("[0-9a-f-]{8,64}");

        public Identity {
            if (host == null || !HOST.matcher(host).matches()) {
                throw new IllegalArgumentException("identity.host must be 1 to 256 printable characters without spaces");
            }
            if (bootId == null || !BOOT_ID.matcher(bootId).matches()) {
                throw new IllegalArgumentException("identity.bootId must be the kernel's boot id (lower-case hex and '-')");
            }
            if (pid < 1 || pid > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("identity.pid must be a positive process id");
            }
            if (startTicks < 0) {
                throw new IllegalArgumentException("identity.startTicks must not be negative");
            }
        }
    }

    /** This lease replaced {@code leaseId} of {@code holder}, whose process its host proved dead ({@code reason}). */
    public record Takeover(String leaseId, String holder, String reason, Instant at) {
        public Takeover {
            Objects.requireNonNull(leaseId, "leaseId");
            Objects.requireNonNull(holder, "holder");
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(at, "at");
        }
    }

    /** Held: not released and not expired at {@code now}. */
    public boolean heldAt(Instant now) {
        return !released && now.isBefore(expiresAt);
    }

    /** The same lease with another expiry. */
    public BackupLease until(Instant expiry) {
        return new BackupLease(leaseId, label, holder, acquiredAt, expiry, false, null, identity, takeover);
    }

    /** The same lease, released at {@code now}. */
    public BackupLease releasedAt(Instant now) {
        return new BackupLease(leaseId, label, holder, acquiredAt, expiresAt.isBefore(now) ? expiresAt : now, true, now,
                identity, takeover);
    }

    public Item toItem(String pk) {
        return toItem(pk, Keys.BACKUP_LEASE);
    }

    /** As an item under {@code sortKey} (the backup's or the stream's lease). */
    public Item toItem(String pk, String sortKey) {
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
        if (identity != null) {
            a.put("holderHost", identity.host());
            a.put("holderBootId", identity.bootId());
            a.put("holderPid", identity.pid());
            a.put("holderStartTicks", identity.startTicks());
        }
        if (takeover != null) {
            a.put("tookOverLeaseId", takeover.leaseId());
            a.put("tookOverHolder", takeover.holder());
            a.put("tookOverReason", takeover.reason());
            a.put("tookOverAt", takeover.at().toString());
        }
        return Item.of(pk, sortKey, a);
    }

    public static BackupLease fromItem(Item i) {
        Identity identity = i.string("holderHost").isEmpty() ? null : new Identity(i.string("holderHost").get(),
                i.string("holderBootId").orElseThrow(), i.number("holderPid").orElseThrow(),
                i.number("holderStartTicks").orElseThrow());
        Takeover takeover = i.string("tookOverLeaseId").isEmpty() ? null : new Takeover(i.string("tookOverLeaseId").get(),
                i.string("tookOverHolder").orElseThrow(), i.string("tookOverReason").orElseThrow(),
                Instant.parse(i.string("tookOverAt").orElseThrow()));
        return new BackupLease(
                i.string("leaseId").orElseThrow(),
                i.string("label").orElseThrow(),
                i.string("holder").orElseThrow(),
                Instant.parse(i.string("acquiredAt").orElseThrow()),
                Instant.parse(i.string("expiresAtIso").orElseThrow()),
                i.flag("released"),
                i.string("releasedAt").map(Instant::parse).orElse(null),
                identity,
                takeover);
    }
}
