package io.tidemark.shim.api;

import io.tidemark.events.json.Json;
import io.tidemark.events.layout.StanzaName;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * One of the stanza's catalog leases ({@link CatalogApi.Lease}: the backup's or the WAL stream's)
 * as this node holds it: its id and until when the catalog last confirmed it (the send time of the
 * last good acquire or renewal plus the TTL, so a slow answer never stretches it). The users decide
 * what to do with an answer (the backup keeps a heartbeat thread and stops its copy, the streamer
 * renews between reads and stops streaming); the calls and the bookkeeping are here, once.
 */
public final class LeaseKeeper {
    private final CatalogApi api;
    private final CatalogApi.Lease lease;
    private final StanzaName stanza;
    private final int ttlSeconds;
    private final LongSupplier nanoTime;
    private volatile String leaseId;
    private volatile long confirmedUntil;

    /** What a renewal came to. */
    public sealed interface Renewal {
        /** The catalog confirmed it for another TTL. */
        record Renewed() implements Renewal {
        }

        /** 409: the lease is no longer this holder's (it expired and was taken over); the catalog's message. */
        record Refused(String message) implements Renewal {
        }

        /** No answer, or another error: still held until the last confirmed expiry. */
        record Unanswered(String error) implements Renewal {
        }
    }

    public LeaseKeeper(CatalogApi api, CatalogApi.Lease lease, StanzaName stanza, int ttlSeconds, LongSupplier nanoTime) {
        this.api = api;
        this.lease = lease;
        this.stanza = stanza;
        this.ttlSeconds = ttlSeconds;
        this.nanoTime = nanoTime;
    }

    public int ttlSeconds() {
        return ttlSeconds;
    }

    /**
     * Asks for the lease with {@code body}; on 200 it is held from the send time on, its id read
     * from the answer by {@code leaseIdOf} (which throws the caller's error when there is none).
     * Other answers are only returned.
     */
    public CatalogApi.Response acquire(String body, Function<CatalogApi.Response, String> leaseIdOf) {
        long sent = nanoTime.getAsLong();
        CatalogApi.Response r = api.acquireLease(lease, stanza, body);
        if (r.status() == 200) {
            hold(leaseIdOf.apply(r), sent);
        }
        return r;
    }

    /** Holds {@code id}, as confirmed by a call sent at {@code sentAt} (nanoTime). */
    public void hold(String id, long sentAt) {
        leaseId = id;
        confirmedUntil = sentAt + TimeUnit.SECONDS.toNanos(ttlSeconds);
    }

    public boolean held() {
        return leaseId != null;
    }

    /** Forgets the lease without releasing it (the catalog said it is someone else's). */
    public void forget() {
        leaseId = null;
    }

    /** One renewal of the held lease (call only while {@link #held}). */
    public Renewal renew() {
        long sent = nanoTime.getAsLong();
        try {
            CatalogApi.Response r = api.renewLease(lease, stanza, Json.mapper().createObjectNode()
                    .put("leaseId", leaseId).put("ttlSeconds", ttlSeconds).toString());
            if (r.status() == 200) {
                confirmedUntil = sent + TimeUnit.SECONDS.toNanos(ttlSeconds);
                return new Renewal.Renewed();
            }
            if (r.status() == 409) {
                return new Renewal.Refused(r.message());
            }
            return new Renewal.Unanswered("HTTP " + r.status() + ": " + r.message());
        } catch (RuntimeException e) {
            return new Renewal.Unanswered(e.getMessage());
        }
    }

    /** How long (nanoseconds) the lease is still certainly held: negative once it may have expired. */
    public long leftNanos() {
        return confirmedUntil - nanoTime.getAsLong();
    }

    /** Releases the lease when one is held (failures throw: the caller says whether that matters). */
    public void release() {
        String id = leaseId;
        leaseId = null;
        if (id != null) {
            api.releaseLease(lease, stanza, id);
        }
    }
}
