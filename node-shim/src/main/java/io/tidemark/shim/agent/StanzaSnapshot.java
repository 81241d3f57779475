package io.tidemark.shim.agent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.events.json.Json;
import io.tidemark.shim.api.CatalogApi;
import io.tidemark.shim.info.InfoCommand;
import io.tidemark.shim.pg.PgOptions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The stanza document and the archive lag for the metrics, read at most every {@link #MAX_AGE}:
 * a scrape every few seconds from several Prometheus servers costs one API call.
 */
final class StanzaSnapshot {

    static final Duration MAX_AGE = Duration.ofSeconds(5);
    private static final ObjectMapper MAPPER = Json.mapper();

    record Read(JsonNode doc, InfoCommand.Lag lag, String error, Instant at) {
    }

    private final Supplier<CatalogApi> api;
    private final io.tidemark.events.layout.StanzaName stanza;
    private final PgOptions pg;
    private final Map<String, String> env;
    private final Clock clock;
    private Read last;

    StanzaSnapshot(Supplier<CatalogApi> api, io.tidemark.events.layout.StanzaName stanza, PgOptions pg,
                   Map<String, String> env, Clock clock) {
        this.api = api;
        this.stanza = stanza;
        this.pg = pg;
        this.env = env;
        this.clock = clock;
    }

    synchronized Read get() {
        Instant now = clock.instant();
        if (last != null && Duration.between(last.at(), now).compareTo(MAX_AGE) < 0) {
            return last;
        }
        try {
            CatalogApi.Response r = api.get().getStanza(stanza);
            if (r.status() != 200) {
                last = new Read(null, null, "GET /stanzas/" + stanza + ": HTTP " + r.status() + ": " + r.message(), now);
            } else {
                JsonNode doc = MAPPER.readTree(r.body());
                last = new Read(doc, new InfoCommand(env, clock).lag(doc, pg), null, now);
            }
        } catch (Exception e) {
            last = new Read(null, null, e.getMessage(), now);
        }
        return last;
    }
}
