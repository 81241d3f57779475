package io.tidemark.shim.api;

import io.tidemark.events.layout.StanzaName;
import java.util.Optional;

/** The stanza document from the spool cache, else from the API (then cached). */
public final class StanzaResolver {
    private final StanzaCache cache;
    private final CatalogApi api;

    public StanzaResolver(StanzaCache cache, CatalogApi api) {
        this.cache = cache;
        this.api = api;
    }

    /** The cached document when there is one, else the API's; empty when the API does not know the stanza. */
    public Optional<StanzaDoc> resolve(StanzaName stanza) {
        Optional<StanzaDoc> cached = cache.read(stanza);
        return cached.isPresent() ? cached : refresh(stanza);
    }

    /** Asks the API (bypassing the cache) and caches the answer. */
    public Optional<StanzaDoc> refresh(StanzaName stanza) {
        if (api == null) {
            return Optional.empty();
        }
        Optional<StanzaDoc> doc = api.stanza(stanza);
        doc.ifPresentOrElse(d -> cache.write(stanza, d), () -> cache.drop(stanza));
        return doc;
    }

    public StanzaCache cache() {
        return cache;
    }
}
