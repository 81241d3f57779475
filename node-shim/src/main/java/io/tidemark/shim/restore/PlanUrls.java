package io.tidemark.shim.restore;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Clock;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.HashMap;
import java.util.Map;

/**
 * The presigned GET URLs of a plan's objects, renewed through {@code GET /restore-plans/{id}/urls}
 * when they are about to expire or S3 refuses one (403: a URL signed with temporary credentials
 * dies with them). Shared by the download threads: one renewal per generation, however many
 * threads saw the refusal.
 */
final class PlanUrls {
    /** A set of URLs and when they stop working (null: unknown). */
    record UrlSet(Map<String, String> urls, Instant expiresAt) {
        static UrlSet parse(JsonNode answer) {
            Map<String, String> urls = new HashMap<>();
            JsonNode u = answer.path("urls");
            if (u.isObject()) {
                u.fields().forEachRemaining(e -> urls.put(e.getKey(), e.getValue().asText()));
            }
            Instant exp = null;
            String t = answer.path("urlsExpireAt").asText(null);
            if (t != null) {
                try {
                    exp = Instant.parse(t);
                } catch (DateTimeParseException e) {
                    exp = null;
                }
            }
            return new UrlSet(Map.copyOf(urls), exp);
        }
    }

    /** What a download thread uses: a URL and the generation it belongs to. */
    record Lease(String url, int generation) {
    }

    /** Fetches a fresh set; throws {@link RestoreRefused} when it cannot (no API, plan expired: 410). */
    interface Renewer {
        UrlSet renew(String planId);
    }

    static final int MAX_RENEWALS = 20;
    private static final long EARLY_SECONDS = 10;

    private final String planId;
    private final Renewer renewer;
    private final Clock clock;
    private UrlSet current;
    private int generation;
    private int renewals;
    private Instant renewedAt;

    PlanUrls(String planId, UrlSet initial, Renewer renewer, Clock clock) {
        this.planId = planId;
        this.current = initial;
        this.renewer = renewer;
        this.clock = clock;
    }

    synchronized Lease url(String key) {
        Instant now = clock.instant();
        boolean justRenewed = renewedAt != null && now.isBefore(renewedAt.plusSeconds(30));
        if (current.expiresAt() != null && !justRenewed && !now.isBefore(current.expiresAt().minusSeconds(EARLY_SECONDS))) {
            renewNow("they expire at " + current.expiresAt());
        }
        String u = current.urls().get(key);
        if (u == null) {
            renewNow("object " + key + " has none");
            u = current.urls().get(key);
            if (u == null) {
                throw new RestoreRefused("the planner gave no download URL for object " + key);
            }
        }
        return new Lease(u, generation);
    }

    /** S3 refused a URL of {@code generation}: renew unless another thread already did. */
    synchronized void denied(int generation) {
        if (generation == this.generation) {
            renewNow("S3 refused one (HTTP 403)");
        }
    }

    synchronized int renewals() {
        return renewals;
    }

    private void renewNow(String why) {
        if (++renewals > MAX_RENEWALS) {
            throw new RestoreRefused("download URLs of plan " + planId + " were renewed " + MAX_RENEWALS
                    + " times and S3 still refuses them (" + why + ")");
        }
        current = renewer.renew(planId);
        renewedAt = clock.instant();
        generation++;
    }
}
