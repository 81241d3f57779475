package io.tidemark.shim.agent;

import com.fasterxml.jackson.databind.JsonNode;
import io.tidemark.events.json.Json;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.shim.api.CatalogApi;
import io.tidemark.shim.stream.StreamLease;
import java.io.IOException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The stanza's stream lease in the catalog ({@code /stanzas/{stanza}/stream-lease}, the backup
 * lease's semantics under another item): one agent streams, the others wait; a holder that dies
 * stops renewing and the next agent takes over once its TTL ran out. The label is the slot name,
 * so the catalog shows which slot the holder streams from.
 */
final class CatalogStreamLease implements StreamLease {
    private final CatalogApi api;
    private final StanzaName stanza;
    private final String holder;
    private final String slot;
    private final int ttlSeconds;
    private volatile String leaseId;
    /** Until when (nanoTime) the catalog confirmed the lease: the send time of the last good renewal plus the TTL. */
    private volatile long confirmedUntil;

    CatalogStreamLease(CatalogApi api, StanzaName stanza, String holder, String slot, int ttlSeconds) {
        this.api = api;
        this.stanza = stanza;
        this.holder = holder;
        this.slot = slot;
        this.ttlSeconds = ttlSeconds;
    }

    @Override
    public Optional<String> acquire() {
        long sent = System.nanoTime();
        String body = Json.mapper().createObjectNode().put("holder", holder).put("label", slot)
                .put("ttlSeconds", ttlSeconds).toString();
        CatalogApi.Response r = api.acquireStreamLease(stanza, body);
        if (r.status() == 200) {
            leaseId = field(r.body(), "leaseId");
            confirmedUntil = sent + TimeUnit.SECONDS.toNanos(ttlSeconds);
            return Optional.empty();
        }
        if (r.status() == 409) {
            return Optional.of(r.message());
        }
        throw new IllegalStateException("cannot acquire the stream lease of stanza " + stanza + ": HTTP " + r.status()
                + " " + r.message());
    }

    @Override
    public boolean renew() {
        String id = leaseId;
        if (id == null) {
            return false;
        }
        long sent = System.nanoTime();
        try {
            CatalogApi.Response r = api.renewStreamLease(stanza, Json.mapper().createObjectNode().put("leaseId", id)
                    .put("ttlSeconds", ttlSeconds).toString());
            if (r.status() == 200) {
                confirmedUntil = sent + TimeUnit.SECONDS.toNanos(ttlSeconds);
                return true;
            }
            if (r.status() == 409) {
                leaseId = null;
                return false;
            }
        } catch (RuntimeException e) {
            // the catalog did not answer: still ours until the last confirmed expiry
        }
        // a margin of one renewal period: stop streaming before another agent may start
        return System.nanoTime() - (confirmedUntil - renewEvery().toNanos()) < 0;
    }

    @Override
    public void release() {
        String id = leaseId;
        leaseId = null;
        if (id != null) {
            try {
                api.releaseStreamLease(stanza, id);
            } catch (RuntimeException e) {
                // it expires by itself
            }
        }
    }

    @Override
    public Duration renewEvery() {
        return Duration.ofSeconds(Math.max(1, ttlSeconds / 3));
    }

    private static String field(String json, String name) {
        try {
            JsonNode n = Json.mapper().readTree(json).path(name);
            if (n.isTextual()) {
                return n.asText();
            }
        } catch (IOException e) {
            // below
        }
        throw new IllegalStateException("the catalog's stream lease answer has no " + name + ": " + json);
    }
}
