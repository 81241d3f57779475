package io.tidemark.shim.agent;

import com.fasterxml.jackson.databind.JsonNode;
import io.tidemark.events.json.Json;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.shim.api.CatalogApi;
import io.tidemark.shim.api.LeaseKeeper;
import io.tidemark.shim.stream.StreamLease;
import java.io.IOException;
import java.time.Duration;
import java.util.Optional;

/**
 * The stanza's stream lease in the catalog ({@code /stanzas/{stanza}/stream-lease}, the backup
 * lease's semantics under another item): one agent streams, the others wait; a holder that dies
 * stops renewing and the next agent takes over once its TTL ran out. The label is the slot name,
 * so the catalog shows which slot the holder streams from.
 */
final class CatalogStreamLease implements StreamLease {
    private final LeaseKeeper keeper;
    private final StanzaName stanza;
    private final String holder;
    private final String slot;

    CatalogStreamLease(CatalogApi api, StanzaName stanza, String holder, String slot, int ttlSeconds) {
        this.keeper = new LeaseKeeper(api, CatalogApi.Lease.STREAM, stanza, ttlSeconds, System::nanoTime);
        this.stanza = stanza;
        this.holder = holder;
        this.slot = slot;
    }

    @Override
    public Optional<String> acquire() {
        String body = Json.mapper().createObjectNode().put("holder", holder).put("label", slot)
                .put("ttlSeconds", keeper.ttlSeconds()).toString();
        CatalogApi.Response r = keeper.acquire(body, ok -> field(ok.body(), "leaseId"));
        if (r.status() == 200) {
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
        if (!keeper.held()) {
            return false;
        }
        return switch (keeper.renew()) {
            case LeaseKeeper.Renewal.Renewed ok -> true;
            case LeaseKeeper.Renewal.Refused taken -> {
                keeper.forget();
                yield false;
            }
            // the catalog did not answer: still ours until the last confirmed expiry, with a margin
            // of one renewal period: stop streaming before another agent may start
            case LeaseKeeper.Renewal.Unanswered none -> keeper.leftNanos() - renewEvery().toNanos() > 0;
        };
    }

    @Override
    public void release() {
        try {
            keeper.release();
        } catch (RuntimeException e) {
            // it expires by itself
        }
    }

    @Override
    public Duration renewEvery() {
        return Duration.ofSeconds(Math.max(1, keeper.ttlSeconds() / 3));
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
