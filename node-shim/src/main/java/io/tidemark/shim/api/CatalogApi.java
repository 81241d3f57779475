package io.tidemark.shim.api;

import io.tidemark.events.api.ApiRoute;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.shim.storage.AwsCredentials;
import io.tidemark.shim.storage.CredentialSource;
import io.tidemark.shim.storage.Retry;
import io.tidemark.shim.storage.StorageException;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The catalog API as the node sees it (API Gateway with AWS_IAM auth, or the local API): JSON
 * over HTTP, signed with SigV4 for service {@code execute-api} with the keys the
 * {@link CredentialSource} gives for each call (unsigned only when no source is configured and the
 * AWS default chain finds none; the AWS SDK's SigV4 signer). Network failures, 5xx answers, keys
 * that could not be had and keys refused as expired are retried a bounded number of times. One
 * HTTP client per process: calls reuse its pooled connections (a backup's lease heartbeats, the
 * agent's job polls and a restore's URL renewals used to open one connection each).
 */
public final class CatalogApi {
    private static final int CONNECT_TIMEOUT_MS = 5_000;
    private static final int READ_TIMEOUT_MS = 30_000;
    private static final class Shared {
        // the JVM's proxy settings (https.proxyHost, http.nonProxyHosts ...), as the S3 client's
        static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .proxy(java.net.ProxySelector.getDefault())
                .connectTimeout(Duration.ofMillis(CONNECT_TIMEOUT_MS)).build();
    }

    private static final Pattern MESSAGE = Pattern.compile("\"message\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");

    private final URI base;
    private final String region;
    private final CredentialSource credentials;
    private final Retry retry;
    /** The stanza's API Gateway key (x-api-key): its usage plan throttles this node's calls. */
    private final Optional<String> apiKey;

    /** An answer: the status and the body text. */
    public record Response(int status, String body) {
        /** The {@code message} of an error body, or the body itself. */
        public String message() {
            Matcher m = MESSAGE.matcher(body);
            if (m.find()) {
                return m.group(1).replace("\\\"", "\"").replace("\\\\", "\\");
            }
            return body.isBlank() ? "HTTP " + status : body.strip();
        }
    }

    public CatalogApi(URI base, String region, CredentialSource credentials, Retry retry) {
        this(base, region, credentials, retry, Optional.empty());
    }

    /** @param apiKey sent as {@code x-api-key} with every call (the stack requires one per stanza) */
    public CatalogApi(URI base, String region, CredentialSource credentials, Retry retry, Optional<String> apiKey) {
        this.base = base;
        this.region = region;
        this.credentials = credentials;
        this.retry = retry;
        this.apiKey = apiKey;
    }

    /** {@code PUT /stanzas/{stanza}} with the cluster's identity. */
    public Response putStanza(StanzaName stanza, String json) {
        return call(ApiRoute.CATALOG_PUT, json, stanza);
    }

    /**
     * {@code POST /stanzas/{stanza}/conflicts}: tells the cloud that this node refused to replace
     * an object holding other content ({@code key}, {@code existingSha256}, {@code newSha256}); the
     * catalog function logs it and publishes HistoryConflicts, which an alarm watches.
     */
    public Response reportConflict(StanzaName stanza, String json) {
        return call(ApiRoute.CONFLICT_REPORT, json, stanza);
    }

    /** {@code GET /stanzas/{stanza}}. */
    public Response getStanza(StanzaName stanza) {
        return call(ApiRoute.CATALOG_GET, null, stanza);
    }

    /**
     * The stanza's two leases: the backup lease ({@code /stanzas/{stanza}/backup-lease}, one backup at
     * a time) and the WAL stream's lease ({@code /stanzas/{stanza}/stream-lease}, one streaming
     * agent). Both answer alike: acquire gives 200 with the lease or 409 with who holds it, renew
     * 200 or 409 once it is someone else's, release is idempotent.
     */
    public enum Lease {
        BACKUP(ApiRoute.LEASE_ACQUIRE, ApiRoute.LEASE_RENEW, ApiRoute.LEASE_RELEASE),
        STREAM(ApiRoute.STREAM_LEASE_ACQUIRE, ApiRoute.STREAM_LEASE_RENEW, ApiRoute.STREAM_LEASE_RELEASE);

        private final ApiRoute acquire;
        private final ApiRoute renew;
        private final ApiRoute release;

        Lease(ApiRoute acquire, ApiRoute renew, ApiRoute release) {
            this.acquire = acquire;
            this.renew = renew;
            this.release = release;
        }
    }

    /** {@code POST} the lease: acquire (200 with the lease, 409 with who holds it). */
    public Response acquireLease(Lease lease, StanzaName stanza, String json) {
        return call(lease.acquire, json, stanza);
    }

    /** {@code PUT} the lease: heartbeat. */
    public Response renewLease(Lease lease, StanzaName stanza, String json) {
        return call(lease.renew, json, stanza);
    }

    /** {@code DELETE} the lease {@code ?leaseId=}: release (idempotent). */
    public Response releaseLease(Lease lease, StanzaName stanza, String leaseId) {
        return call(lease.release.method(), lease.release.path(stanza) + "?leaseId="
                + java.net.URLEncoder.encode(leaseId, StandardCharsets.UTF_8), null);
    }

    /** {@code POST /stanzas/{stanza}/expire}: a retention preview ({@code {"dryRun": true}}). */
    public Response postExpire(StanzaName stanza, String json) {
        return call(ApiRoute.EXPIRE, json, stanza);
    }

    /** {@code POST /stanzas/{stanza}/verify}: starts a verify run ({@code {}} or {@code {"backup": LABEL}}); 202. */
    public Response postVerify(StanzaName stanza, String json) {
        return call(ApiRoute.VERIFY_START, json, stanza);
    }

    /** {@code GET /stanzas/{stanza}/verify/{runId}}: the run's state, progress and problems. */
    public Response verifyRun(StanzaName stanza, String runId) {
        return call(ApiRoute.VERIFY_RUN, null, stanza, runId);
    }

    /** {@code POST /stanzas/{stanza}/restore-plans}: asks the planner for a signed restore plan. */
    public Response postRestorePlan(StanzaName stanza, String json) {
        return call(ApiRoute.PLAN_CREATE, json, stanza);
    }

    /** {@code GET /restore-plans/{id}/urls}: fresh presigned URLs for a plan's objects. */
    public Response restorePlanUrls(String planId) {
        return call(ApiRoute.PLAN_URLS, null, planId);
    }

    /** {@code POST /stanzas/{stanza}/jobs/{jobId}/claim}: 200 with the job when this holder runs it, 409 otherwise. */
    public Response claimJob(StanzaName stanza, String jobId, String json) {
        return call(ApiRoute.JOB_CLAIM, json, stanza, jobId);
    }

    /** {@code POST /stanzas/{stanza}/jobs/{jobId}/pass}: a replica records that it left the job for the primary. */
    public Response passJob(StanzaName stanza, String jobId, String json) {
        return call(ApiRoute.JOB_PASS, json, stanza, jobId);
    }

    /** {@code POST /stanzas/{stanza}/jobs/{jobId}/report}: done (label, sizes, duration) or failed (error). */
    public Response reportJob(StanzaName stanza, String jobId, String json) {
        return call(ApiRoute.JOB_REPORT, json, stanza, jobId);
    }

    /** {@code POST /stanzas/{stanza}/drills}: records a restore drill this node ran (201 with the stored document). */
    public Response reportDrill(StanzaName stanza, String json) {
        return call(ApiRoute.DRILL_REPORT, json, stanza);
    }

    /** {@code GET /stanzas/{stanza}/drills}: the newest drills, newest first. */
    public Response drills(StanzaName stanza) {
        return call(ApiRoute.DRILLS_LIST, null, stanza);
    }

    /** {@code POST /stanzas/{stanza}/job-queue/<action>}: local-cloud's stand-in for the stanza's SQS queue. */
    public Response localJobQueue(StanzaName stanza, String action, String json, int readTimeoutMs) {
        return call("POST", "/stanzas/" + stanza + "/job-queue/" + action, json, readTimeoutMs);
    }

    /** The stanza document, or empty for 404; other errors throw {@link ApiException}. */
    public Optional<StanzaDoc> stanza(StanzaName stanza) {
        Response r = getStanza(stanza);
        if (r.status() == 404) {
            return Optional.empty();
        }
        if (r.status() != 200) {
            throw new ApiException(r.status(), "GET /stanzas/" + stanza + ": HTTP " + r.status() + ": " + r.message(), null);
        }
        try {
            return Optional.of(StanzaDoc.parse(r.body()));
        } catch (IllegalArgumentException e) {
            throw new ApiException(r.status(), "GET /stanzas/" + stanza + ": " + e.getMessage(), e);
        }
    }

    /** A method of the API table ({@link ApiRoute}), its path built from {@code pathValues}. */
    private Response call(ApiRoute route, String json, Object... pathValues) {
        return call(route.method(), route.path(pathValues), json);
    }

    private Response call(String method, String path, String json) {
        return call(method, path, json, READ_TIMEOUT_MS);
    }

    private Response call(String method, String path, String json, int readTimeoutMs) {
        try {
            return retry.run(() -> once(method, path, json, readTimeoutMs));
        } catch (StorageException e) {
            throw new ApiException(0, e.getMessage(), e);
        }
    }

    URI uri(String path) {
        String b = base.toString().replaceAll("/+$", "");
        return URI.create(b + path);
    }

    private Response once(String method, String path, String json, int readTimeoutMs) {
        URI uri = uri(path);
        byte[] body = json == null ? null : json.getBytes(StandardCharsets.UTF_8);
        Map<String, String> h = new LinkedHashMap<>();
        h.put("Accept", "application/json");
        if (body != null) {
            h.put("Content-Type", "application/json");
        }
        apiKey.ifPresent(k -> h.put("x-api-key", k));
        // asked per call: keys of the moment, never a copy kept from an earlier call
        Optional<AwsCredentials> creds = credentials.forApi();
        creds.ifPresent(c -> h.putAll(ApiSigner.sign(method, uri, h, body, c, region)));
        HttpRequest.Builder rb = HttpRequest.newBuilder(uri).timeout(Duration.ofMillis(readTimeoutMs))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        h.forEach(rb::header);
        try {
            HttpResponse<String> r = Shared.HTTP.send(rb.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            int status = r.statusCode();
            String text = r.body() == null ? "" : r.body();
            if (status == 403 && creds.isPresent() && text.contains("security token included in the request is expired")) {
                // API Gateway's answer to keys that ran out in flight: new ones on the retry
                credentials.refused(creds.get());
                throw new StorageException(method + " " + uri + ": HTTP 403: " + new Response(status, text).message()
                        + " (keys " + creds.get().accessKeyId() + " from " + credentials.describe() + ")", null,
                        credentials.refreshing());
            }
            if (status == 403 && "Forbidden".equals(new Response(status, text).message())) {
                // API Gateway's answer to a call whose API key is missing or not one of the API's
                text = "{\"message\":\"Forbidden: API Gateway refused the API key (x-api-key): " + (apiKey.isEmpty()
                        ? "none was sent; set api.key in tidemark.conf to this stanza's key"
                        : "api.key in tidemark.conf is not a key of this API; set it to this stanza's key")
                        + " (stack output ApiKeyId-<stanza>: aws apigateway get-api-key --include-value --api-key ID)\"}";
            }
            if (status >= 500 || status == 429) {
                throw new StorageException(method + " " + uri + ": HTTP " + status + ": "
                        + new Response(status, text).message(), null, true);
            }
            return new Response(status, text);
        } catch (IOException e) {
            throw new StorageException("cannot reach the catalog API at " + uri + ": " + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : ": " + e.getMessage()), e, true);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StorageException("interrupted calling the catalog API at " + uri, e, false);
        }
    }
}
