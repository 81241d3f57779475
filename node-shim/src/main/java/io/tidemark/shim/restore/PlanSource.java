package io.tidemark.shim.restore;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tidemark.events.json.Json;
import io.tidemark.events.plan.RecoveryRequest;
import io.tidemark.shim.api.ApiException;
import io.tidemark.shim.api.CatalogApi;
import io.tidemark.shim.config.ShimConfig;
import io.tidemark.shim.restore.RestoreCommand.PlanResponse;
import io.tidemark.shim.storage.CredentialSource;
import io.tidemark.shim.storage.Retry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Restore, step 1: the signed plan, asked of the planner (a 422 explained with the nearest
 * reachable points) or read from a file saved earlier; and, later, new download URLs for it when
 * the first ones expire during the restore.
 */
final class PlanSource {
    private static final ObjectMapper MAPPER = Json.mapper();

    private final ShimConfig config;
    private final Map<String, String> env;

    PlanSource(ShimConfig config, Map<String, String> env) {
        this.config = config;
        this.env = env;
    }

    /** The JSON the planner takes for a recovery request. */
    static String requestBody(RecoveryRequest r, Optional<String> backup) {
        ObjectNode o = MAPPER.createObjectNode();
        o.putObject("target").put("type", r.target().type()).put("value", r.target().value());
        o.put("exclusive", r.exclusive());
        o.put("timeline", r.timeline().text());
        o.put("action", r.action().text());
        if (backup.isPresent()) {
            o.put("backup", backup.get());
        } else {
            o.putNull("backup");
        }
        return o.toString();
    }

    /** Asks the planner; its refusals become {@link RestoreRefused} naming why. */
    PlanResponse request(RecoveryRequest request, Optional<String> backup) {
        CatalogApi api = api();
        CatalogApi.Response r;
        try {
            r = api.postRestorePlan(config.stanza(), requestBody(request, backup));
        } catch (ApiException e) {
            throw new RestoreRefused("cannot ask for a restore plan: " + e.getMessage(), e);
        }
        if (r.status() == 422) {
            throw new RestoreRefused(unreachable(r.body(), r.message()));
        }
        if (r.status() != 201 && r.status() != 200) {
            throw new RestoreRefused("the planner refused the request: HTTP " + r.status() + ": " + r.message());
        }
        return parseResponse(r.body(), "the planner's answer");
    }

    /** The 422 answer for people: the planner's message and the nearest points it can reach. */
    static String unreachable(String body, String message) {
        StringBuilder sb = new StringBuilder("target not reachable: " + message);
        try {
            JsonNode n = MAPPER.readTree(body);
            JsonNode nearest = n.path("nearest");
            for (String side : List.of("before", "after")) {
                JsonNode p = nearest.path(side);
                if (!p.isMissingNode() && !p.isNull()) {
                    sb.append("\n  nearest reachable point ").append(side).append(": ").append(point(p));
                }
            }
            JsonNode w = n.path("window");
            if (!w.isMissingNode() && !w.isNull()) {
                sb.append("\n  recovery window: ").append(w.has("earliest") || w.has("latest")
                        ? point(w.path("earliest")) + " .. " + point(w.path("latest")) : w.toString());
            }
        } catch (IOException | RuntimeException e) {
            // the message alone
        }
        return sb.toString();
    }

    private static String point(JsonNode p) {
        if (!p.isObject()) {
            return p.asText();
        }
        List<String> parts = new ArrayList<>();
        for (String f : List.of("time", "lsn", "timeline", "xid", "name")) {
            if (p.hasNonNull(f)) {
                parts.add(f + " " + p.get(f).asText());
            }
        }
        return parts.isEmpty() ? p.toString() : String.join(", ", parts);
    }

    static PlanResponse parseResponse(String text, String source) {
        JsonNode n;
        try {
            n = MAPPER.readTree(text);
        } catch (IOException e) {
            throw new RestoreRefused(source + " is not JSON: " + e.getMessage());
        }
        if (n != null && n.has("plan")) {
            return new PlanResponse(n.get("plan"), PlanUrls.UrlSet.parse(n), text);
        }
        if (n != null && n.has("document")) {
            return new PlanResponse(n, new PlanUrls.UrlSet(Map.of(), null), text);
        }
        throw new RestoreRefused(source + " is neither a planner answer ({\"plan\": ..., \"urls\": ...}) nor a signed plan");
    }

    /** A plan saved earlier ({@code --plan-file}). */
    static PlanResponse readFile(Path f) {
        try {
            return parseResponse(Files.readString(f, StandardCharsets.UTF_8), "plan file " + f);
        } catch (NoSuchFileException e) {
            throw new RestoreRefused("plan file " + f + " does not exist");
        } catch (IOException e) {
            throw new RestoreRefused("cannot read plan file " + f + ": " + e.getMessage(), e);
        }
    }

    private CatalogApi api() {
        return new CatalogApi(config.requireApiUrl(), config.apiRegion(), CredentialSource.of(config, env),
                Retry.of(config.retries()), config.apiKey());
    }

    /** Asks the planner for new download URLs of a plan (the first ones expire). */
    PlanUrls.Renewer renewer() {
        return planId -> {
            if (config.apiUrl().isEmpty()) {
                throw new RestoreRefused("the download URLs of plan " + planId + " must be renewed, but api.url is not set in "
                        + config.file());
            }
            CatalogApi.Response r;
            try {
                r = api().restorePlanUrls(planId);
            } catch (ApiException e) {
                throw new RestoreRefused("cannot renew the download URLs: " + e.getMessage(), e);
            }
            if (r.status() == 410) {
                throw new RestoreRefused("restore plan " + planId + " has expired (HTTP 410): ask for a new plan");
            }
            if (r.status() != 200) {
                throw new RestoreRefused("cannot renew the download URLs of plan " + planId + ": HTTP " + r.status() + ": "
                        + r.message());
            }
            try {
                return PlanUrls.UrlSet.parse(MAPPER.readTree(r.body()));
            } catch (IOException e) {
                throw new RestoreRefused("renewed URLs are not JSON: " + e.getMessage(), e);
            }
        };
    }
}
