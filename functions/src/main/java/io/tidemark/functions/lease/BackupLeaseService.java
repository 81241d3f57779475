package io.tidemark.functions.lease;

import com.fasterxml.jackson.databind.JsonNode;
import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.functions.catalog.BackupLease;
import io.tidemark.functions.catalog.CatalogException;
import io.tidemark.functions.catalog.CatalogStore;
import io.tidemark.functions.catalog.Item;
import io.tidemark.functions.catalog.Keys;
import io.tidemark.functions.catalog.StanzaRequests;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * One backup per stanza at a time: a lease item ({@code LEASE#backup}) that its holder renews
 * (heartbeat) while the backup runs and releases at the end. A holder that dies stops renewing;
 * once the lease expired, the next backup takes it over.
 *
 * <p>Every change is a compare-and-swap on the item's revision: acquire writes only if the item
 * is absent or is the expired/released lease that was read; heartbeat and release only if it is
 * still the caller's lease. Two acquires racing: one write wins, the other re-reads and answers
 * 409. Acquiring again with the same holder and label while held is idempotent (the same lease,
 * renewed): a client retrying a request whose answer it lost is not refused by itself.
 *
 * <p>Takeover: a holder killed with {@code kill -9} never releases its lease. The next backup on
 * the same host can prove that process dead (its pid gone or reused, or the host rebooted: see
 * {@link BackupLease.Identity}) where this service cannot; it sends {@code takeover} with the id of
 * the lease it replaces and why, and gets the lease at once. Accepted only when the lease is still
 * that one and its recorded identity names the caller's own host: another host waits until the
 * lease expires (short TTLs with heartbeats keep that wait short). The new lease records what it
 * replaced.
 */
public final class BackupLeaseService {

    public static final int DEFAULT_TTL_SECONDS = 900;
    public static final int MIN_TTL_SECONDS = 10;
    public static final int MAX_TTL_SECONDS = 12 * 3600;
    private static final Pattern HOLDER = Pattern.compile("[\\x21-\\x7E]{1,256}");
    private static final Pattern LEASE_ID = Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
    private static final int MAX_ATTEMPTS = 10;

    private static final Pattern SLOT = Pattern.compile("[a-z0-9_]{1,63}");

    private final CatalogStore store;
    private final Clock clock;
    /** The lease item's sort key: {@link Keys#BACKUP_LEASE} or {@link Keys#STREAM_LEASE}. */
    private final String sortKey;
    /** Checks a lease's label: a backup label, or for the stream lease the replication slot's name. */
    private final java.util.function.UnaryOperator<String> label;
    private final String what;

    public BackupLeaseService(CatalogStore store, Clock clock) {
        this(store, clock, Keys.BACKUP_LEASE, l -> BackupLabelName.parse(l).toString(), "backup");
    }

    private BackupLeaseService(CatalogStore store, Clock clock, String sortKey,
                               java.util.function.UnaryOperator<String> label, String what) {
        this.store = store;
        this.clock = clock;
        this.sortKey = sortKey;
        this.label = label;
        this.what = what;
    }

    /**
     * One WAL stream per stanza ({@code LEASE#stream}): the same acquire, renew and release, the
     * label being the slot the holder streams from. A dead holder's lease expires and the next
     * agent takes it; no same-host takeover is offered (nothing needs it: streaming resumes from S3).
     */
    public static BackupLeaseService stream(CatalogStore store, Clock clock) {
        return new BackupLeaseService(store, clock, Keys.STREAM_LEASE, l -> {
            if (!SLOT.matcher(l).matches()) {
                throw new IllegalArgumentException("label must be the replication slot's name (1 to 63 of a-z, 0-9"
                        + " and _), got '" + l + "'");
            }
            return l;
        }, "stream");
    }

    /**
     * {@code POST}: body {@code {"holder","label","ttlSeconds"}}, optionally {@code "identity":
     * {"host","bootId","pid","startTicks"}} and {@code "takeover": {"leaseId","reason"}}.
     */
    public BackupLease acquire(String stanzaText, byte[] body) {
        StanzaName stanza = StanzaRequests.existingStanza(store, stanzaText);
        JsonNode json = StanzaRequests.jsonObject(body);
        String holder = text(json, "holder");
        if (!HOLDER.matcher(holder).matches()) {
            throw CatalogException.badRequest("holder must be 1 to 256 printable characters without spaces, such as"
                    + " <host>:<pid>");
        }
        String label;
        try {
            label = this.label.apply(text(json, "label"));
        } catch (IllegalArgumentException e) {
            throw CatalogException.badRequest(e.getMessage());
        }
        int ttl = ttl(json);
        BackupLease.Identity identity = identity(json);
        JsonNode takeover = json.get("takeover");
        String replaces = takeover == null || takeover.isNull() ? null : leaseId(text(takeover, "leaseId"));
        String reason = replaces == null ? null : reason(takeover);
        if (replaces != null && identity == null) {
            throw CatalogException.badRequest("a takeover needs the caller's identity (host, bootId, pid, startTicks)");
        }
        String pk = Keys.pk(stanza);
        for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
            Instant now = now();
            Optional<Item> current = store.get(pk, sortKey);
            Optional<BackupLease> lease = current.map(BackupLease::fromItem);
            BackupLease next;
            if (lease.isPresent() && lease.get().heldAt(now)) {
                BackupLease l = lease.get();
                if (l.holder().equals(holder) && l.label().equals(label)) {
                    next = l.until(later(l.expiresAt(), now.plusSeconds(ttl)));
                } else if (replaces == null) {
                    throw sortKey.equals(Keys.BACKUP_LEASE) ? new LeaseConflictException(l)
                            : new LeaseConflictException(l, "agent " + l.holder() + " streams from slot " + l.label()
                            + " since " + l.acquiredAt() + "; its lease expires at " + l.expiresAt());
                } else {
                    refuseTakeover(l, identity, replaces).ifPresent(why -> {
                        throw new LeaseConflictException(l, why);
                    });
                    next = new BackupLease(UUID.randomUUID().toString(), label, holder, now, now.plusSeconds(ttl), false,
                            null, identity, new BackupLease.Takeover(l.leaseId(), l.holder(), reason, now));
                }
            } else {
                next = new BackupLease(UUID.randomUUID().toString(), label, holder, now, now.plusSeconds(ttl), false,
                        null, identity, null);
            }
            if (store.put(next.toItem(pk, sortKey).withRevision(), current.map(Item::revision).orElse(null))) {
                return next;
            }
        }
        throw new IllegalStateException("could not acquire the " + what + " lease of " + stanza + ": too many concurrent"
                + " changes");
    }

    /** {@code PUT}: body {@code {"leaseId","ttlSeconds"}}; the new expiry, or 409 when no longer held by that id. */
    public BackupLease heartbeat(String stanzaText, byte[] body) {
        StanzaName stanza = StanzaRequests.existingStanza(store, stanzaText);
        JsonNode json = StanzaRequests.jsonObject(body);
        String leaseId = leaseId(text(json, "leaseId"));
        int ttl = ttl(json);
        String pk = Keys.pk(stanza);
        for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
            Instant now = now();
            Optional<Item> current = store.get(pk, sortKey);
            BackupLease l = current.map(BackupLease::fromItem).orElse(null);
            if (l == null || !l.leaseId().equals(leaseId) || l.released()) {
                throw new CatalogException(CatalogException.Kind.CONFLICT, "lease " + leaseId + " of stanza " + stanza
                        + " is no longer held" + (l == null || l.released() ? "" : ": " + what + " " + l.label()
                        + " on " + l.holder() + " holds it until " + l.expiresAt()));
            }
            // An expired lease nobody took over is still this holder's: renewing it is safe.
            BackupLease next = l.until(later(l.expiresAt(), now.plusSeconds(ttl)));
            if (store.put(next.toItem(pk, sortKey).withRevision(), current.get().revision())) {
                return next;
            }
        }
        throw new IllegalStateException("could not renew the " + what + " lease of " + stanza);
    }

    /** {@code DELETE ?leaseId=}: true when this call released it; false when it was not held by that id (idempotent). */
    public boolean release(String stanzaText, String leaseIdText) {
        StanzaName stanza = StanzaRequests.existingStanza(store, stanzaText);
        if (leaseIdText == null || leaseIdText.isEmpty()) {
            throw CatalogException.badRequest("the query parameter leaseId is required");
        }
        String leaseId = leaseId(leaseIdText);
        String pk = Keys.pk(stanza);
        for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
            Optional<Item> current = store.get(pk, sortKey);
            BackupLease l = current.map(BackupLease::fromItem).orElse(null);
            if (l == null || !l.leaseId().equals(leaseId) || l.released()) {
                return false;
            }
            Instant now = now();
            // Kept as released (no DeleteItem for the API): TTL removes it soon after.
            BackupLease released = l.releasedAt(now);
            if (store.put(released.toItem(pk, sortKey).withRevision(), current.get().revision())) {
                return true;
            }
        }
        throw new IllegalStateException("could not release the " + what + " lease of " + stanza);
    }

    /** The lease held now, if any. */
    public Optional<BackupLease> current(StanzaName stanza) {
        Instant now = now();
        return store.get(Keys.pk(stanza), sortKey).map(BackupLease::fromItem).filter(l -> l.heldAt(now));
    }

    /**
     * Why {@code caller} may not take over {@code held}, or empty when it may: the lease must still
     * be the one the caller proved dead, and recorded on the caller's own host (only that host can
     * look at the holder's process), and not be the caller's own process.
     */
    static Optional<String> refuseTakeover(BackupLease held, BackupLease.Identity caller, String replaces) {
        BackupLease.Identity h = held.identity();
        if (!held.leaseId().equals(replaces)) {
            return Optional.of("cannot take over lease " + replaces + ": the stanza's lease is now " + held.leaseId()
                    + ", backup " + held.label() + " on " + held.holder() + " until " + held.expiresAt());
        }
        if (h == null) {
            return Optional.of("cannot take over the lease of " + held.holder() + ": it recorded no process identity;"
                    + " it expires at " + held.expiresAt());
        }
        if (!h.host().equals(caller.host())) {
            return Optional.of("cannot take over the lease of " + held.holder() + " from another host (" + caller.host()
                    + " is not " + h.host() + "): it expires at " + held.expiresAt() + " unless its heartbeat renews it");
        }
        if (h.equals(caller)) {
            return Optional.of("cannot take over lease " + replaces + ": it is the caller's own");
        }
        return Optional.empty();
    }

    private static BackupLease.Identity identity(JsonNode json) {
        JsonNode n = json.get("identity");
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isObject()) {
            throw CatalogException.badRequest("identity must be an object {host, bootId, pid, startTicks}");
        }
        try {
            return new BackupLease.Identity(text(n, "host"), text(n, "bootId"), integral(n, "pid"),
                    integral(n, "startTicks"));
        } catch (IllegalArgumentException e) {
            throw CatalogException.badRequest(e.getMessage());
        }
    }

    private static long integral(JsonNode json, String field) {
        JsonNode n = json.get(field);
        if (n == null || !n.isIntegralNumber() || !n.canConvertToLong()) {
            throw CatalogException.badRequest("identity." + field + " must be an integer");
        }
        return n.asLong();
    }

    private static String reason(JsonNode takeover) {
        String r = text(takeover, "reason");
        if (r.isBlank() || r.length() > 300 || r.chars().anyMatch(c -> c < 0x20)) {
            throw CatalogException.badRequest("takeover.reason must be 1 to 300 characters on one line");
        }
        return r;
    }

    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MILLIS);
    }

    private static Instant later(Instant a, Instant b) {
        return a.isAfter(b) ? a : b;
    }

    private static String text(JsonNode json, String field) {
        JsonNode n = json.get(field);
        if (n == null || !n.isTextual()) {
            throw CatalogException.badRequest(field + " must be a string");
        }
        return n.asText();
    }

    private static int ttl(JsonNode json) {
        JsonNode n = json.get("ttlSeconds");
        if (n == null || n.isNull()) {
            return DEFAULT_TTL_SECONDS;
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt() || n.asInt() < MIN_TTL_SECONDS || n.asInt() > MAX_TTL_SECONDS) {
            throw CatalogException.badRequest("ttlSeconds must be an integer from " + MIN_TTL_SECONDS + " to "
                    + MAX_TTL_SECONDS);
        }
        return n.asInt();
    }

    private static String leaseId(String text) {
        if (!LEASE_ID.matcher(text).matches()) {
            throw CatalogException.badRequest("leaseId must be a lease id as acquire returned it (a UUID)");
        }
        return text;
    }
}
